//! Passkeys without a browser: a software authenticator answers the real challenges, so each
//! ceremony runs through the real routes, the library's checks and the database — and so do the
//! answers that must be refused (replayed, for another origin or relying party, too late, from a
//! copied authenticator).

use rocket::http::Status;
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::Value;

use crate::helpers::*;
use crate::soft_authenticator::SoftAuthenticator;
use crate::two_factor::{code_for, UsesTwoFactor};

/// What a person does with passkeys, so the tests read as sentences.
#[allow(async_fn_in_trait)] // test-only
pub trait UsesPasskeys {
    /// Asks for a challenge at `action` with the form of `form_page`; the status and the JSON.
    async fn asks_challenge(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> (Status, Value);
    /// Adds a passkey named `name` made by `authenticator` (within ten minutes of signing in).
    async fn adds_passkey(&self, authenticator: &mut SoftAuthenticator, name: &str) -> Status;
    /// A sign-in challenge from the login page: the ceremony token and the options.
    async fn asks_sign_in_challenge(&self) -> (String, Value);
    /// Posts an answer to a sign-in ceremony from the login page.
    async fn answers_sign_in(&self, ceremony: &str, credential: &str) -> LocalResponse<'_>;
    /// The whole passkey sign-in: challenge, the authenticator's answer, the post.
    async fn signs_in_with_passkey(
        &self,
        authenticator: &mut SoftAuthenticator,
    ) -> LocalResponse<'_>;
}

impl UsesPasskeys for Client {
    async fn asks_challenge(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> (Status, Value) {
        // The token of the form whose script asks at `action` (a signed-in page has others).
        let (_, html) = self.opens(form_page).await;
        let form = html
            .find(&format!("data-challenge=\"{action}\""))
            .map_or(html.as_str(), |at| &html[at..]);
        let token = csrf_token_in(form);
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        let response = self.posts(action, &all).await;
        let status = response.status();
        let json = serde_json::from_str(&body(response).await).unwrap_or(Value::Null);
        (status, json)
    }

    async fn adds_passkey(&self, authenticator: &mut SoftAuthenticator, name: &str) -> Status {
        let (status, challenge) = self
            .asks_challenge(
                "/account/passkeys",
                "/account/passkeys/challenge",
                &[("name", name)],
            )
            .await;
        assert_eq!(status, Status::Ok, "a challenge: {challenge}");
        let ceremony = challenge["ceremony"].as_str().unwrap().to_string();
        let credential = authenticator.register(&challenge["options"]);
        let fields = [
            ("ceremony", ceremony.as_str()),
            ("credential", credential.as_str()),
        ];
        self.submits("/account/passkeys", "/account/passkeys", &fields)
            .await
            .status()
    }

    async fn asks_sign_in_challenge(&self) -> (String, Value) {
        let (status, challenge) = self
            .asks_challenge("/login", "/login/passkey/challenge", &[])
            .await;
        assert_eq!(status, Status::Ok, "a sign-in challenge: {challenge}");
        let ceremony = challenge["ceremony"].as_str().unwrap().to_string();
        (ceremony, challenge["options"].clone())
    }

    async fn answers_sign_in(&self, ceremony: &str, credential: &str) -> LocalResponse<'_> {
        let fields = [("ceremony", ceremony), ("credential", credential)];
        self.submits("/login", "/login/passkey", &fields).await
    }

    async fn signs_in_with_passkey(
        &self,
        authenticator: &mut SoftAuthenticator,
    ) -> LocalResponse<'_> {
        let (ceremony, options) = self.asks_sign_in_challenge().await;
        let credential = authenticator.sign_in(&options);
        self.answers_sign_in(&ceremony, &credential).await
    }
}

/// Dana, signed in on the app's first browser, with a passkey named "work laptop".
async fn dana_with_a_passkey(app: TestApp) -> (TestApp, hr_portal::users::User, SoftAuthenticator) {
    let dana = app.create_dana().await;
    let browser = &app.browser;
    assert_eq!(
        browser.signs_in_as(dana.email.as_str(), PASSWORD).await,
        Status::SeeOther
    );
    let mut authenticator = SoftAuthenticator::new();
    let added = browser
        .adds_passkey(&mut authenticator, "work laptop")
        .await;
    assert_eq!(added, Status::SeeOther, "the passkey is added");
    (app, dana, authenticator)
}

