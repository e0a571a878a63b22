//! Cells a spreadsheet would run as a formula, both ways. The CSV export puts a `'` before a
//! value that starts (perhaps after spaces) with `=`, `+`, `-`, `@`, a tab or a carriage return,
//! the way OWASP's CSV-injection advice says; the import takes that mark off again, so an
//! exported file re-imports to exactly the stored values. A value that itself starts with `'`
//! before such a character gets one more `'` on the way out, so marks and typed apostrophes can
//! always be told apart. The import never evaluates anything: a formula-looking cell without the
//! mark is stored as the text it is.

/// What a cell must not start with, or a spreadsheet would evaluate it.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The mark the export puts before a formula-looking value.
const MARK: char = '\'';

fn looks_like_formula(value: &str) -> bool {
    value.starts_with(FORMULA_STARTS) || value.trim_start().starts_with(FORMULA_STARTS)
}

/// Whether the export marks `value`: it looks like a formula once its leading apostrophes are
/// set aside (so a typed `'=x` is marked as well, and reads back as `'=x`).
pub fn needs_mark(value: &str) -> bool {
    looks_like_formula(value.trim_start_matches(MARK))
}

/// The value of an exported cell: without the export's mark, when it carries one.
pub fn unmark(cell: &str) -> &str {
    match cell.strip_prefix(MARK) {
        Some(rest) if needs_mark(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the export writes for `value` (without the CSV quoting).
    fn exported(value: &str) -> String {
        if needs_mark(value) {
            format!("'{value}")
        } else {
            value.to_string()
        }
    }

    #[test]
    fn every_value_survives_an_export_and_an_import() {
        for value in [
            "=1+1",
            "+49 30 1234",
            "-x",
            "@SUM(A1)",
            "\tx",
            "  =1",
            "'=x",
            "''=x",
            "'abc",
            "'",
            "''",
            "Ada",
            "",
            "a-b",
            "it's",
            "'  -1",
        ] {
            assert_eq!(unmark(&exported(value)), value, "{value:?}");
        }
    }

    #[test]
    fn a_formula_typed_without_the_mark_stays_the_text_it_is() {
        assert_eq!(
            unmark("=HYPERLINK(\"http://x\")"),
            "=HYPERLINK(\"http://x\")"
        );
        assert_eq!(unmark("'plain"), "'plain");
    }
}
