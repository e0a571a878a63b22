//! Reading a staff list: the bytes into text (UTF-8, a byte-order mark allowed), the text into
//! CSV records (RFC 4180; a quoted cell may span lines), the header into a [`ColumnMap`].

use super::columns::{Column, ColumnMap, HeaderProblem};
use super::{MAX_FILE_BYTES, MAX_ROWS};

/// One row of people data: the physical line it starts on (the header is line 1) and its
/// cells, in the file's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: u64,
    pub cells: Vec<String>,
}

impl Record {
    /// The cell of `column` (empty when the row is shorter than the header).
    pub fn cell<'a>(&'a self, columns: &ColumnMap, column: Column) -> &'a str {
        self.cells
            .get(columns.position(column))
            .map_or("", String::as_str)
    }
}

/// Why a whole file is refused before any row is looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    #[error("The file is larger than 5 MB. Split it into several files and import each.")]
    TooLarge,
    #[error("The file has more than 20 000 people. Split it into several files and import each.")]
    TooManyRows,
    #[error(
        "The file is not UTF-8 text (it looks like {0}). Save it as \"CSV UTF-8\" and upload it again."
    )]
    NotUtf8(&'static str),
    #[error("The file is empty: it needs a header line and a line per person.")]
    Empty,
    #[error(
        "The file is missing the {} {}. Add {} with exactly these headers.",
        plural(.0, "column", "columns"), list(.0), plural(.0, "it", "them")
    )]
    MissingColumns(Vec<Column>),
    #[error(
        "The file has {} this import does not read: {}. Remove or rename {}.",
        plural(.0, "a column", "columns"), .0.join(", "), plural(.0, "it", "them")
    )]
    UnknownColumns(Vec<String>),
    #[error("The column {0} appears twice in the header.")]
    RepeatedColumn(Column),
    #[error("line {line}: {reason}")]
    Malformed { line: u64, reason: String },
}

fn plural<T>(items: &[T], one: &'static str, many: &'static str) -> &'static str {
    if items.len() == 1 {
        one
    } else {
        many
    }
}

fn list(columns: &[Column]) -> String {
    let names: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    names.join(", ")
}

impl From<HeaderProblem> for FileRefusal {
    fn from(problem: HeaderProblem) -> Self {
        match problem {
            HeaderProblem::Missing(columns) => FileRefusal::MissingColumns(columns),
            HeaderProblem::Unknown(headers) => FileRefusal::UnknownColumns(headers),
            HeaderProblem::Repeated(column) => FileRefusal::RepeatedColumn(column),
        }
    }
}

/// A staff list's text, checked: at most [`MAX_FILE_BYTES`], UTF-8, without its byte-order mark.
pub fn decode(bytes: &[u8]) -> Result<&str, FileRefusal> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileRefusal::TooLarge);
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(FileRefusal::NotUtf8(
            "UTF-16, as some spreadsheets save \"Unicode text\"",
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|_| FileRefusal::NotUtf8(guess_encoding(bytes)))
}

/// A name for what the bytes probably are, to tell people which setting to change.
fn guess_encoding(bytes: &[u8]) -> &'static str {
    let zeros = bytes.iter().filter(|b| **b == 0).count();
    if zeros * 4 > bytes.len() {
        "UTF-16 without a byte-order mark"
    } else {
        "Windows-1252 or ISO-8859-1 (Latin-1), as older spreadsheets save CSV"
    }
}

/// The header's columns and every row of a staff list, in file order.
pub fn read_staff_list(bytes: &[u8]) -> Result<(ColumnMap, Vec<Record>), FileRefusal> {
    let text = decode(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        None => return Err(FileRefusal::Empty),
        Some(header) => header.map_err(|e| malformed_at(e, &mut LineCounter::new(text)))?,
    };
    let columns = ColumnMap::from_header(header.iter())?;
    let mut lines = LineCounter::new(text);
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(|e| malformed_at(e, &mut lines))?;
        // A line of empty cells (a spreadsheet's trailing rows) holds nobody.
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(FileRefusal::TooManyRows);
        }
        rows.push(Record {
            line: lines.line_at(record.position().map_or(0, |p| p.byte())),
            cells: record.iter().map(str::to_string).collect(),
        });
    }
    if rows.is_empty() {
        return Err(FileRefusal::Empty);
    }
    Ok((columns, rows))
}

fn malformed_at(error: csv::Error, lines: &mut LineCounter<'_>) -> FileRefusal {
    FileRefusal::Malformed {
        line: lines.line_at(error.position().map_or(0, |p| p.byte())),
        reason: "this line is not valid CSV.".to_string(),
    }
}

/// Physical line numbers (the header is line 1) from byte offsets, counted once through the
/// file as records come in order. The csv crate's own line count is one short after CRLF line
/// ends, which spreadsheets write.
struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The line of the byte at `offset` (never before the last one asked about).
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        // After a CRLF the csv crate places the next record at its `\n`: the record itself
        // starts past the line end.
        while matches!(self.text.get(offset), Some(&(b'\r' | b'\n'))) {
            offset += 1;
        }
        if offset > self.at {
            let newlines = self.text[self.at..offset]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.line += newlines as u64;
            self.at = offset;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "Name,Work e-mail,Job title,Department,Manager e-mail,Location,Start date,Status,Last day\n";

    #[test]
    fn a_byte_order_mark_is_fine_and_lines_are_physical() {
        let text =
            format!("\u{feff}{HEADER}\"Ada\nLovelace\",a@x.org,,,,,,,\nBob,b@x.org,,,,,,,\n");
        let (_, rows) = read_staff_list(text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[1].line, 4, "the quoted cell spans lines 2 and 3");
        let crlf = text.replace('\n', "\r\n");
        let (_, rows) = read_staff_list(crlf.as_bytes()).unwrap();
        assert_eq!(
            (rows[0].line, rows[1].line),
            (2, 4),
            "also with CRLF line ends"
        );
    }

    #[test]
    fn latin_1_and_utf_16_are_named() {
        let latin1 = [HEADER.as_bytes(), b"Jos\xe9,j@x.org,,,,,,,\n"].concat();
        let refusal = read_staff_list(&latin1).unwrap_err();
        assert!(refusal.to_string().contains("not UTF-8 text"), "{refusal}");
        assert!(refusal.to_string().contains("Windows-1252"), "{refusal}");
        let utf16 = [0xFF, 0xFE, b'N', 0];
        assert!(read_staff_list(&utf16)
            .unwrap_err()
            .to_string()
            .contains("UTF-16"));
    }

    #[test]
    fn too_large_and_too_long_files_are_refused() {
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        assert_eq!(read_staff_list(&big).unwrap_err(), FileRefusal::TooLarge);
        let long = format!("{HEADER}{}", "x,y,,,,,,,\n".repeat(MAX_ROWS + 1));
        assert_eq!(
            read_staff_list(long.as_bytes()).unwrap_err(),
            FileRefusal::TooManyRows
        );
    }
}
