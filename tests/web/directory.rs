//! The directory as a table: current staff by default (the dashboard's headcount), HR's status
//! filter, leave kept from those who may not see private details, sortable column headers,
//! numbered pages and a page size.
//!
//! Expectations come from the stored rows read with plain SQL and filtered and sorted in Rust,
//! never from the directory's own query.

use chrono::{Duration, NaiveDate};
use hr_portal::app::demo::DemoReport;
use hr_portal::text::fold;
use hr_portal::users::Role;
use rocket::http::Status;
use rocket::local::asynchronous::Client;

use crate::helpers::*;
use crate::hr::{ids_after, result_count};

/// A stored employee, as the expectations need them.
#[derive(Debug, Clone)]
struct Row {
    id: i64,
    name: String,
    start_date: String,
    status: String,
    left_on: Option<String>,
}

impl Row {
    /// With the company on `today`: the dashboard's headcount rule.
    fn current(&self, today: &str) -> bool {
        let gone =
            self.status == "terminated" && self.left_on.as_deref().is_none_or(|day| day <= today);
        self.start_date.as_str() <= today && !gone
    }
}

async fn rows(app: &TestApp) -> Vec<Row> {
    let rows: Vec<(i64, String, String, String, Option<String>)> =
        sqlx::query_as("SELECT id, name, start_date, status, left_on FROM employees")
            .fetch_all(&app.db().pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(id, name, start_date, status, left_on)| Row {
            id,
            name,
            start_date,
            status,
            left_on,
        })
        .collect()
}

fn today(app: &TestApp) -> String {
    app.app().today().format("%Y-%m-%d").to_string()
}

/// Ids by folded name, then id: the default order.
fn by_name<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Vec<i64> {
    let mut rows: Vec<&Row> = rows.into_iter().collect();
    rows.sort_by_key(|r| (fold(&r.name), r.id));
    rows.into_iter().map(|r| r.id).collect()
}

fn listed_ids(html: &str) -> Vec<i64> {
    ids_after(html, "<a class=\"person\" href=\"/employees/")
}

/// The dashboard's headcount figure.
fn headcount(html: &str) -> i64 {
    let at = html
        .find("id=\"figure-headcount\"")
        .expect("a headcount figure");
    let marker = "<span class=\"figure-value\">";
    let start = at + html[at..].find(marker).unwrap() + marker.len();
    html[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// The `href` of the header link labelled `label`, unescaped.
fn header_link(html: &str, label: &str) -> String {
    let end = html
        .find(&format!("\">{label}<span class=\"visually-hidden\">"))
        .unwrap_or_else(|| panic!("a sorting header {label}"));
    let start = html[..end].rfind("href=\"").unwrap() + "href=\"".len();
    html[start..end].replace("&amp;", "&")
}

/// The `<th>` that holds the header labelled `label`.
fn header_cell<'h>(html: &'h str, label: &str) -> &'h str {
    let at = html.find(&format!(">{label}<")).unwrap();
    let start = html[..at].rfind("<th").unwrap();
    &html[start..at]
}

/// The demo company, with one person on leave and one serving their notice (last day ahead),
/// and an HR account; the ids of those two.
struct Staff {
    app: TestApp,
    report: DemoReport,
    on_leave: i64,
    leaving: i64,
}

async fn staff(app: TestApp) -> Staff {
    let report = app.fill_demo_company().await;
    let rows = rows(&app).await;
    let on_leave = rows
        .iter()
        .find(|r| r.status == "on_leave")
        .expect("the demo has people on leave")
        .id;
    let leaving = rows
        .iter()
        .find(|r| {
            r.status == "active" && !r.name.contains("Okafor") && !r.name.contains("Whitfield")
        })
        .unwrap()
        .id;
    let last_day = (app.app().today() + Duration::days(20)).format("%Y-%m-%d");
    sqlx::query("UPDATE employees SET status = 'terminated', left_on = $1 WHERE id = $2")
        .bind(last_day.to_string())
        .bind(leaving)
        .execute(&app.db().pool)
        .await
        .unwrap();
    app.create_user("hana@example.com", "Hana HR", Role::Hr)
        .await;
    Staff {
        app,
        report,
        on_leave,
        leaving,
    }
}

impl Staff {
    async fn employee(&self) -> &Client {
        self.app
            .sign_in_to_the_demo_as(&self.report, Role::Employee)
            .await;
        &self.app.browser
    }

    async fn hr(&self) -> Client {
        let browser = self.app.new_browser().await;
        assert_eq!(
            browser.signs_in_as("hana@example.com", PASSWORD).await,
            Status::SeeOther
        );
        browser
    }
}

