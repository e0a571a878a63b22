//! The record's private details: personal e-mail, phone, date of birth, home address and
//! emergency contact. A type of their own, loaded by a statement of their own, so the directory's
//! [`super::Employee`] (and everything built from it: search, CSV, org chart, dashboard) cannot
//! carry them by accident; whether a viewer may load them is [`super::visibility`]'s to say.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use sqlx::{AnyConnection, FromRow};

use super::validation::InvalidEmployee;
use crate::hr::{decode_date, format_date, parse_date};
use crate::ids::EmployeeId;
use crate::users::Email;

/// Longest address or emergency contact accepted, in characters.
pub const MAX_PRIVATE_TEXT_CHARS: usize = 300;
/// A phone number's length bounds, in characters.
pub const PHONE_CHARS: std::ops::RangeInclusive<usize> = 3..=30;

/// One private field: its form name and how the audit trail names it (never its value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrivateField {
    PersonalEmail,
    Phone,
    BirthDate,
    HomeAddress,
    EmergencyContact,
}

impl PrivateField {
    pub const ALL: [PrivateField; 5] = [
        PrivateField::PersonalEmail,
        PrivateField::Phone,
        PrivateField::BirthDate,
        PrivateField::HomeAddress,
        PrivateField::EmergencyContact,
    ];

    pub fn form_name(self) -> &'static str {
        match self {
            PrivateField::PersonalEmail => "personal_email",
            PrivateField::Phone => "phone",
            PrivateField::BirthDate => "birth_date",
            PrivateField::HomeAddress => "home_address",
            PrivateField::EmergencyContact => "emergency_contact",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PrivateField::PersonalEmail => "personal e-mail",
            PrivateField::Phone => "phone",
            PrivateField::BirthDate => "date of birth",
            PrivateField::HomeAddress => "home address",
            PrivateField::EmergencyContact => "emergency contact",
        }
    }
}

/// A person's private details, each optional. Its `Debug` names only which are set, so a logged
/// value never leaks them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PrivateDetails {
    pub personal_email: Option<String>,
    pub phone: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub home_address: Option<String>,
    pub emergency_contact: Option<String>,
}

impl std::fmt::Debug for PrivateDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set: Vec<&str> = self.set_fields().iter().map(|f| f.form_name()).collect();
        write!(f, "PrivateDetails {{ set: {set:?} }}")
    }
}

impl PrivateDetails {
    /// Each field's value as the form and the page show it (`None` when not given).
    fn value(&self, field: PrivateField) -> Option<String> {
        match field {
            PrivateField::PersonalEmail => self.personal_email.clone(),
            PrivateField::Phone => self.phone.clone(),
            PrivateField::BirthDate => self.birth_date.map(format_date),
            PrivateField::HomeAddress => self.home_address.clone(),
            PrivateField::EmergencyContact => self.emergency_contact.clone(),
        }
    }

    /// The fields that hold a value.
    pub fn set_fields(&self) -> Vec<PrivateField> {
        PrivateField::ALL
            .into_iter()
            .filter(|f| self.value(*f).is_some())
            .collect()
    }

    /// The fields whose value differs in `after`: what the audit trail names, without values.
    pub fn changed_fields(&self, after: &PrivateDetails) -> Vec<PrivateField> {
        PrivateField::ALL
            .into_iter()
            .filter(|f| self.value(*f) != after.value(*f))
            .collect()
    }

    /// "changed phone, home address" for the audit trail; `None` when nothing changed.
    pub fn describe_changes(fields: &[PrivateField]) -> Option<String> {
        name_fields("changed", fields)
    }

    /// "with phone, date of birth" for a new record's event; `None` when none was given.
    pub fn describe_given(&self) -> Option<String> {
        name_fields("with", &self.set_fields())
    }
}

/// `lead` and the fields' names, for the audit trail; `None` for no fields.
fn name_fields(lead: &str, fields: &[PrivateField]) -> Option<String> {
    if fields.is_empty() {
        return None;
    }
    let names: Vec<&str> = fields.iter().map(|f| f.label()).collect();
    Some(format!("{lead} {}", names.join(", ")))
}

