//! The nginx front's sign-in rate limit covers every spelling the app routes to a sign-in
//! handler: Rocket answers `/login/` like `/login`, so the limited location must match the
//! trailing slash too (deploy/check.sh proves it against a running nginx).

use rocket::http::Status;

use crate::helpers::*;

/// The paths of the rate-limited `location ~ ^/(a|b|…)/?$` in deploy/nginx/hr-portal.conf, and
/// whether its pattern takes an optional trailing slash.
fn limited_location() -> (Vec<String>, bool) {
    let conf = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/nginx/hr-portal.conf"
    ))
    .unwrap();
    let line = conf
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("location ~ ^/(login"))
        .expect("the sign-in location");
    let pattern = line
        .trim_start_matches("location ~ ")
        .trim_end_matches(" {");
    let inner = pattern.strip_prefix("^/(").expect("anchored alternatives");
    let (alternatives, tail) = inner.split_once(')').expect("closed group");
    let paths = alternatives.split('|').map(str::to_string).collect();
    (paths, tail == "/?$")
}

/// Whether the location matches `path` (a literal alternative, with the optional slash).
fn is_limited(path: &str) -> bool {
    let (paths, optional_slash) = limited_location();
    let path = path.strip_prefix('/').unwrap();
    let bare = match optional_slash {
        true => path.strip_suffix('/').unwrap_or(path),
        false => path,
    };
    paths.iter().any(|p| p == bare)
}

#[test]
fn the_sign_in_rate_limit_matches_the_trailing_slash_forms() {
    for path in [
        "/login",
        "/login/",
        "/password/forgot/",
        "/login/two-factor/",
        "/login/passkey/challenge/",
        "/password/reset/",
        "/setup/",
    ] {
        assert!(is_limited(path), "{path} skips the sign-in rate limit");
    }
    assert!(!is_limited("/dashboard/"));
}

#[rocket::async_test]
async fn the_app_routes_the_slashed_sign_in_paths_to_the_same_pages() {
    let app = spawn_app().await;
    for path in ["/login/", "/password/forgot/"] {
        let (status, page) = app.browser.opens(path).await;
        assert_eq!(status, Status::Ok, "{path}");
        assert!(page.contains("csrf_token"), "{path} is the form");
    }
}
