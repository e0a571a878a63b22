//! Single sign-on against a real OpenID Provider (panva's oidc-provider under Node): the whole
//! flow with PKCE, state and nonce; only people the portal knows get in; the provider's subject
//! is bound; logout tokens end sessions at the next request on another instance, and bad ones
//! are 400; RP-initiated logout; the provider down leaves the password sign-in working.

use rocket::http::Status;
use rocket::local::asynchronous::Client;
use serde_json::json;

use crate::browser::{click, path_of, serve_on, wait_until};
use crate::cli::hr_portal;
use crate::helpers::*;
use crate::mail_support::free_port;
use crate::oidc_provider::{Account, ClientConfig, OidcProvider};
use crate::two_factor::{code_for, UsesTwoFactor};
use hr_portal::users::Role;

/// A portal registered with a running provider, served on its public address too (the
/// provider's back-channel calls need a listening instance; `app.browser` is another one).
struct Sso {
    app: TestApp,
    op: OidcProvider,
    public_url: String,
}

const GRACE: &str = "grace@example.com";

async fn portal_with_provider(
    backend: Backend,
    extra: &[(&str, rocket::figment::value::Value)],
) -> Option<Sso> {
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let accounts = [
        Account::new("grace-sub", GRACE),
        Account::new("root-sub", "root@example.com"),
        Account::new("stranger-sub", "stranger@example.com"),
        Account::new("dana-sub", "dana@example.com"),
    ];
    let op = OidcProvider::start(ClientConfig::for_portal(&public_url), &accounts)?;
    let mut settings: Vec<(&str, rocket::figment::value::Value)> = vec![
        ("oidc_issuer", op.issuer.clone().into()),
        ("oidc_client_id", op.client.client_id.clone().into()),
        ("oidc_client_secret", op.client.client_secret.clone().into()),
        ("public_url", public_url.clone().into()),
    ];
    settings.extend(extra.iter().cloned());
    let app = spawn_app_with(backend, &settings).await?;
    serve_on(&app, "127.0.0.1", port).await;
    Some(Sso {
        app,
        op,
        public_url,
    })
}

async fn user_by_email(app: &TestApp, email: &str) -> Option<hr_portal::users::User> {
    let mut conn = app.db().read().await.unwrap();
    hr_portal::users::User::find_by_email(&mut conn, email)
        .await
        .unwrap()
}

impl Sso {
    /// Grace's employee record (no account yet), added by an administrator.
    async fn with_graces_record(&self) {
        let admin = self.app.browser_signed_in_as(&self.root().await).await;
        let new = "/admin/employees/new";
        let created = admin.submits(new, new, &GRACE_HOPPER).await;
        assert_eq!(created.status(), Status::SeeOther);
    }

    async fn root(&self) -> hr_portal::users::User {
        match user_by_email(&self.app, "root@example.com").await {
            Some(user) => user,
            None => {
                self.app
                    .create_user("root@example.com", "Root", Role::Admin)
                    .await
            }
        }
    }

    /// Presses the SSO button: the provider's authorization URL the portal redirected to.
    async fn starts_sso(&self, browser: &Client) -> String {
        let response = browser.get("/login/sso").dispatch().await;
        assert_eq!(response.status(), Status::SeeOther);
        location(&response).expect("a redirect").to_string()
    }

    /// Comes back from the provider: the callback as the portal answers it.
    async fn returns(&self, browser: &Client, callback: &str) -> (Status, String, Option<String>) {
        let path = callback
            .strip_prefix(&self.public_url)
            .expect("the provider sends the browser back to the portal");
        assert!(path.starts_with("/login/sso/callback?"), "{path}");
        let response = browser.get(path.to_string()).dispatch().await;
        let status = response.status();
        let to = location(&response).map(str::to_string);
        let page = body(response).await;
        assert_ne!(status, Status::InternalServerError, "{page}");
        (status, page, to)
    }

    /// The whole sign-in of `sub` in `browser`: the callback's answer.
    async fn signs_in(&self, browser: &Client, sub: &str) -> (Status, String, Option<String>) {
        let authorize = self.starts_sso(browser).await;
        let callback = self.op.sign_in_at_provider(&authorize, sub);
        self.returns(browser, &callback).await
    }

    async fn back_channel(&self, token: &str) -> Status {
        self.app
            .browser
            .posts("/login/sso/backchannel-logout", &[("logout_token", token)])
            .await
            .status()
    }
}

