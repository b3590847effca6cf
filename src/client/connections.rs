//! The Connections API: list (filters, cursor pages, and a stream over all pages), get and
//! delete, typed after WorkOS's OpenAPI `Connection` and `ConnectionList` schemas.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::{Deserialize, Serialize};

use super::{WorkOsClient, WorkOsError, check_id};

/// An SSO connection: an organization's identity provider, or an OAuth provider.
///
/// Unknown `connection_type` values are kept as they come; fields WorkOS may leave out are
/// optional or empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Connection {
    /// `conn_...`.
    pub id: String,
    /// The organization it belongs to, if any (`org_...`).
    #[serde(default)]
    pub organization_id: Option<String>,
    /// `OktaSAML`, `GenericOIDC`, `GoogleOAuth`, ... (a long, growing list).
    pub connection_type: String,
    /// A human-readable name, usually the organization's.
    #[serde(default)]
    pub name: String,
    /// Whether the connection can sign users in.
    pub state: ConnectionState,
    /// The organization's domains.
    #[serde(default)]
    pub domains: Vec<ConnectionDomain>,
    /// SAML options (only SAML connections have them).
    #[serde(default)]
    pub options: Option<ConnectionOptions>,
    /// ISO 8601.
    #[serde(default)]
    pub created_at: String,
    /// ISO 8601.
    #[serde(default)]
    pub updated_at: String,
}

/// `Connection.state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConnectionState {
    /// No type chosen yet.
    RequiresType,
    /// Being set up.
    Draft,
    /// Signs users in.
    Active,
    /// Being checked.
    Validating,
    /// Switched off.
    Inactive,
    /// Being deleted.
    Deleting,
    /// A state this crate does not know yet.
    #[serde(other)]
    Unknown,
}

/// One of a connection's domains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectionDomain {
    /// `org_domain_...`.
    pub id: String,
    /// The domain, such as `foo-corp.com`.
    pub domain: String,
}

/// The options of a SAML connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectionOptions {
    /// The IdP's signing certificate, if uploaded.
    #[serde(default)]
    pub signing_cert: Option<String>,
}

/// One page of `GET /connections`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectionList {
    /// The connections of this page.
    pub data: Vec<Connection>,
    /// The cursors to the neighbouring pages.
    pub list_metadata: ListMetadata,
}

/// Pagination cursors: pass `after` (or `before`) back to get the next (or previous) page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListMetadata {
    /// The id before which there are more objects; `None` at the start.
    #[serde(default)]
    pub before: Option<String>,
    /// The id after which there are more objects; `None` at the end.
    #[serde(default)]
    pub after: Option<String>,
}

/// Sort order by creation time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Order {
    /// Newest first (WorkOS's default).
    #[default]
    Desc,
    /// Oldest first.
    Asc,
    /// WorkOS's `normal` order.
    Normal,
}

impl Order {
    fn as_str(self) -> &'static str {
        match self {
            Order::Desc => "desc",
            Order::Asc => "asc",
            Order::Normal => "normal",
        }
    }
}

/// The filters and cursor of a `GET /connections` request.
///
/// ```
/// use tower_workos_sso::client::{ListConnections, Order};
///
/// let query = ListConnections::new()
///     .organization_id("org_01ACME")
///     .connection_type("OktaSAML")
///     .limit(50)
///     .order(Order::Asc);
/// # let _ = query;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListConnections {
    organization_id: Option<String>,
    connection_type: Option<String>,
    domain: Option<String>,
    before: Option<String>,
    after: Option<String>,
    limit: Option<u8>,
    order: Option<Order>,
}

/// WorkOS's largest page.
const MAX_LIMIT: u8 = 100;

impl ListConnections {
    /// No filter: every connection, WorkOS's default page size (10).
    pub fn new() -> Self {
        Self::default()
    }

    /// Only this organization's connections.
    pub fn organization_id(mut self, id: impl Into<String>) -> Self {
        self.organization_id = Some(id.into());
        self
    }

    /// Only connections of this type (`OktaSAML`, ...).
    pub fn connection_type(mut self, kind: impl Into<String>) -> Self {
        self.connection_type = Some(kind.into());
        self
    }

    /// Only connections with this domain.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The page before this connection id.
    pub fn before(mut self, id: impl Into<String>) -> Self {
        self.before = Some(id.into());
        self
    }

