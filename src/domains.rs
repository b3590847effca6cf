//! Domain routing: which organization or connection signs in the users of an email domain.
//!
//! The sign-in chooser asks for an email, takes its domain and asks a [`DomainRouter`]. Two
//! come with the crate: [`StaticDomains`], a map in the configuration
//! ([`SsoConfigBuilder::route_domains`](crate::SsoConfigBuilder::route_domains)), and one that
//! asks the WorkOS API for the domain's active connections, with a bounded, expiring cache
//! ([`SsoConfigBuilder::route_domains_through_workos`](crate::SsoConfigBuilder::route_domains_through_workos)).
//! Whatever a router answers, a login goes on only with a selector the app admits.

use std::collections::HashMap;
use std::fmt;

use crate::selector::Selector;
use crate::store::BoxFuture;

/// The longest email the chooser accepts (RFC 5321's path limit is 256; 320 is the common cap).
pub(crate) const MAX_EMAIL_LEN: usize = 320;

/// Finds the organization or connection for an email domain.
///
/// `domain` is lowercase ASCII, already checked to be a well-formed domain name. Answer
/// `Ok(None)` for a domain without single sign-on. An error shows the user a "try again" page,
/// and so does an answer later than
/// [`domain_lookup_timeout`](crate::SsoConfigBuilder::domain_lookup_timeout) (a `504`).
///
/// ```
/// use tower_workos_sso::domains::{DomainLookupError, DomainRouter};
/// use tower_workos_sso::store::BoxFuture;
/// use tower_workos_sso::Selector;
///
/// /// Every `*.acme.test` domain belongs to Acme.
/// struct AcmeSubdomains;
///
/// impl DomainRouter for AcmeSubdomains {
///     fn route<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<Option<Selector>, DomainLookupError>> {
///         let acme = (domain == "acme.test" || domain.ends_with(".acme.test"))
///             .then(|| Selector::organization("org_01ACME").expect("a valid id"));
///         Box::pin(std::future::ready(Ok(acme)))
///     }
/// }
/// ```
pub trait DomainRouter: Send + Sync + 'static {
    /// The selector for `domain`, `None` if it has no single sign-on.
    fn route<'a>(
        &'a self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<Option<Selector>, DomainLookupError>>;
}

/// Why a domain could not be looked up. The user sees a fixed "try again" page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DomainLookupError {
    /// The directory could not be reached, or answered with an error: 503.
    Unavailable,
    /// The directory did not answer in time: 504.
    Timeout,
    /// Too many look-ups are under way: 503.
    Busy,
}

impl fmt::Display for DomainLookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DomainLookupError::Unavailable => "the domain directory is unavailable",
            DomainLookupError::Timeout => "the domain directory did not answer in time",
            DomainLookupError::Busy => "too many domain look-ups at once",
        })
    }
}

impl std::error::Error for DomainLookupError {}

/// A fixed map from email domains to selectors.
///
/// ```
/// use tower_workos_sso::Selector;
/// use tower_workos_sso::domains::StaticDomains;
///
/// let domains = StaticDomains::new([
///     ("acme.test", Selector::organization("org_01ACME")?),
///     ("Globex.Test", Selector::organization("org_01GLOBEX")?),
/// ])?;
/// assert_eq!(domains.get("globex.test"), Some(&Selector::organization("org_01GLOBEX")?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct StaticDomains(HashMap<String, Selector>);

/// A domain in a [`StaticDomains`] map that is not a well-formed domain name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidDomain;

impl fmt::Display for InvalidDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("every domain must be a domain name such as example.com")
    }
}

impl std::error::Error for InvalidDomain {}

impl StaticDomains {
    /// The map; domains compare without case.
    pub fn new<I, D>(routes: I) -> Result<Self, InvalidDomain>
    where
        I: IntoIterator<Item = (D, Selector)>,
        D: AsRef<str>,
    {
        let mut map = HashMap::new();
        for (domain, selector) in routes {
            let domain = normalize_domain(domain.as_ref().trim()).ok_or(InvalidDomain)?;
            map.insert(domain, selector);
        }
        Ok(Self(map))
    }

    /// The selector for `domain`, compared without case.
    pub fn get(&self, domain: &str) -> Option<&Selector> {
        self.0.get(&domain.to_ascii_lowercase())
    }
}

impl DomainRouter for StaticDomains {
    fn route<'a>(
        &'a self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<Option<Selector>, DomainLookupError>> {
        Box::pin(std::future::ready(Ok(self.get(domain).cloned())))
    }
}

/// The lowercase domain of a well-formed email address, or `None`: at most [`MAX_EMAIL_LEN`]
/// bytes, one non-empty local part, and a domain name of at least two labels.
pub(crate) fn email_domain(email: &str) -> Option<String> {
    let email = email.trim();
    if email.len() > MAX_EMAIL_LEN || email.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let (local, domain) = email.rsplit_once('@')?;
    // The dot-atom of RFC 5322: no quoted local parts, no markup characters.
    let atom = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b);
    if local.is_empty() || local.len() > 64 || !local.bytes().all(atom) {
        return None;
    }
    normalize_domain(domain)
}

/// `domain` in lowercase if it is a domain name: ASCII labels of letters, digits and inner
/// hyphens, at least two of them, at most 253 bytes.
fn normalize_domain(domain: &str) -> Option<String> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let labels_ok = domain.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    (domain.len() <= 253 && domain.contains('.') && labels_ok).then(|| domain.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_emails_have_a_domain() {
        assert_eq!(
            email_domain(" Alice@Example.COM ").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            email_domain("a@sub.example.com.").as_deref(),
            Some("sub.example.com")
        );
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@localhost",
            "alice@exa mple.com",
            "alice@-example.com",
            "alice@example..com",
            "alice@exämple.com",
            "alice@example.com\r\nx",
            "a@b@example.com",
            "alice@example.com/evil",
            "alice@<script>.com",
            "\"><script>@example.com",
            "a(b)@example.com",
        ] {
            assert_eq!(email_domain(bad), None, "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_LEN));
        assert_eq!(email_domain(&long), None);
        let long_domain = format!("a@{}.com", "a.".repeat(130));
        assert_eq!(email_domain(&long_domain), None);
    }

    #[test]
    fn static_domains_compare_without_case_and_refuse_bad_names() {
        let acme = Selector::organization("org_01ACME").unwrap();
        let map = StaticDomains::new([("Acme.Test", acme.clone())]).unwrap();
        assert_eq!(map.get("acme.test"), Some(&acme));
        assert_eq!(map.get("other.test"), None);
        assert!(StaticDomains::new([("not a domain", acme.clone())]).is_err());
        assert!(StaticDomains::new([("@acme.test", acme)]).is_err());
    }
}
