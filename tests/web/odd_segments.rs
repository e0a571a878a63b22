//! A path segment that is not of the handle (or id) alphabet and length never reaches a query:
//! a NUL, a non-ASCII letter or a wrong length in a handle-bearing route is a 404 on both
//! backends (PostgreSQL refuses a NUL in text with an error, which was a 500). An id that is not
//! a number fails its `FromParam` (404 where the route says so, otherwise the forward's 422):
//! a clear 4xx either way, before any query, and nothing written.

use rocket::http::Status;

use crate::helpers::*;

/// Odd segments: a NUL inside, a NUL at the handle's exact length, a non-alphabet letter, too
/// long, and a bare NUL.
const ODD: [&str; 5] = [
    "a%00b",
    "AAAAAAAAAAAAAAAAAAAAA%00",
    "AAAAAAAAAAAAAAAAAAAA%C3%A9",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "%00",
];

/// Routes whose segment is a handle (`{}` marks it), posted with the page's CSRF token.
const HANDLE_POSTS: [&str; 5] = [
    "/account/sessions/{}/revoke",
    "/account/devices/{}/forget",
    "/account/passkeys/{}/rename",
    "/account/passkeys/{}/remove",
    "/admin/sessions/{}/revoke",
];

/// Routes whose segment is a row id.
const ID_POSTS: [&str; 8] = [
    "/admin/users/{}/role",
    "/admin/users/{}/disable",
    "/admin/users/{}/enable",
    "/admin/users/{}/reset-link",
    "/admin/users/{}/reset-two-factor",
    "/admin/users/{}/sessions/revoke",
    "/admin/users/{}/unlock",
    "/admin/employees/{}/edit",
];
const ID_GETS: [&str; 2] = ["/employees/{}", "/admin/employees/{}/edit"];

/// Odd ids: a NUL after a number, a NUL alone, a non-ASCII digit.
const ODD_IDS: [&str; 3] = ["1%00", "%00", "%D9%A1"];

async fn a_nul_or_any_odd_character_in_a_handle_or_id_segment_is_a_404(app: TestApp) {
    app.sign_in_as_admin().await;
    let browser = &app.browser;
    // (The mailer records its own delivery of the sign-in's mail whenever it gets to it.)
    let events = app.audit_events_but_mail_sent().await;
    for route in HANDLE_POSTS {
        for odd in ODD {
            let action = route.replace("{}", odd);
            let fields = [("name", "renamed"), ("password", PASSWORD)];
            let response = browser.submits("/dashboard", &action, &fields).await;
            assert_eq!(response.status(), Status::NotFound, "{action}");
        }
    }
    for route in ID_POSTS {
        for odd in ODD_IDS {
            let action = route.replace("{}", odd);
            let fields = [("role", "admin")];
            let response = browser.submits("/dashboard", &action, &fields).await;
            let status = response.status();
            assert!(
                [Status::NotFound, Status::UnprocessableEntity].contains(&status),
                "{action}: {status}"
            );
        }
    }
    for route in ID_GETS {
        for odd in ODD_IDS {
            let path = route.replace("{}", odd);
            let (status, _) = browser.opens(&path).await;
            assert_eq!(status, Status::NotFound, "{path}");
        }
    }
    // A reset link's token: the one dead-link page, never an error.
    for odd in ODD {
        let path = format!("/password/reset/{odd}");
        let (status, page) = app.new_browser().await.opens(&path).await;
        assert_eq!(status, Status::BadRequest, "{path}");
        assert!(page.contains("id=\"link-invalid\""));
    }
    assert_eq!(
        app.audit_events_but_mail_sent().await,
        events,
        "nothing written"
    );
    assert!(browser.is_signed_in().await);
}

on_every_backend!(a_nul_or_any_odd_character_in_a_handle_or_id_segment_is_a_404);
