//! Integration tests: the real Rocket, driven through its local client, on a fresh database each.

mod helpers;

mod core_flow;