async fn the_directory_lists_current_staff_by_default_as_many_as_the_dashboard_counts(
    app: TestApp,
) {
    let staff = staff(app).await;
    let today = today(&staff.app);
    let rows = rows(&staff.app).await;
    let current: Vec<&Row> = rows.iter().filter(|r| r.current(&today)).collect();
    assert!(current.len() < rows.len(), "the demo has leavers");
    let browser = staff.employee().await;

    let (_, dashboard) = browser.opens("/dashboard").await;
    let (status, html) = browser.opens("/employees").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(result_count(&html), current.len() as i64);
    assert_eq!(result_count(&html), headcount(&dashboard));
    assert_eq!(listed_ids(&html), by_name(current.iter().copied())[..25]);
    // Someone serving their notice is still here.
    assert!(current.iter().any(|r| r.id == staff.leaving));
}

async fn hr_filters_the_directory_by_each_status(app: TestApp) {
    let staff = staff(app).await;
    let today = today(&staff.app);
    let rows = rows(&staff.app).await;
    let hr = staff.hr().await;
    let (_, html) = hr.opens("/employees").await;
    assert!(
        html.contains("id=\"status-filter\""),
        "HR is offered the filter"
    );
    assert!(html.contains("<option value=\"on_leave\">On leave</option>"));

    let expect = |status: &str| -> Vec<i64> {
        by_name(rows.iter().filter(|r| match status {
            "current" => r.current(&today),
            "active" => r.status == "active",
            "on_leave" => r.status == "on_leave",
            "leaving" => {
                r.status == "terminated" && r.left_on.as_deref().is_some_and(|d| d > today.as_str())
            }
            "left" => {
                r.status == "terminated" && r.left_on.as_deref().is_none_or(|d| d <= today.as_str())
            }
            _ => true,
        }))
    };
    for status in ["current", "active", "on_leave", "leaving", "left", "all"] {
        let expected = expect(status);
        assert!(!expected.is_empty(), "the demo has someone {status}");
        let (code, html) = hr
            .opens(&format!("/employees?status={status}&size=100"))
            .await;
        assert_eq!(code, Status::Ok, "{status}");
        assert_eq!(result_count(&html), expected.len() as i64, "{status}");
        let shown = expected.len().min(100);
        assert_eq!(listed_ids(&html), expected[..shown], "{status}");
        assert!(
            html.contains(&format!("<option value=\"{status}\" selected>")),
            "{status} is the selected filter"
        );
    }
    let (_, html) = hr.opens("/employees?status=on_leave").await;
    assert!(listed_ids(&html).contains(&staff.on_leave));
    assert!(html.contains(">On leave</span>"), "HR sees the badge");
    let (_, profile) = hr.opens(&format!("/employees/{}", staff.on_leave)).await;
    assert!(profile.contains(">On leave</span>"));

    // A status that names nothing is refused, and says what exists.
    let (code, html) = hr.opens("/employees?status=terminated").await;
    assert_eq!(code, Status::BadRequest);
    assert!(html.contains("current staff, active, on leave"));
}

async fn an_employee_never_learns_who_is_on_leave(app: TestApp) {
    let staff = staff(app).await;
    let browser = staff.employee().await;
    let on_leave = format!("/employees/{}\"", staff.on_leave);

    let (_, html) = browser.opens("/employees?size=100").await;
    assert!(!html.contains("id=\"status-filter\""), "no status filter");
    assert!(!html.contains("On leave"));
    let mut page = 1;
    let mut seen = false;
    loop {
        let (_, html) = browser
            .opens(&format!("/employees?size=100&page={page}"))
            .await;
        if listed_ids(&html).is_empty() {
            break;
        }
        assert!(!html.contains("On leave"), "page {page}");
        seen |= html.contains(&on_leave);
        page += 1;
    }
    assert!(
        seen,
        "the person on leave is listed, as a colleague like any other"
    );

    // Every status filter is refused alike (403 with the reason), known value or not.
    for status in ["on_leave", "active", "leaving", "left", "all", "bogus"] {
        let (code, html) = browser.opens(&format!("/employees?status={status}")).await;
        assert_eq!(code, Status::Forbidden, "status={status}");
        assert!(html.contains("Only HR can filter the directory by status"));
        let (code, _) = browser
            .opens(&format!("/employees.csv?status={status}"))
            .await;
        assert_eq!(code, Status::Forbidden, "the export, status={status}");
    }
    let (code, _) = browser.opens("/employees?status=current").await;
    assert_eq!(code, Status::Ok, "the default may be named");

    // Nor on the profile, in the export or on the org chart.
    let (_, profile) = browser
        .opens(&format!("/employees/{}", staff.on_leave))
        .await;
    assert!(!profile.contains("On leave"));
    assert!(profile.contains(">Active</span>"));
    let (_, csv) = browser.opens("/employees.csv").await;
    assert!(!csv.contains("On leave"));
    let (_, chart) = browser.opens("/org").await;
    assert!(!chart.contains("On leave"));
}

