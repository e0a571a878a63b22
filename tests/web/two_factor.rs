//! Two-factor sign-in, known devices and the new-sign-in warning. Codes are computed here from
//! the secret the page shows, with totp-rs directly (not through the app's own wrapper).

use std::net::SocketAddr;

use hr_portal::app::accounts::{self, AccountAction};
use hr_portal::app::Actor;
use hr_portal::users::{Role, User};
use rocket::figment::value::Value;
use rocket::http::{Cookie, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::cli::hr_portal;
use crate::helpers::*;
use crate::mail_support::*;

/// The code an authenticator app shows for `base32` at unix time `at`.
pub(crate) fn code_for(base32: &str, at: i64) -> String {
    let bytes = Secret::Encoded(base32.to_string())
        .to_bytes()
        .expect("the page shows valid base32");
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes)
        .expect("RFC 6238 parameters")
        .generate(at.unsigned_abs())
}

/// The text inside the element with `id` (`<code id="totp-secret">…</code>`).
fn text_of(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let after = &html[start..];
    let open_end = after.find('>')? + 1;
    let close = after[open_end..].find('<')?;
    Some(after[open_end..open_end + close].trim().to_string())
}

/// The recovery codes listed on the page shown right after enrolling.
fn recovery_codes_in(html: &str) -> Vec<String> {
    let start = html
        .find("id=\"recovery-codes\"")
        .expect("recovery codes shown");
    let list = &html[start..html[start..].find("</ol>").unwrap() + start];
    list.split("<code>")
        .skip(1)
        .map(|part| part.split("</code>").next().unwrap().to_string())
        .collect()
}

/// What a person does around two-factor sign-in.
#[allow(async_fn_in_trait)]
pub(crate) trait UsesTwoFactor {
    /// Sets up an authenticator on /account/two-factor: the secret shown and the recovery codes.
    async fn enrols(&self, app: &TestApp) -> (String, Vec<String>);
    /// Types `code` on the sign-in's code step.
    async fn enters_code(&self, code: &str) -> LocalResponse<'_>;
    /// Signs in from the address `ip`, as a browser on that host would.
    async fn signs_in_from(&self, ip: &str, email: &str, password: &str) -> Status;
}

impl UsesTwoFactor for Client {
    async fn enrols(&self, app: &TestApp) -> (String, Vec<String>) {
        let (status, page) = self.opens("/account/two-factor").await;
        assert_eq!(status, Status::Ok);
        assert!(page.contains("<svg"), "a QR code drawn on the server");
        let secret = text_of(&page, "totp-secret").expect("the secret as text");
        let code = code_for(&secret, app.clock.now());
        let fields = [("code", code.as_str())];
        let response = self
            .submits("/account/two-factor", "/account/two-factor", &fields)
            .await;
        assert_eq!(response.status(), Status::Ok, "a right code switches it on");
        let page = body(response).await;
        let codes = recovery_codes_in(&page);
        assert_eq!(codes.len(), 10, "ten recovery codes, shown once");
        (secret, codes)
    }

    async fn enters_code(&self, code: &str) -> LocalResponse<'_> {
        // The login page's form token is the browser's, valid for the code form too (whose page
        // has no form once the step has closed).
        self.submits("/login", "/login/two-factor", &[("code", code)])
            .await
    }

    async fn signs_in_from(&self, ip: &str, email: &str, password: &str) -> Status {
        let remote: SocketAddr = format!("{ip}:40000").parse().unwrap();
        let page = self.get("/login").remote(remote).dispatch().await;
        let token = csrf_token_for(&body(page).await, "/login");
        let fields = [
            ("email", email),
            ("password", password),
            ("csrf_token", token.as_str()),
        ];
        self.post("/login")
            .remote(remote)
            .header(rocket::http::ContentType::Form)
            .body(form_body(&fields))
            .dispatch()
            .await
            .status()
    }
}