    /// The page after this connection id.
    pub fn after(mut self, id: impl Into<String>) -> Self {
        self.after = Some(id.into());
        self
    }

    /// Page size, 1 to 100 (anything else is refused when sent).
    pub fn limit(mut self, limit: u8) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sort order.
    pub fn order(mut self, order: Order) -> Self {
        self.order = Some(order);
        self
    }

    /// The query string, each value checked so nothing unexpected reaches the URL.
    fn query(&self) -> Result<String, WorkOsError> {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("organization_id", &self.organization_id),
            ("connection_type", &self.connection_type),
            ("before", &self.before),
            ("after", &self.after),
        ] {
            if let Some(value) = value {
                query.append_pair(name, check_id(value)?);
            }
        }
        if let Some(domain) = &self.domain {
            let ok = (1..=253).contains(&domain.len())
                && domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            if !ok {
                return Err(WorkOsError::InvalidInput("not a valid domain"));
            }
            query.append_pair("domain", domain);
        }
        if let Some(limit) = self.limit {
            if !(1..=MAX_LIMIT).contains(&limit) {
                return Err(WorkOsError::InvalidInput("limit must be 1 to 100"));
            }
            query.append_pair("limit", &limit.to_string());
        }
        if let Some(order) = self.order {
            query.append_pair("order", order.as_str());
        }
        Ok(query.finish())
    }
}

impl WorkOsClient {
    /// One page of `GET /connections`.
    pub async fn list_connections(
        &self,
        query: &ListConnections,
    ) -> Result<ConnectionList, WorkOsError> {
        let query = query.query()?;
        let url = if query.is_empty() {
            self.url("/connections")
        } else {
            self.url(&format!("/connections?{query}"))
        };
        let body = self.get_json("list_connections", &url).await?;
        serde_json::from_slice(&body)
            .map_err(|_| WorkOsError::BadResponse("the connection list is not the expected JSON"))
    }

    /// Every connection matching `query`, page after page, as a stream: `next().await`, or any
    /// `futures` `Stream` combinator. At most [`max_pages`](ConnectionStream::max_pages) pages
    /// (default 100) are fetched.
    ///
    /// It walks away from the query's cursor: forwards following `list_metadata.after`, or,
    /// for a query with [`before`](ListConnections::before) (and no `after`), backwards
    /// following `list_metadata.before`, yielding the connections nearest the cursor first.
    pub fn connections(&self, query: ListConnections) -> ConnectionStream {
        ConnectionStream {
            client: self.clone(),
            backwards: query.before.is_some() && query.after.is_none(),
            query,
            buffer: VecDeque::new(),
            pending: None,
            pages: 0,
            max_pages: DEFAULT_MAX_PAGES,
            done: false,
        }
    }

    /// `GET /connections/{id}`; [`WorkOsError::NotFound`] if there is none.
    pub async fn get_connection(&self, id: &str) -> Result<Connection, WorkOsError> {
        let url = self.url(&format!("/connections/{}", check_id(id)?));
        let body = self.get_json("get_connection", &url).await?;
        serde_json::from_slice(&body)
            .map_err(|_| WorkOsError::BadResponse("the connection is not the expected JSON"))
    }

    /// `DELETE /connections/{id}`: permanent. [`WorkOsError::NotFound`] if there is none.
    pub async fn delete_connection(&self, id: &str) -> Result<(), WorkOsError> {
        let url = self.url(&format!("/connections/{}", check_id(id)?));
        let bearer = self.bearer()?;
        self.send("delete_connection", || {
            self.http
                .delete(&url)
                .header(http::header::AUTHORIZATION, bearer.clone())
        })
        .await
        .map(drop)
    }

    async fn get_json(&self, call: &'static str, url: &str) -> Result<Vec<u8>, WorkOsError> {
        let bearer = self.bearer()?;
        self.send(call, || {
            self.http
                .get(url)
                .header(http::header::AUTHORIZATION, bearer.clone())
        })
        .await
    }
}

const DEFAULT_MAX_PAGES: usize = 100;

type PageFuture = Pin<Box<dyn Future<Output = Result<ConnectionList, WorkOsError>> + Send>>;

