//! Getting back in: reset links over real mail, invitations, links an admin sends or the operator
//! prints, a password set by someone else, unlocking, and one's own security log.

use hr_portal::app::accounts::{self, AccountAction};
use hr_portal::app::{AccountRef, Actor};
use hr_portal::users::Role;
use rocket::figment::value::Value;
use rocket::http::Status;
use rocket::local::asynchronous::{Client, LocalResponse};

use crate::cli::hr_portal;
use crate::helpers::*;
use crate::mail_support::*;

const NEW_PASSWORD: &str = "a brand new passphrase 42";

/// What a person does with the recovery pages.
#[allow(async_fn_in_trait)]
trait Recovers {
    /// Asks for a reset link for `email` on /password/forgot.
    async fn asks_for_a_reset_link(&self, email: &str) -> (Status, String);
    /// Opens the mailed link and sets `password` on the page it leads to.
    async fn sets_a_password_through(&self, link: &str, password: &str) -> LocalResponse<'_>;
}

impl Recovers for Client {
    async fn asks_for_a_reset_link(&self, email: &str) -> (Status, String) {
        let fields = [("email", email)];
        let response = self
            .submits("/password/forgot", "/password/forgot", &fields)
            .await;
        (response.status(), body(response).await)
    }

    async fn sets_a_password_through(&self, link: &str, password: &str) -> LocalResponse<'_> {
        let opened = self.get(link.to_string()).dispatch().await;
        assert_eq!(opened.status(), Status::SeeOther, "the link is followed");
        assert_eq!(location(&opened), Some("/password/reset"));
        let fields = [
            ("new_password", password),
            ("new_password_confirm", password),
        ];
        self.submits("/password/reset", "/password/reset", &fields)
            .await
    }
}

fn smtp_settings(port: u16) -> Vec<(&'static str, Value)> {
    vec![
        ("mail_transport", Value::from("smtp")),
        ("smtp_url", Value::from(format!("smtp://127.0.0.1:{port}"))),
        ("mail_retry_delay", Value::from(1)),
    ]
}

/// The whole promise of a reset: every earlier session is anonymous, the old password fails, the
/// new one works, the link is dead.
async fn assert_reset_took_effect(app: &TestApp, earlier: &[&Client], link: &str) {
    for browser in earlier {
        assert!(!browser.is_signed_in().await, "earlier sessions end");
    }
    let someone = app.new_browser().await;
    assert_eq!(
        someone.signs_in_as("dana@example.com", PASSWORD).await,
        Status::Unauthorized,
        "the old password fails"
    );
    assert_eq!(
        someone.signs_in_as("dana@example.com", NEW_PASSWORD).await,
        Status::SeeOther,
        "the new password works"
    );
    let (status, page) = app.new_browser().await.opens(link).await;
    assert_eq!(status, Status::BadRequest, "the link is dead");
    assert!(page.contains("id=\"link-invalid\""));
}

async fn a_reset_mailed_over_real_smtp_ends_every_session_and_the_link(backend: Backend) {
    let port = free_port();
    let Some(smtp) = SmtpServer::start(port) else {
        return;
    };
    let Some((app, dana)) = app_with_dana(backend, &smtp_settings(port)).await else {
        return;
    };
    let laptop = app.browser_signed_in_as(&dana).await;
    let phone = app.browser_signed_in_as(&dana).await;
    let (status, _) = app.browser.asks_for_a_reset_link("Dana@Example.com").await;
    assert_eq!(status, Status::Ok);
    let messages = smtp.wait_for(1).await;
    let message = &messages[0];
    assert!(header(message, "To").is_some_and(|to| to.contains("<dana@example.com>")));
    assert!(message.contains("http://localhost:8000/password/reset/"));
    let link = link_in(message);
    let done = app
        .browser
        .sets_a_password_through(&link, NEW_PASSWORD)
        .await;
    assert_eq!(done.status(), Status::SeeOther);
    assert_eq!(location(&done), Some("/login"));
    assert_reset_took_effect(&app, &[&laptop, &phone], &link).await;
    let notice = smtp.wait_for(2).await;
    assert!(header(&notice[1], "Subject").is_some_and(|s| s.contains("password was changed")));
}