async fn column_headers_sort_the_directory_and_clicking_again_reverses(app: TestApp) {
    let staff = staff(app).await;
    let today = today(&staff.app);
    let rows = rows(&staff.app).await;
    let current: Vec<&Row> = rows.iter().filter(|r| r.current(&today)).collect();
    let browser = staff.employee().await;

    let (_, html) = browser.opens("/employees").await;
    assert!(!html.contains("id=\"sort-order\""), "no sort dropdown");
    assert!(header_cell(&html, "Name").contains("aria-sort=\"ascending\""));
    assert!(!header_cell(&html, "Started").contains("aria-sort"));
    assert!(
        !html.contains("<a class=\"sort\" href=\"/employees?sort=title"),
        "titles do not sort"
    );

    let mut earliest = current.clone();
    earliest.sort_by_key(|r| (r.start_date.clone(), r.id));
    let earliest: Vec<i64> = earliest.iter().map(|r| r.id).collect();

    let started = header_link(&html, "Started");
    assert_eq!(started, "/employees?sort=start&dir=asc&size=25");
    let (_, html) = browser.opens(&started).await;
    assert_eq!(listed_ids(&html), earliest[..25]);
    assert!(header_cell(&html, "Started").contains("aria-sort=\"ascending\""));
    assert!(!header_cell(&html, "Name").contains("aria-sort"));

    let again = header_link(&html, "Started");
    assert_eq!(again, "/employees?sort=start&dir=desc&size=25");
    let (_, html) = browser.opens(&again).await;
    let newest: Vec<i64> = earliest.iter().rev().copied().collect();
    assert_eq!(listed_ids(&html), newest[..25]);
    assert!(header_cell(&html, "Started").contains("aria-sort=\"descending\""));

    // A search keeps its order through the headers and the pages.
    let (_, html) = browser
        .opens("/employees?q=engineer&sort=start&dir=desc")
        .await;
    assert!(html.contains(
        "href=\"/employees?q=engineer&amp;sort=start&amp;dir=desc&amp;size=25&amp;page=2\""
    ));
    assert_eq!(
        header_link(&html, "Name"),
        "/employees?q=engineer&sort=name&dir=asc&size=25"
    );
}

async fn numbered_pages_and_a_page_size_page_through_the_directory(app: TestApp) {
    let staff = staff(app).await;
    let today = today(&staff.app);
    let rows = rows(&staff.app).await;
    let everyone = by_name(rows.iter().filter(|r| r.current(&today)));
    let browser = staff.employee().await;

    let (_, html) = browser.opens("/employees?size=50&page=2").await;
    assert_eq!(listed_ids(&html), everyone[50..100]);
    assert!(html.contains("aria-current=\"page\" aria-label=\"Page 2\">2</a>"));
    assert!(html.contains("href=\"/employees?sort=name&amp;dir=asc&amp;size=50&amp;page=1\""));
    assert!(html.contains("href=\"/employees?sort=name&amp;dir=asc&amp;size=50&amp;page=3\""));
    assert!(html.contains("rel=\"next\""));
    // The size choice starts again at page 1 and keeps the order.
    assert!(html.contains("href=\"/employees?sort=name&amp;dir=asc&amp;size=100\""));
    assert!(html.contains("size=50\" aria-current=\"true\">50</a>"));

    let (_, html) = browser.opens("/employees?page=3").await;
    assert_eq!(listed_ids(&html), everyone[50..75]);
    let pages = everyone.len().div_ceil(25);
    assert!(
        html.contains(&format!("aria-label=\"Page {pages}\">{pages}</a>")),
        "the last page is linked"
    );

    for bad in ["30", "0", "-25", "1000", "abc"] {
        let (code, html) = browser.opens(&format!("/employees?size={bad}")).await;
        assert_eq!(code, Status::BadRequest, "size={bad}");
        assert!(
            html.contains("A page shows 25, 50 or 100 rows."),
            "size={bad}"
        );
    }
}

#[rocket::async_test]
async fn the_directory_shows_short_dates_with_the_exact_one_in_title_and_datetime() {
    let staff = staff(spawn_app().await).await;
    let rows = rows(&staff.app).await;
    let browser = staff.employee().await;
    let (_, html) = browser.opens("/employees").await;
    let first = listed_ids(&html)[0];
    let row = rows.iter().find(|r| r.id == first).unwrap();
    let date = NaiveDate::parse_from_str(&row.start_date, "%Y-%m-%d").unwrap();
    let cell = format!(
        "<time datetime=\"{}\" title=\"{}\">{}</time>",
        row.start_date,
        date.format("%-d %B %Y"),
        date.format("%-d %b %Y")
    );
    assert!(html.contains(&cell), "{cell}");
    assert!(
        !html.contains("class=\"muted clip\""),
        "no value is cut short"
    );
}

on_every_backend!(
    the_directory_lists_current_staff_by_default_as_many_as_the_dashboard_counts,
    hr_filters_the_directory_by_each_status,
    an_employee_never_learns_who_is_on_leave,
    column_headers_sort_the_directory_and_clicking_again_reverses,
    numbered_pages_and_a_page_size_page_through_the_directory,
);
