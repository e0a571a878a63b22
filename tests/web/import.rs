//! The staff-list import (/admin/import and `hr-portal employees import`): a preview that counts
//! who is created, updated and unchanged; every refusal answered with a clear 4xx page and
//! nothing written; the apply of exactly the previewed file; the directory export re-imported
//! as it is; a second import of the same file changing nothing.

use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::{Client, LocalResponse};

use crate::cli::hr_portal;
use crate::helpers::*;
use hr_portal::users::Role;

const HEADER: &str =
    "Name,Work e-mail,Job title,Department,Manager e-mail,Location,Start date,Status,Last day\r\n";

/// A staff list: the header and `lines`.
fn staff_list(lines: &[&str]) -> Vec<u8> {
    let mut file = HEADER.to_string();
    for line in lines {
        file.push_str(line);
        file.push_str("\r\n");
    }
    file.into_bytes()
}

/// `count` made-up people, the first managing everyone else.
fn generated_staff(count: usize) -> Vec<u8> {
    let mut file = HEADER.to_string();
    for n in 0..count {
        let manager = if n == 0 {
            String::new()
        } else {
            "p0@example.com".into()
        };
        file.push_str(&format!(
            "Person {n},p{n}@example.com,Engineer,Team {},{manager},Berlin,2020-01-01,Active,\r\n",
            n % 20
        ));
    }
    file.into_bytes()
}

const BOUNDARY: &str = "hr-portal-test-boundary";

/// A multipart body as a browser sends the upload form.
fn multipart(csrf_token: &str, file: &[u8], invite: bool) -> Vec<u8> {
    let mut body = Vec::new();
    let mut field = |name: &str, extra: &str, value: &[u8]| {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    };
    field("csrf_token", "", csrf_token.as_bytes());
    field(
        "file",
        "; filename=\"staff.csv\"\r\nContent-Type: text/csv",
        file,
    );
    if invite {
        field("invite", "", b"true");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// What an administrator does on the import page.
#[allow(async_fn_in_trait)] // test-only
trait Importer {
    /// Uploads `file` with the page's CSRF token: the preview (or refusal) response.
    async fn uploads(&self, file: &[u8]) -> LocalResponse<'_>;
    /// Uploads `file` and returns the preview page's status and HTML.
    async fn previews(&self, file: &[u8]) -> (Status, String);
    /// Presses "Import this file" on a preview page.
    async fn applies(&self, preview_page: &str, invite: bool) -> LocalResponse<'_>;
    /// Presses "Import this file" with "invite" ticked.
    async fn applies_with_invite(&self, preview_page: &str) -> LocalResponse<'_> {
        self.applies(preview_page, true).await
    }
    /// Applies the preview `id` with a valid CSRF token.
    async fn applies_preview(&self, id: &str) -> LocalResponse<'_>;
}

impl Importer for Client {
    async fn uploads(&self, file: &[u8]) -> LocalResponse<'_> {
        let (_, html) = self.opens("/admin/import").await;
        let token = csrf_token_for(&html, "/admin/import");
        self.post("/admin/import")
            .header(ContentType::new("multipart", "form-data").with_params(("boundary", BOUNDARY)))
            .body(multipart(&token, file, false))
            .dispatch()
            .await
    }

    async fn previews(&self, file: &[u8]) -> (Status, String) {
        let response = self.uploads(file).await;
        let status = response.status();
        (status, body(response).await)
    }

    async fn applies(&self, preview_page: &str, invite: bool) -> LocalResponse<'_> {
        let id = input_value(preview_page, "preview").expect("the preview can be applied");
        let token = csrf_token_for(preview_page, "/admin/import/apply");
        let mut fields = vec![("csrf_token", token.as_str()), ("preview", id.as_str())];
        if invite {
            fields.push(("invite", "true"));
        }
        self.posts("/admin/import/apply", &fields).await
    }

    async fn applies_preview(&self, id: &str) -> LocalResponse<'_> {
        let (_, html) = self.opens("/admin/import").await;
        let token = csrf_token_in(&html);
        self.posts(
            "/admin/import/apply",
            &[("csrf_token", &token), ("preview", id)],
        )
        .await
    }
}