on_every_backend!(
    a_person_adds_a_passkey_and_then_signs_in_with_it_alone,
    a_replayed_answer_is_refused_and_starts_no_session,
);

async fn a_person_adds_a_passkey_and_then_signs_in_with_it_alone(app: TestApp) {
    let (app, dana, mut authenticator) = dana_with_a_passkey(app).await;
    // Dana also has an authenticator app: a passkey still needs no code (it is two factors).
    app.browser.enrols(&app).await;
    let (_, page) = app.browser.opens("/account/passkeys").await;
    assert!(page.contains("data-passkey=\"work laptop\""), "{page}");
    assert!(page.contains("never"), "not used yet");
    assert_eq!(app.events_of_kind("passkey_added").await, 1);
    app.mails_titled("Your HR Portal passkeys changed")
        .reaches(1)
        .await;

    let laptop = app.new_browser().await;
    let response = laptop.signs_in_with_passkey(&mut authenticator).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/dashboard"));
    drop(response);
    assert!(laptop.is_signed_in().await, "no code step after a passkey");
    let (_, dashboard) = laptop.opens("/dashboard").await;
    assert!(dashboard.contains("Dana Scully"));
    assert_eq!(app.sessions_of(&dana).await, 2);
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE kind = 'login_succeeded' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert!(
        detail.contains("passkey"),
        "the method is audited: {detail}"
    );
    assert!(detail.contains("new device"), "{detail}");
    let (_, page) = laptop.opens("/account/passkeys").await;
    assert!(!page.contains("never"), "the last use is shown");
}

async fn a_replayed_answer_is_refused_and_starts_no_session(app: TestApp) {
    let (app, dana, mut authenticator) = dana_with_a_passkey(app).await;
    let first = app.new_browser().await;
    let (ceremony, options) = first.asks_sign_in_challenge().await;
    let answer = authenticator.sign_in(&options);
    assert_eq!(
        first.answers_sign_in(&ceremony, &answer).await.status(),
        Status::SeeOther
    );
    let thief = app.new_browser().await;
    let replayed = thief.answers_sign_in(&ceremony, &answer).await;
    assert_eq!(replayed.status(), Status::Unauthorized);
    let page = body(replayed).await;
    assert!(page.contains("expired or was already answered"), "{page}");
    assert!(!thief.is_signed_in().await);
    assert_eq!(app.sessions_of(&dana).await, 2, "no session for the replay");
}

#[rocket::async_test]
async fn an_answer_collected_by_another_origin_is_refused() {
    let (app, dana, mut authenticator) = dana_with_a_passkey(spawn_app().await).await;
    authenticator.origin = "https://hr-portal.example.net".to_string();
    let phished = app.new_browser().await;
    let response = phished.signs_in_with_passkey(&mut authenticator).await;
    assert_eq!(response.status(), Status::Unauthorized);
    drop(response);
    assert!(!phished.is_signed_in().await);
    assert_eq!(app.sessions_of(&dana).await, 1);
    let why = last_failure(&app).await;
    assert!(
        why.contains("work laptop") && why.contains("origin does not match"),
        "{why}"
    );
}

/// The detail of the latest refused sign-in.
async fn last_failure(app: &TestApp) -> String {
    sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE kind = 'login_failed' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap()
}

#[rocket::async_test]
async fn an_answer_signed_for_another_relying_party_is_refused() {
    let (app, dana, mut authenticator) = dana_with_a_passkey(spawn_app().await).await;
    authenticator.rp_id = "example.net".to_string();
    let browser = app.new_browser().await;
    let response = browser.signs_in_with_passkey(&mut authenticator).await;
    assert_eq!(response.status(), Status::Unauthorized);
    drop(response);
    assert!(!browser.is_signed_in().await);
    assert_eq!(app.sessions_of(&dana).await, 1);
    let why = last_failure(&app).await;
    assert!(
        why.contains("work laptop") && why.contains("relying party id hash does not match"),
        "{why}"
    );
}

