//! Addresses and names that would read as something they are not.
//!
//! Two defences, both for input only (stored rows are never re-judged):
//! - [`has_invisible`]: format and default-ignorable characters (zero-width spaces and joiners,
//!   bidirectional overrides, variation selectors, soft hyphens, tags…) render as nothing or
//!   reorder text, so `dana@example.com` followed by U+200B looks exactly like Dana's address.
//!   They are refused in e-mail addresses and names.
//! - [`skeleton`]: a reduced form in the spirit of Unicode TR39 "confusable detection" — NFKC
//!   compatibility folding, then Cyrillic, Greek and Latin letters that look like ASCII letters
//!   mapped to them, then the ASCII sequences people misread (`rn`/`m`, `vv`/`w`, `1`/`l`,
//!   `0`/`o`, and `i`/`l`, since a typed capital `I` reads as `l` and addresses are stored in
//!   lowercase). Faint marks that hide at small sizes (breve, dot above or below: `okafŏr`,
//!   `okaḟor`) are dropped, and hooked letters (`ɱ`) mapped; the plainly visible marks that tell
//!   names apart (`jörg`, `josé`) are kept. Two different addresses with one skeleton look alike,
//!   so a new account whose address looks like an existing account's or employee's is refused.
//!   The table is the commonly abused subset, not all of TR39's confusables.txt (which would need
//!   a dependency for one check).

use unicode_normalization::UnicodeNormalization;

/// Whether `text` holds a character that renders as nothing or reorders what follows:
/// Unicode's Default_Ignorable_Code_Point set plus the other format (Cf) characters.
pub fn has_invisible(text: &str) -> bool {
    text.chars().any(is_invisible)
}

/// [`has_invisible`] for a person's name: the zero-width non-joiner and joiner (U+200C, U+200D)
/// are allowed there, because Persian and several Indic scripts need them to spell names right.
pub fn has_invisible_in_name(name: &str) -> bool {
    name.chars()
        .any(|c| is_invisible(c) && !matches!(c, '\u{200C}' | '\u{200D}'))
}

fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFFB | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF
        // Other format characters: Arabic number signs, Syriac abbreviation mark, and the like.
        | 0x0600..=0x0605 | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x110BD | 0x110CD
        | 0x13430..=0x1343F)
}

/// Characters from other scripts that look like a lowercase ASCII letter, and that letter.
const LOOKALIKES: &[(char, char)] = &[
    // Cyrillic
    ('а', 'a'),
    ('в', 'b'),
    ('е', 'e'),
    ('ё', 'e'),
    ('һ', 'h'),
    ('і', 'i'),
    ('ї', 'i'),
    ('ј', 'j'),
    ('к', 'k'),
    ('ӏ', 'l'),
    ('м', 'm'),
    ('н', 'h'),
    ('о', 'o'),
    ('р', 'p'),
    ('с', 'c'),
    ('ԛ', 'q'),
    ('ѕ', 's'),
    ('т', 't'),
    ('у', 'y'),
    ('ԝ', 'w'),
    ('х', 'x'),
    ('ԁ', 'd'),
    ('ɡ', 'g'),
    ('ь', 'b'),
    // Greek
    ('α', 'a'),
    ('β', 'b'),
    ('ε', 'e'),
    ('η', 'n'),
    ('ι', 'i'),
    ('κ', 'k'),
    ('ν', 'v'),
    ('ο', 'o'),
    ('ρ', 'p'),
    ('τ', 't'),
    ('υ', 'u'),
    ('χ', 'x'),
    ('γ', 'y'),
    ('ϲ', 'c'),
    ('ϳ', 'j'),
    // Latin letters outside ASCII
    ('ı', 'i'),
    ('ɩ', 'i'),
    ('ȷ', 'j'),
    ('ɑ', 'a'),
    ('ɒ', 'a'),
    ('ɛ', 'e'),
    ('ɪ', 'i'),
    ('ʟ', 'l'),
    ('ɴ', 'n'),
    ('ʀ', 'r'),
    ('ʏ', 'y'),
    ('ᴄ', 'c'),
    ('ᴏ', 'o'),
    ('ᴠ', 'v'),
    ('ᴡ', 'w'),
    ('ᴢ', 'z'),
    ('ꞵ', 'b'),
    ('ɱ', 'm'),
    ('ɦ', 'h'),
    ('ɲ', 'n'),
    ('ƒ', 'f'),
    ('ɓ', 'b'),
    ('ɗ', 'd'),
    ('ƙ', 'k'),
    ('ƥ', 'p'),
    ('ʠ', 'q'),
    ('ɽ', 'r'),
    ('ʂ', 's'),
    ('ƭ', 't'),
    ('ʋ', 'v'),
    ('ȥ', 'z'),
    // ASCII digits read as letters
    ('0', 'o'),
    ('1', 'l'),
];

