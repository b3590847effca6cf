//! How the built-in resolvers read a tenant's name from a request the way the app will: path
//! slugs percent-decoded as the router decodes them, hosts without case, port or trailing
//! dot, header values from every copy of the header; and what they do with a spelling that
//! could be read two ways (refused) or a name that is not configured (no session passes).

use std::collections::HashMap;

use http::{HeaderMap, HeaderName, Uri, header};

use super::Resolution;
use crate::path;
use crate::selector::Selector;

/// The configured names, compared without ASCII case. Two names that differ only in case and
/// map to different selectors name neither: a request spelling them gets no session.
pub(super) struct Names(HashMap<String, Option<Selector>>);

impl Names {
    pub(super) fn new<I, N>(names: I, normalise: impl Fn(&str) -> Option<String>) -> Self
    where
        I: IntoIterator<Item = (N, Selector)>,
        N: AsRef<str>,
    {
        let mut map: HashMap<String, Option<Selector>> = HashMap::new();
        for (name, selector) in names {
            let Some(key) = normalise(name.as_ref()) else {
                tracing::warn!("a tenant name that no request can spell is left out");
                continue;
            };
            match map.get(&key) {
                Some(Some(known)) if *known != selector => {
                    tracing::warn!(
                        "two tenants whose names differ only in case: requests naming either get no session"
                    );
                    map.insert(key, None);
                }
                Some(_) => {}
                None => {
                    map.insert(key, Some(selector));
                }
            }
        }
        Self(map)
    }

    /// The tenant `spelled` names, if it is configured: `Unknown` for a name two tenants
    /// share, `None` for one that is not configured (or not text).
    fn find(&self, spelled: &[u8]) -> Option<Resolution> {
        let text = std::str::from_utf8(spelled).ok()?;
        let found = if text.bytes().any(|b| b.is_ascii_uppercase()) {
            self.0.get(&text.to_ascii_lowercase())
        } else {
            self.0.get(text)
        }?;
        Some(match found {
            Some(selector) => Resolution::tenant(selector.clone()),
            None => Resolution::Unknown,
        })
    }
}

/// A name as it is kept: lowercase; empty names are none.
pub(super) fn folded(name: &str) -> Option<String> {
    (!name.is_empty()).then(|| name.to_ascii_lowercase())
}

/// Tenants told by the path segment after a prefix.
pub(super) struct PathSlugs {
    /// The prefix's segments, lowercase: `/t/` is `["t"]`.
    prefix: Vec<String>,
    names: Names,
}

impl PathSlugs {
    pub(super) fn new(prefix: &str, names: Names) -> Self {
        let prefix = prefix
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        Self { prefix, names }
    }

    /// The tenant of a request to `path` (raw, as sent). A path that is not ambiguous is read
    /// as a router reads it: segment by segment, each percent-decoded once, the prefix and
    /// the slug without ASCII case. An ambiguous path (see [`path::is_ambiguous`]) that any
    /// reading could put under the prefix names no tenant anyone may trust: refused.
    pub(super) fn resolve(&self, raw: &str) -> Resolution {
        if path::is_ambiguous(raw) {
            let named = self
                .prefix
                .last()
                .is_none_or(|last| path::may_name_segment(raw, last));
            return if named {
                Resolution::Ambiguous
            } else {
                Resolution::None
            };
        }
        let Some(rest) = raw.strip_prefix('/') else {
            return Resolution::None;
        };
        let mut segments = rest.split('/');
        for expected in &self.prefix {
            let matches = segments.next().is_some_and(|segment| {
                path::decoded_segment(segment).eq_ignore_ascii_case(expected.as_bytes())
            });
            if !matches {
                return Resolution::None;
            }
        }
        match segments.next() {
            // `/t` and `/t/` name no tenant.
            None | Some("") => Resolution::None,
            Some(slug) => self
                .names
                .find(&path::decoded_segment(slug))
                .unwrap_or(Resolution::Unknown),
        }
    }
}

/// Tenants told by the host the request was sent to.
pub(super) struct Hosts(pub(super) Names);

