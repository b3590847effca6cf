//! Domain routing through the WorkOS API: an email domain's active connections
//! (`GET /connections?domain=`), narrowed to what the app admits, behind a bounded, expiring
//! cache (`cache.rs`), a cap on look-ups at once and a deadline, so neither a burst of logins
//! nor a WorkOS outage holds the chooser up; and the organization a connection belongs to
//! (`owners.rs`), behind the same.

mod cache;
mod owners;

use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::admission::Admission;
use crate::client::{WorkOsError, log_failure};
use crate::config::SsoConfig;
use crate::domains::{DomainLookupError, DomainRouter};
use crate::limit::Slots;
use crate::secret::ApiKey;
use crate::selector::Selector;
use crate::store::BoxFuture;

use cache::LookupCache;
pub(crate) use owners::ConnectionOwners;

/// The most bytes of one list page the crate reads.
const MAX_PAGE_BYTES: usize = 512 * 1024;
/// The most pages one look-up reads (100 connections each).
const MAX_PAGES: usize = 5;

/// A [`DomainRouter`] asking WorkOS.
pub(crate) struct WorkOsDomains {
    http: reqwest::Client,
    url: String,
    api_key: ApiKey,
    admission: Admission,
    cache: LookupCache,
    lookups: Slots,
    timeout: Duration,
}

#[derive(Deserialize)]
struct List {
    #[serde(default)]
    data: Vec<Connection>,
    #[serde(default)]
    list_metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Connection {
    id: String,
    #[serde(default)]
    organization_id: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    domains: Vec<Domain>,
}

#[derive(Deserialize)]
struct Domain {
    domain: String,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    after: Option<String>,
}

impl WorkOsDomains {
    pub(crate) fn new(config: &SsoConfig) -> Self {
        let bounds = config.tenancy.cache;
        Self {
            http: config.http.clone(),
            url: format!("{}/connections", config.api_base_url),
            api_key: config.api_key.clone(),
            admission: Admission::new(config),
            cache: LookupCache::new(bounds),
            lookups: Slots::new(bounds.max_concurrent),
            timeout: bounds.timeout,
        }
    }

    /// Every page of the domain's connections, then the one admitted selector they name.
    async fn fetch(&self, domain: &str) -> Result<Option<Selector>, DomainLookupError> {
        let Some(_slot) = self.lookups.try_take() else {
            tracing::warn!("too many domain look-ups at once; chooser answered busy");
            return Err(DomainLookupError::Busy);
        };
        let pages = async {
            let mut found = Vec::new();
            let mut after: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let list = self.page(domain, after.as_deref()).await?;
                for selector in self.admitted(domain, list.data) {
                    if !found.contains(&selector) {
                        found.push(selector);
                    }
                }
                after = list.list_metadata.and_then(|m| m.after);
                if after.is_none() {
                    return Ok(found);
                }
            }
            // The pages not read may hold the domain's connection (or a second tenant): the
            // listing is no answer, and no "no single sign-on" to remember.
            tracing::warn!(
                pages = MAX_PAGES,
                "WorkOS connection list for a domain longer than the crate reads"
            );
            Err(DomainLookupError::Unavailable)
        };
        let mut found = match tokio::time::timeout(self.timeout, pages).await {
            Ok(found) => found?,
            Err(_) => {
                tracing::warn!("WorkOS domain look-up timed out");
                return Err(DomainLookupError::Timeout);
            }
        };
        match found.len() {
            0 | 1 => Ok(found.pop()),
            several => {
                tracing::warn!(
                    tenants = several,
                    "an email domain belongs to several admitted tenants; not routed"
                );
                Ok(None)
            }
        }
    }

    /// One page of `GET /connections?domain=`, counted in the WorkOS call metrics; a failure
    /// is logged with the same operator hint as any other WorkOS call (a refused API key, a
    /// rate limit, an unreachable API).
    async fn page(&self, domain: &str, after: Option<&str>) -> Result<List, DomainLookupError> {
        let started = std::time::Instant::now();
        let result = self.page_once(domain, after).await;
        let outcome = result.as_ref().map_or_else(WorkOsError::code, |_| "ok");
        crate::telemetry::workos_call("domain_lookup", outcome, started.elapsed());
        result.map_err(|error| {
            log_failure("domain look-up", &error);
            match error {
                WorkOsError::Timeout => DomainLookupError::Timeout,
                _ => DomainLookupError::Unavailable,
            }
        })
    }