async fn a_reset_with_the_default_file_transport_is_read_from_the_outbox_folder(app: TestApp) {
    let dana = app.create_dana().await;
    let laptop = app.browser_signed_in_as(&dana).await;
    app.browser.asks_for_a_reset_link("dana@example.com").await;
    let messages = wait_for_outbox(&app, 1).await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let folder = app.dir.path().join("outbox");
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700, "the outbox folder is private");
        for file in std::fs::read_dir(&folder).unwrap() {
            assert_eq!(mode(&file.unwrap().path()), 0o600, "messages hold links");
        }
    }
    let link = link_in(&messages[0]);
    let done = app
        .browser
        .sets_a_password_through(&link, NEW_PASSWORD)
        .await;
    assert_eq!(location(&done), Some("/login"));
    assert_reset_took_effect(&app, &[&laptop], &link).await;
}

async fn known_and_unknown_addresses_get_the_same_page_and_the_same_work(app: TestApp) {
    app.create_dana().await;
    let minted = || app.app().recovery.links_minted();
    let hashes = app.password_service().verification_count();
    let before = minted();
    let known = app.browser.asks_for_a_reset_link("dana@example.com").await;
    let after_known = minted();
    let unknown = app
        .browser
        .asks_for_a_reset_link("nobody@example.com")
        .await;
    assert_eq!(known, unknown, "byte-identical pages with the same status");
    assert_eq!(known.0, Status::Ok);
    assert_eq!(after_known - before, 1, "a known address mints one link");
    assert_eq!(
        minted() - after_known,
        1,
        "an unknown address mints one too"
    );
    assert_eq!(app.password_service().verification_count(), hashes);
    assert_eq!(
        wait_for_outbox(&app, 1).await.len(),
        1,
        "only the real account gets mail"
    );
    app.events_of_kind("password_reset_requested")
        .reaches(2)
        .await;
    assert_eq!(
        app.resets_asked_for_unknown_addresses().await,
        1,
        "both requests are in the audit trail"
    );
}

async fn with_the_smtp_server_down_the_form_answers_and_the_message_waits_for_it(backend: Backend) {
    if !smtp_server_available() {
        return;
    }
    let port = free_port();
    let Some((app, _)) = app_with_dana(backend, &smtp_settings(port)).await else {
        return;
    };
    app.sign_in_as_admin().await;
    let visitor = app.new_browser().await;
    let (status, _) = visitor.asks_for_a_reset_link("dana@example.com").await;
    assert_eq!(
        status,
        Status::Ok,
        "the request does not wait for the mail server"
    );
    app.mails_to_retry_for("dana@example.com").reaches(1).await;
    let (_, mail_page) = app.browser.opens("/admin/mail").await;
    assert!(
        mail_page.contains("dana@example.com"),
        "admins see the waiting message"
    );
    // Dana's link and the administrator's own new-sign-in notice both wait.
    assert!(mail_page.contains("<span id=\"mail-waiting\">2</span>"));
    let smtp = SmtpServer::start(port).expect("aiosmtpd is available");
    let messages = smtp.wait_for(1).await;
    assert!(link_in(&messages[0]).starts_with("/password/reset/"));
    app.mails_sent_and_wiped().reaches(1).await;
}

async fn a_message_that_keeps_failing_is_given_up_and_shown_to_admins(backend: Backend) {
    let mut settings = smtp_settings(free_port());
    settings.push(("mail_max_attempts", Value::from(2)));
    let Some((app, _)) = app_with_dana(backend, &settings).await else {
        return;
    };
    app.sign_in_as_admin().await;
    app.new_browser()
        .await
        .asks_for_a_reset_link("dana@example.com")
        .await;
    app.mails_given_up_for("dana@example.com", 2)
        .reaches(1)
        .await;
    let (_, page) = app.browser.opens("/admin/mail").await;
    assert!(page.contains("Given up") && page.contains("dana@example.com"));
    let events = app
        .events_of_kind_mentioning("mail_failed", "dana@example.com")
        .await;
    assert_eq!(events, 1);
}

