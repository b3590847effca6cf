//! The properties of SECURITY.md, one module per part of it; each test is named after its row
//! (S1-S13, R1-R3, T1-T11, W1-W6, C1-C3).

mod config_and_secrets;
mod login_flow;
mod redirects;
mod session_token;
mod workos_faults;
