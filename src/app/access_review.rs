//! The access review an ISO 27001 or SOC 2 auditor asks for: who left in a period and when their
//! access ended (from the audit trail), any sign-in after a last day (there must be none),
//! accounts that belong to nobody on the staff list, accounts unused for 90 days, and the
//! administrators.

use chrono::{Days, NaiveDate};

use super::App;
use crate::app::error::AppResult;
use crate::audit;
use crate::hr::employee::access::PeriodLeaver;
use crate::hr::Employee;
use crate::users::review::ReviewedAccount;

/// An account unused this long is listed.
pub const UNUSED_DAYS: u64 = 90;

/// The period a review covers when none is asked for: the last 90 days.
pub fn default_period(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (
        today
            .checked_sub_days(Days::new(UNUSED_DAYS))
            .unwrap_or(today),
        today,
    )
}

/// A leaver in the period, with what the trail says about their access.
#[derive(Debug, Clone)]
pub struct ReviewedLeaver {
    pub leaver: PeriodLeaver,
    /// When their access ended (their account disabled), if it has.
    pub access_ended_at: Option<i64>,
    /// Sign-ins after the end of their last day, and the first of them.
    pub late_sign_ins: i64,
    pub first_late_sign_in: Option<i64>,
}

/// The whole review.
#[derive(Debug, Clone)]
pub struct AccessReview {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub leavers: Vec<ReviewedLeaver>,
    pub without_record: Vec<ReviewedAccount>,
    pub unused: Vec<ReviewedAccount>,
    pub administrators: Vec<ReviewedAccount>,
}

impl AccessReview {
    /// Sign-ins after a last day across all leavers (must be none).
    pub fn late_sign_ins(&self) -> i64 {
        self.leavers.iter().map(|l| l.late_sign_ins).sum()
    }
}

/// The review of leavers whose last day lies in `from..=to` and of every account now.
pub async fn access_review(app: &App, from: NaiveDate, to: NaiveDate) -> AppResult<AccessReview> {
    let now = app.clock.now();
    let mut conn = app.db.read().await?;
    let mut leavers = Vec::new();
    for leaver in Employee::leavers_between(&mut conn, from, to).await? {
        let (access_ended_at, (late_sign_ins, first_late_sign_in)) = match leaver.user_id {
            Some(user) => {
                let day_over = app.calendar.end_of(leaver.left_on);
                (
                    audit::access_ended_at(&mut conn, user).await?,
                    audit::sign_ins_since(&mut conn, user, day_over).await?,
                )
            }
            None => (None, (0, None)),
        };
        leavers.push(ReviewedLeaver {
            leaver,
            access_ended_at,
            late_sign_ins,
            first_late_sign_in,
        });
    }
    let unused_before = now - i64::try_from(UNUSED_DAYS * 86_400).unwrap_or(i64::MAX);
    Ok(AccessReview {
        from,
        to,
        leavers,
        without_record: ReviewedAccount::without_record(&mut conn).await?,
        unused: ReviewedAccount::unused_since(&mut conn, unused_before).await?,
        administrators: ReviewedAccount::administrators(&mut conn).await?,
    })
}
