//! Benchmark-only pages (cargo feature `bench-routes`, off by default): the same small page — a
//! greeting and a 20-row table — rendered once behind a real session lookup and once without,
//! so bench/run.sh can measure what the session costs in one run. Never in a normal build.

use rocket::{get, routes, Route};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::auth::{csrf, random_token, CurrentUser};
use crate::users::Role;
use crate::web::page::{Can, Layout, LayoutUser};

#[derive(Debug, Serialize)]
struct Row {
    id: usize,
    name: String,
    department: &'static str,
    since: String,
}

fn rows() -> Vec<Row> {
    const DEPARTMENTS: [&str; 4] = ["Engineering", "Finance", "People", "Sales"];
    (1..=20)
        .map(|id| Row {
            id,
            name: format!("Employee {id}"),
            department: DEPARTMENTS[id % DEPARTMENTS.len()],
            since: format!("20{:02}-0{}-1{}", 10 + id % 10, 1 + id % 9, id % 10),
        })
        .collect()
}

/// Behind the session: the `CurrentUser` guard does the full cookie → database lookup.
#[get("/bench/page/session")]
fn with_session(user: CurrentUser) -> Template {
    Template::render(
        "bench.html",
        context! {
            layout: Layout::signed_in(&user.session, None),
            name: &user.name,
            rows: rows(),
        },
    )
}

/// The same page and the same amount of CSRF work, without any session lookup.
#[get("/bench/page/anonymous")]
fn without_session() -> Template {
    let layout = Layout {
        user: Some(LayoutUser {
            name: "Bench Admin".into(),
            email: "bench@example.com".into(),
            role: Role::Admin.label(),
            can: Can::of(Role::Admin),
        }),
        csrf_token: Some(csrf::masked_token(&random_token())),
        flash: None,
    };
    Template::render(
        "bench.html",
        context! { layout, name: "Bench Admin", rows: rows() },
    )
}

pub fn routes() -> Vec<Route> {
    routes![with_session, without_session]
}