impl Hosts {
    /// The tenant of the host every copy of it names: the URI's authority (HTTP/2, or an
    /// absolute-form request line), each `Host` header, and the `X-Forwarded-Host` and
    /// `Forwarded: host=` a proxy or a client may add, which an app's host extractor may read
    /// first. These are never trusted to pick a tenant: when they disagree about it the
    /// request is refused. A host that is not configured is no tenant's (the app's own).
    pub(super) fn resolve(&self, uri: &Uri, headers: &HeaderMap) -> Resolution {
        let forwarded = headers
            .get_all(header::FORWARDED)
            .iter()
            .flat_map(|value| value.as_bytes().split(|b| matches!(b, b',' | b';')))
            .filter_map(|pair| {
                let pair = pair.trim_ascii();
                let (name, value) = pair.split_at(pair.iter().position(|b| *b == b'=')?);
                name.eq_ignore_ascii_case(b"host")
                    .then(|| trim_quotes(&value[1..]))
            });
        let readings = uri
            .authority()
            .map(|authority| authority.as_str().as_bytes())
            .into_iter()
            .chain(headers.get_all(header::HOST).iter().map(|v| v.as_bytes()))
            .chain(listed(headers, "x-forwarded-host"))
            .chain(forwarded);
        agreed(readings.map(|spelled| match normalised_host(spelled) {
            Some(host) => self.0.find(host.as_bytes()).unwrap_or(Resolution::None),
            None => Resolution::Ambiguous,
        }))
    }
}

/// Tenants told by a header a proxy sets.
pub(super) struct HeaderValues {
    pub(super) name: HeaderName,
    pub(super) names: Names,
}

impl HeaderValues {
    /// The tenant every copy of the header (and every item of a comma-separated one) names;
    /// refused when they disagree, unknown when the header names a tenant not configured.
    pub(super) fn resolve(&self, headers: &HeaderMap) -> Resolution {
        agreed(
            listed(headers, self.name.as_str())
                .map(|value| self.names.find(value).unwrap_or(Resolution::Unknown)),
        )
    }
}

