//! The callback's last step, between the code exchange and the session: the profile must be
//! the flow's and admitted, then the shortcuts and the app's hook decide on the full profile,
//! then what they granted goes into a session that fits in a cookie. Each refusal is one audit
//! event.

use crate::admission::{self, AuditIds, Refusal};
use crate::authorization::{Grant, Outcome, SignIn};
use crate::client::Exchanged;
use crate::core::Core;
use crate::flow::FlowClaims;
use crate::profile::Profile;
use crate::secret::Token;
use crate::session::{Granted, SessionClaims};

/// The session for what WorkOS returned, or why there is none (and a denial's reason).
pub(super) async fn admit(
    core: &Core,
    flow: &FlowClaims,
    exchanged: Exchanged,
) -> Result<(Token, SessionClaims), (Refusal, Option<String>)> {
    let Exchanged {
        profile,
        raw_attributes,
        oauth_tokens,
    } = exchanged;
    let asked = flow.selector();
    let ids = AuditIds::of_profile(&profile, asked.as_ref());
    let Some(asked) = asked.clone() else {
        admission::audit(Refusal::FlowMismatch, None, ids);
        return Err((Refusal::FlowMismatch, None));
    };
    if let Err(refusal) = core.admission.check(&asked, &profile) {
        admission::audit(refusal, None, ids);
        return Err((refusal, None));
    }

    let sign_in = SignIn {
        profile: profile.clone(),
        raw_attributes,
        oauth_tokens,
        selector: asked,
        nonce: flow.nonce().map(str::to_owned),
    };
    let grant = match core.config.authorizer.decide(sign_in).await {
        Outcome::Allow(grant) => grant,
        Outcome::Deny { rule, reason } => {
            admission::audit(Refusal::Denied, Some(rule), ids);
            return Err((Refusal::Denied, Some(reason)));
        }
        Outcome::Failed(how) => {
            admission::audit(Refusal::HookFailed, Some(how), ids);
            return Err((Refusal::HookFailed, None));
        }
    };

    let (kept, granted) = narrow(&profile, grant);
    core.sessions
        .issue_granted(&kept, granted, core.now())
        .ok_or_else(|| {
            admission::audit(Refusal::TooLarge, None, ids);
            (Refusal::TooLarge, None)
        })
}

/// The profile as the session keeps it: only the groups and custom attributes the hook chose
/// to keep, if it chose; each field that lost something is recorded.
fn narrow(profile: &Profile, grant: Grant) -> (Profile, Granted) {
    let mut kept = profile.clone();
    let mut trimmed = Vec::new();
    if let Some(keep) = grant.keep_groups {
        kept.groups.retain(|group| keep.iter().any(|k| k == group));
        if kept.groups.len() < profile.groups.len() {
            trimmed.push("groups".to_owned());
        }
    }
    if let Some(keep) = grant.keep_custom_attributes {
        kept.custom_attributes.retain(|name, _| keep.contains(name));
        if kept.custom_attributes.len() < profile.custom_attributes.len() {
            trimmed.push("custom_attributes".to_owned());
        }
    }
    let granted = Granted {
        claims: grant.claims,
        trimmed,
    };
    (kept, granted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decision;

    #[test]
    fn only_what_the_hook_keeps_goes_in_and_what_lost_something_is_named() {
        let mut profile = Profile::new("prof_1", "a@b.test").with_groups(["a", "b", "c"]);
        profile
            .custom_attributes
            .insert("department".into(), serde_json::Value::from("R&D"));
        let (kept, granted) = narrow(&profile, Grant::default());
        assert_eq!(kept, profile);
        assert!(granted.trimmed.is_empty());

        let grant = |decision: Decision| match decision.into_grant() {
            Some(grant) => grant,
            None => panic!("not an allow"),
        };
        let (kept, granted) = narrow(
            &profile,
            grant(Decision::allow().keep_groups(["c", "a", "z"])),
        );
        assert_eq!(
            kept.groups,
            ["a", "c"],
            "the profile's order, only groups it had"
        );
        assert_eq!(granted.trimmed, ["groups"]);
        assert_eq!(kept.custom_attributes, profile.custom_attributes);

        let all = grant(
            Decision::allow()
                .keep_groups(["a", "b", "c"])
                .keep_custom_attributes(Vec::<String>::new()),
        );
        let (kept, granted) = narrow(&profile, all);
        assert_eq!(kept.groups, profile.groups);
        assert!(kept.custom_attributes.is_empty());
        assert_eq!(granted.trimmed, ["custom_attributes"]);
    }
}
