//! A posted employee form, checked: every field at once, each problem reported beside its input.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::{EmployeeStatus, MAX_LOCATION_CHARS, MAX_TITLE_CHARS};
use crate::hr::department::parse_department_name;
use crate::hr::parse_date;
use crate::ids::{DepartmentId, EmployeeId};
use crate::users::{parse_name, Email};

/// Which department a new or edited employee belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepartmentChoice {
    Existing(DepartmentId),
    /// A department typed into the form; created unless one with that name exists.
    New(String),
}

/// A checked employee, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeFields {
    pub name: String,
    pub email: String,
    pub title: String,
    pub department: DepartmentChoice,
    pub manager_id: Option<EmployeeId>,
    pub location: String,
    pub start_date: NaiveDate,
    pub status: EmployeeStatus,
    /// Set exactly when `status` is `Terminated`.
    pub left_on: Option<NaiveDate>,
    /// Work information, like the title (the private `phone` is the person's own number).
    pub work_phone: Option<String>,
}

/// Who the form names as manager (looked up when writing, inside the transaction, where the
/// leaver and loop rules are checked too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagerPick {
    Nobody,
    /// The employee with this work e-mail: what the picker posts.
    Email(String),
    /// A record id, as the form's old `<select>` posted it (kept for scripts that post ids).
    Id(EmployeeId),
}

/// A checked form: the fields, with the manager still to be found in the database
/// (`EmployeeFields::manager_id` is `None` until then) and `location` the name as typed, which
/// the locations list gives its listed spelling (or gains, when it is new).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedEmployee {
    pub fields: EmployeeFields,
    pub manager: ManagerPick,
}

/// The form fields exactly as posted.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmployeeDraft<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub title: &'a str,
    pub department: &'a str,
    pub new_department: &'a str,
    /// The manager picker's text: a work e-mail, or "Name <e-mail>" as its list offers them.
    pub manager: &'a str,
    /// A location from the list, or (`new_location`) one to add to it.
    pub location: &'a str,
    pub new_location: &'a str,
    pub work_phone: &'a str,
    pub start_date: &'a str,
    pub status: &'a str,
    /// The leaving day; read only when `status` says the person left.
    pub left_on: &'a str,
}

/// What is wrong with a draft, per form field (field name → message for people).
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("the employee form has {} invalid field(s)", .0.len())]
pub struct InvalidEmployee(pub BTreeMap<&'static str, String>);

impl InvalidEmployee {
    pub fn one(field: &'static str, message: impl Into<String>) -> InvalidEmployee {
        let mut errors = BTreeMap::new();
        errors.insert(field, message.into());
        InvalidEmployee(errors)
    }
}

/// Why a valid-looking employee could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum EmployeeWriteError {
    #[error("{0}")]
    Invalid(InvalidEmployee),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<InvalidEmployee> for EmployeeWriteError {
    fn from(invalid: InvalidEmployee) -> Self {
        EmployeeWriteError::Invalid(invalid)
    }
}

/// A short single-line text: 1..=`max` characters after trimming, no control characters (the
/// job title and location rule, which the staff-list import shares).
pub fn parse_text(raw: &str, max: usize, what: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(format!("Please enter a {what}."));
    }
    if text.chars().count() > max {
        return Err(format!("The {what} must be at most {max} characters long."));
    }
    if text.chars().any(char::is_control) {
        return Err(format!(
            "The {what} contains characters that are not allowed."
        ));
    }
    Ok(text.to_string())
}

type Errors = BTreeMap<&'static str, String>;

/// The value of a checked field, or `None` with its message recorded under `field`.
fn note<T>(errors: &mut Errors, field: &'static str, result: Result<T, String>) -> Option<T> {
    result.map_err(|message| errors.insert(field, message)).ok()
}

/// An id posted by a `<select>`; only positive integers name a row.
fn parse_id<Id: std::str::FromStr>(raw: &str) -> Option<Id> {
    raw.trim().parse().ok()
}

