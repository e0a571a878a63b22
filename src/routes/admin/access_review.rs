//! /admin/access-review (and its CSV): leavers in a period and when their access ended, any
//! sign-in after a last day, accounts without an employee record, accounts unused for 90 days,
//! and the administrators. `Require<ReadAudit>` guards both (security, auditors, administrators); anyone else gets 403.

use crate::auth::grants::ReadAudit;
use crate::auth::Require;
use chrono::NaiveDate;
use rocket::{get, routes, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::app::access_review::{self, AccessReview, ReviewedLeaver, UNUSED_DAYS};
use crate::app::error::{AppError, AppResult};
use crate::app::App;
use crate::clock::format_timestamp;
use crate::hr::{display_date, format_date, parse_date};
use crate::users::review::ReviewedAccount;
use crate::web::csv::{self, CsvDownload};
use crate::web::page::{Layout, Notice};
use crate::web::views::Moment;

/// The longest period one review covers (ten years): beyond it a date is a typo.
const MAX_PERIOD_DAYS: i64 = 3_660;

/// The period from the query string: both dates or neither (the last 90 days).
fn period(app: &App, from: Option<&str>, to: Option<&str>) -> AppResult<(NaiveDate, NaiveDate)> {
    let (default_from, default_to) = access_review::default_period(app.today());
    let date = |raw: Option<&str>, default: NaiveDate, which: &str| match raw.map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => parse_date(text).ok_or_else(|| {
            AppError::BadRequest(format!(
                "The {which} date must be a date such as 2026-01-31."
            ))
        }),
    };
    let from = date(from, default_from, "first")?;
    let to = date(to, default_to, "last")?;
    if from > to {
        return Err(AppError::BadRequest(
            "The period's first date must not be after its last.".to_string(),
        ));
    }
    if (to - from).num_days() > MAX_PERIOD_DAYS {
        return Err(AppError::BadRequest(
            "A review covers at most ten years; choose a shorter period.".to_string(),
        ));
    }
    Ok((from, to))
}

#[derive(Debug, Serialize)]
struct LeaverRow {
    employee_id: i64,
    name: String,
    email: String,
    last_day_iso: String,
    last_day: String,
    /// `none`, `enabled` or `disabled`.
    account: &'static str,
    access_ended: Option<Moment>,
    late_sign_ins: i64,
    first_late_sign_in: Option<Moment>,
}

impl LeaverRow {
    fn new(reviewed: &ReviewedLeaver, now: i64) -> LeaverRow {
        let leaver = &reviewed.leaver;
        LeaverRow {
            employee_id: leaver.employee_id.0,
            name: leaver.name.clone(),
            email: leaver.email.clone(),
            last_day_iso: format_date(leaver.left_on),
            last_day: display_date(leaver.left_on),
            account: account_state(leaver.user_id.is_some(), leaver.account_disabled),
            access_ended: reviewed.access_ended_at.map(|at| Moment::at(at, now)),
            late_sign_ins: reviewed.late_sign_ins,
            first_late_sign_in: reviewed.first_late_sign_in.map(|at| Moment::at(at, now)),
        }
    }
}

fn account_state(exists: bool, disabled: bool) -> &'static str {
    match (exists, disabled) {
        (false, _) => "none",
        (true, true) => "disabled",
        (true, false) => "enabled",
    }
}

#[derive(Debug, Serialize)]
struct AccountRow {
    name: String,
    email: String,
    role: &'static str,
    state: &'static str,
    has_record: bool,
    last_sign_in: Option<Moment>,
    created: Moment,
}

impl AccountRow {
    fn new(account: &ReviewedAccount, now: i64) -> AccountRow {
        AccountRow {
            name: account.name.clone(),
            email: account.email.clone(),
            role: account.role.label(),
            state: account_state(true, account.disabled),
            has_record: account.has_record,
            last_sign_in: account.last_sign_in_at.map(|at| Moment::at(at, now)),
            created: Moment::at(account.created_at, now),
        }
    }
}

fn rows(accounts: &[ReviewedAccount], now: i64) -> Vec<AccountRow> {
    accounts.iter().map(|a| AccountRow::new(a, now)).collect()
}

/// The review of the period the query string asks for.
async fn review_of(app: &App, from: Option<&str>, to: Option<&str>) -> AppResult<AccessReview> {
    let (from, to) = period(app, from, to)?;
    access_review::access_review(app, from, to).await
}

#[get("/admin/access-review?<from>&<to>")]
async fn review_page(
    admin: Require<ReadAudit>,
    from: Option<&str>,
    to: Option<&str>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let review = review_of(app, from, to).await?;
    let (from, to) = (review.from, review.to);
    let now = app.clock.now();
    Ok(Template::render(
        "admin_access_review.html",
        context! {
            layout: Layout::signed_in(&admin.0.session, flash),
            from: format_date(from),
            to: format_date(to),
            from_label: display_date(from),
            to_label: display_date(to),
            time_zone: app.calendar.zone().name(),
            unused_days: UNUSED_DAYS,
            late_sign_ins: review.late_sign_ins(),
            leavers: review.leavers.iter().map(|l| LeaverRow::new(l, now)).collect::<Vec<_>>(),
            without_record: rows(&review.without_record, now),
            unused: rows(&review.unused, now),
            administrators: rows(&review.administrators, now),
        },
    ))
}

const REVIEW_COLUMNS: [&str; 9] = [
    "Check",
    "Name",
    "E-mail",
    "Role",
    "Account",
    "Last day",
    "Access ended (UTC)",
    "Sign-ins after last day",
    "Last sign-in (UTC)",
];

fn time_or_blank(at: Option<i64>) -> String {
    at.map(format_timestamp).unwrap_or_default()
}

fn review_csv_body(review: &AccessReview) -> String {
    let mut body = csv::row(&REVIEW_COLUMNS);
    for l in &review.leavers {
        let leaver = &l.leaver;
        body.push_str(&csv::row(&[
            "Leaver".to_string(),
            leaver.name.clone(),
            leaver.email.clone(),
            String::new(),
            account_state(leaver.user_id.is_some(), leaver.account_disabled).to_string(),
            format_date(leaver.left_on),
            time_or_blank(l.access_ended_at),
            l.late_sign_ins.to_string(),
            String::new(),
        ]));
    }
    for (check, accounts) in [
        ("Account without employee record", &review.without_record),
        ("Unused for 90 days", &review.unused),
        ("Administrator", &review.administrators),
    ] {
        for a in accounts {
            body.push_str(&csv::row(&[
                check.to_string(),
                a.name.clone(),
                a.email.clone(),
                a.role.label().to_string(),
                account_state(true, a.disabled).to_string(),
                String::new(),
                String::new(),
                String::new(),
                time_or_blank(a.last_sign_in_at),
            ]));
        }
    }
    body
}

#[get("/admin/access-review.csv?<from>&<to>")]
async fn review_csv(
    _admin: Require<ReadAudit>,
    from: Option<&str>,
    to: Option<&str>,
    app: &State<App>,
) -> AppResult<CsvDownload<String>> {
    let review = review_of(app, from, to).await?;
    Ok(CsvDownload {
        filename: format!(
            "access-review-{}-to-{}.csv",
            format_date(review.from),
            format_date(review.to)
        ),
        body: review_csv_body(&review),
    })
}

pub fn routes() -> Vec<Route> {
    routes![review_page, review_csv]
}
