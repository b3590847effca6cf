//! What a verified session says besides the profile: [`Session`], which the layer attaches to
//! the [`Profile`](crate::Profile) it puts in the request extensions, and where the token came
//! from. Below the profile, so a profile can carry it.

use std::time::SystemTime;

use crate::claims::Claims;

/// Metadata of the verified session: [`Profile::session`](crate::Profile::session) of the
/// profile in the request extensions (and, with the `axum` feature, an extractor).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Session {
    /// The session id (`sid`): new at every sign-in, the handle for revocation.
    pub id: String,
    /// When the user signed in; the absolute lifetime counts from here.
    pub authenticated_at: SystemTime,
    /// When this token was issued (moves with the sliding window).
    pub issued_at: SystemTime,
    /// When this token expires unless the user is active.
    pub expires_at: SystemTime,
    /// Where the token came from.
    pub source: SessionSource,
    /// The claims the app's [authorization hook](crate::SsoConfigBuilder::authorize) added at
    /// sign-in (empty without one).
    pub claims: Claims,
    /// The profile fields that hold less than WorkOS returned, so that the session fits in a
    /// cookie: `"custom_attributes"`, `"groups"` (dropped by the default policy, or narrowed by
    /// the hook's `keep_*`). Empty when the profile is complete.
    pub trimmed: Vec<String>,
}

impl Session {
    /// Whether any profile field was trimmed (see [`trimmed`](Self::trimmed)).
    pub fn is_trimmed(&self) -> bool {
        !self.trimmed.is_empty()
    }
}

/// How the client presented its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionSource {
    /// The session cookie (browsers).
    Cookie,
    /// `Authorization: Bearer` (API and gRPC clients).
    Bearer,
}