/// Every item of every copy of a comma-separated header; empty ones are none.
fn listed<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a [u8]> {
    headers
        .get_all(name)
        .into_iter()
        .flat_map(|value| value.as_bytes().split(|b| *b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|item| !item.is_empty())
}

/// What all readings say, if they agree; no reading is no tenant.
fn agreed(readings: impl Iterator<Item = Resolution>) -> Resolution {
    let mut found: Option<Resolution> = None;
    for reading in readings {
        match &found {
            None => found = Some(reading),
            Some(earlier) if *earlier == reading => {}
            Some(_) => return Resolution::Ambiguous,
        }
    }
    found.unwrap_or(Resolution::None)
}

fn trim_quotes(value: &[u8]) -> &[u8] {
    value
        .strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .unwrap_or(value)
}

/// A host as DNS compares it: lowercase, without port or the trailing dot of a fully
/// qualified name. `None` for anything that is not a plain host name or IP literal (userinfo,
/// empty labels, percent signs, a port that is not a number), which no two servers would be
/// sure to read alike.
pub(super) fn normalised_host(spelled: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(spelled).ok()?;
    let (host, port) = match text.strip_prefix('[') {
        Some(rest) => {
            let (inside, after) = rest.split_once(']')?;
            if !inside
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
            {
                return None;
            }
            (&text[..inside.len() + 2], after.strip_prefix(':'))
        }
        None => match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        },
    };
    if port.is_some_and(|port| port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if host.starts_with('[') {
        return Some(host.to_ascii_lowercase());
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    let plain = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    plain.then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: &str) -> Selector {
        Selector::organization(id).unwrap()
    }

    fn slugs() -> PathSlugs {
        let names = Names::new(
            [("acme", org("org_01ACME")), ("globex", org("org_01GLOBEX"))],
            folded,
        );
        PathSlugs::new("/t/", names)
    }

    fn tenant_of(found: &Resolution) -> Option<&str> {
        match found {
            Resolution::Tenant(tenant) => tenant.organization_id(),
            _ => None,
        }
    }

    #[test]
    fn slugs_read_as_the_router_decodes_them() {
        let slugs = slugs();
        for (path, org) in [
            ("/t/acme", "org_01ACME"),
            ("/t/acme/reports", "org_01ACME"),
            ("/t/%67lobex/data", "org_01GLOBEX"),
            ("/t/GLOBEX/data", "org_01GLOBEX"),
            ("/T/Globex/", "org_01GLOBEX"),
            ("/%74/globex/data", "org_01GLOBEX"),
            ("/t/acme/x.y..z", "org_01ACME"),
        ] {
            assert_eq!(tenant_of(&slugs.resolve(path)), Some(org), "{path}");
        }
    }

    #[test]
    fn ambiguous_spellings_under_the_prefix_are_refused_and_unknown_slugs_are_no_ones() {
        let slugs = slugs();
        for path in [
            "//t/globex/",
            "/t//globex/",
            "/t/acme/../globex/",
            "/t/acme/%2e%2e/globex/",
            "/t/acme/..;/globex/",
            "/t/acme;x/data",
            "/t/glo%2fbex/data",
            "/t/acme%5c..%5cglobex/data",
            "/t\\globex/data",
            "/t/acme%00/data",
            "/x/../t/globex/",
            "/x%2f..%2ft%2fglobex",
            "/t/%2567lobex/",
            "/t/%c0%ae%c0%ae/globex",
        ] {
            assert_eq!(slugs.resolve(path), Resolution::Ambiguous, "{path}");
        }
        for path in ["/t/initech/", "/t/acmex", "/t/%ff/", "/t/acme%20/"] {
            assert_eq!(slugs.resolve(path), Resolution::Unknown, "{path}");
        }
        for path in [
            "/t",
            "/t/",
            "/acme",
            "/x/t/acme",
            "/tenants/acme",
            "*",
            "/x;y/z",
        ] {
            assert_eq!(slugs.resolve(path), Resolution::None, "{path}");
        }
    }

    #[test]
    fn names_that_differ_only_in_case_name_neither() {
        let names = Names::new(
            [
                ("Acme", org("org_01A")),
                ("acme", org("org_01B")),
                ("x", org("org_01X")),
            ],
            folded,
        );
        assert_eq!(names.find(b"acme"), Some(Resolution::Unknown));
        assert_eq!(names.find(b"ACME"), Some(Resolution::Unknown));
        assert_eq!(tenant_of(&names.find(b"X").unwrap()), Some("org_01X"));
        assert_eq!(names.find(b"y"), None);
    }

    #[test]
    fn hosts_drop_case_port_and_the_trailing_dot_and_refuse_the_rest() {
        for (spelled, host) in [
            ("ACME.app.test", Some("acme.app.test")),
            ("acme.app.test.:8443", Some("acme.app.test")),
            ("acme.app.test.", Some("acme.app.test")),
            ("[::1]:3000", Some("[::1]")),
            ("acme.app.test..", None),
            ("acme.app.test:x", None),
            ("acme.app.test:", None),
            ("user@acme.app.test", None),
            ("acme%2eapp.test", None),
            ("", None),
        ] {
            assert_eq!(
                normalised_host(spelled.as_bytes()).as_deref(),
                host,
                "{spelled}"
            );
        }
    }

    #[test]
    fn every_copy_of_the_host_must_agree() {
        let hosts = Hosts(Names::new(
            [
                ("acme.app.test", org("org_01ACME")),
                ("globex.app.test", org("org_01GLOBEX")),
            ],
            |name| normalised_host(name.as_bytes()),
        ));
        let resolve = |uri: &str, headers: &[(&str, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in headers {
                map.append(HeaderName::try_from(*name).unwrap(), value.parse().unwrap());
            }
            hosts.resolve(&uri.parse().unwrap(), &map)
        };
        let acme = resolve("/", &[("host", "ACME.app.test.:80")]);
        assert_eq!(tenant_of(&acme), Some("org_01ACME"));
        assert_eq!(resolve("/", &[("host", "app.test")]), Resolution::None);
        assert_eq!(resolve("/", &[]), Resolution::None);
        for headers in [
            &[("host", "acme.app.test"), ("host", "globex.app.test")][..],
            &[
                ("host", "acme.app.test"),
                ("x-forwarded-host", "globex.app.test"),
            ],
            &[
                ("host", "acme.app.test"),
                ("x-forwarded-host", "acme.app.test, globex.app.test"),
            ],
            &[
                ("host", "acme.app.test"),
                ("forwarded", "for=1.2.3.4;host=\"globex.app.test\""),
            ],
            &[
                ("host", "app.test"),
                ("x-forwarded-host", "globex.app.test"),
            ],
            &[("host", "acme.app.test@globex.app.test")],
        ] {
            assert_eq!(resolve("/", headers), Resolution::Ambiguous, "{headers:?}");
        }
        let absolute = resolve("http://globex.app.test/x", &[("host", "acme.app.test")]);
        assert_eq!(absolute, Resolution::Ambiguous);
    }

    #[test]
    fn every_copy_of_a_tenant_header_must_agree() {
        let values = HeaderValues {
            name: HeaderName::from_static("x-tenant"),
            names: Names::new([("acme", org("org_01ACME"))], folded),
        };
        let resolve = |values_sent: &[&str]| {
            let mut map = HeaderMap::new();
            for value in values_sent {
                map.append("x-tenant", value.parse().unwrap());
            }
            values.resolve(&map)
        };
        assert_eq!(tenant_of(&resolve(&["ACME"])), Some("org_01ACME"));
        assert_eq!(tenant_of(&resolve(&["acme", "acme"])), Some("org_01ACME"));
        assert_eq!(resolve(&[]), Resolution::None);
        assert_eq!(resolve(&["globex"]), Resolution::Unknown);
        assert_eq!(resolve(&["", " "]), Resolution::None);
        assert_eq!(resolve(&["acme", "globex"]), Resolution::Ambiguous);
        assert_eq!(resolve(&["acme, globex"]), Resolution::Ambiguous);
    }
}
