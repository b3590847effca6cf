//! The rest of the WorkOS SSO API (issue 13), over real HTTP against the fake: IdP logout and
//! its fallbacks, the Connections API and Admin Portal links, step-up re-authentication, and
//! the authorization parameters a login sends. Security rows of SECURITY.md (U1-U4) name
//! these files.

mod app;
mod authorization_params;
mod connections;
mod idp_logout;
mod portal;
mod step_up;