/// Signs in with the password and expects to be sent to the code step, with no session yet.
async fn password_step(browser: &Client) {
    let response = browser
        .signs_in_with(&[("email", "dana@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/login/two-factor"));
    drop(response);
    assert!(browser.session_token().is_none(), "no session yet");
}

/// Dana with an authenticator app set up from her laptop: the app, Dana, the laptop (signed in),
/// the secret and the ten recovery codes.
async fn enrolled_dana(app: TestApp) -> (TestApp, User, Client, String, Vec<String>) {
    let dana = app.create_dana().await;
    let laptop = app.browser_signed_in_as(&dana).await;
    let (secret, codes) = laptop.enrols(&app).await;
    (app, dana, laptop, secret, codes)
}

async fn a_person_with_two_factor_needs_a_code_and_each_code_works_once(app: TestApp) {
    let (app, dana, laptop, secret, codes) = enrolled_dana(app).await;
    let stored: String = sqlx::query_scalar("SELECT secret_sealed FROM two_factor")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert!(!stored.contains(&secret), "the secret is stored sealed");
    assert_ne!(stored.to_uppercase(), secret);
    assert_eq!(app.unused_recovery_codes().await, 10);
    let (_, page) = laptop.opens("/account/two-factor").await;
    assert!(page.contains("id=\"two-factor-on\""));
    assert!(!page.contains(&secret), "the secret is not shown again");
    laptop.signs_out().await;

    let phone = app.new_browser().await;
    password_step(&phone).await;
    for page in [
        "/dashboard",
        "/account/sessions",
        "/employees",
        "/account/two-factor",
    ] {
        let (status, _) = phone.opens(page).await;
        assert_eq!(
            status,
            Status::SeeOther,
            "{page} is closed after the password alone"
        );
    }
    assert_eq!(app.sessions_of(&dana).await, 0);

    app.clock.advance(30); // the enrolment used this step's code
    let code = code_for(&secret, app.clock.now());
    let response = phone.enters_code(&code).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/dashboard"));
    drop(response);
    assert!(phone.is_signed_in().await);

    let tablet = app.new_browser().await;
    password_step(&tablet).await;
    let again = tablet.enters_code(&code).await;
    assert_eq!(again.status(), Status::Unauthorized, "the same code fails");
    drop(again);
    assert!(!tablet.is_signed_in().await);
    let replays = app.events_of_kind_with_detail("two_factor_failed", "code already used");
    assert_eq!(replays.await, 1);

    let recovery = tablet.enters_code(&codes[0].to_uppercase()).await;
    assert_eq!(recovery.status(), Status::SeeOther, "a recovery code works");
    drop(recovery);
    assert!(tablet.is_signed_in().await);
    let desktop = app.new_browser().await;
    password_step(&desktop).await;
    let twice = desktop.enters_code(&codes[0]).await;
    assert_eq!(twice.status(), Status::Unauthorized, "but only once");
    drop(twice);
    assert!(!desktop.is_signed_in().await);

    // The administrator sees who has it, and resets Dana's: her sessions end, the password is enough.
    let root = app.sign_in_as_admin().await;
    let (_, users) = app.browser.opens("/admin/users").await;
    assert!(users.contains("data-two-factor=\"dana@example.com\""));
    assert!(!users.contains("data-two-factor=\"root@example.com\""));
    let action = format!("/admin/users/{}/reset-two-factor", dana.id);
    let reset = app.browser.submits("/admin/users", &action, &[]).await;
    assert_eq!(reset.status(), Status::SeeOther);
    drop(reset);
    assert!(!phone.is_signed_in().await && !tablet.is_signed_in().await);
    assert_eq!(app.sessions_of(&dana).await, 0);
    assert_eq!(app.events_of_kind("two_factor_reset").await, 1);
    let actor: i64 = sqlx::query_scalar(
        "SELECT actor_user_id FROM audit_events WHERE kind = 'two_factor_reset'",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(actor, root.id.0);
    assert_eq!(
        desktop.signs_in_as("dana@example.com", PASSWORD).await,
        Status::SeeOther
    );
    assert!(
        desktop.is_signed_in().await,
        "the password alone signs in again"
    );
    app.mails_with_subject_like("%two-factor sign-in was reset%")
        .reaches(1)
        .await;
}

async fn a_pending_sign_in_needs_the_password_step_lasts_five_minutes_and_works_once(app: TestApp) {
    let (app, dana, laptop, secret, _) = enrolled_dana(app).await;
    let failures = || app.events_of_kind("two_factor_failed");
    let stranger = app.new_browser().await;
    let (status, page) = stranger.opens("/login/two-factor").await;
    assert_eq!(
        status,
        Status::Unauthorized,
        "no password step, no code form"
    );
    assert!(page.contains("Sign in again"));
    app.clock.advance(30);
    let code = code_for(&secret, app.clock.now());
    let without = stranger.enters_code(&code).await;
    assert_eq!(without.status(), Status::Unauthorized);
    drop(without);
    assert_eq!(failures().await, 1, "audited");

    let forged = app.new_browser().await;
    forged
        .cookies()
        .add(Cookie::new("hr_pending", "A".repeat(43)));
    assert_eq!(
        forged.enters_code(&code).await.status(),
        Status::Unauthorized
    );
    assert!(!forged.is_signed_in().await);
    assert_eq!(failures().await, 2);

    let slow = app.new_browser().await;
    password_step(&slow).await;
    app.clock.advance(5 * 60 + 1);
    let code = code_for(&secret, app.clock.now());
    assert_eq!(slow.enters_code(&code).await.status(), Status::Unauthorized);
    assert!(
        !slow.is_signed_in().await,
        "five minutes later the step is closed"
    );
    assert_eq!(failures().await, 3);

    // Used once: a copy of the cookie taken before the code was entered opens nothing after.
    let phone = app.new_browser().await;
    password_step(&phone).await;
    let copied = phone
        .cookies()
        .get("hr_pending")
        .unwrap()
        .value()
        .to_string();
    let response = phone.enters_code(&code).await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let thief = app.new_browser().await;
    thief.cookies().add(Cookie::new("hr_pending", copied));
    app.clock.advance(30);
    let next_code = code_for(&secret, app.clock.now());
    assert_eq!(
        thief.enters_code(&next_code).await.status(),
        Status::Unauthorized
    );
    assert!(!thief.is_signed_in().await, "a pending sign-in works once");

    // A password changed after the password step closes it.
    let tablet = app.new_browser().await;
    password_step(&tablet).await;
    let changed = laptop
        .changes_password(
            PASSWORD,
            "another long passphrase 7",
            "another long passphrase 7",
        )
        .await;
    assert_eq!(changed.status(), Status::SeeOther);
    drop(changed);
    app.clock.advance(30);
    let code = code_for(&secret, app.clock.now());
    assert_eq!(
        tablet.enters_code(&code).await.status(),
        Status::Unauthorized
    );
    assert!(
        !tablet.is_signed_in().await,
        "a password change closes pending sign-ins"
    );

    // A disabled account's pending sign-in opens nothing.
    let desktop = app.new_browser().await;
    let response = desktop
        .signs_in_with(&[
            ("email", "dana@example.com"),
            ("password", "another long passphrase 7"),
        ])
        .await;
    assert_eq!(location(&response), Some("/login/two-factor"));
    drop(response);
    let actor = Actor::command_line();
    let target = hr_portal::app::AccountRef::Id(dana.id);
    accounts::change_account(app.app(), &actor, target, AccountAction::Disable)
        .await
        .unwrap();
    app.clock.advance(30);
    let code = code_for(&secret, app.clock.now());
    assert_eq!(
        desktop.enters_code(&code).await.status(),
        Status::Unauthorized
    );
    assert!(!desktop.is_signed_in().await);
    assert_eq!(app.sessions_of(&dana).await, 0);
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE kind = 'two_factor_failed' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert!(detail.contains("disabled"), "{detail}");
}

async fn wrong_malformed_and_overlong_codes_are_refused_audited_and_throttled(app: TestApp) {
    let (app, dana, _laptop, _secret, _) = enrolled_dana(app).await;
    let phone = app.new_browser().await;
    password_step(&phone).await;
    let overlong = "1".repeat(5_000);
    for code in ["000000", "12345", "abcdef", "", overlong.as_str()] {
        let response = phone.enters_code(code).await;
        assert!(
            matches!(
                response.status(),
                Status::Unauthorized | Status::TooManyRequests
            ),
            "{code:.10} → {}",
            response.status()
        );
        drop(response);
    }
    assert!(!phone.is_signed_in().await);
    assert_eq!(
        app.sessions_of(&dana).await,
        1,
        "only the enrolling laptop's"
    );
    assert!(app.events_of_kind("two_factor_failed").await >= 4);
    // The password step counted once and each wrong code once: five guesses, then 429.
    let refused = phone.enters_code("111111").await;
    assert_eq!(refused.status(), Status::TooManyRequests);
    drop(refused);
    assert!(app.events_of_kind("login_throttled").await >= 1);
}

async fn failures_from_elsewhere_do_not_lock_out_the_owners_known_browser(app: TestApp) {
    let dana = app.create_dana().await;
    let owner = app.browser_signed_in_as(&dana).await;
    assert_eq!(owner.signs_out().await, Status::SeeOther);

    let attacker = app.new_browser().await;
    for _ in 0..60 {
        attacker
            .signs_in_from("127.0.0.2", "dana@example.com", "not the password")
            .await;
    }
    let account_failures: i64 = sqlx::query_scalar(
        "SELECT failures FROM login_throttle WHERE key = 'account:dana@example.com'",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(
        account_failures, 6,
        "the account is counted up to its first refusal; attempts refused after that (by the \
         account or the address limit) are not written again"
    );

    let stranger = app.new_browser().await;
    assert_eq!(
        stranger
            .signs_in_from("127.0.0.3", "dana@example.com", PASSWORD)
            .await,
        Status::TooManyRequests,
        "a browser without a device cookie is limited as before"
    );
    assert_eq!(
        owner
            .signs_in_from("127.0.0.3", "dana@example.com", PASSWORD)
            .await,
        Status::SeeOther,
        "the owner's known browser signs in at once"
    );
    assert!(owner.is_signed_in().await);
    assert_eq!(
        stranger
            .signs_in_from("127.0.0.3", "dana@example.com", PASSWORD)
            .await,
        Status::TooManyRequests,
        "and the account stays locked for everyone else"
    );
}

async fn a_new_browser_is_announced_once_and_a_known_one_is_not(app: TestApp) {
    let dana = app.create_dana().await;
    let new_device_mails = || app.mails_titled("New sign-in to your HR Portal account");
    let laptop = app.browser_signed_in_as(&dana).await;
    app.mails_sent().reaches(1).await;
    let notices = new_sign_in_notices(&app);
    assert_eq!(notices.len(), 1, "one new-sign-in message");
    let message = &notices[0];
    assert!(header(message, "To").is_some_and(|to| to.contains("dana@example.com")));
    assert!(message.contains("Not you? End all sessions:"));
    assert!(message.contains("/account/sessions"));
    let (_, dashboard) = laptop.opens("/dashboard").await;
    assert!(dashboard.contains("id=\"new-device-notice\""));

    laptop.signs_out().await;
    assert_eq!(
        laptop.signs_in_as("dana@example.com", PASSWORD).await,
        Status::SeeOther
    );
    assert_eq!(
        new_device_mails().await,
        1,
        "a known browser is not announced"
    );

    let dismissed = laptop
        .submits("/dashboard", "/account/devices/dismiss-notices", &[])
        .await;
    assert_eq!(dismissed.status(), Status::SeeOther);
    drop(dismissed);
    let (_, dashboard) = laptop.opens("/dashboard").await;
    assert!(!dashboard.contains("id=\"new-device-notice\""));

    // Listed as a trusted device; once removed, the browser's next sign-in is announced again.
    let (_, sessions) = laptop.opens("/account/sessions").await;
    let start = sessions
        .find("/account/devices/")
        .expect("the device is listed");
    let action: String = sessions[start..].split('"').next().unwrap().to_string();
    let removed = laptop.submits("/account/sessions", &action, &[]).await;
    assert_eq!(removed.status(), Status::SeeOther);
    drop(removed);
    assert_eq!(app.events_of_kind("device_forgotten").await, 1);
    laptop.signs_out().await;
    assert_eq!(
        laptop.signs_in_as("dana@example.com", PASSWORD).await,
        Status::SeeOther
    );
    assert_eq!(new_device_mails().await, 2);
}

async fn an_admin_without_two_factor_can_only_set_it_up_when_it_is_required(backend: Backend) {
    let settings = [("require_two_factor_for_admins", Value::from(true))];
    let Some(app) = spawn_app_with(backend, &settings).await else {
        return;
    };
    let root = app.sign_in_as_admin().await;
    for page in [
        "/dashboard",
        "/admin/users",
        "/account/password",
        "/employees",
    ] {
        let response = app.browser.get(page).dispatch().await;
        assert_eq!(response.status(), Status::SeeOther, "{page}");
        assert_eq!(location(&response), Some("/account/two-factor"), "{page}");
    }
    let (_, page) = app.browser.opens("/account/two-factor").await;
    assert!(page.contains("id=\"two-factor-required\""));
    app.browser.enrols(&app).await;
    let (status, _) = app.browser.opens("/admin/users").await;
    assert_eq!(status, Status::Ok, "enrolled, the admin pages open");
    // Employees are not held.
    let erin = app
        .create_user("erin@example.com", "Erin", Role::Employee)
        .await;
    let erins = app.browser_signed_in_as(&erin).await;
    assert!(erins.is_signed_in().await);
    // Every administration role is held, not only administrators: HR edits people's records.
    app.create_user("harriet@example.com", "Harriet", Role::Hr)
        .await;
    let hr = app.new_browser().await;
    hr.signs_in_as("harriet@example.com", PASSWORD).await;
    let response = hr.get("/admin/employees/new").dispatch().await;
    assert_eq!(
        location(&response),
        Some("/account/two-factor"),
        "hr is held"
    );
    let _ = root;
}

async fn the_cli_resets_two_factor(app: TestApp) {
    let (app, dana, laptop, _, _) = enrolled_dana(app).await;
    let (ok, output) = hr_portal(&app, &["user", "reset-two-factor", "dana@example.com"], "");
    assert!(ok, "{output}");
    assert!(
        output.contains("authenticator and recovery codes removed"),
        "{output}"
    );
    assert!(!laptop.is_signed_in().await);
    assert_eq!(app.two_factor_enrolments().await, 0);
    let browser = app.browser_signed_in_as(&dana).await;
    assert!(browser.is_signed_in().await);
    let (ok, output) = hr_portal(
        &app,
        &["user", "reset-two-factor", "nobody@example.com"],
        "",
    );
    assert!(!ok);
    assert_eq!(output.lines().count(), 1, "{output}");
}

async fn turning_it_off_needs_the_password_and_a_current_code(app: TestApp) {
    let (app, dana, laptop, secret, _) = enrolled_dana(app).await;
    app.clock.advance(30);
    let code = code_for(&secret, app.clock.now());
    let page = "/account/two-factor";
    let action = "/account/two-factor/disable";
    let wrong_password = [("password", "not it at all"), ("code", code.as_str())];
    let refused = laptop.submits(page, action, &wrong_password).await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    drop(refused);
    let wrong_code = [("password", PASSWORD), ("code", "000000")];
    let refused = laptop.submits(page, action, &wrong_code).await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    drop(refused);
    assert_eq!(app.two_factor_enrolments().await, 1);
    let right = [("password", PASSWORD), ("code", code.as_str())];
    let off = laptop.submits(page, action, &right).await;
    assert_eq!(off.status(), Status::SeeOther);
    drop(off);
    assert_eq!(app.two_factor_enrolments().await, 0);
    assert_eq!(app.recovery_codes().await, 0);
    assert_eq!(app.events_of_kind("two_factor_disabled").await, 1);
    let phone = app.browser_signed_in_as(&dana).await;
    assert!(
        phone.is_signed_in().await,
        "the password alone signs in again"
    );
}

async fn a_right_password_does_not_reset_the_count_of_wrong_codes(app: TestApp) {
    let (app, _dana, laptop, _secret, _) = enrolled_dana(app).await;
    // Someone at an open session who knows the password guesses codes to turn it off: each
    // try costs two of the account's five, the password's and the code's.
    let guess = [("password", PASSWORD), ("code", "000000")];
    let page = "/account/two-factor";
    let action = "/account/two-factor/disable";
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = laptop.submits(page, action, &guess).await;
        statuses.push(response.status());
    }
    assert_eq!(
        statuses,
        [
            Status::UnprocessableEntity,
            Status::UnprocessableEntity,
            Status::TooManyRequests,
            Status::TooManyRequests
        ]
    );
    assert_eq!(app.two_factor_enrolments().await, 1);
}

async fn a_two_step_sign_in_leaves_nothing_on_the_address_count(app: TestApp) {
    let (app, _dana, _laptop, secret, _) = enrolled_dana(app).await;
    for _ in 0..3 {
        let phone = app.new_browser().await;
        password_step(&phone).await;
        app.clock.advance(30);
        let code = code_for(&secret, app.clock.now());
        assert_eq!(phone.enters_code(&code).await.status(), Status::SeeOther);
    }
    assert_eq!(app.addresses_with_failures().await, 0);
}

async fn code_posts_without_a_pending_sign_in_are_limited_per_address(app: TestApp) {
    app.create_dana().await;
    let stranger = app.new_browser().await;
    let mut refused = 0;
    for _ in 0..60 {
        if stranger.enters_code("123456").await.status() == Status::TooManyRequests {
            refused += 1;
        }
    }
    assert_eq!(refused, 10, "past the address limit of 50");
    assert_eq!(app.events_of_kind("two_factor_failed").await, 50);
}

async fn a_password_change_and_a_forced_sign_out_forget_trusted_devices(app: TestApp) {
    let dana = app.create_dana().await;
    let laptop = app.browser_signed_in_as(&dana).await;
    assert_eq!(app.known_devices().await, 1);
    let new = "another long passphrase 7";
    let changed = laptop.changes_password(PASSWORD, new, new).await;
    assert_eq!(changed.status(), Status::SeeOther);
    drop(changed);
    assert_eq!(app.known_devices().await, 0);
    laptop.signs_out().await;
    assert_eq!(
        laptop.signs_in_as("dana@example.com", new).await,
        Status::SeeOther
    );
    assert_eq!(app.known_devices().await, 1);
    app.sign_in_as_admin().await;
    let action = format!("/admin/users/{}/sessions/revoke", dana.id);
    let out = app.browser.submits("/admin/users", &action, &[]).await;
    assert_eq!(out.status(), Status::SeeOther);
    drop(out);
    assert_eq!(app.known_devices_of(&dana).await, 0);
}

async fn keep_me_signed_in_is_honoured_after_the_code(app: TestApp) {
    let (app, _dana, _laptop, secret, _) = enrolled_dana(app).await;
    let phone = app.new_browser().await;
    let response = phone
        .signs_in_with(&[
            ("email", "dana@example.com"),
            ("password", PASSWORD),
            ("remember", "true"),
        ])
        .await;
    assert_eq!(location(&response), Some("/login/two-factor"));
    drop(response);
    app.clock.advance(30);
    let code = code_for(&secret, app.clock.now());
    let response = phone.enters_code(&code).await;
    assert_eq!(response.status(), Status::SeeOther);
    let session_cookie = response
        .cookies()
        .get("hr_session")
        .expect("the session cookie is set");
    assert!(
        session_cookie.max_age().is_some(),
        "a persistent cookie for keep me signed in"
    );
    drop(response);
    let remembered = app.remembered_sessions().await;
    assert_eq!(remembered, 1);
}

async fn new_recovery_codes_replace_the_old_ones(app: TestApp) {
    let (app, _dana, laptop, secret, old_codes) = enrolled_dana(app).await;
    app.clock.advance(30);
    let code = code_for(&secret, app.clock.now());
    let fields = [("password", PASSWORD), ("code", code.as_str())];
    let action = "/account/two-factor/recovery-codes";
    let renewed = laptop.submits("/account/two-factor", action, &fields).await;
    assert_eq!(renewed.status(), Status::Ok);
    let new_codes = recovery_codes_in(&body(renewed).await);
    assert_eq!(new_codes.len(), 10);
    assert_eq!(app.events_of_kind("recovery_codes_renewed").await, 1);
    laptop.signs_out().await;

    let phone = app.new_browser().await;
    password_step(&phone).await;
    let old = phone.enters_code(&old_codes[1]).await;
    assert_eq!(
        old.status(),
        Status::Unauthorized,
        "the old codes stop working"
    );
    drop(old);
    let new = phone.enters_code(&new_codes[1]).await;
    assert_eq!(new.status(), Status::SeeOther, "the new ones work");
}

on_every_backend!(
    a_right_password_does_not_reset_the_count_of_wrong_codes,
    a_two_step_sign_in_leaves_nothing_on_the_address_count,
    code_posts_without_a_pending_sign_in_are_limited_per_address,
    a_password_change_and_a_forced_sign_out_forget_trusted_devices,
    keep_me_signed_in_is_honoured_after_the_code,
    new_recovery_codes_replace_the_old_ones,
    a_person_with_two_factor_needs_a_code_and_each_code_works_once,
    a_pending_sign_in_needs_the_password_step_lasts_five_minutes_and_works_once,
    wrong_malformed_and_overlong_codes_are_refused_audited_and_throttled,
    failures_from_elsewhere_do_not_lock_out_the_owners_known_browser,
    a_new_browser_is_announced_once_and_a_known_one_is_not,
    an_admin_without_two_factor_can_only_set_it_up_when_it_is_required,
    the_cli_resets_two_factor,
    turning_it_off_needs_the_password_and_a_current_code,
    an_old_session_cannot_enrol_an_authenticator_without_the_password,
);

/// The red team's finding: a session an hour old enrolled the thief's own authenticator with a
/// code alone. Past ten minutes no secret is shown and a code alone turns nothing on; the
/// password shows a new secret, and the code of that secret (with the page's proof, so the
/// password is typed once) turns it on.
async fn an_old_session_cannot_enrol_an_authenticator_without_the_password(backend: Backend) {
    let Some((app, dana)) = app_with_dana(backend, &[]).await else {
        return;
    };
    let browser = &app.browser_signed_in_as(&dana).await;
    // A secret seen while the sign-in was fresh…
    let (_, page) = browser.opens("/account/two-factor").await;
    let seen = text_of(&page, "totp-secret").expect("a fresh sign-in sees the secret");
    // Fifty minutes on, the session kept alive in between (the idle timeout is thirty).
    app.clock.advance(25 * 60);
    assert!(browser.is_signed_in().await);
    app.clock.advance(25 * 60);
    // …does not turn two-factor on an hour later with a code alone.
    let code = code_for(&seen, app.clock.now());
    let late = browser
        .submits(
            "/account/two-factor",
            "/account/two-factor",
            &[("code", code.as_str())],
        )
        .await;
    assert_eq!(late.status(), Status::UnprocessableEntity);
    let page = body(late).await;
    assert!(!page.contains("id=\"recovery-codes\""), "no recovery codes");
    assert_eq!(app.two_factor_switched_on().await, 0);
    // An hour-old session sees no secret at all, only the password form.
    let (status, page) = browser.opens("/account/two-factor").await;
    assert_eq!(status, Status::Ok);
    assert!(text_of(&page, "totp-secret").is_none(), "no secret shown");
    assert!(page.contains("id=\"step-up-first\""));
    let wrong = browser
        .submits(
            "/account/two-factor",
            "/account/two-factor",
            &[("password", "not the password at all")],
        )
        .await;
    assert_eq!(wrong.status(), Status::UnprocessableEntity);
    assert!(text_of(&body(wrong).await, "totp-secret").is_none());
    // The password shows a new secret (the one seen before is gone) with a proof of presence.
    let (page, secret, proof) = confirms_with_the_password(browser).await;
    assert_ne!(secret, seen, "a secret shown before is replaced");
    let token = csrf_token_for(&page, "/account/two-factor");
    // A forged proof is no proof.
    let code = code_for(&secret, app.clock.now());
    let forged = browser
        .posts(
            "/account/two-factor",
            &[
                ("code", code.as_str()),
                ("proof", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                ("csrf_token", token.as_str()),
            ],
        )
        .await;
    assert_eq!(forged.status(), Status::UnprocessableEntity);
    drop(forged);
    let on = browser
        .posts(
            "/account/two-factor",
            &[
                ("code", code.as_str()),
                ("proof", proof.as_str()),
                ("csrf_token", token.as_str()),
            ],
        )
        .await;
    assert_eq!(on.status(), Status::Ok);
    assert_eq!(recovery_codes_in(&body(on).await).len(), 10);
    // The mail says what to do if it was not you.
    let mails = wait_for_outbox(&app, 1).await;
    let mail = mails
        .iter()
        .find(|m| m.contains("Two-factor sign-in was turned on"))
        .expect("the confirmation mail");
    assert!(mail.contains("If this was not you"), "{mail}");
    assert!(mail.contains("/password/forgot"), "{mail}");
    assert!(mail.contains("added in the last 24 hours"), "{mail}");
}

/// A late enrolment's first post: the password shows a secret (`totp-secret`) with a proof of
/// presence for the confirming post. The page, the secret and the proof.
async fn confirms_with_the_password(browser: &Client) -> (String, String, String) {
    let shown = browser
        .submits(
            "/account/two-factor",
            "/account/two-factor",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(shown.status(), Status::Ok);
    let page = body(shown).await;
    let secret = text_of(&page, "totp-secret").expect("the password shows a secret");
    let proof = input_value(&page, "proof").expect("the proof rides along");
    (page, secret, proof)
}

/// An administrator held until they set up two-factor, signed in long ago, still gets through:
/// with the password.
#[rocket::async_test]
async fn a_held_admin_signed_in_long_ago_enrols_with_the_password() {
    let settings = [("require_two_factor_for_admins", Value::from(true))];
    let app = spawn_app_with(Backend::Sqlite, &settings).await.unwrap();
    app.sign_in_as_admin().await;
    app.clock.advance(11 * 60);
    let (status, page) = app.browser.opens("/account/two-factor").await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("id=\"two-factor-required\""));
    assert!(page.contains("id=\"step-up-first\""));
    let (_, secret, proof) = confirms_with_the_password(&app.browser).await;
    let code = code_for(&secret, app.clock.now());
    let on = app
        .browser
        .submits(
            "/account/two-factor",
            "/account/two-factor",
            &[("code", code.as_str()), ("proof", proof.as_str())],
        )
        .await;
    assert_eq!(on.status(), Status::Ok);
    drop(on);
    let (status, _) = app.browser.opens("/admin/users").await;
    assert_eq!(status, Status::Ok, "enrolled, the admin pages open");
}
