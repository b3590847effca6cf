//! What the tests share: the app and browser they drive, the attacker's tools, and what a
//! refused callback looks like.

pub mod callback;
pub mod down;
pub mod forge;
pub mod harness;
#[cfg(feature = "redis")]
pub mod redis;