/// The number in `<span id="…">N</span>` of a preview page.
fn figure(html: &str, id: &str) -> usize {
    let marker = format!("id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id} in {html}"))
        + marker.len();
    let end = html[start..].find('<').unwrap() + start;
    html[start..end].parse().unwrap()
}

/// Nothing an import writes exists: no employee, department, kept preview or audit row.
async fn assert_nothing_written(app: &TestApp, employees: i64, events: i64) {
    assert_eq!(app.employees().await, employees, "no employee written");
    assert_eq!(app.departments().await, 0, "no department written");
    assert_eq!(app.kept_previews().await, 0, "no preview kept");
    assert_eq!(
        app.audit_events_but_mail_sent().await,
        events,
        "no audit row"
    );
}

/// Grace is already here; the file updates her, adds Ada (whose manager, Bob, comes later in
/// the file) and Bob.
const THREE_PEOPLE: [&str; 3] = [
    "Grace Hopper,grace@example.com,Commodore,Navy,,Arlington,1943-12-01,Active,",
    "Ada Lovelace,ada@example.com,Analyst,Engines,bob@example.com,London,2020-01-06,Active,",
    "Bob Babbage,bob@example.com,Head of Engines,Engines,,London,2019-03-01,On leave,",
];

async fn adds_grace(app: &TestApp) {
    let new = "/admin/employees/new";
    let response = app.browser.submits(new, new, &GRACE_HOPPER).await;
    assert_eq!(response.status(), Status::SeeOther, "Grace is added");
}

async fn a_clean_file_is_previewed_with_its_counts_and_applied_exactly_once(app: TestApp) {
    app.sign_in_as_admin().await;
    adds_grace(&app).await;
    let events = app.audit_events_but_mail_sent().await;

    let (status, preview) = app.browser.previews(&staff_list(&THREE_PEOPLE)).await;
    assert_eq!(status, Status::Ok, "{preview}");
    assert_eq!(figure(&preview, "import-created"), 2);
    assert_eq!(figure(&preview, "import-updated"), 1);
    assert_eq!(figure(&preview, "import-unchanged"), 0);
    assert!(
        preview.contains("title: Rear Admiral → Commodore"),
        "{preview}"
    );
    assert_eq!(app.employees().await, 1, "a preview writes no employee");
    assert_eq!(
        app.audit_events_but_mail_sent().await,
        events,
        "nor an audit row"
    );

    let applied = app.browser.applies(&preview, false).await;
    assert_eq!(applied.status(), Status::SeeOther);
    assert_eq!(location(&applied), Some("/employees"));
    assert_eq!(app.employees().await, 3);
    assert_eq!(app.employees_titled("Commodore").await, 1);
    assert_eq!(
        app.reports_of("bob@example.com").await,
        1,
        "Ada reports to Bob"
    );
    assert_eq!(
        app.events_of_kind("employee_created").await,
        3,
        "Grace, Ada, Bob"
    );
    assert_eq!(
        app.events_of_kind_mentioning("employee_updated", "title: Rear Admiral → Commodore")
            .await,
        1
    );
    assert_eq!(app.events_of_kind("employees_imported").await, 1);
    assert_eq!(
        app.events_of_kind_with_detail(
            "employees_imported",
            "2 created, 1 updated, 0 unchanged, 1 department(s) created, 0 invited"
        )
        .await,
        1
    );

    let again = app.browser.applies(&preview, false).await;
    assert_eq!(
        again.status(),
        Status::Conflict,
        "a preview is applied once"
    );
    assert!(body(again).await.contains("already imported"));
    assert_eq!(app.events_of_kind("employees_imported").await, 1);
}