async fn the_link_page_takes_the_token_out_of_the_address_and_sends_no_referrer(app: TestApp) {
    app.create_dana().await;
    app.browser.asks_for_a_reset_link("dana@example.com").await;
    let link = link_in(&wait_for_outbox(&app, 1).await[0]);
    let token = link.rsplit('/').next().unwrap().to_string();
    let opened = app.browser.get(link.clone()).dispatch().await;
    assert_eq!(opened.status(), Status::SeeOther);
    assert_eq!(location(&opened), Some("/password/reset"));
    assert_eq!(
        opened.headers().get_one("Referrer-Policy"),
        Some("no-referrer")
    );
    let form = app.browser.get("/password/reset").dispatch().await;
    assert_eq!(
        form.headers().get_one("Referrer-Policy"),
        Some("no-referrer")
    );
    let page = body(form).await;
    assert!(page.contains("dana@example.com") && page.contains("name=\"new_password\""));
    assert!(!page.contains(&token), "the token is not on the page");
}

async fn a_weak_password_on_the_link_page_is_refused_and_the_link_still_works(app: TestApp) {
    let dana = app.create_dana().await;
    let laptop = app.browser_signed_in_as(&dana).await;
    app.browser.asks_for_a_reset_link("dana@example.com").await;
    let link = link_in(&wait_for_outbox(&app, 1).await[0]);
    let refused = app
        .browser
        .sets_a_password_through(&link, "too short")
        .await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    let page = body(refused).await;
    assert!(page.contains("dana@example.com") && page.contains("name=\"new_password\""));
    assert!(laptop.is_signed_in().await, "nothing changed");
    let done = app
        .browser
        .sets_a_password_through(&link, NEW_PASSWORD)
        .await;
    assert_eq!(location(&done), Some("/login"), "the link still works");
}

async fn expired_used_forged_and_truncated_links_get_one_page_and_change_nothing(app: TestApp) {
    let dana = app.create_dana().await;
    app.browser.asks_for_a_reset_link("dana@example.com").await;
    let link = link_in(&wait_for_outbox(&app, 1).await[0]);
    let forged = format!("/password/reset/{}", "A".repeat(43));
    let truncated = link[..link.len() - 5].to_string();
    let mut pages = Vec::new();
    for dead in [&forged, &truncated] {
        pages.push(app.new_browser().await.opens(dead).await);
    }
    app.clock.advance(1801);
    pages.push(app.new_browser().await.opens(&link).await);
    // A fresh link, used once, then used again.
    app.browser.asks_for_a_reset_link("dana@example.com").await;
    let fresh = link_in(&wait_for_outbox(&app, 2).await[1]);
    let done = app
        .browser
        .sets_a_password_through(&fresh, NEW_PASSWORD)
        .await;
    assert_eq!(location(&done), Some("/login"));
    let changed_at = app.reload(&dana).await.password_changed_at;
    pages.push(app.new_browser().await.opens(&fresh).await);
    for (status, page) in &pages {
        assert_eq!(*status, Status::BadRequest);
        assert_eq!(page, &pages[0].1, "one page for every dead link");
    }
    let posted = app.new_browser().await;
    posted.opens(&fresh).await;
    let fields = [
        ("new_password", "another passphrase 77"),
        ("new_password_confirm", "another passphrase 77"),
    ];
    let refused = posted
        .submits("/password/forgot", "/password/reset", &fields)
        .await;
    assert_eq!(refused.status(), Status::BadRequest);
    assert_eq!(
        app.reload(&dana).await.password_changed_at,
        changed_at,
        "nothing changed"
    );
}

