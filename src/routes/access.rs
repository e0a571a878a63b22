//! Who may reach each route: the one table `docs/permissions.md` is generated from, and that
//! `tests/web/permissions.rs` checks against the mounted routes (a route missing here, or listed
//! here but not mounted, fails the suite) and walks with every role. The guards in each route's
//! signature enforce it; this table only says it where a person can read it.

use crate::users::{Permission, Role};

/// What a route asks of the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Anyone,
    /// A browser between its password and its second step (the pending sign-in's cookie); no
    /// role is asked, and without a sign-in in progress the page sends the browser to sign in.
    SignInInProgress,
    /// Any signed-in person, whatever their role.
    SignedIn,
    /// A signed-in person whose role grants the permission (`Require<…>` in the signature).
    Needs(Permission),
}

impl Access {
    /// Whether a person with `role` (`None`: not signed in) gets past the guards.
    pub fn admits(self, role: Option<Role>) -> bool {
        match (self, role) {
            (Access::Anyone | Access::SignInInProgress, _) => true,
            (_, None) => false,
            (Access::SignedIn, Some(_)) => true,
            (Access::Needs(permission), Some(role)) => role.may(permission),
        }
    }
}

use Access::{Anyone, Needs, SignInInProgress, SignedIn};
use Permission::{EditPeople, ManageAccess, ManageAccounts, ReadAudit};