async fn a_manager_later_in_the_file_is_linked(app: TestApp) {
    app.sign_in_as_admin().await;
    let file = staff_list(&[
        "Ada Lovelace,ada@example.com,Analyst,Engines,cy@example.com,London,2020-01-06,Active,",
        "Bob Babbage,bob@example.com,Engineer,Engines,cy@example.com,LONDON,2019-03-01,Active,",
        "Cy Chief,cy@example.com,Chief,Board,,London,2010-03-01,Active,",
    ]);
    let (status, preview) = app.browser.previews(&file).await;
    assert_eq!(status, Status::Ok, "{preview}");
    assert_eq!(
        app.browser.applies(&preview, false).await.status(),
        Status::SeeOther
    );
    assert_eq!(app.reports_of("cy@example.com").await, 2);
    // The places join the locations list once, in one spelling; each person's job history
    // starts on their start date with their manager already set.
    let pool = &app.db().pool;
    let listed: Vec<String> = sqlx::query_scalar("SELECT name FROM locations")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(listed, ["London"]);
    let periods: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT e.email, h.effective_from, m.email FROM job_history h \
         JOIN employees e ON e.id = h.employee_id LEFT JOIN employees m ON m.id = h.manager_id \
         WHERE h.location = 'London' ORDER BY e.email",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let cy = Some("cy@example.com".to_string());
    assert_eq!(
        periods,
        [
            ("ada@example.com".into(), "2020-01-06".into(), cy.clone()),
            ("bob@example.com".into(), "2019-03-01".into(), cy),
            ("cy@example.com".into(), "2010-03-01".into(), None),
        ]
    );
}

async fn importing_the_same_file_twice_changes_nothing_and_writes_no_audit_row(app: TestApp) {
    app.sign_in_as_admin().await;
    adds_grace(&app).await;
    let file = staff_list(&THREE_PEOPLE);
    let (_, preview) = app.browser.previews(&file).await;
    app.browser.applies(&preview, false).await;
    let events = app.audit_events_but_mail_sent().await;
    let generation = app.db().generation.read();

    let (status, preview) = app.browser.previews(&file).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(figure(&preview, "import-created"), 0);
    assert_eq!(figure(&preview, "import-updated"), 0);
    assert_eq!(figure(&preview, "import-unchanged"), 3);
    let applied = app.browser.applies(&preview, false).await;
    assert_eq!(applied.status(), Status::SeeOther);
    assert_eq!(app.employees().await, 3);
    assert_eq!(
        app.audit_events_but_mail_sent().await,
        events,
        "no audit row at all"
    );
    assert_eq!(
        app.db().generation.read(),
        generation,
        "no cache was invalidated"
    );
}

async fn the_directory_export_re_imports_as_it_is(app: TestApp) {
    let report = app.fill_demo_company().await;
    app.sign_in_to_the_demo_as(&report, Role::Admin).await;
    // Values a spreadsheet would run are exported defused; the import takes the mark off.
    let new = "/admin/employees/new";
    let mut risky = GRACE_HOPPER;
    risky[1] = ("email", "formula@example.com");
    risky[2] = ("title", "=HYPERLINK(\"http://x\")");
    risky[6] = ("location", "'-1 (sic)");
    assert_eq!(
        app.browser.submits(new, new, &risky).await.status(),
        Status::SeeOther
    );
    let people = app.employees().await;
    let events = app.audit_events_but_mail_sent().await;

    // Everyone, leavers included: the directory's default is the people here today.
    let (status, export) = app.browser.opens("/employees.csv?status=all").await;
    assert_eq!(status, Status::Ok);
    assert!(export.starts_with(
        "\"Employee number\",\"Name\",\"Work e-mail\",\"Job title\",\"Department\",\
         \"Manager e-mail\",\"Location\",\"Start date\",\"Status\",\"Last day\"\r\n"
    ));
    let (status, preview) = app.browser.previews(export.as_bytes()).await;
    assert_eq!(status, Status::Ok, "{preview}");
    assert_eq!(figure(&preview, "import-created"), 0);
    assert_eq!(figure(&preview, "import-updated"), 0, "{preview}");
    assert_eq!(figure(&preview, "import-unchanged") as i64, people);
    assert_eq!(
        app.browser.applies(&preview, false).await.status(),
        Status::SeeOther
    );
    assert_eq!(app.audit_events_but_mail_sent().await, events);
    assert_eq!(app.employees_titled("=HYPERLINK(\"http://x\")").await, 1);
}

async fn a_formula_cell_is_stored_as_the_text_typed(app: TestApp) {
    app.sign_in_as_admin().await;
    let file = staff_list(&[
        "Eve,eve@example.com,=1+1,Ops,,@SUM(A1),2020-01-01,Active,",
        "Fay,fay@example.com,\"=HYPERLINK(\"\"http://x\"\")\",Ops,,Berlin,2020-01-01,Active,",
    ]);
    let (status, preview) = app.browser.previews(&file).await;
    assert_eq!(status, Status::Ok, "{preview}");
    app.browser.applies(&preview, false).await;
    assert_eq!(app.employees_titled("=1+1").await, 1);
    assert_eq!(app.employees_titled("=HYPERLINK(\"http://x\")").await, 1);
}

