//! Why a guard refused a request, kept in request-local state for the error page and the
//! catcher that words it.

/// Why a request was refused, for the error page (set before a guard fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    None,
    Csrf,
    /// The account must choose a new password before anything else.
    PasswordChangeRequired,
    /// The administrator must set up two-factor before anything else.
    TwoFactorRequired,
    /// A dangerous act needs the person to confirm it is them (see `guards::sudo`).
    ConfirmationNeeded,
    /// Filtering the directory by status needs the right to see private details.
    StatusFilter,
    /// A directory status filter that names no status.
    UnknownStatus,
}
