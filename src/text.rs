//! Text as the database compares it: one folding rule, one LIKE escaper, one way to bound a
//! search term. Every search (users, sessions, audit, directory) goes through these.

use unicode_normalization::UnicodeNormalization;

/// Longest search term used from a query string (room for any e-mail address); the rest is ignored.
pub const MAX_SEARCH_CHARS: usize = 254;

/// The key text is searched and sorted by: Unicode NFC, lowercase. Done in Rust, because
/// SQLite's `LOWER` only folds ASCII while PostgreSQL's folds everything. Stored e-mails are
/// already in this form (see `users::email`), so one rule serves names and addresses alike.
pub fn fold(text: &str) -> String {
    text.nfc().collect::<String>().to_lowercase()
}

/// A search term from a query string: control characters dropped (NUL would be a database
/// error on PostgreSQL), bounded to [`MAX_SEARCH_CHARS`], trimmed.
pub fn search_term(raw: Option<&str>) -> String {
    raw.unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_SEARCH_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

/// `%term%` for `LIKE … ESCAPE '\'`, with the term folded like the stored keys and its own `%`,
/// `_` and `\` escaped, so a search for `50%` or `a_b` means exactly that.
pub fn like_pattern(term: &str) -> String {
    let folded = fold(term);
    let mut pattern = String::with_capacity(folded.len() + 2);
    pattern.push('%');
    for c in folded.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_fold_case() {
        assert_eq!(like_pattern("Ada"), "%ada%");
        assert_eq!(like_pattern("50%_\\"), "%50\\%\\_\\\\%");
        assert_eq!(like_pattern("ZOË"), like_pattern("zoe\u{0308}"));
        assert_eq!(like_pattern(""), "%%");
    }

    #[test]
    fn search_terms_are_single_line_bounded_and_trimmed() {
        assert_eq!(search_term(Some("  ada\0 \n")), "ada");
        assert_eq!(search_term(None), "");
        assert_eq!(
            search_term(Some(&"x".repeat(500))).chars().count(),
            MAX_SEARCH_CHARS
        );
    }
}

/// Up to two initials for an avatar: the first letter of the first and of the last word of a
/// name ("Ada King Lovelace" → "AL", "Plato" → "P"), upper-cased; empty for a name without letters.
pub fn initials(name: &str) -> String {
    let firsts: Vec<char> = name
        .split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphabetic()))
        .collect();
    let picked = match firsts.as_slice() {
        [] => Vec::new(),
        [only] => vec![*only],
        [first, .., last] => vec![*first, *last],
    };
    picked.into_iter().flat_map(char::to_uppercase).collect()
}

#[cfg(test)]
mod initials_tests {
    use super::initials;

    #[test]
    fn initials_are_the_first_and_last_words_first_letters() {
        assert_eq!(initials("Ada King Lovelace"), "AL");
        assert_eq!(initials(" plato "), "P");
        assert_eq!(initials("Ömer (Oz) Çelik"), "ÖÇ");
        assert_eq!(initials("— 42"), "");
    }
}