async fn a_byte_order_mark_is_accepted(app: TestApp) {
    app.sign_in_as_admin().await;
    let file = [b"\xEF\xBB\xBF".as_slice(), &staff_list(&THREE_PEOPLE[1..])].concat();
    let (status, preview) = app.browser.previews(&file).await;
    assert_eq!(status, Status::Ok, "{preview}");
    assert_eq!(figure(&preview, "import-created"), 2);
}

async fn a_file_that_is_not_utf8_is_refused_naming_its_encoding(app: TestApp) {
    app.sign_in_as_admin().await;
    let events = app.audit_events_but_mail_sent().await;
    let file = [
        HEADER.as_bytes(),
        b"Jos\xe9 Mart\xednez,jose@example.com,Chef,Kitchen,,Madrid,2020-01-01,Active,\r\n",
    ]
    .concat();
    let (status, page) = app.browser.previews(&file).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(page.contains("The file is not UTF-8 text"), "{page}");
    assert!(page.contains("Windows-1252"), "{page}");
    assert_nothing_written(&app, 0, events).await;
}

async fn missing_columns_are_named_in_one_refusal(app: TestApp) {
    app.sign_in_as_admin().await;
    let events = app.audit_events_but_mail_sent().await;
    let file = b"Name,Work e-mail,Job title,Department,Location,Start date\r\nA,a@example.com,x,y,z,2020-01-01\r\n";
    let (status, page) = app.browser.previews(file).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(
        page.contains("&quot;Manager e-mail&quot;, &quot;Status&quot;, &quot;Last day&quot;"),
        "{page}"
    );
    assert_nothing_written(&app, 0, events).await;
}

async fn a_file_over_5_mb_is_refused_as_too_large(app: TestApp) {
    app.sign_in_as_admin().await;
    let events = app.audit_events_but_mail_sent().await;
    // Just over the file limit (within the upload's framing allowance): the import says why.
    let mut file = staff_list(&THREE_PEOPLE[1..]);
    file.resize(5 * 1024 * 1024 + 1, b'\n');
    let (status, page) = app.browser.previews(&file).await;
    assert_eq!(status, Status::PayloadTooLarge);
    assert!(page.contains("larger than 5 MB"), "{page}");
    // Far over it: the body is refused before it is parsed.
    file.resize(6 * 1024 * 1024, b'\n');
    assert_eq!(
        app.browser.uploads(&file).await.status(),
        Status::PayloadTooLarge
    );
    assert_nothing_written(&app, 0, events).await;
}

async fn a_file_over_20_000_people_is_refused_as_too_large(app: TestApp) {
    app.sign_in_as_admin().await;
    let events = app.audit_events_but_mail_sent().await;
    let (status, page) = app.browser.previews(&generated_staff(20_001)).await;
    assert_eq!(status, Status::PayloadTooLarge);
    assert!(page.contains("more than 20 000 people"), "{page}");
    assert_nothing_written(&app, 0, events).await;
}

