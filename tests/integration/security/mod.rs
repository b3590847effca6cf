//! The properties of SECURITY.md, a file per topic; each test is named after its row (S1-S13, S11b,
//! R1-R3, T1-T11, W1-W6, C1-C3, A1-A6, V1-V3, X1-X5, M1-M5 and M4b), and SECURITY.md names the file of each.

mod abuse;
mod admission;
mod callback_state;
mod chooser;
mod config_and_secrets;
mod error_and_idp_initiated_callbacks;
mod flow_cookies;
mod idp_restart_by_organization;
mod login_csrf;
mod public_paths_and_caching;
mod redirects;
mod revocation;
mod route_guards;
mod session_cache;
mod tenant_spellings;
mod token_cookies_and_headers;
mod token_forgery;
mod token_lifetime;
mod workos_faults;