async fn a_newer_link_a_password_change_and_a_disable_each_kill_older_links(app: TestApp) {
    let dana = app.create_dana().await;
    let dead = |status: Status| assert_eq!(status, Status::BadRequest);
    let works = |status: Status| assert_eq!(status, Status::SeeOther);
    let app = &app;
    let opens =
        |link: String| async move { app.new_browser().await.get(link).dispatch().await.status() };
    app.browser.asks_for_a_reset_link("dana@example.com").await;
    app.browser.asks_for_a_reset_link("dana@example.com").await;
    let messages = wait_for_outbox(app, 2).await;
    dead(opens(link_in(&messages[0])).await);
    works(opens(link_in(&messages[1])).await);
    let laptop = app.browser_signed_in_as(&dana).await;
    let changed = laptop
        .changes_password(PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(changed.status(), Status::SeeOther);
    dead(opens(link_in(&messages[1])).await);
    app.browser.asks_for_a_reset_link("dana@example.com").await;
    let latest = link_in(
        &wait_for_outbox(app, 4)
            .await
            .into_iter()
            .rfind(|m| m.contains("/password/reset/"))
            .unwrap(),
    );
    works(opens(latest.clone()).await);
    let disable = AccountAction::Disable;
    let target = AccountRef::Email("dana@example.com");
    accounts::change_account(app.app(), &Actor::command_line(), target, disable)
        .await
        .unwrap();
    dead(opens(latest).await);
}

async fn too_many_requests_for_one_address_send_no_more_mail_and_one_client_gets_429(
    backend: Backend,
) {
    let Some((app, _)) = app_with_dana(backend, &[("reset_requests_per_ip", Value::from(5))]).await
    else {
        return;
    };
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(app.browser.asks_for_a_reset_link("dana@example.com").await);
    }
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "the same answer each time"
    );
    assert_eq!(wait_for_outbox(&app, 3).await.len(), 3);
    app.events_of_kind("password_reset_requested")
        .reaches(4)
        .await;
    assert_eq!(app.outbox_messages().await, 3);
    assert_eq!(
        outbox_files(&app).len(),
        3,
        "the fourth request sends nothing"
    );
    app.browser
        .asks_for_a_reset_link("someone@example.com")
        .await;
    let (status, page) = app.browser.asks_for_a_reset_link("else@example.com").await;
    assert_eq!(status, Status::TooManyRequests, "past the per-client limit");
    assert!(
        page.contains("Too many reset requests"),
        "said in its own words"
    );
}

async fn an_invitation_from_the_admin_page_lets_the_person_choose_their_password(app: TestApp) {
    app.sign_in_as_admin().await;
    let fields = [
        ("name", "Fox Mulder"),
        ("email", "fox@example.com"),
        ("role", "employee"),
    ];
    let invited = app
        .browser
        .submits("/admin/users", "/admin/users/invite", &fields)
        .await;
    assert_eq!(invited.status(), Status::SeeOther);
    let (_, users) = app.browser.opens("/admin/users").await;
    assert!(users.contains("Invited") && users.contains("Resend invitation"));
    let fox = app.new_browser().await;
    assert_eq!(
        fox.signs_in_as("fox@example.com", PASSWORD).await,
        Status::Unauthorized
    );
    let message = &wait_for_outbox(&app, 1).await[0];
    assert!(header(message, "Subject").is_some_and(|s| s.contains("Your HR Portal account")));
    fox.opens(&link_in(message)).await;
    let (_, page) = fox.opens("/password/reset").await;
    assert!(page.contains("Welcome, Fox Mulder"));
    let done = fox
        .sets_a_password_through(&link_in(message), NEW_PASSWORD)
        .await;
    assert_eq!(location(&done), Some("/login"));
    assert_eq!(
        fox.signs_in_as("fox@example.com", NEW_PASSWORD).await,
        Status::SeeOther
    );
    assert!(fox.is_signed_in().await);
    let accepted = app.events_of_kind("invitation_accepted").await;
    assert_eq!(accepted, 1);
}

async fn an_invitation_for_a_taken_or_malformed_address_is_refused_and_creates_nothing(
    app: TestApp,
) {
    app.sign_in_as_admin().await;
    let users_before = app.accounts().await;
    for (email, status, message) in [
        ("ROOT@example.com", Status::Conflict, "already exists"),
        ("not-an-address", Status::UnprocessableEntity, "e-mail"),
    ] {
        let fields = [
            ("name", "Fox Mulder"),
            ("email", email),
            ("role", "employee"),
        ];
        let refused = app
            .browser
            .submits("/admin/users", "/admin/users/invite", &fields)
            .await;
        assert_eq!(refused.status(), status);
        let page = body(refused).await;
        assert!(page.contains(message), "{message} in the page");
        assert!(
            page.contains("value=\"Fox Mulder\""),
            "the form keeps what was typed"
        );
    }
    assert_eq!(app.accounts().await, users_before);
    assert!(outbox_files(&app).is_empty());
}