async fn each_wrong_line_is_named_and_the_file_cannot_be_applied(app: TestApp) {
    app.sign_in_as_admin().await;
    adds_grace(&app).await;
    let events = app.audit_events_but_mail_sent().await;
    let file = staff_list(&[
        // 2: Grace would report to Ann, who reports to Grace: a loop through someone here.
        "Ann,ann@example.com,Lead,Navy,grace@example.com,Here,2020-01-01,Active,",
        "Grace Hopper,grace@example.com,Rear Admiral,Navy,ann@example.com,Arlington,1943-12-01,Active,",
        "Bea,bea@example.com,Dev,Navy,,Here,2020-02-30,Active,",
        "Cal,cal@example.com,Dev,Navy,,Here,2020-01-01,Retired,",
        "Dan,dan@example.com,Dev,Navy,nobody@example.com,Here,2020-01-01,Active,",
        "Dan Again,DAN@example.com,Dev,Navy,,Here,2020-01-01,Active,",
        "Gr4ce,grace@exarnple.com,Dev,Navy,,Here,2020-01-01,Active,",
        "Lee,lee@example.com,Dev,Navy,,Here,2020-01-01,Left the company,",
    ]);
    let (status, page) = app.browser.previews(&file).await;
    assert_eq!(status, Status::UnprocessableEntity);
    for expected in [
        "line 2: Manager e-mail: this makes a reporting loop",
        "line 3: Manager e-mail: this makes a reporting loop",
        "line 4: Start date: Please enter a valid start date (YYYY-MM-DD).",
        "line 5: Status: &quot;Retired&quot; is not a status",
        "line 6: Manager e-mail: No one with the address nobody@example.com",
        "line 7: Work e-mail: dan@example.com is also on line 6",
        "line 8: Work e-mail: That address looks the same as grace@example.com",
        "line 9: Last day: Please enter the last day with the company",
    ] {
        assert!(page.contains(expected), "{expected:?} in {page}");
    }
    assert!(
        !page.contains("action=\"/admin/import/apply\""),
        "no apply form"
    );
    assert_eq!(app.employees().await, 1);
    assert_eq!(app.kept_previews().await, 0, "nothing to apply is kept");
    assert_eq!(app.audit_events_but_mail_sent().await, events);
}

async fn an_unknown_foreign_expired_or_applied_preview_is_refused(app: TestApp) {
    app.sign_in_as_admin().await;
    let other = app
        .create_user("other@example.com", "Other Admin", Role::Admin)
        .await;
    let second = app.browser_signed_in_as(&other).await;
    let (_, preview) = app.browser.previews(&staff_list(&THREE_PEOPLE[1..])).await;
    let id = input_value(&preview, "preview").unwrap();
    let events = app.audit_events_but_mail_sent().await;

    let unknown = app.browser.applies_preview(&"A".repeat(43)).await.status();
    assert_eq!(unknown, Status::NotFound);
    assert_eq!(
        app.browser.applies_preview("../etc").await.status(),
        Status::NotFound
    );
    assert_eq!(
        second.applies_preview(&id).await.status(),
        Status::Forbidden,
        "another admin's"
    );
    let forged = app
        .browser
        .posts("/admin/import/apply", &[("preview", &id)])
        .await;
    assert_eq!(forged.status(), Status::Forbidden, "no CSRF token");
    assert_eq!(app.audit_events_but_mail_sent().await, events);

    app.clock.advance(60 * 60);
    // The session timed out meanwhile too: the administrator signs in again.
    app.browser.signs_in_as("root@example.com", PASSWORD).await;
    let events = app.audit_events_but_mail_sent().await;
    assert_eq!(
        app.browser.applies_preview(&id).await.status(),
        Status::Gone,
        "expired"
    );
    assert_eq!(app.employees().await, 0);
    assert_eq!(app.audit_events_but_mail_sent().await, events);

    let (_, fresh) = app.browser.previews(&staff_list(&THREE_PEOPLE[1..])).await;
    assert_eq!(
        app.browser.applies(&fresh, false).await.status(),
        Status::SeeOther
    );
    assert_eq!(
        app.browser.applies(&fresh, false).await.status(),
        Status::Conflict
    );
    assert_eq!(app.employees().await, 2);
}

async fn a_preview_the_database_outgrew_is_refused_at_apply(app: TestApp) {
    app.sign_in_as_admin().await;
    adds_grace(&app).await;
    let ann = "Ann,ann@example.com,Lead,Navy,,Here,2020-01-01,Active,";
    let (_, first) = app.browser.previews(&staff_list(&[ann])).await;
    assert_eq!(
        app.browser.applies(&first, false).await.status(),
        Status::SeeOther
    );
    // The file makes Grace report to Ann; meanwhile Ann is made to report to Grace.
    let grace = "Grace Hopper,grace@example.com,Rear Admiral,Navy,ann@example.com,Arlington,1943-12-01,Active,";
    let (status, preview) = app.browser.previews(&staff_list(&[grace])).await;
    assert_eq!(status, Status::Ok, "{preview}");
    let ann_reports_to_grace =
        "Ann,ann@example.com,Lead,Navy,grace@example.com,Here,2020-01-01,Active,";
    let (_, meanwhile) = app
        .browser
        .previews(&staff_list(&[ann_reports_to_grace]))
        .await;
    assert_eq!(
        app.browser.applies(&meanwhile, false).await.status(),
        Status::SeeOther
    );
    let events = app.audit_events_but_mail_sent().await;

    let stale = app.browser.applies(&preview, false).await;
    assert_eq!(stale.status(), Status::Conflict);
    let page = body(stale).await;
    assert!(
        page.contains("line 2: Manager e-mail: this makes a reporting loop"),
        "{page}"
    );
    assert_eq!(
        app.reports_of("ann@example.com").await,
        0,
        "Grace's manager unchanged"
    );
    assert_eq!(app.audit_events_but_mail_sent().await, events);
}

