//! `hr-portal employees import FILE [--dry-run] [--invite]`: the staff-list import of the admin
//! page, from the command line — the same checks, the same summary, the same "line N: …"
//! errors (on stderr), and exit code 1 with nothing written when any line is wrong.

use std::path::Path;

use anyhow::{bail, Context};

use crate::app::import::{self, Checked, FileImport, ImportSummary};
use crate::app::{Actor, App};
use crate::hr::import::{FileRefusal, RowError, MAX_FILE_BYTES};

/// `employees import`: a dry run prints what the file would change; otherwise the file is
/// applied, or refused whole.
pub(super) async fn run_import(
    app: &App,
    file: &Path,
    dry_run: bool,
    invite: bool,
) -> anyhow::Result<()> {
    let bytes = read_file(file)?;
    if dry_run {
        return match import::check_file(app, &bytes).await? {
            Checked::Refused(refusal) => bail!("{refusal}"),
            Checked::Planned(summary) => {
                print_summary(&summary);
                refuse_errors(&summary.errors)?;
                println!("Dry run: nothing was written.");
                Ok(())
            }
        };
    }
    match import::import_file(app, &Actor::command_line(), &bytes, invite).await? {
        FileImport::Refused(refusal) => bail!("{refusal}"),
        FileImport::Invalid(summary) => {
            print_summary(&summary);
            refuse_errors(&summary.errors)
        }
        FileImport::Imported(report) => {
            println!("Imported: {}.", report.describe());
            Ok(())
        }
    }
}

/// The file's bytes; a file over the limit is refused before it is read.
fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let shown = path.display();
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {shown}"))?
        .len();
    if size > MAX_FILE_BYTES as u64 {
        bail!("{}", FileRefusal::TooLarge);
    }
    std::fs::read(path).with_context(|| format!("cannot read {shown}"))
}

/// What the file would do, as the preview page says it.
fn print_summary(summary: &ImportSummary) {
    println!(
        "{} to create, {} to update, {} unchanged.",
        summary.created,
        summary.updated.len(),
        summary.unchanged
    );
    if !summary.new_departments.is_empty() {
        println!("New departments: {}.", summary.new_departments.join(", "));
    }
    for person in &summary.updated {
        println!(
            "  {} <{}>: {}",
            person.name,
            person.email,
            person.changes.join("; ")
        );
    }
}

/// Every error on stderr, then the one line that ends the command with exit code 1.
fn refuse_errors(errors: &[RowError]) -> anyhow::Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    for error in errors {
        eprintln!("{error}");
    }
    bail!(
        "nothing was imported: {} problem(s) in the file; fix them and run the import again",
        errors.len()
    )
}