impl EmployeeDraft<'_> {
    /// Checks every field and reports all problems at once, so the form can show each one next
    /// to its input. Whether the department and manager exist is checked when writing.
    pub fn validate(&self) -> Result<CheckedEmployee, InvalidEmployee> {
        let mut errors = Errors::new();
        let name = note(
            &mut errors,
            "name",
            parse_name(self.name).map_err(str::to_string),
        );
        let email = note(
            &mut errors,
            "email",
            Email::parse(self.email)
                .map(|e| e.as_str().to_string())
                .map_err(|e| e.to_string()),
        );
        let title = note(
            &mut errors,
            "title",
            parse_text(self.title, MAX_TITLE_CHARS, "job title"),
        );
        let department = note(&mut errors, "department", self.department_choice());
        let manager = note(&mut errors, "manager", parse_manager_pick(self.manager));
        let location = note(&mut errors, "location", self.location_pick());
        let work_phone = note(&mut errors, "work_phone", parse_work_phone(self.work_phone));
        let start_date = note(&mut errors, "start_date", self.start_date());
        let status = note(
            &mut errors,
            "status",
            EmployeeStatus::parse(self.status).ok_or_else(|| "Please choose a status.".into()),
        );
        let left_on = match (status, start_date) {
            (Some(status), Some(start_date)) => {
                note(&mut errors, "left_on", self.left_on(status, start_date))
            }
            _ => Some(None),
        };
        match (
            name, email, title, department, manager, location, work_phone, start_date, status,
            left_on,
        ) {
            (
                Some(name),
                Some(email),
                Some(title),
                Some(department),
                Some(manager),
                Some(location),
                Some(work_phone),
                Some(start_date),
                Some(status),
                Some(left_on),
            ) => Ok(CheckedEmployee {
                fields: EmployeeFields {
                    name,
                    email,
                    title,
                    department,
                    manager_id: None,
                    location,
                    start_date,
                    status,
                    left_on,
                    work_phone,
                },
                manager,
            }),
            _ => Err(InvalidEmployee(errors)),
        }
    }

    /// A typed new department wins over the list (the list may still show a stale choice).
    fn department_choice(&self) -> Result<DepartmentChoice, String> {
        if !self.new_department.trim().is_empty() {
            return parse_department_name(self.new_department)
                .map(DepartmentChoice::New)
                .map_err(str::to_string);
        }
        parse_id(self.department)
            .map(DepartmentChoice::Existing)
            .ok_or_else(|| "Please choose a department.".into())
    }

    /// A typed new location wins over the list, as a typed department does.
    fn location_pick(&self) -> Result<String, String> {
        if !self.new_location.trim().is_empty() {
            return parse_text(self.new_location, MAX_LOCATION_CHARS, "location");
        }
        if self.location.trim().is_empty() {
            return Err("Please choose a location, or add a new one.".into());
        }
        parse_text(self.location, MAX_LOCATION_CHARS, "location")
    }

    fn start_date(&self) -> Result<NaiveDate, String> {
        parse_start_date(self.start_date)
    }

    /// A leaver needs their last day (on or after the start); for anyone else a leftover date in
    /// the field is dropped rather than refused, so switching a leaver back to active (a mistake
    /// undone, a return) needs no second edit to clear it.
    fn left_on(
        &self,
        status: EmployeeStatus,
        start_date: NaiveDate,
    ) -> Result<Option<NaiveDate>, String> {
        if status != EmployeeStatus::Terminated {
            return Ok(None);
        }
        parse_last_day(self.left_on, start_date).map(Some)
    }
}

/// The manager picker's text: empty for nobody; otherwise a work e-mail, bare or in the
/// "Name <e-mail>" form the picker's list offers (the name is only there for people to read), or
/// a record id as the form posted before the picker.
pub fn parse_manager_pick(raw: &str) -> Result<ManagerPick, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(ManagerPick::Nobody);
    }
    if let Some(id) = parse_id::<EmployeeId>(raw).filter(|id| id.0 > 0) {
        return Ok(ManagerPick::Id(id));
    }
    let address = match (raw.rfind('<'), raw.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        _ => raw,
    };
    Email::parse(address)
        .map(|email| ManagerPick::Email(email.as_str().to_string()))
        .map_err(|_| "Please choose a manager from the list.".into())
}

/// How long a work phone number may be, in characters.
pub const WORK_PHONE_CHARS: std::ops::RangeInclusive<usize> = 5..=30;

/// An optional work phone: digits, spaces, `+ - ( )`, 5 to 30 characters, at least one digit.
pub fn parse_work_phone(raw: &str) -> Result<Option<String>, String> {
    let phone = raw.trim();
    if phone.is_empty() {
        return Ok(None);
    }
    let allowed = |c: char| c.is_ascii_digit() || " +-()".contains(c);
    if !phone.chars().all(allowed) || !phone.chars().any(|c| c.is_ascii_digit()) {
        return Err("A work phone may hold only digits, spaces and + - ( )".into());
    }
    if !WORK_PHONE_CHARS.contains(&phone.chars().count()) {
        return Err(format!(
            "A work phone is {} to {} characters long.",
            WORK_PHONE_CHARS.start(),
            WORK_PHONE_CHARS.end()
        ));
    }
    Ok(Some(phone.to_string()))
}

/// A date people mean: `YYYY-MM-DD` in 1900..=2199 (what four-digit years sort correctly as text).
fn parse_plausible_date(raw: &str) -> Option<NaiveDate> {
    parse_date(raw.trim()).filter(|d| (1900..=2199).contains(&d.year()))
}

