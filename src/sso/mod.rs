//! Single sign-on through the company's OpenID Provider (OpenID Connect): finding the provider
//! ([`Provider`]: discovery, its keys, whether it can be reached), the authorization code flow
//! with PKCE, state and nonce ([`flow`]), and the logout tokens of back-channel logout
//! ([`logout_token`]). Signature checks are the libraries' (`openidconnect` for ID tokens,
//! `jsonwebtoken` for logout tokens); nothing here parses a signature by hand.

pub mod flow;
pub mod logout_token;
mod provider;

pub use provider::{Provider, ProviderStatus, Unreachable};