async fn only_administrators_may_import(app: TestApp) {
    let ada = app.sign_in_as_admin_and_create_ada().await;
    let employee = app.browser_signed_in_as(&ada).await;
    assert_eq!(employee.opens("/admin/import").await.0, Status::Forbidden);
    let anonymous = app.new_browser().await;
    let response = anonymous.get("/admin/import").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    // An upload without the page's token changes nothing.
    let forged = app
        .browser
        .post("/admin/import")
        .header(ContentType::new("multipart", "form-data").with_params(("boundary", BOUNDARY)))
        .body(multipart("forged", &staff_list(&THREE_PEOPLE), false))
        .dispatch()
        .await;
    assert_eq!(forged.status(), Status::Forbidden);
    assert_eq!(app.kept_previews().await, 0);
}

async fn hr_imports_but_only_those_who_manage_accounts_may_invite(app: TestApp) {
    let hr = app.create_user("hr@example.com", "Hana HR", Role::Hr).await;
    let browser = app.browser_signed_in_as(&hr).await;
    let (status, preview) = browser.previews(&staff_list(&THREE_PEOPLE[1..])).await;
    assert_eq!(status, Status::Ok, "{preview}");
    assert!(
        !preview.contains("name=\"invite\""),
        "no invite option offered"
    );
    let invite = browser.applies_with_invite(&preview).await;
    assert_eq!(invite.status(), Status::Forbidden);
    assert_eq!(app.employees().await, 0);
    assert_eq!(app.accounts().await, 1, "no account made");
    let plain = browser.applies(&preview, false).await;
    assert_eq!(plain.status(), Status::SeeOther);
    assert_eq!(app.employees().await, 2);
}

async fn an_administrator_invites_every_new_person_from_the_page(app: TestApp) {
    app.sign_in_as_admin().await;
    let (_, preview) = app.browser.previews(&staff_list(&THREE_PEOPLE[1..])).await;
    let mails = app.outbox_messages().await;
    let applied = app.browser.applies_with_invite(&preview).await;
    assert_eq!(applied.status(), Status::SeeOther);
    assert_eq!(
        app.accounts().await,
        3,
        "the administrator and two invited people"
    );
    assert_eq!(app.outbox_messages().await, mails + 2, "an invitation each");
}

async fn ten_thousand_people_are_previewed_and_applied(app: TestApp) {
    app.sign_in_as_admin().await;
    let file = generated_staff(10_000);
    let (status, preview) = app.browser.previews(&file).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(figure(&preview, "import-created"), 10_000);
    assert_eq!(
        app.browser.applies(&preview, false).await.status(),
        Status::SeeOther
    );
    assert_eq!(app.employees().await, 10_000);
    assert_eq!(app.reports_of("p0@example.com").await, 9_999);
    assert_eq!(app.events_of_kind("employee_created").await, 10_000);
}

async fn the_command_line_imports_checks_with_a_dry_run_and_refuses_wrong_lines(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, staff_list(&THREE_PEOPLE[1..])).unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        staff_list(&["Bea,bea@example.com,Dev,Navy,,Here,2020-02-30,Active,"]),
    )
    .unwrap();
    let good = good.to_str().unwrap();

    let (ok, out) = hr_portal(&app, &["employees", "import", good, "--dry-run"], "");
    assert!(ok, "{out}");
    assert!(
        out.contains("2 to create, 0 to update, 0 unchanged."),
        "{out}"
    );
    assert!(out.contains("Dry run: nothing was written."), "{out}");
    assert_eq!(app.employees().await, 0);

    let (ok, out) = hr_portal(&app, &["employees", "import", bad.to_str().unwrap()], "");
    assert!(!ok, "a wrong line fails the command");
    assert!(
        out.contains("line 2: Start date: Please enter a valid start date"),
        "{out}"
    );
    assert_eq!(app.employees().await, 0);

    let (ok, out) = hr_portal(&app, &["employees", "import", good], "");
    assert!(ok, "{out}");
    assert!(out.contains("Imported: 2 created, 0 updated"), "{out}");
    assert_eq!(app.employees().await, 2);
    assert_eq!(
        app.events_of_kind_with_detail(
            "employees_imported",
            "2 created, 0 updated, 0 unchanged, 1 department(s) created, 0 invited"
        )
        .await,
        1
    );
}