async fn a_known_employee_signs_in_through_the_provider_and_signing_out_there_ends_the_session(
    backend: Backend,
) {
    let Some(sso) = portal_with_provider(backend, &[]).await else {
        return;
    };
    sso.with_graces_record().await;
    let login = sso.app.new_browser().await;
    let (_, page) = login.opens("/login").await;
    assert!(page.contains("Sign in with single sign-on"), "{page}");

    let laptop = sso.app.new_browser().await;
    let authorize = sso.starts_sso(&laptop).await;
    assert!(authorize.starts_with(&sso.op.issuer), "{authorize}");
    for part in [
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "nonce=",
    ] {
        assert!(authorize.contains(part), "{part} missing in {authorize}");
    }
    let callback = sso.op.sign_in_at_provider(&authorize, "grace-sub");
    let (status, _, to) = sso.returns(&laptop, &callback).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(to.as_deref(), Some("/dashboard"));
    assert!(laptop.is_signed_in().await);

    let grace = user_by_email(&sso.app, GRACE)
        .await
        .expect("an account made");
    assert_eq!(grace.role, Role::Employee);
    assert!(!grace.has_password(), "single sign-on is the way in");
    sso.app
        .events_of_kind("sso_account_created")
        .reaches(1)
        .await;
    sso.app
        .events_of_kind_mentioning("login_succeeded", "single sign-on")
        .reaches(1)
        .await;
    let (_, sessions) = laptop.opens("/account/sessions").await;
    assert!(sessions.contains("Single sign-on"), "{sessions}");
    let admin = sso.app.browser_signed_in_as(&sso.root().await).await;
    let (_, users) = admin.opens("/admin/users").await;
    assert!(users.contains(&format!("data-sso=\"{GRACE}\"")), "{users}");
    let (_, all_sessions) = admin.opens("/admin/sessions").await;
    assert!(all_sessions.contains("Single sign-on"), "{all_sessions}");
    let metrics = laptop
        .rocket()
        .state::<hr_portal::app::App>()
        .unwrap()
        .metrics
        .encode();
    assert!(
        metrics.contains("hr_portal_sign_ins_total{outcome=\"sso\"} 1"),
        "{metrics}"
    );

    // Signing out at the provider: its back-channel call reaches the served instance, and the
    // very next request on this one is anonymous.
    sso.op.sign_out_at_provider();
    assert!(!laptop.is_signed_in().await);
    assert_eq!(sso.app.sessions_of(&grace).await, 0);
    sso.app.events_of_kind("sso_logout").reaches(1).await;
    assert!(
        sso.op
            .backchannel_log()
            .iter()
            .any(|call| call["ok"] == true),
        "{}",
        sso.op.log()
    );
}

async fn unknown_disabled_and_rebound_people_get_no_session(backend: Backend) {
    let Some(sso) = portal_with_provider(backend, &[]).await else {
        return;
    };
    let stranger = sso.app.new_browser().await;
    let (status, page, _) = sso.signs_in(&stranger, "stranger-sub").await;
    assert_eq!(status, Status::Forbidden);
    assert!(page.contains("no account or employee record"), "{page}");
    assert!(user_by_email(&sso.app, "stranger@example.com")
        .await
        .is_none());

    let dana = sso.app.create_dana().await;
    let (ok, output) = hr_portal(&sso.app, &["user", "disable", dana.email.as_str()], "");
    assert!(ok, "{output}");
    let browser = sso.app.new_browser().await;
    let (status, page, _) = sso.signs_in(&browser, "dana-sub").await;
    assert_eq!(status, Status::Forbidden);
    assert!(page.contains("disabled"), "{page}");
    assert!(!browser.is_signed_in().await);
    sso.app.events_of_kind("sso_refused").reaches(2).await;

    // Someone who has left: their record is known, their access is not.
    let admin = sso.app.browser_signed_in_as(&sso.root().await).await;
    let mut leaver: Vec<(&str, &str)> = GRACE_HOPPER.to_vec();
    leaver.retain(|(field, _)| *field != "status");
    leaver.extend([("status", "terminated"), ("left_on", "2020-01-31")]);
    let new = "/admin/employees/new";
    assert_eq!(
        admin.submits(new, new, &leaver).await.status(),
        Status::SeeOther
    );
    let graces = sso.app.new_browser().await;
    let (status, page, _) = sso.signs_in(&graces, "grace-sub").await;
    assert_eq!(status, Status::Forbidden);
    assert!(page.contains("Access ended"), "{page}");
    assert!(user_by_email(&sso.app, GRACE).await.is_none());

    // Root's first single sign-on binds root-sub; an identity with another subject claiming
    // the same address later (the address moved at the provider) does not get in.
    let root = sso.root().await;
    let first = sso.app.new_browser().await;
    assert_eq!(sso.signs_in(&first, "root-sub").await.0, Status::SeeOther);
    let roots_sessions = sso.app.sessions_of(&root).await;
    let mut op = sso.op;
    op.set_accounts(&[Account::new("impostor-sub", "root@example.com")]);
    let second = sso.app.new_browser().await;
    let authorize = {
        let response = second.get("/login/sso").dispatch().await;
        location(&response).unwrap().to_string()
    };
    let callback = op.sign_in_at_provider(&authorize, "impostor-sub");
    let path = callback.strip_prefix(&sso.public_url).unwrap().to_string();
    let answer = second.get(path).dispatch().await;
    assert_eq!(answer.status(), Status::Forbidden);
    assert!(!second.is_signed_in().await);
    assert_eq!(sso.app.sessions_of(&root).await, roots_sessions);

    // The operator unlinks the account: the next single sign-on binds the new subject.
    let (ok, output) = hr_portal(&sso.app, &["user", "unlink-sso", "root@example.com"], "");
    assert!(ok && output.contains("link removed"), "{output}");
    let third = sso.app.new_browser().await;
    let authorize = {
        let response = third.get("/login/sso").dispatch().await;
        location(&response).unwrap().to_string()
    };
    let callback = op.sign_in_at_provider(&authorize, "impostor-sub");
    let path = callback.strip_prefix(&sso.public_url).unwrap().to_string();
    assert_eq!(third.get(path).dispatch().await.status(), Status::SeeOther);
}