/// The private fields exactly as posted. `birth_date` is `None` on a form that does not offer it
/// (the person's own page: HR sets the date of birth).
#[derive(Debug, Clone, Copy, Default)]
pub struct PrivateDraft<'a> {
    pub personal_email: &'a str,
    pub phone: &'a str,
    pub birth_date: Option<&'a str>,
    pub home_address: &'a str,
    pub emergency_contact: &'a str,
}

type Errors = BTreeMap<&'static str, String>;

impl PrivateDraft<'_> {
    /// Checks every field (an empty one means "not given") and reports all problems at once.
    /// `today` bounds the date of birth; `kept_birth_date` is used when the form has no such field.
    pub fn validate(
        &self,
        today: NaiveDate,
        kept_birth_date: Option<NaiveDate>,
    ) -> Result<PrivateDetails, InvalidEmployee> {
        let mut errors = Errors::new();
        let mut check = |field: PrivateField, result: Result<Option<String>, String>| {
            result
                .map_err(|message| errors.insert(field.form_name(), message))
                .ok()
                .flatten()
        };
        let personal_email = check(
            PrivateField::PersonalEmail,
            optional(self.personal_email, |raw| {
                Email::parse(raw)
                    .map(|e| e.as_str().to_string())
                    .map_err(|e| e.to_string())
            }),
        );
        let phone = check(PrivateField::Phone, optional(self.phone, parse_phone));
        let home_address = check(
            PrivateField::HomeAddress,
            optional(self.home_address, |raw| parse_lines(raw, "home address")),
        );
        let emergency_contact = check(
            PrivateField::EmergencyContact,
            optional(self.emergency_contact, |raw| {
                parse_lines(raw, "emergency contact")
            }),
        );
        let birth_date = match self.birth_date {
            None => kept_birth_date,
            Some(raw) => match optional(raw, |raw| parse_birth_date(raw, today)) {
                Ok(date) => date.as_deref().and_then(parse_date),
                Err(message) => {
                    errors.insert(PrivateField::BirthDate.form_name(), message);
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(InvalidEmployee(errors));
        }
        Ok(PrivateDetails {
            personal_email,
            phone,
            birth_date,
            home_address,
            emergency_contact,
        })
    }
}

/// An empty (or blank) field is "not given"; anything else must parse.
fn optional(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<String, String>,
) -> Result<Option<String>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    parse(text).map(Some)
}

fn parse_phone(text: &str) -> Result<String, String> {
    let allowed = |c: char| c.is_ascii_digit() || " +()-./".contains(c);
    if !text.chars().all(allowed) || !text.chars().any(|c| c.is_ascii_digit()) {
        return Err("A phone number may hold only digits, spaces and + ( ) - . /".into());
    }
    if !PHONE_CHARS.contains(&text.chars().count()) {
        return Err(format!(
            "A phone number is {} to {} characters long.",
            PHONE_CHARS.start(),
            PHONE_CHARS.end()
        ));
    }
    Ok(text.to_string())
}

/// The date of birth: ISO, in the past, not before 1900 (the date is returned in stored form).
fn parse_birth_date(text: &str, today: NaiveDate) -> Result<String, String> {
    match parse_date(text) {
        None => Err("Please enter the date of birth as YYYY-MM-DD.".into()),
        Some(date) if date.year() < 1900 => Err("The date of birth cannot be before 1900.".into()),
        Some(date) if date >= today => Err("The date of birth must be in the past.".into()),
        Some(date) => Ok(format_date(date)),
    }
}