    /// [`page`](Self::page) without the metrics and the log line, its failures mapped as
    /// [`WorkOsClient`](crate::client::WorkOsClient) maps them.
    async fn page_once(&self, domain: &str, after: Option<&str>) -> Result<List, WorkOsError> {
        let url = {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query
                .append_pair("domain", domain)
                .append_pair("limit", "100");
            if let Some(after) = after {
                query.append_pair("after", after);
            }
            format!("{}?{}", self.url, query.finish())
        };
        // The API key travels only in the `Authorization` header (SECURITY.md C3).
        let response = self
            .http
            .get(url)
            .bearer_auth(self.api_key.expose())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(classify)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = read_capped(response).await;
        if !status.is_success() {
            tracing::debug!(
                status = status.as_u16(),
                "WorkOS refused the domain look-up"
            );
            return Err(WorkOsError::from_answer(
                status,
                body.as_deref().unwrap_or_default(),
                retry_after,
            ));
        }
        serde_json::from_slice(&body?)
            .map_err(|_| WorkOsError::BadResponse("the connection list is not the expected JSON"))
    }

    /// What the active connections of `domain` sign in with: their organization if admitted,
    /// else the connection if admitted.
    fn admitted(&self, domain: &str, connections: Vec<Connection>) -> Vec<Selector> {
        connections
            .into_iter()
            .filter(|c| c.state.as_deref() == Some("active"))
            // The filter is WorkOS's; the domain is checked here again all the same.
            .filter(|c| {
                c.domains
                    .iter()
                    .any(|d| d.domain.eq_ignore_ascii_case(domain))
            })
            .filter_map(|c| {
                let organization = c
                    .organization_id
                    .and_then(|id| Selector::organization(id).ok())
                    .filter(|org| self.admission.admits(org));
                organization.or_else(|| {
                    Selector::connection(c.id)
                        .ok()
                        .filter(|conn| self.admission.admits(conn))
                })
            })
            .collect()
    }
}

impl DomainRouter for WorkOsDomains {
    fn route<'a>(
        &'a self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<Option<Selector>, DomainLookupError>> {
        Box::pin(self.cache.get(domain, Instant::now, || self.fetch(domain)))
    }
}

/// At most [`MAX_PAGE_BYTES`] of an answer; a longer one is refused, not truncated.
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, WorkOsError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > MAX_PAGE_BYTES {
            return Err(WorkOsError::BadResponse("the connection list is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A failed request, as the WorkOS client classifies it.
fn classify(error: reqwest::Error) -> WorkOsError {
    if error.is_timeout() {
        WorkOsError::Timeout
    } else if error.is_connect() {
        WorkOsError::Unreachable
    } else {
        WorkOsError::BadResponse("the connection to WorkOS failed mid-answer")
    }
}

#[cfg(test)]
#[cfg(feature = "testkit")] // The fake WorkOS.
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::testkit::MockWorkOs;

    /// What this thread logs while `run` runs (the fake, on this test's one-thread runtime,
    /// included).
    #[derive(Clone, Default)]
    struct Logs(Arc<Mutex<Vec<u8>>>);

    impl Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Logs {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    #[tokio::test]
    async fn a_refused_api_key_logs_the_api_key_hint() {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        let _logging = tracing::subscriber::set_default(subscriber);
        let workos = MockWorkOs::start().await.unwrap();
        let config = SsoConfig::builder()
            .api_key("sk_test_not_the_fakes_key")
            .client_id(workos.client_id())
            .api_base_url(workos.base_url())
            .redirect_uri("http://localhost:3000/auth/callback")
            .session_secret(vec![7u8; 32])
            .allow_any_organization()
            .route_domains_through_workos()
            .build()
            .unwrap();
        let domains = WorkOsDomains::new(&config);
        assert_eq!(
            domains.route("example.com").await,
            Err(DomainLookupError::Unavailable)
        );
        let text = logs.text();
        let hint = crate::client::WorkOsError::Rejected {
            status: 401,
            error: String::new(),
        }
        .hint()
        .unwrap();
        let line = text
            .lines()
            .find(|line| line.contains(r#"operation="domain look-up""#))
            .unwrap_or_else(|| panic!("no domain look-up failure logged:\n{text}"));
        assert!(line.contains("WARN"), "{line}");
        assert!(line.contains(hint), "{line}");
        assert!(!text.contains("sk_test_not_the_fakes_key"), "{text}");
    }
}
