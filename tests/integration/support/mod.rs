//! What the tests share: the app and browser they drive, and the attacker's tools.

pub mod forge;
pub mod harness;