async fn a_replayed_code_a_wrong_state_and_another_browsers_code_start_no_session(
    backend: Backend,
) {
    let Some(sso) = portal_with_provider(backend, &[]).await else {
        return;
    };
    sso.root().await;
    let laptop = sso.app.new_browser().await;
    let authorize = sso.starts_sso(&laptop).await;
    let callback = sso.op.sign_in_at_provider(&authorize, "root-sub");
    assert_eq!(sso.returns(&laptop, &callback).await.0, Status::SeeOther);

    // Where the person was going survives the trip, under the open-redirect rules.
    for (next, lands) in [
        ("/employees", "/employees"),
        ("https://evil.example/", "/dashboard"),
    ] {
        let browser = sso.app.new_browser().await;
        let start = format!("/login/sso?next={}", urlencode(next));
        let response = browser.get(start).dispatch().await;
        let authorize = location(&response).unwrap().to_string();
        let callback = sso.op.sign_in_at_provider(&authorize, "root-sub");
        let (_, _, to) = sso.returns(&browser, &callback).await;
        assert_eq!(to.as_deref(), Some(lands), "next={next}");
    }

    // The same callback again (a replayed code): the flow is used up.
    let replay = sso.app.new_browser().await;
    assert_eq!(sso.returns(&replay, &callback).await.0, Status::Forbidden);
    assert!(!replay.is_signed_in().await);

    // A started flow whose callback carries another state.
    let tablet = sso.app.new_browser().await;
    let authorize = sso.starts_sso(&tablet).await;
    let callback = sso.op.sign_in_at_provider(&authorize, "root-sub");
    let forged = callback.replace("state=", "state=x");
    assert_eq!(sso.returns(&tablet, &forged).await.0, Status::Forbidden);
    assert!(!tablet.is_signed_in().await);

    // A code issued for one browser's sign-in (its PKCE challenge and nonce), delivered to
    // another browser's flow with that browser's state: the verifier and nonce do not match.
    let victim = sso.app.new_browser().await;
    let victims_flow = sso.starts_sso(&victim).await;
    let attacker = sso.app.new_browser().await;
    let attackers_flow = sso.starts_sso(&attacker).await;
    let state_of = |url: &str| {
        url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .find(|(key, _)| key == "state")
            .map(|(_, value)| value.to_string())
            .unwrap()
    };
    let swapped = attackers_flow.replace(&state_of(&attackers_flow), &state_of(&victims_flow));
    let callback = sso.op.sign_in_at_provider(&swapped, "root-sub");
    assert_eq!(sso.returns(&victim, &callback).await.0, Status::Forbidden);
    assert!(!victim.is_signed_in().await);
    let refused = sso.app.events_of_kind("sso_refused").await;
    assert!(refused >= 3, "{refused}");
}