async fn the_command_line_import_invites_every_new_person(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("staff.csv");
    std::fs::write(&file, staff_list(&THREE_PEOPLE[1..])).unwrap();
    let (ok, out) = hr_portal(
        &app,
        &["employees", "import", file.to_str().unwrap(), "--invite"],
        "",
    );
    assert!(ok, "{out}");
    assert!(out.contains("2 invited"), "{out}");
    assert_eq!(app.accounts().await, 2, "an invited account each");
    assert_eq!(app.outbox_messages().await, 2, "an invitation each, queued");
}

on_every_backend!(
    a_clean_file_is_previewed_with_its_counts_and_applied_exactly_once,
    a_manager_later_in_the_file_is_linked,
    importing_the_same_file_twice_changes_nothing_and_writes_no_audit_row,
    the_directory_export_re_imports_as_it_is,
    a_formula_cell_is_stored_as_the_text_typed,
    a_byte_order_mark_is_accepted,
    a_file_that_is_not_utf8_is_refused_naming_its_encoding,
    missing_columns_are_named_in_one_refusal,
    a_file_over_5_mb_is_refused_as_too_large,
    a_file_over_20_000_people_is_refused_as_too_large,
    each_wrong_line_is_named_and_the_file_cannot_be_applied,
    an_unknown_foreign_expired_or_applied_preview_is_refused,
    a_preview_the_database_outgrew_is_refused_at_apply,
    only_administrators_may_import,
    hr_imports_but_only_those_who_manage_accounts_may_invite,
    an_administrator_invites_every_new_person_from_the_page,
    ten_thousand_people_are_previewed_and_applied,
    the_command_line_imports_checks_with_a_dry_run_and_refuses_wrong_lines,
    the_command_line_import_invites_every_new_person,
);

#[rocket::async_test]
async fn an_administrator_uploads_a_staff_list_reads_the_preview_and_applies_it_in_chromium() {
    use crate::browser::{
        click, open_browser, save_screenshot, serve, sign_in, start_driver, wait_until,
    };
    use fantoccini::Locator;

    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    app.create_user("root@example.com", "Root", Role::Admin)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("staff.csv");
    std::fs::write(&file, staff_list(&THREE_PEOPLE[1..])).unwrap();
    let base = serve(&app).await;
    let browser = open_browser(&driver).await;
    sign_in(&browser, &base, "root@example.com", PASSWORD).await;

    browser.goto(&format!("{base}/employees")).await.unwrap();
    click(&browser, ".page-actions a[href=\"/admin/import\"]").await;
    wait_until(&browser, "the import page", |url, _| {
        url.path() == "/admin/import"
    })
    .await;
    browser
        .find(Locator::Id("staff-list"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    click(&browser, "#upload-staff-list button[type=submit]").await;
    wait_until(&browser, "the preview", |_, page| {
        page.contains("id=\"import-preview\"")
    })
    .await;
    let created = browser.find(Locator::Id("import-created")).await.unwrap();
    assert_eq!(created.text().await.unwrap(), "2");
    assert_eq!(app.employees().await, 0, "the preview wrote nothing");
    save_screenshot(&browser, "import-preview.png").await;

    click(&browser, "#apply-import button[type=submit]").await;
    wait_until(&browser, "the directory", |url, _| {
        url.path() == "/employees"
    })
    .await;
    let page = browser.source().await.unwrap();
    assert!(page.contains("Staff list imported: 2 created"), "{page}");
    assert!(page.contains("Ada Lovelace") && page.contains("Bob Babbage"));
    assert_eq!(app.employees().await, 2);
}