/// Every route the application mounts (the `bench-routes` feature's two aside), by path.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/", Anyone),
    ("GET", "/account/activity?<page>", SignedIn),
    ("GET", "/account/details", SignedIn),
    ("POST", "/account/details", SignedIn),
    ("POST", "/account/devices/<handle>/forget", SignedIn),
    ("POST", "/account/devices/dismiss-notices", SignedIn),
    ("GET", "/account/passkeys", SignedIn),
    ("POST", "/account/passkeys", SignedIn),
    ("POST", "/account/passkeys/<handle>/remove", SignedIn),
    ("POST", "/account/passkeys/<handle>/rename", SignedIn),
    ("POST", "/account/passkeys/challenge", SignedIn),
    ("GET", "/account/password", SignedIn),
    ("POST", "/account/password", SignedIn),
    ("GET", "/account/sessions", SignedIn),
    ("POST", "/account/sessions/<handle>/revoke", SignedIn),
    ("POST", "/account/sessions/revoke-others", SignedIn),
    ("GET", "/account/two-factor", SignedIn),
    ("POST", "/account/two-factor", SignedIn),
    ("POST", "/account/two-factor/disable", SignedIn),
    ("POST", "/account/two-factor/recovery-codes", SignedIn),
    ("GET", "/admin/access-review?<from>&<to>", Needs(ReadAudit)),
    (
        "GET",
        "/admin/access-review.csv?<from>&<to>",
        Needs(ReadAudit),
    ),
    ("GET", "/admin/audit?<user>&<kind>&<page>", Needs(ReadAudit)),
    ("GET", "/admin/audit.csv?<user>&<kind>", Needs(ReadAudit)),
    ("GET", "/admin/employees/<id>/edit", Needs(EditPeople)),
    ("POST", "/admin/employees/<id>/edit", Needs(EditPeople)),
    ("GET", "/admin/employees/new", Needs(EditPeople)),
    ("POST", "/admin/employees/new", Needs(EditPeople)),
    ("GET", "/admin/employees/<id>/offboard", Needs(EditPeople)),
    ("POST", "/admin/employees/<id>/offboard", Needs(EditPeople)),
    ("GET", "/admin/import", Needs(EditPeople)),
    ("POST", "/admin/import", Needs(EditPeople)),
    ("POST", "/admin/import/apply", Needs(EditPeople)),
    ("GET", "/admin/mail?<page>", Needs(ManageAccess)),
    ("GET", "/admin/sessions?<email>&<page>", Needs(ManageAccess)),
    (
        "POST",
        "/admin/sessions/<handle>/revoke",
        Needs(ManageAccess),
    ),
    (
        "GET",
        "/admin/users?<q>&<sort>&<dir>&<size>&<page>",
        Needs(ManageAccess),
    ),
    ("POST", "/admin/users", Needs(ManageAccounts)),
    (
        "POST",
        "/admin/users/<user_id>/<access>",
        Needs(ManageAccess),
    ),
    (
        "POST",
        "/admin/users/<user_id>/reset-link",
        Needs(ManageAccess),
    ),
    (
        "POST",
        "/admin/users/<user_id>/reset-two-factor",
        Needs(ManageAccess),
    ),
    ("POST", "/admin/users/<user_id>/role", Needs(ManageAccounts)),
    (
        "GET",
        "/admin/users/<user_id>/confirm?<action>",
        Needs(ManageAccess),
    ),
    (
        "POST",
        "/admin/users/<user_id>/sessions/revoke",
        Needs(ManageAccess),
    ),
    ("POST", "/admin/users/<user_id>/unlock", Needs(ManageAccess)),
    ("POST", "/admin/users/invite", Needs(ManageAccounts)),
    ("GET", "/dashboard", SignedIn),
    (
        "GET",
        "/employees?<q>&<department>&<status>&<sort>&<dir>&<size>&<page>",
        SignedIn,
    ),
    (
        "GET",
        "/employees.csv?<q>&<department>&<status>&<sort>&<dir>",
        SignedIn,
    ),
    ("GET", "/employees/<id>", SignedIn),
    ("POST", "/employees/<id>/access/end", Needs(ManageAccess)),
    ("POST", "/employees/<id>/access/give", Needs(ManageAccounts)),
    ("GET", "/favicon.ico", Anyone),
    ("GET", "/healthz", Anyone),
    ("GET", "/livez", Anyone),
    ("GET", "/login?<next>", Anyone),
    ("POST", "/login", Anyone),
    ("POST", "/login/passkey", Anyone),
    ("POST", "/login/passkey/challenge", Anyone),
    ("GET", "/login/sso?<next>&<remember>", Anyone),
    (
        "GET",
        "/login/sso/callback?<state>&<code>&<error>&<iss>",
        Anyone,
    ),
    ("POST", "/login/sso/backchannel-logout", Anyone),
    ("GET", "/login/two-factor?<next>", SignInInProgress),
    ("POST", "/login/two-factor", SignInInProgress),
    ("POST", "/logout", SignedIn),
    ("GET", "/org?<root>&<person>&<q>&<fragment>", SignedIn),
    ("GET", "/password/forgot", Anyone),
    ("POST", "/password/forgot", Anyone),
    ("GET", "/password/reset", Anyone),
    ("POST", "/password/reset", Anyone),
    ("GET", "/readyz", Anyone),
    ("GET", "/password/reset/<token>", Anyone),
    ("GET", "/setup?<token>", Anyone),
    ("POST", "/setup", Anyone),
    ("GET", "/static/<name>", Anyone),
    ("GET", "/team", SignedIn),
];

/// The table as `docs/permissions.md` shows it: a row per route, a column per role.
pub fn markdown() -> String {
    let mut text = String::from(
        "# Who may open what\n\n\
         Generated from `src/routes/access.rs` by `tests/web/permissions.rs` (run the suite with \
         `HR_PORTAL_WRITE_DOCS=1` to refresh it); the same test walks every route with every \
         role and fails when a status disagrees with this table. Being someone's line manager \
         is not a role: it comes from the HR record (their reports' private details, `/team`).\n\n\
         | Method | Route | Anonymous |",
    );
    for role in Role::ALL {
        text.push_str(&format!(" {} |", role.label()));
    }
    text.push_str("\n|---|---|---|");
    for _ in Role::ALL {
        text.push_str("---|");
    }
    text.push('\n');
    let mark = |yes: bool| if yes { "✓" } else { "–" };
    for (method, path, access) in ROUTES {
        text.push_str(&format!(
            "| {method} | `{path}` | {} |",
            mark(access.admits(None))
        ));
        for role in Role::ALL {
            text.push_str(&format!(" {} |", mark(access.admits(Some(role)))));
        }
        text.push('\n');
    }
    text
}