async fn forged_replayed_and_malformed_logout_tokens_are_refused_and_end_nothing(backend: Backend) {
    let Some(sso) = portal_with_provider(backend, &[]).await else {
        return;
    };
    let root = sso.root().await;
    let laptop = sso.app.new_browser().await;
    assert_eq!(sso.signs_in(&laptop, "root-sub").await.0, Status::SeeOther);
    let refused = [
        sso.op
            .logout_token(json!({"sub": "root-sub", "sign_with": "stranger"})),
        sso.op
            .logout_token(json!({"sub": "root-sub", "aud": "another-client"})),
        sso.op
            .logout_token(json!({"sub": "root-sub", "iss": "https://elsewhere.example"})),
        sso.op
            .logout_token(json!({"sub": "root-sub", "nonce": "n"})),
        sso.op
            .logout_token(json!({"sub": "root-sub", "events": {}})),
        sso.op.logout_token(json!({"sub": null, "sid": null})),
        sso.op.logout_token(json!({"sub": "root-sub", "jti": null})),
        "not.a.token".to_string(),
    ];
    for token in &refused {
        assert_eq!(sso.back_channel(token).await, Status::BadRequest, "{token}");
    }
    let missing = sso
        .app
        .browser
        .posts("/login/sso/backchannel-logout", &[])
        .await;
    assert_eq!(missing.status(), Status::BadRequest);
    assert!(laptop.is_signed_in().await, "nothing ended");
    assert_eq!(sso.app.sessions_of(&root).await, 1);

    // A right one ends the session; the same token again is a replay.
    let token = sso
        .op
        .logout_token(json!({"sub": "root-sub", "jti": "once"}));
    let answer = sso
        .app
        .browser
        .posts("/login/sso/backchannel-logout", &[("logout_token", &token)])
        .await;
    assert_eq!(answer.status(), Status::Ok);
    assert_eq!(answer.headers().get_one("Cache-Control"), Some("no-store"));
    assert!(!laptop.is_signed_in().await);
    assert_eq!(sso.back_channel(&token).await, Status::BadRequest);
}

async fn signing_out_of_a_single_sign_on_session_signs_out_at_the_provider_too(backend: Backend) {
    let Some(sso) = portal_with_provider(backend, &[]).await else {
        return;
    };
    sso.root().await;
    let laptop = sso.app.new_browser().await;
    assert_eq!(sso.signs_in(&laptop, "root-sub").await.0, Status::SeeOther);
    let (_, dashboard) = laptop.opens("/dashboard").await;
    let token = csrf_token_for(&dashboard, "/logout");
    let response = laptop
        .posts("/logout", &[("csrf_token", token.as_str())])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    let end_session = location(&response).unwrap().to_string();
    assert!(end_session.starts_with(&sso.op.issuer), "{end_session}");
    assert!(end_session.contains("id_token_hint="), "{end_session}");
    let post_logout = format!("{}/login", sso.public_url);
    let back = sso.op.follow_logout_at_provider(&end_session);
    assert_eq!(back, post_logout);
    assert!(!laptop.is_signed_in().await);

    // A password session signs out here only.
    let admin = sso.app.browser_signed_in_as(&sso.root().await).await;
    assert_eq!(admin.signs_out().await, Status::SeeOther);
}

async fn after_the_provider_rotates_its_keys_sign_ins_still_work(backend: Backend) {
    let Some(sso) = portal_with_provider(backend, &[]).await else {
        return;
    };
    sso.root().await;
    let first = sso.app.new_browser().await;
    assert_eq!(sso.signs_in(&first, "root-sub").await.0, Status::SeeOther);
    sso.op.rotate_keys();
    let second = sso.app.new_browser().await;
    assert_eq!(sso.signs_in(&second, "root-sub").await.0, Status::SeeOther);
    let token = sso.op.logout_token(json!({"sub": "root-sub"}));
    assert_eq!(sso.back_channel(&token).await, Status::Ok);
    assert!(!first.is_signed_in().await && !second.is_signed_in().await);
}

