//! CSV downloads: rows whose cells a spreadsheet will not run, and the response that hands them
//! over as a file.
//!
//! Exports carry what people typed (names, titles, addresses typed at the sign-in form), and a
//! spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return)
//! as a formula. As OWASP's CSV-injection page says, such a cell gets a leading `'`, and every
//! cell is quoted with its quotes doubled, so no value can end its cell early either. The rule
//! lives with the staff-list import (`hr::import::cells`), which takes the mark off again, so
//! the directory export re-imports to exactly what is stored.

use rocket::http::ContentType;
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

use crate::hr::import::cells::needs_mark;

/// One cell, quoted, and defused when a spreadsheet would read it as a formula — also after
/// leading spaces, which some spreadsheets skip.
pub fn cell(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 3);
    out.push('"');
    if needs_mark(value) {
        out.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// One line of cells, ended with CRLF (RFC 4180).
pub fn row<S: AsRef<str>>(cells: &[S]) -> String {
    let mut line = cells
        .iter()
        .map(|c| cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// A response that downloads `body` as the CSV file `filename` (plain letters, digits, dots
/// and dashes: it is written into the header as it is).
pub struct CsvDownload<R> {
    pub filename: String,
    pub body: R,
}

impl<'r, 'o: 'r, R: Responder<'r, 'o>> Responder<'r, 'o> for CsvDownload<R> {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'o> {
        let disposition = format!("attachment; filename=\"{}\"", self.filename);
        Response::build_from(self.body.respond_to(request)?)
            .header(ContentType::new("text", "csv").with_params(("charset", "utf-8")))
            .raw_header("Content-Disposition", disposition)
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_defused() {
        assert_eq!(
            cell("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        for risky in ["+1", "-1", "@SUM(A1)", "\tx", "\rx", "  =1+1", "'=1"] {
            assert!(cell(risky).starts_with("\"'"), "{risky:?}");
        }
    }

    #[test]
    fn ordinary_cells_are_quoted_and_kept_as_they_are() {
        assert_eq!(cell("Ada Lovelace"), "\"Ada Lovelace\"");
        assert_eq!(cell("say \"hi\", then go"), "\"say \"\"hi\"\", then go\"");
        assert_eq!(cell(""), "\"\"");
        assert_eq!(cell("a-b"), "\"a-b\"");
        assert_eq!(row(&["a", "b"]), "\"a\",\"b\"\r\n");
    }
}
