//! A reset link undoes what a session thief added: the second factors added in the last 24 hours
//! are listed on the reset page and removed with the reset (unless the person unticks the box);
//! older ones stay.

use rocket::http::Status;
use rocket::local::asynchronous::Client;

use crate::helpers::*;
use crate::mail_support::*;
use crate::passkeys::UsesPasskeys;
use crate::soft_authenticator::SoftAuthenticator;
use crate::two_factor::UsesTwoFactor;

const NEW_PASSWORD: &str = "a brand new passphrase 42";

/// Dana's own passkey two days old, then a thief's fresh session adds an authenticator app and a
/// passkey; Dana asks for a reset link. The app, Dana's browser on the reset page, and the link.
async fn a_thief_added_factors(backend: Backend) -> Option<(TestApp, Client)> {
    let (app, dana) = app_with_dana(backend, &[]).await?;
    let own = app.browser_signed_in_as(&dana).await;
    let mut danas_key = SoftAuthenticator::new();
    assert_eq!(
        own.adds_passkey(&mut danas_key, "danas laptop").await,
        Status::SeeOther
    );
    app.clock.advance(2 * 24 * 60 * 60);
    let thief = app.browser_signed_in_as(&dana).await;
    thief.enrols(&app).await;
    let mut thiefs_key = SoftAuthenticator::new();
    assert_eq!(
        thief.adds_passkey(&mut thiefs_key, "not danas").await,
        Status::SeeOther
    );
    let asked = app
        .browser
        .submits(
            "/password/forgot",
            "/password/forgot",
            &[("email", "dana@example.com")],
        )
        .await;
    assert_eq!(asked.status(), Status::Ok);
    drop(asked);
    let messages = wait_for_outbox(&app, 4).await;
    let reset = messages
        .iter()
        .find(|m| m.contains("/password/reset/"))
        .expect("the reset mail");
    let link = link_in(reset);
    let browser = app.new_browser().await;
    let opened = browser.get(link).dispatch().await;
    assert_eq!(opened.status(), Status::SeeOther);
    drop(opened);
    Some((app, browser))
}

async fn a_reset_link_removes_the_second_factors_added_in_the_last_day(backend: Backend) {
    let Some((app, browser)) = a_thief_added_factors(backend).await else {
        return;
    };
    let (status, page) = browser.opens("/password/reset").await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("id=\"recent-factors\""), "{page}");
    assert!(page.contains("An authenticator app"));
    assert!(page.contains("not danas"));
    assert!(
        !page.contains("danas laptop"),
        "an older passkey is not listed"
    );
    assert!(
        page.contains("name=\"remove_recent_factors\" value=\"true\" checked"),
        "ticked by default"
    );
    // The browser sends the ticked box.
    let done = browser
        .submits(
            "/password/reset",
            "/password/reset",
            &[
                ("new_password", NEW_PASSWORD),
                ("new_password_confirm", NEW_PASSWORD),
                ("remove_recent_factors", "true"),
            ],
        )
        .await;
    assert_eq!(done.status(), Status::SeeOther);
    drop(done);
    assert_eq!(app.two_factor_enrolments().await, 0);
    assert_eq!(app.recovery_codes().await, 0);
    assert_eq!(app.passkeys().await, 1);
    assert_eq!(
        app.passkeys_named("danas laptop").await,
        1,
        "Dana's own, older passkey stays"
    );
    assert_eq!(app.events_of_kind("recent_factors_removed").await, 1);
    // The new password alone signs Dana in: no code step the thief set up.
    let again = app.new_browser().await;
    let response = again
        .signs_in_with(&[("email", "dana@example.com"), ("password", NEW_PASSWORD)])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/dashboard"));
}

#[rocket::async_test]
async fn an_unticked_box_keeps_the_recent_factors() {
    let (app, browser) = a_thief_added_factors(Backend::Sqlite).await.unwrap();
    let done = browser
        .submits(
            "/password/reset",
            "/password/reset",
            &[
                ("new_password", NEW_PASSWORD),
                ("new_password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status(), Status::SeeOther);
    drop(done);
    assert_eq!(app.two_factor_enrolments().await, 1);
    assert_eq!(app.passkeys().await, 2);
    assert_eq!(app.events_of_kind("recent_factors_removed").await, 0);
}

on_every_backend!(a_reset_link_removes_the_second_factors_added_in_the_last_day);