async fn with_sso_only_people_use_the_provider_and_administrators_keep_their_password(
    backend: Backend,
) {
    let Some(mut sso) = portal_with_provider(backend, &[("sso_only", true.into())]).await else {
        return;
    };
    let dana = sso.app.create_dana().await;
    let browser = sso.app.new_browser().await;
    let (_, page) = browser.opens("/login").await;
    assert!(
        page.find("sign-in-with-sso") < page.find("id=\"login-form\""),
        "the login page leads with single sign-on"
    );
    let refused = browser
        .signs_in_with(&[("email", dana.email.as_str()), ("password", PASSWORD)])
        .await;
    assert_eq!(refused.status(), Status::Forbidden);
    assert!(body(refused).await.contains("single sign-on"));
    assert!(!browser.is_signed_in().await);

    // The provider goes away: the page says so, and an administrator still gets in.
    sso.op.stop();
    let start = sso.app.new_browser().await;
    let answer = start.get("/login/sso").dispatch().await;
    assert_eq!(answer.status(), Status::ServiceUnavailable);
    assert!(body(answer).await.contains("cannot be reached"));
    let (_, page) = start.opens("/login").await;
    assert!(page.contains("cannot be reached"), "{page}");
    let root = sso.root().await;
    let admin = sso.app.new_browser().await;
    assert_eq!(
        admin.signs_in_as(root.email.as_str(), PASSWORD).await,
        Status::SeeOther
    );
    sso.op.start_again();
}

async fn with_sso_second_factor_an_authenticator_code_follows_the_provider(backend: Backend) {
    let Some(sso) = portal_with_provider(backend, &[("sso_second_factor", true.into())]).await
    else {
        return;
    };
    let root = sso.root().await;
    let admin = sso.app.browser_signed_in_as(&root).await;
    let (secret, _) = admin.enrols(&sso.app).await;
    // The next time step: the code used to switch it on cannot be used again.
    sso.app.clock.advance(30);

    let laptop = sso.app.new_browser().await;
    let (status, _, to) = sso.signs_in(&laptop, "root-sub").await;
    assert_eq!(status, Status::SeeOther);
    assert!(
        to.as_deref()
            .is_some_and(|to| to.starts_with("/login/two-factor")),
        "{to:?}"
    );
    assert!(!laptop.is_signed_in().await, "no session before the code");
    let code = code_for(&secret, sso.app.clock.now());
    let answer = laptop.enters_code(&code).await;
    assert_eq!(answer.status(), Status::SeeOther);
    assert!(laptop.is_signed_in().await);
    sso.app
        .events_of_kind_mentioning("login_succeeded", "single sign-on, authenticator code")
        .reaches(1)
        .await;
    // The session is a single sign-on one: the provider's logout ends it.
    let token = sso.op.logout_token(json!({"sub": "root-sub"}));
    assert_eq!(sso.back_channel(&token).await, Status::Ok);
    assert!(!laptop.is_signed_in().await);
}

async fn without_an_issuer_there_is_no_single_sign_on_anywhere(app: TestApp) {
    for path in ["/login/sso", "/login/sso/callback?state=a&code=b"] {
        assert_eq!(app.browser.opens(path).await.0, Status::NotFound, "{path}");
    }
    let answer = app
        .browser
        .posts("/login/sso/backchannel-logout", &[("logout_token", "x")])
        .await;
    assert_eq!(answer.status(), Status::NotFound);
    let (_, page) = app.browser.opens("/login").await;
    assert!(!page.contains("sign-in-with-sso"));
}

on_every_backend!(
    a_known_employee_signs_in_through_the_provider_and_signing_out_there_ends_the_session,
    unknown_disabled_and_rebound_people_get_no_session,
    a_replayed_code_a_wrong_state_and_another_browsers_code_start_no_session,
    forged_replayed_and_malformed_logout_tokens_are_refused_and_end_nothing,
    signing_out_of_a_single_sign_on_session_signs_out_at_the_provider_too,
    after_the_provider_rotates_its_keys_sign_ins_still_work,
    with_sso_only_people_use_the_provider_and_administrators_keep_their_password,
    with_sso_second_factor_an_authenticator_code_follows_the_provider,
    without_an_issuer_there_is_no_single_sign_on_anywhere,
);