async fn an_admin_mails_a_reset_link_from_the_users_page(app: TestApp) {
    let dana = app.create_dana().await;
    app.sign_in_as_admin().await;
    let action = format!("/admin/users/{}/reset-link", dana.id);
    let sent = app.browser.submits("/admin/users", &action, &[]).await;
    assert_eq!(sent.status(), Status::SeeOther);
    let message = &wait_for_outbox(&app, 1).await[0];
    assert!(header(message, "To").is_some_and(|to| to.contains("dana@example.com")));
    let dana_browser = app.new_browser().await;
    let done = dana_browser
        .sets_a_password_through(&link_in(message), NEW_PASSWORD)
        .await;
    assert_eq!(location(&done), Some("/login"));
    let created = app
        .events_of_kind_by_someone("password_reset_link_created")
        .await;
    assert_eq!(created, 1, "audited with the admin as actor");
}

async fn the_cli_prints_reset_and_invitation_links_that_work(app: TestApp) {
    app.create_dana().await;
    let (ok, out) = hr_portal(&app, &["user", "reset-link", "dana@example.com"], "");
    assert!(
        ok && out.contains("http://localhost:8000/password/reset/"),
        "{out}"
    );
    let dana_browser = app.new_browser().await;
    let done = dana_browser
        .sets_a_password_through(&link_in(&out), NEW_PASSWORD)
        .await;
    assert_eq!(location(&done), Some("/login"));
    let args = [
        "user",
        "invite",
        "fox@example.com",
        "--name",
        "Fox Mulder",
        "--admin",
    ];
    let (ok, out) = hr_portal(&app, &args, "");
    assert!(ok, "{out}");
    let fox = app.new_browser().await;
    fox.sets_a_password_through(&link_in(&out), NEW_PASSWORD)
        .await;
    assert_eq!(
        fox.signs_in_as("fox@example.com", NEW_PASSWORD).await,
        Status::SeeOther
    );
    assert_eq!(
        fox.opens("/admin/users").await.0,
        Status::Ok,
        "invited as an admin"
    );
    assert!(
        outbox_files(&app)
            .iter()
            .all(|m| !m.contains("/password/reset/")),
        "links printed are not mailed"
    );
    let (ok, out) = hr_portal(&app, &["user", "reset-link", "nobody@example.com"], "");
    assert!(!ok && out.contains("no account"), "{out}");
}

async fn the_cli_answers_bad_recovery_input_with_one_line_and_changes_nothing(app: TestApp) {
    let dana = app.create_dana().await;
    let events = app.audit_events().await;
    for (args, stdin, expected) in [
        (
            &["user", "invite", "not-an-address", "--name", "Fox"][..],
            "",
            "e-mail",
        ),
        (
            &["user", "invite", "dana@example.com", "--name", "Dana"][..],
            "",
            "already exists",
        ),
        (
            &["user", "set-password", "nobody@example.com"][..],
            "long enough passphrase\n",
            "no account",
        ),
        (
            &["user", "set-password", "dana@example.com"][..],
            "short\n",
            "at least 12",
        ),
        (
            &["user", "unlock", "nobody@example.com"][..],
            "",
            "no account",
        ),
    ] {
        let (ok, out) = hr_portal(&app, args, stdin);
        assert!(!ok, "{args:?} fails");
        assert_eq!(out.trim_end().lines().count(), 1, "one line: {out}");
        assert!(
            out.contains(expected) && out.starts_with("error: "),
            "{expected:?} in {out}"
        );
    }
    assert_eq!(app.audit_events().await, events, "nothing was written");
    assert_eq!(
        app.reload(&dana).await.password_changed_at,
        dana.password_changed_at
    );
}

