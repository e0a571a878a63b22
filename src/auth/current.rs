//! Who a request is: the signed-in session it was found by, the person behind it, and what that
//! session must do before anything else. Plain values; the web layer's guards build them from the
//! cookie (`web::guards`), and use cases take them as proof of who is acting.

use super::csrf;
use super::session::ActiveSession;
use crate::ids::UserId;
use crate::secret::Secret;
use std::marker::PhantomData;

use crate::users::{Email, Permission, Role};

/// The signed-in session of this request, with the cookie token it was found by.
#[derive(Clone, Debug)]
pub struct CurrentSession {
    pub session: ActiveSession,
    token: Secret<String>,
}

impl CurrentSession {
    pub fn new(session: ActiveSession, token: String) -> CurrentSession {
        CurrentSession {
            session,
            token: token.into(),
        }
    }

    /// The cookie token (needed to log out or rotate); never render or log it.
    pub fn token(&self) -> &str {
        self.token.expose()
    }

    /// A freshly masked CSRF token for this session's forms.
    pub fn csrf_token(&self) -> String {
        csrf::masked_token(self.session.csrf_secret.expose())
    }

    /// What this session must do before anything else, under the
    /// `require_two_factor_for_admins` setting.
    pub fn hold(&self, two_factor_required: bool) -> Option<Hold> {
        Hold::of_session(&self.session, two_factor_required)
    }
}

/// The signed-in person.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub session: CurrentSession,
}

impl CurrentUser {
    pub fn of(current: &CurrentSession) -> CurrentUser {
        let session = &current.session;
        CurrentUser {
            id: session.user_id,
            email: session.user_email.clone(),
            name: session.user_name.clone(),
            role: session.user_role,
            session: current.clone(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this person's role grants `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        self.role.may(permission)
    }
}

/// A signed-in person whose role grants `G`: only the permission guard makes one, so holding
/// one is the proof. Routes name what they need in their signature — `Require<EditPeople>` —
/// and never test a role themselves.
#[derive(Debug, Clone)]
pub struct Require<G: Grant>(pub CurrentUser, PhantomData<G>);

impl<G: Grant> Require<G> {
    /// Made by the guard only, after `user.role.may(G::PERMISSION)`.
    pub fn granted(user: CurrentUser) -> Option<Require<G>> {
        user.may(G::PERMISSION)
            .then_some(Require(user, PhantomData))
    }
}

/// A permission as a type, so a route's signature says what it needs.
pub trait Grant: Send + Sync + 'static {
    const PERMISSION: Permission;
}

/// The grants routes name (one per [`Permission`]).
pub mod grants {
    use super::{Grant, Permission};

    macro_rules! grants {
        ($($name:ident),*) => {$(
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl Grant for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*};
    }

    grants!(
        EditPeople,
        SeePrivateDetails,
        ManageAccess,
        ReadAudit,
        ManageAccounts
    );
}

/// Something a session must do before anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// An administrator set the password: the person picks their own on /account/password.
    PasswordChange,
    /// `require_two_factor_for_admins` is on and this administrator has no authenticator app
    /// yet: /account/two-factor is the one page open. (A passkey does not lift it: the password
    /// would still sign the account in alone.)
    TwoFactorEnrolment,
}

impl Hold {
    /// The rule itself, for a session and the `require_two_factor_for_admins` setting.
    pub fn of_session(session: &ActiveSession, two_factor_required: bool) -> Option<Hold> {
        if session.must_change_password {
            Some(Hold::PasswordChange)
        } else if two_factor_required
            && session.user_role.administers()
            && !session.two_factor_enabled
        {
            Some(Hold::TwoFactorEnrolment)
        } else {
            None
        }
    }
}