/// The ID-token checks one by one, on tokens the real provider signed with the claims each case
/// needs (a token endpoint would never hand these out; the checks are what stands between a
/// compromised or confused one and a session).
#[rocket::async_test]
async fn id_tokens_for_another_audience_nonce_issuer_or_time_are_refused() {
    let Some(op) = OidcProvider::start(ClientConfig::for_portal("http://127.0.0.1:9"), &[]) else {
        return;
    };
    let settings = hr_portal::config::SingleSignOn {
        issuer: op.issuer.clone(),
        client_id: op.client.client_id.clone(),
        client_secret: Some(op.client.client_secret.clone().into()),
        button: String::new(),
        scopes: vec!["email".into()],
        only: false,
        second_factor: false,
    };
    let provider = hr_portal::sso::Provider::new(settings, "http://127.0.0.1:9").unwrap();
    provider
        .discover()
        .await
        .expect("the provider is discovered");
    let now = chrono::Utc::now().timestamp();
    let mint = |changes: serde_json::Value| {
        let mut claims = json!({
            "typ": "JWT", "events": null, "jti": null, "sub": "grace-sub", "nonce": "n1",
            "email": GRACE, "email_verified": true, "iat": now, "exp": now + 300,
        });
        for (key, value) in changes.as_object().unwrap() {
            claims[key] = value.clone();
        }
        op.logout_token(claims)
    };
    let accepted = provider.verify_id_token(&mint(json!({})), "n1", now).await;
    assert_eq!(accepted.expect("a right token").email, GRACE);
    let entra = mint(json!({"email_verified": null, "xms_edov": true}));
    assert!(provider.verify_id_token(&entra, "n1", now).await.is_ok());

    let refused = [
        ("a foreign nonce", mint(json!({"nonce": "someone else's"}))),
        ("no nonce", mint(json!({"nonce": null}))),
        ("another audience", mint(json!({"aud": "another-client"}))),
        (
            "a second audience",
            mint(json!({"aud": [op.client.client_id.clone(), "another-client"]})),
        ),
        (
            "another issuer",
            mint(json!({"iss": "https://elsewhere.example"})),
        ),
        ("expired", mint(json!({"iat": now - 600, "exp": now - 300}))),
        ("issued an hour ago", mint(json!({"iat": now - 3600}))),
        ("issued in the future", mint(json!({"iat": now + 600}))),
        (
            "an unverified address",
            mint(json!({"email_verified": false})),
        ),
        ("no address", mint(json!({"email": null}))),
        (
            "a stranger's signature",
            mint(json!({"sign_with": "stranger"})),
        ),
    ];
    for (case, token) in refused {
        let checked = provider.verify_id_token(&token, "n1", now).await;
        assert!(checked.is_err(), "{case}: {checked:?}");
    }
}

/// The whole round in Chromium: the SSO button, the provider's login and consent pages, the
/// dashboard, then "Sign out", which signs out at the provider too and lands on the login page.
#[rocket::async_test]
async fn a_person_signs_in_through_the_provider_and_out_again_in_chromium() {
    let Some(driver) = crate::browser::start_driver() else {
        return;
    };
    let Some(sso) = portal_with_provider(Backend::Sqlite, &[]).await else {
        return;
    };
    sso.with_graces_record().await;
    let chromium = crate::browser::open_browser(&driver).await;
    chromium
        .goto(&format!("{}/login", sso.public_url))
        .await
        .unwrap();
    click(&chromium, "#sign-in-with-sso").await;
    wait_until(&chromium, "the provider's login page", |url, _| {
        url.as_str().starts_with(&sso.op.issuer)
    })
    .await;
    fill_named(&chromium, "login", "grace-sub").await;
    fill_named(&chromium, "password", "any password").await;
    click(&chromium, "button[type=submit]").await;
    wait_until(&chromium, "the consent page", |_, page| {
        page.contains("Continue") || page.contains("Authorize")
    })
    .await;
    click(&chromium, "button[type=submit]").await;
    wait_until(&chromium, "the dashboard", |url, _| {
        url.path() == "/dashboard"
    })
    .await;
    let page = chromium.source().await.unwrap();
    assert!(page.contains("Grace Hopper"), "{page}");

    click(&chromium, "form[action='/logout'] button").await;
    wait_until(&chromium, "the provider's sign-out page", |url, _| {
        url.as_str().starts_with(&sso.op.issuer)
    })
    .await;
    click(&chromium, "button[name=logout], button[value=yes]").await;
    wait_until(&chromium, "the portal's login page", |url, _| {
        url.as_str().starts_with(&sso.public_url) && url.path() == "/login"
    })
    .await;
    chromium
        .goto(&format!("{}/dashboard", sso.public_url))
        .await
        .unwrap();
    assert_eq!(path_of(&chromium).await, "/login");
    chromium.close().await.unwrap();
}

async fn fill_named(browser: &fantoccini::Client, name: &str, text: &str) {
    let field = browser
        .find(fantoccini::Locator::Css(&format!("input[name={name}]")))
        .await
        .unwrap();
    field.send_keys(text).await.unwrap();
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