#[rocket::async_test]
async fn an_expired_challenge_is_refused() {
    let (app, dana, mut authenticator) = dana_with_a_passkey(spawn_app().await).await;
    let browser = app.new_browser().await;
    let (ceremony, options) = browser.asks_sign_in_challenge().await;
    app.clock.advance(5 * 60 + 1);
    let answer = authenticator.sign_in(&options);
    let response = browser.answers_sign_in(&ceremony, &answer).await;
    assert_eq!(response.status(), Status::Unauthorized);
    drop(response);
    assert!(!browser.is_signed_in().await);
    assert_eq!(app.sessions_of(&dana).await, 1);
    let expired = app.events_of_kind_with_detail("login_failed", "passkey: challenge expired");
    assert_eq!(expired.await, 1);
}

#[rocket::async_test]
async fn a_copied_authenticator_whose_counter_goes_back_is_refused_and_audited() {
    let (app, dana, mut authenticator) = dana_with_a_passkey(spawn_app().await).await;
    authenticator.counter = 40;
    let original = app.new_browser().await;
    assert_eq!(
        original
            .signs_in_with_passkey(&mut authenticator)
            .await
            .status(),
        Status::SeeOther
    );
    // A copy of the key, used elsewhere, is behind the original's count.
    authenticator.counter = 10;
    let copy = app.new_browser().await;
    let response = copy.signs_in_with_passkey(&mut authenticator).await;
    assert_eq!(response.status(), Status::Unauthorized);
    drop(response);
    assert!(!copy.is_signed_in().await);
    assert_eq!(app.events_of_kind("passkey_clone_suspected").await, 1);
    app.mails_with_subject_like("%passkeys was refused")
        .reaches(1)
        .await;
    assert_eq!(app.sessions_of(&dana).await, 2);
}

#[rocket::async_test]
async fn a_removed_passkey_signs_in_no_more() {
    let (app, dana, mut authenticator) = dana_with_a_passkey(spawn_app().await).await;
    let (_, page) = app.browser.opens("/account/passkeys").await;
    let handle = passkey_handle(&page);
    let action = format!("/account/passkeys/{handle}/remove");
    let removed = app.browser.submits("/account/passkeys", &action, &[]).await;
    assert_eq!(removed.status(), Status::SeeOther);
    drop(removed);
    assert_eq!(app.events_of_kind("passkey_removed").await, 1);
    let browser = app.new_browser().await;
    let response = browser.signs_in_with_passkey(&mut authenticator).await;
    assert_eq!(response.status(), Status::Unauthorized);
    let page = body(response).await;
    assert!(page.contains("not registered here"), "{page}");
    assert_eq!(app.sessions_of(&dana).await, 1);
}

/// The handle in the first passkey's remove form.
fn passkey_handle(page: &str) -> String {
    let marker = "action=\"/account/passkeys/";
    let start = page.find(marker).expect("a passkey's form") + marker.len();
    let end = page[start..].find('/').unwrap() + start;
    page[start..end].to_string()
}

#[rocket::async_test]
async fn ten_minutes_after_signing_in_removing_a_passkey_needs_the_password() {
    let (app, _dana, _authenticator) = dana_with_a_passkey(spawn_app().await).await;
    app.clock.advance(11 * 60);
    let (_, page) = app.browser.opens("/account/passkeys").await;
    assert!(page.contains("Your password"), "the form asks for it");
    let action = format!("/account/passkeys/{}/remove", passkey_handle(&page));
    let without = app.browser.submits("/account/passkeys", &action, &[]).await;
    assert_eq!(without.status(), Status::UnprocessableEntity);
    drop(without);
    let wrong = app
        .browser
        .submits(
            "/account/passkeys",
            &action,
            &[("password", "not my password")],
        )
        .await;
    assert_eq!(wrong.status(), Status::UnprocessableEntity);
    drop(wrong);
    assert_eq!(app.passkeys().await, 1);
    let right = app
        .browser
        .submits("/account/passkeys", &action, &[("password", PASSWORD)])
        .await;
    assert_eq!(right.status(), Status::SeeOther);
    drop(right);
    assert_eq!(app.passkeys().await, 0);
}