async fn a_reset_whose_audit_row_cannot_be_written_changes_nothing(app: TestApp) {
    let dana = app.create_dana().await;
    let laptop = app.browser_signed_in_as(&dana).await;
    app.browser.asks_for_a_reset_link("dana@example.com").await;
    let link = link_in(&wait_for_outbox(&app, 1).await[0]);
    app.break_the_audit_trail().await;
    let failed = app
        .browser
        .sets_a_password_through(&link, NEW_PASSWORD)
        .await;
    assert_eq!(failed.status(), Status::InternalServerError);
    app.mend_the_audit_trail().await;
    assert!(laptop.is_signed_in().await, "no session ended");
    assert_eq!(
        app.reload(&dana).await.password_changed_at,
        dana.password_changed_at
    );
    let done = app
        .browser
        .sets_a_password_through(&link, NEW_PASSWORD)
        .await;
    assert_eq!(location(&done), Some("/login"), "the link was not used up");
}

async fn a_password_set_with_must_change_holds_the_person_on_the_password_page(app: TestApp) {
    let dana = app.create_dana().await;
    let laptop = app.browser_signed_in_as(&dana).await;
    let chosen = "set by the operator 123";
    let args = ["user", "set-password", "dana@example.com", "--must-change"];
    let (ok, out) = hr_portal(&app, &args, &format!("{chosen}\n"));
    assert!(ok, "{out}");
    assert!(
        !laptop.is_signed_in().await,
        "setting a password ends every session"
    );
    let dana_now = app.new_browser().await;
    let signed_in = dana_now
        .signs_in_with(&[("email", "dana@example.com"), ("password", chosen)])
        .await;
    assert_eq!(location(&signed_in), Some("/account/password"));
    for held in [
        "/dashboard",
        "/employees",
        "/account/sessions",
        "/account/activity",
    ] {
        let response = dana_now.get(held).dispatch().await;
        assert_eq!(response.status(), Status::SeeOther, "{held} is closed");
        assert_eq!(location(&response), Some("/account/password"));
    }
    let (status, page) = dana_now.opens("/account/password").await;
    assert!(status == Status::Ok && page.contains("id=\"must-change\""));
    let changed = dana_now
        .changes_password(chosen, NEW_PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(changed.status(), Status::SeeOther);
    assert!(
        dana_now.is_signed_in().await,
        "free again after choosing their own"
    );
    assert!(!app.reload(&dana).await.must_change_password);
}

async fn a_held_person_can_still_sign_out(app: TestApp) {
    app.sign_in_as_admin().await;
    let fields = [
        ("name", "Fox Mulder"),
        ("email", "fox@example.com"),
        ("role", "employee"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("must_change", "true"),
    ];
    let created = app
        .browser
        .submits("/admin/users", "/admin/users", &fields)
        .await;
    assert_eq!(created.status(), Status::SeeOther);
    let fox = app.new_browser().await;
    let signed_in = fox
        .signs_in_with(&[("email", "fox@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(location(&signed_in), Some("/account/password"));
    let out = fox.submits("/account/password", "/logout", &[]).await;
    assert_eq!(location(&out), Some("/login"));
    let ended = app.sessions_of_address("fox@example.com").await;
    assert_eq!(ended, 0);
}

/// Five wrong passwords lock the account (the sixth attempt is refused).
async fn lock_out(app: &TestApp, email: &str) {
    let attacker = app.new_browser().await;
    for _ in 0..5 {
        attacker.signs_in_as(email, "wrong password guess").await;
    }
    assert_eq!(
        attacker.signs_in_as(email, PASSWORD).await,
        Status::TooManyRequests
    );
}

async fn an_admin_sees_who_is_locked_out_and_unlocks_them(app: TestApp) {
    let dana = app.create_dana().await;
    app.sign_in_as_admin().await;
    lock_out(&app, "dana@example.com").await;
    let (status_of_users, users) = app.browser.opens("/admin/users").await;
    assert_eq!(status_of_users, Status::Ok, "{users}");
    assert!(
        users.contains("data-locked=\"dana@example.com\""),
        "marked as locked"
    );
    let unlock = format!("/admin/users/{}/unlock", dana.id);
    let done = app.browser.submits("/admin/users", &unlock, &[]).await;
    assert_eq!(done.status(), Status::SeeOther);
    let (_, users) = app.browser.opens("/admin/users").await;
    assert!(!users.contains("data-locked=\"dana@example.com\""));
    assert_eq!(
        app.new_browser()
            .await
            .signs_in_as("dana@example.com", PASSWORD)
            .await,
        Status::SeeOther
    );
    let unlocked = app.events_of_kind("account_unlocked").await;
    assert_eq!(unlocked, 1);
}

async fn the_cli_unlocks_an_account(app: TestApp) {
    app.create_dana().await;
    lock_out(&app, "dana@example.com").await;
    let (ok, out) = hr_portal(&app, &["user", "unlock", "dana@example.com"], "");
    assert!(ok && out.contains("Unlocked"), "{out}");
    assert_eq!(
        app.new_browser()
            .await
            .signs_in_as("dana@example.com", PASSWORD)
            .await,
        Status::SeeOther
    );
    let (ok, out) = hr_portal(&app, &["user", "unlock", "dana@example.com"], "");
    assert!(ok && out.contains("no failed sign-ins"), "{out}");
}

async fn my_activity_shows_what_others_did_to_my_account_and_nothing_about_others(app: TestApp) {
    let dana = app.create_dana().await;
    let root = app.sign_in_as_admin().await;
    app.create_user("eve@example.com", "Eve", Role::Employee)
        .await;
    app.new_browser()
        .await
        .signs_in_as("eve@example.com", "wrong password guess")
        .await;
    app.new_browser()
        .await
        .signs_in_as("dana@example.com", "wrong password guess")
        .await;
    app.browser_signed_in_as(&dana).await;
    let action = format!("/admin/users/{}/sessions/revoke", dana.id);
    let forced = app.browser.submits("/admin/users", &action, &[]).await;
    assert_eq!(forced.status(), Status::SeeOther);
    wait_for_outbox(&app, 1).await;
    let dana_again = app.browser_signed_in_as(&dana).await;
    app.events_of_kind("mail_sent").reaches(1).await;
    let (_, page) = dana_again.opens("/account/activity").await;
    for kind in [
        "login_succeeded",
        "login_failed",
        "user_force_logged_out",
        "mail_sent",
    ] {
        assert!(
            page.contains(&format!("data-kind=\"{kind}\"")),
            "{kind} is listed"
        );
    }
    assert!(
        page.contains(root.email.as_str()),
        "says who ended the sessions"
    );
    assert!(
        !page.contains("eve@example.com"),
        "never another account's events"
    );
    assert_eq!(page.matches("data-kind=\"login_failed\"").count(), 1);
}

on_every_backend!(
    a_reset_mailed_over_real_smtp_ends_every_session_and_the_link,
    a_reset_with_the_default_file_transport_is_read_from_the_outbox_folder,
    known_and_unknown_addresses_get_the_same_page_and_the_same_work,
    with_the_smtp_server_down_the_form_answers_and_the_message_waits_for_it,
    a_message_that_keeps_failing_is_given_up_and_shown_to_admins,
    the_link_page_takes_the_token_out_of_the_address_and_sends_no_referrer,
    a_weak_password_on_the_link_page_is_refused_and_the_link_still_works,
    expired_used_forged_and_truncated_links_get_one_page_and_change_nothing,
    a_newer_link_a_password_change_and_a_disable_each_kill_older_links,
    too_many_requests_for_one_address_send_no_more_mail_and_one_client_gets_429,
    an_invitation_from_the_admin_page_lets_the_person_choose_their_password,
    an_invitation_for_a_taken_or_malformed_address_is_refused_and_creates_nothing,
    an_admin_mails_a_reset_link_from_the_users_page,
    the_cli_prints_reset_and_invitation_links_that_work,
    the_cli_answers_bad_recovery_input_with_one_line_and_changes_nothing,
    a_reset_whose_audit_row_cannot_be_written_changes_nothing,
    a_password_set_with_must_change_holds_the_person_on_the_password_page,
    a_held_person_can_still_sign_out,
    an_admin_sees_who_is_locked_out_and_unlocks_them,
    the_cli_unlocks_an_account,
    my_activity_shows_what_others_did_to_my_account_and_nothing_about_others,
);
