//! Templates and static files compiled into the binary (see build.rs), so the release binary is
//! deployable on its own and runs from any working directory.

use rocket::http::ContentType;
use rocket::{get, routes, Route};
use rocket_dyn_templates::tera::Tera;

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Adds every embedded template to Tera (names end in `.html`, so pages are served as HTML).
pub fn register_templates(tera: &mut Tera) -> Result<(), rocket_dyn_templates::tera::Error> {
    tera.add_raw_templates(TEMPLATES.iter().copied())
}

/// The content type of an embedded static file, from its extension.
fn content_type(name: &str) -> ContentType {
    name.rsplit_once('.')
        .and_then(|(_, ext)| ContentType::from_extension(ext))
        .unwrap_or(ContentType::Binary)
}

/// Looks up an embedded static file by its exact name (no paths: nothing outside the set is reachable).
pub fn static_file(name: &str) -> Option<(ContentType, &'static [u8])> {
    STATIC_FILES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(file, bytes)| (content_type(file), *bytes))
}

#[get("/static/<name>")]
fn static_asset(name: &str) -> Option<(ContentType, &'static [u8])> {
    static_file(name)
}

#[get("/favicon.ico")]
fn favicon() -> Option<(ContentType, &'static [u8])> {
    static_file("favicon.svg")
}

pub fn routes() -> Vec<Route> {
    routes![static_asset, favicon]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_and_static_file_is_embedded() {
        let names: Vec<&str> = TEMPLATES.iter().map(|(n, _)| *n).collect();
        for page in [
            "base.html",
            "login.html",
            "dashboard.html",
            "error.html",
            "admin_sessions.html",
        ] {
            assert!(names.contains(&page), "{page} missing from {names:?}");
        }
        let mut tera = Tera::default();
        register_templates(&mut tera).expect("every template parses");
        assert_eq!(
            static_file("style.css").map(|(t, _)| t),
            Some(ContentType::CSS)
        );
        assert_eq!(
            static_file("passkeys.js").map(|(t, _)| t),
            Some(ContentType::JavaScript)
        );
        assert!(static_file("../Cargo.toml").is_none());
    }
}