/// The form two look-alike addresses share (see the module notes). Input is expected in stored
/// form (NFC, lowercase); invisible characters are dropped.
pub fn skeleton(text: &str) -> String {
    let folded: String = text.nfkc().collect();
    let mapped: String = folded
        .nfd()
        .filter(|c| !is_faint_mark(*c))
        .nfc()
        .flat_map(char::to_lowercase)
        .filter(|c| !is_invisible(*c))
        .map(|c| {
            LOOKALIKES
                .iter()
                .find(|(from, _)| *from == c)
                .map_or(c, |(_, to)| *to)
        })
        .collect();
    // A capital I reads as l; stored addresses are lowercase, so i and l compare alike.
    mapped
        .replace("rn", "m")
        .replace("vv", "w")
        .replace('i', "l")
}

/// Combining marks too faint to notice at a glance: breve, dot above, dot below and the other
/// marks written under a letter.
fn is_faint_mark(c: char) -> bool {
    matches!(c as u32, 0x0306 | 0x0307 | 0x0323..=0x0331)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_width_and_direction_characters_are_invisible() {
        assert!(has_invisible("dana@example.com\u{200B}"));
        assert!(has_invisible("da\u{202E}na"));
        assert!(has_invisible("Dana\u{FE0F}"));
        assert!(!has_invisible("Zoë Ångström-Łukasz 王小明"));
        assert!(has_invisible("dana\u{200C}@example.com"));
        assert!(!has_invisible_in_name(
            "\u{0645}\u{06CC}\u{200C}\u{0631}\u{0648}\u{062F}"
        ));
        assert!(has_invisible_in_name("Dana\u{202E}"));
    }

    #[test]
    fn addresses_that_read_alike_share_a_skeleton() {
        let real = skeleton("dana@example.com");
        assert_eq!(skeleton("dаna@example.com"), real, "Cyrillic а");
        assert_eq!(skeleton("dana@exarnple.com"), real, "rn for m");
        assert_eq!(skeleton("dana@ｅxample.com"), real, "fullwidth e");
        assert_eq!(skeleton("dana@example.com\u{200B}"), real);
        assert_ne!(skeleton("dina@example.com"), real);
        assert_ne!(skeleton("jörg@example.com"), skeleton("jorg@example.com"));
    }

    #[test]
    fn the_red_teams_look_alikes_share_a_skeleton() {
        let real = skeleton("sam.okafor@larkspur.example");
        for typed in [
            "sam.okafŏr@larkspur.example",
            "sam.okaḟor@larkspur.example",
            "saɱ.okafor@larkspur.example",
            "sam.okafor@iarkspur.example",
            "sam.okafor@Iarkspur.example",
        ] {
            assert_eq!(skeleton(typed), real, "{typed}");
        }
        assert_ne!(
            skeleton("sam.okafor@larkspur.example"),
            skeleton("sam.okafor@larkspur.test")
        );
    }
}