#[rocket::async_test]
async fn with_an_authenticator_app_a_late_change_also_needs_a_current_code() {
    let (app, _dana, _authenticator) = dana_with_a_passkey(spawn_app().await).await;
    let (secret, _codes) = app.browser.enrols(&app).await;
    app.clock.advance(11 * 60);
    let (_, page) = app.browser.opens("/account/passkeys").await;
    assert!(page.contains("Current code"), "the form asks for a code");
    let action = format!("/account/passkeys/{}/remove", passkey_handle(&page));
    let password_alone = app
        .browser
        .submits("/account/passkeys", &action, &[("password", PASSWORD)])
        .await;
    assert_eq!(password_alone.status(), Status::UnprocessableEntity);
    drop(password_alone);
    let (status, refused) = app
        .browser
        .asks_challenge(
            "/account/passkeys",
            "/account/passkeys/challenge",
            &[("name", "phone"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity, "{refused}");
    assert_eq!(app.passkeys().await, 1);
    let code = code_for(&secret, app.clock.now());
    let with_code = app
        .browser
        .submits(
            "/account/passkeys",
            &action,
            &[("password", PASSWORD), ("code", code.as_str())],
        )
        .await;
    assert_eq!(with_code.status(), Status::SeeOther);
    drop(with_code);
    assert_eq!(app.passkeys().await, 0);
}

#[rocket::async_test]
async fn the_same_authenticator_cannot_register_twice_and_a_name_is_needed() {
    let (app, _dana, mut authenticator) = dana_with_a_passkey(spawn_app().await).await;
    let (status, refused) = app
        .browser
        .asks_challenge(
            "/account/passkeys",
            "/account/passkeys/challenge",
            &[("name", "  ")],
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(refused["error"].as_str().unwrap().contains("name"));
    let again = app
        .browser
        .adds_passkey(&mut authenticator, "same key")
        .await;
    assert_eq!(again, Status::UnprocessableEntity);
    assert_eq!(app.passkeys().await, 1);
    assert_eq!(app.events_of_kind("passkey_refused").await, 1);
}

#[rocket::async_test]
async fn a_passkey_can_be_renamed() {
    let (app, _dana, _authenticator) = dana_with_a_passkey(spawn_app().await).await;
    let (_, page) = app.browser.opens("/account/passkeys").await;
    let action = format!("/account/passkeys/{}/rename", passkey_handle(&page));
    let renamed = app
        .browser
        .submits("/account/passkeys", &action, &[("name", "YubiKey 5C")])
        .await;
    assert_eq!(renamed.status(), Status::SeeOther);
    drop(renamed);
    let (_, page) = app.browser.opens("/account/passkeys").await;
    assert!(page.contains("data-passkey=\"YubiKey 5C\""));
    assert_eq!(app.events_of_kind("passkey_renamed").await, 1);
    let elsewhere = app
        .browser
        .submits(
            "/account/passkeys",
            "/account/passkeys/not-a-handle-of-mine/rename",
            &[("name", "x")],
        )
        .await;
    assert_eq!(elsewhere.status(), Status::NotFound);
}

#[rocket::async_test]
async fn a_disabled_account_cannot_sign_in_with_its_passkey() {
    let (app, dana, mut authenticator) = dana_with_a_passkey(spawn_app().await).await;
    sqlx::query("UPDATE users SET disabled = 1 WHERE id = $1")
        .bind(dana.id)
        .execute(&app.db().pool)
        .await
        .unwrap();
    let browser = app.new_browser().await;
    let response = browser.signs_in_with_passkey(&mut authenticator).await;
    assert_eq!(response.status(), Status::Unauthorized);
    drop(response);
    assert!(!browser.is_signed_in().await);
}

#[rocket::async_test]
async fn a_held_account_signing_in_with_a_passkey_lands_on_the_password_page() {
    let (app, _dana, mut authenticator) = dana_with_a_passkey(spawn_app().await).await;
    sqlx::query("UPDATE users SET must_change_password = 1")
        .execute(&app.db().pool)
        .await
        .unwrap();
    let browser = app.new_browser().await;
    let response = browser.signs_in_with_passkey(&mut authenticator).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/account/password"));
    drop(response);
    let (status, _) = browser.opens("/dashboard").await;
    assert_ne!(
        status,
        Status::Ok,
        "the hold applies to a passkey session too"
    );
}

#[rocket::async_test]
async fn an_administrators_two_factor_reset_removes_the_passkeys_the_users_list_counted() {
    let (app, dana, mut authenticator) = dana_with_a_passkey(spawn_app().await).await;
    let admin = app
        .create_user("root@example.com", "Root", hr_portal::users::Role::Admin)
        .await;
    let admin_browser = app.browser_signed_in_as(&admin).await;
    let (_, users) = admin_browser.opens("/admin/users").await;
    assert!(
        users.contains("data-passkeys=\"dana@example.com\">1 passkey<"),
        "{users}"
    );
    let action = format!("/admin/users/{}/reset-two-factor", dana.id);
    let reset = admin_browser.submits("/admin/users", &action, &[]).await;
    assert_eq!(reset.status(), Status::SeeOther);
    drop(reset);
    assert_eq!(app.passkeys().await, 0);
    let browser = app.new_browser().await;
    let response = browser.signs_in_with_passkey(&mut authenticator).await;
    assert_eq!(response.status(), Status::Unauthorized);
}

#[rocket::async_test]
async fn passkey_challenges_count_against_the_address_like_password_guesses() {
    let settings = [("login_failures_per_ip", 3.into())];
    let app = spawn_app_with(Backend::Sqlite, &settings).await.unwrap();
    let browser = app.new_browser().await;
    for _ in 0..3 {
        browser.asks_sign_in_challenge().await;
    }
    let (status, _) = browser
        .asks_challenge("/login", "/login/passkey/challenge", &[])
        .await;
    assert_eq!(status, Status::TooManyRequests);
    assert_eq!(app.passkey_ceremonies().await, 3);
    // Unanswered challenges go with the housekeeping once their five minutes are over.
    app.clock.advance(5 * 60);
    hr_portal::app::housekeeping::purge_expired(app.app())
        .await
        .unwrap();
    assert_eq!(app.passkey_ceremonies().await, 0);
}

#[rocket::async_test]
async fn a_passkey_sign_in_replaces_the_session_the_browser_had() {
    let (app, dana, mut authenticator) = dana_with_a_passkey(spawn_app().await).await;
    let before = app.browser.session_token().expect("signed in");
    let response = app.browser.signs_in_with_passkey(&mut authenticator).await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let after = app.browser.session_token().expect("signed in");
    assert_ne!(before, after, "a new token, never the old one upgraded");
    assert_eq!(app.sessions_of(&dana).await, 1, "the old session is gone");
}

#[rocket::async_test]
async fn an_ip_address_as_public_url_means_no_passkeys_and_says_why() {
    let settings = [("public_url", "http://127.0.0.1:8000".into())];
    let (app, dana) = app_with_dana(Backend::Sqlite, &settings).await.unwrap();
    let (_, login) = app.browser.opens("/login").await;
    assert!(!login.contains("Sign in with a passkey"));
    app.browser.signs_in_as(dana.email.as_str(), PASSWORD).await;
    let (status, page) = app.browser.opens("/account/passkeys").await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("localhost:8000"), "{page}");
    let (status, refused) = app
        .browser
        .asks_challenge(
            "/account/passkeys",
            "/account/passkeys/challenge",
            &[("name", "laptop")],
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(refused["error"].as_str().unwrap().contains("IP address"));
}

#[rocket::async_test]
async fn a_sign_in_checked_against_a_stale_counter_cannot_write_it_back() {
    use hr_portal::users::passkeys::Passkeys;
    let (app, _dana, mut authenticator) = dana_with_a_passkey(spawn_app().await).await;
    let mut conn = app.db().read().await.unwrap();
    let stale = Passkeys::find_by_credential(&mut conn, &authenticator.credential_id)
        .await
        .unwrap()
        .expect("registered");
    drop(conn);
    let browser = app.new_browser().await;
    let response = browser.signs_in_with_passkey(&mut authenticator).await;
    assert_eq!(response.status(), Status::SeeOther, "the counter moves on");
    drop(response);
    // A parallel sign-in that read the record before that one cannot overwrite the newer counter.
    let mut conn = app.db().read().await.unwrap();
    let older = stale.passkey().unwrap();
    let written = Passkeys::record_use(&mut conn, &stale, &older, app.clock.now())
        .await
        .unwrap();
    assert!(!written);
}