/// One or more lines (an address, a contact's name and number): line ends made `\n`, at most
/// [`MAX_PRIVATE_TEXT_CHARS`], no control characters besides the line breaks.
fn parse_lines(text: &str, what: &str) -> Result<String, String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    if text.chars().count() > MAX_PRIVATE_TEXT_CHARS {
        return Err(format!(
            "The {what} must be at most {MAX_PRIVATE_TEXT_CHARS} characters long."
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(format!(
            "The {what} contains characters that are not allowed."
        ));
    }
    Ok(text)
}

#[derive(FromRow)]
struct PrivateRow {
    personal_email: Option<String>,
    phone: Option<String>,
    birth_date: Option<String>,
    home_address: Option<String>,
    emergency_contact: Option<String>,
}

impl PrivateDetails {
    /// The private details of one record (`None` when there is no such record). Call it only
    /// where `visibility::may_see_private` said yes, or for the person themselves.
    pub async fn for_employee(
        conn: &mut AnyConnection,
        id: EmployeeId,
    ) -> Result<Option<PrivateDetails>, sqlx::Error> {
        let row: Option<PrivateRow> = sqlx::query_as(
            "SELECT personal_email, phone, birth_date, home_address, emergency_contact \
             FROM employees WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|row| {
            Ok(PrivateDetails {
                birth_date: row.birth_date.as_deref().map(decode_date).transpose()?,
                personal_email: row.personal_email,
                phone: row.phone,
                home_address: row.home_address,
                emergency_contact: row.emergency_contact,
            })
        })
        .transpose()
    }

    /// Writes all five fields inside the caller's transaction; whether the record exists.
    pub async fn save(
        &self,
        conn: &mut AnyConnection,
        id: EmployeeId,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE employees SET personal_email = $1, phone = $2, birth_date = $3, \
                    home_address = $4, emergency_contact = $5 \
             WHERE id = $6",
        )
        .bind(self.personal_email.clone())
        .bind(self.phone.clone())
        .bind(self.birth_date.map(format_date))
        .bind(self.home_address.clone())
        .bind(self.emergency_contact.clone())
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(result.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()
    }

    fn draft() -> PrivateDraft<'static> {
        PrivateDraft {
            personal_email: " Grace@Home.example ",
            phone: "+1 (555) 010-0199",
            birth_date: Some("1906-12-09"),
            home_address: "1 Navy Yard\r\nArlington",
            emergency_contact: "",
        }
    }

    #[test]
    fn a_draft_validates_into_normalized_details_and_empty_means_not_given() {
        let details = draft().validate(today(), None).unwrap();
        assert_eq!(
            details.personal_email.as_deref(),
            Some("grace@home.example")
        );
        assert_eq!(
            details.home_address.as_deref(),
            Some("1 Navy Yard\nArlington")
        );
        assert_eq!(details.emergency_contact, None);
        assert_eq!(details.birth_date, NaiveDate::from_ymd_opt(1906, 12, 9));
    }

    #[test]
    fn every_bad_private_field_is_reported() {
        let long = "x".repeat(MAX_PRIVATE_TEXT_CHARS + 1);
        let errors = PrivateDraft {
            personal_email: "nope",
            phone: "call me",
            birth_date: Some("1899-12-31"),
            home_address: &long,
            emergency_contact: "Mum\u{7}",
        }
        .validate(today(), None)
        .unwrap_err();
        let fields: Vec<&str> = errors.0.keys().copied().collect();
        assert_eq!(
            fields,
            [
                "birth_date",
                "emergency_contact",
                "home_address",
                "personal_email",
                "phone"
            ]
        );
    }

    #[test]
    fn a_phone_number_is_three_to_thirty_allowed_characters() {
        for good in ["112", "+44 20 7946 0958", "(0)30/1234-56.7"] {
            assert!(parse_phone(good).is_ok(), "{good}");
        }
        for bad in ["12", &"1".repeat(31), "+++", "555-CALL", "1\n2"] {
            assert!(parse_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_date_of_birth_lies_in_the_past_and_not_before_1900() {
        assert!(parse_birth_date("1900-01-01", today()).is_ok());
        assert!(parse_birth_date("2026-12-06", today()).is_err());
        assert!(parse_birth_date("1899-12-31", today()).is_err());
        assert!(parse_birth_date("6 Dec 1990", today()).is_err());
    }

    #[test]
    fn a_form_without_the_date_of_birth_keeps_the_stored_one() {
        let kept = NaiveDate::from_ymd_opt(1980, 1, 2);
        let own = PrivateDraft {
            birth_date: None,
            ..draft()
        };
        assert_eq!(own.validate(today(), kept).unwrap().birth_date, kept);
    }

    #[test]
    fn changes_name_fields_never_values_and_debug_hides_values() {
        let before = draft().validate(today(), None).unwrap();
        let after = PrivateDetails {
            phone: Some("999".into()),
            home_address: None,
            ..before.clone()
        };
        let changed = before.changed_fields(&after);
        assert_eq!(changed, [PrivateField::Phone, PrivateField::HomeAddress]);
        assert_eq!(
            PrivateDetails::describe_changes(&changed).as_deref(),
            Some("changed phone, home address")
        );
        assert!(!format!("{after:?}").contains("999"));
    }
}