/// Every connection of a listing, fetched a page at a time ([`WorkOsClient::connections`]).
///
/// It yields each connection, then `None`; an error ends it. A cursor that does not move, or
/// more than `max_pages` pages, ends it with an error rather than looping.
pub struct ConnectionStream {
    client: WorkOsClient,
    query: ListConnections,
    /// Started with `before`: pages are followed through `list_metadata.before`.
    backwards: bool,
    buffer: VecDeque<Connection>,
    pending: Option<PageFuture>,
    pages: usize,
    max_pages: usize,
    done: bool,
}

impl std::fmt::Debug for ConnectionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionStream")
            .field("query", &self.query)
            .field("backwards", &self.backwards)
            .field("pages", &self.pages)
            .finish_non_exhaustive()
    }
}

impl ConnectionStream {
    /// The most pages fetched (default 100; with `limit(100)`, 10 000 connections).
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.max_pages = pages;
        self
    }

    /// The next connection, `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Connection, WorkOsError>> {
        std::future::poll_fn(|cx| self.poll_next_item(cx)).await
    }

    fn poll_next_item(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Connection, WorkOsError>>> {
        loop {
            if let Some(connection) = self.buffer.pop_front() {
                return Poll::Ready(Some(Ok(connection)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            let pending = self.pending.get_or_insert_with(|| {
                let client = self.client.clone();
                let query = self.query.clone();
                Box::pin(async move { client.list_connections(&query).await })
            });
            let page = match pending.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(page) => page,
            };
            self.pending = None;
            self.pages += 1;
            let page = match page {
                Ok(page) => page,
                Err(error) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(error)));
                }
            };
            let (next, current) = if self.backwards {
                // Nearest the cursor first: a page's last connection is the one next to it.
                self.buffer.extend(page.data.into_iter().rev());
                (page.list_metadata.before, &self.query.before)
            } else {
                self.buffer.extend(page.data);
                (page.list_metadata.after, &self.query.after)
            };
            match next {
                Some(cursor) if current.as_deref() == Some(cursor.as_str()) => {
                    self.done = true;
                    self.buffer.clear();
                    return Poll::Ready(Some(Err(WorkOsError::BadResponse(
                        "the list cursor did not move",
                    ))));
                }
                Some(_) if self.pages >= self.max_pages => {
                    self.done = true;
                    self.buffer.clear();
                    return Poll::Ready(Some(Err(WorkOsError::TooManyPages)));
                }
                Some(cursor) if self.backwards => self.query.before = Some(cursor),
                Some(cursor) => {
                    self.query.before = None;
                    self.query.after = Some(cursor);
                }
                None => self.done = true,
            }
        }
    }
}

impl futures_core::Stream for ConnectionStream {
    type Item = Result<Connection, WorkOsError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_item(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_queries_are_encoded_and_checked() {
        let query = ListConnections::new()
            .organization_id("org_1")
            .connection_type("OktaSAML")
            .domain("foo-corp.com")
            .after("conn_9")
            .limit(100)
            .order(Order::Asc);
        assert_eq!(
            query.query().unwrap(),
            "organization_id=org_1&connection_type=OktaSAML&after=conn_9&domain=foo-corp.com&limit=100&order=asc"
        );
        assert_eq!(ListConnections::new().query().unwrap(), "");
        for bad in [
            ListConnections::new().limit(0),
            ListConnections::new().limit(101),
            ListConnections::new().organization_id("org_1&limit=1"),
            ListConnections::new().domain("a b.test"),
        ] {
            assert!(bad.query().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn connections_parse_per_the_spec_keeping_unknown_values() {
        let page: ConnectionList = serde_json::from_value(serde_json::json!({
            "object": "list",
            "data": [{
                "object": "connection", "id": "conn_1", "organization_id": "org_1",
                "connection_type": "BrandNewSAML", "name": "Foo Corp", "state": "brand_new",
                "status": "linked", "domains": [{"id": "org_domain_1", "object": "connection_domain", "domain": "foo.test"}],
                "options": {"signing_cert": null},
                "created_at": "2026-01-15T12:00:00.000Z", "updated_at": "2026-01-15T12:00:00.000Z"
            }],
            "list_metadata": {"before": null, "after": "conn_1"}
        }))
        .unwrap();
        let connection = &page.data[0];
        assert_eq!(connection.connection_type, "BrandNewSAML");
        assert_eq!(connection.state, ConnectionState::Unknown);
        assert_eq!(connection.domains[0].domain, "foo.test");
        assert_eq!(page.list_metadata.after.as_deref(), Some("conn_1"));
    }
}
