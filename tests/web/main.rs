//! Integration tests: the real Rocket, driven through its local client, on a fresh database each.

mod helpers;

mod account;
mod admin;
mod core_flow;
mod lifetime;
mod throttle;