/// A start date (the form's and the staff-list import's rule).
pub fn parse_start_date(raw: &str) -> Result<NaiveDate, String> {
    parse_plausible_date(raw).ok_or_else(|| "Please enter a valid start date (YYYY-MM-DD).".into())
}

/// A leaver's last day: a date on or after their start (the form's and the import's rule).
pub fn parse_last_day(raw: &str, start_date: NaiveDate) -> Result<NaiveDate, String> {
    let left_on = parse_plausible_date(raw)
        .ok_or("Please enter the last day with the company (YYYY-MM-DD).")?;
    if left_on < start_date {
        return Err("The last day cannot be before the start date.".into());
    }
    Ok(left_on)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> EmployeeDraft<'static> {
        EmployeeDraft {
            name: " Grace Hopper ",
            email: "Grace@Example.com",
            title: "Rear Admiral",
            department: "3",
            new_department: "",
            manager: "",
            location: "Arlington",
            new_location: "",
            work_phone: "",
            start_date: "1943-12-01",
            status: "active",
            left_on: "",
        }
    }

    #[test]
    fn a_complete_draft_validates_into_normalized_fields() {
        let checked = draft().validate().unwrap();
        assert_eq!(checked.manager, ManagerPick::Nobody);
        let fields = checked.fields;
        assert_eq!(fields.name, "Grace Hopper");
        assert_eq!(fields.email, "grace@example.com");
        assert_eq!(
            fields.department,
            DepartmentChoice::Existing(DepartmentId(3))
        );
        assert_eq!(fields.manager_id, None);
        assert_eq!(fields.status, EmployeeStatus::Active);
    }

    #[test]
    fn a_typed_department_wins_over_the_list() {
        let fields = EmployeeDraft {
            new_department: " Navy ",
            department: "",
            ..draft()
        }
        .validate()
        .unwrap()
        .fields;
        assert_eq!(fields.department, DepartmentChoice::New("Navy".into()));
    }

    #[test]
    fn every_bad_field_is_reported() {
        let errors = EmployeeDraft {
            name: "",
            email: "nope",
            title: "x\u{7}",
            department: "abc",
            new_department: "",
            manager: "-4",
            location: "",
            new_location: "",
            work_phone: "call me",
            start_date: "2023-02-29",
            status: "boss",
            left_on: "",
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = errors.0.keys().copied().collect();
        assert_eq!(
            fields,
            [
                "department",
                "email",
                "location",
                "manager",
                "name",
                "start_date",
                "status",
                "title",
                "work_phone"
            ]
        );
    }

    #[test]
    fn a_leaver_needs_a_last_day_on_or_after_the_start() {
        let leaver = |left_on| EmployeeDraft {
            status: "terminated",
            left_on,
            ..draft()
        };
        let missing = leaver("").validate().unwrap_err();
        assert!(missing.0.contains_key("left_on"));
        let too_early = leaver("1943-11-30").validate().unwrap_err();
        assert!(too_early.0.contains_key("left_on"));
        let fields = leaver("1986-08-14").validate().unwrap().fields;
        assert_eq!(fields.left_on, NaiveDate::from_ymd_opt(1986, 8, 14));
    }

    #[test]
    fn someone_still_here_keeps_no_last_day() {
        let fields = EmployeeDraft {
            left_on: "1986-08-14",
            ..draft()
        }
        .validate()
        .unwrap()
        .fields;
        assert_eq!(fields.left_on, None);
    }

    #[test]
    fn the_manager_picker_takes_an_address_bare_or_after_a_name() {
        let grace = ManagerPick::Email("grace@example.com".into());
        assert_eq!(parse_manager_pick(" Grace@Example.com "), Ok(grace.clone()));
        assert_eq!(
            parse_manager_pick("Grace Hopper — Rear Admiral <grace@example.com>"),
            Ok(grace)
        );
        assert_eq!(parse_manager_pick(""), Ok(ManagerPick::Nobody));
        assert_eq!(
            parse_manager_pick("42"),
            Ok(ManagerPick::Id(EmployeeId(42)))
        );
        for bad in ["-4", "0", "Grace Hopper", "<>", "Grace <not an address>"] {
            assert!(parse_manager_pick(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_work_phone_is_optional_and_checked() {
        assert_eq!(parse_work_phone(" "), Ok(None));
        assert_eq!(
            parse_work_phone(" +44 (20) 7946-0018 "),
            Ok(Some("+44 (20) 7946-0018".into()))
        );
        for bad in ["1234", "+44 20 ext. 5", "(((-)))", &"1".repeat(31)] {
            assert!(parse_work_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_typed_new_location_wins_over_the_list() {
        let checked = EmployeeDraft {
            location: "",
            new_location: " Lisbon ",
            ..draft()
        }
        .validate()
        .unwrap();
        assert_eq!(checked.fields.location, "Lisbon");
    }
}
