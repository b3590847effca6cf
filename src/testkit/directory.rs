//! The fake's `GET /organizations`, with the filter and the cursor pagination of the WorkOS API
//! (`before`/`after`/`limit`/`order`, the
//! `{"object":"list","data":[...],"list_metadata":{"before","after"}}` envelope), behind the API
//! key as `Authorization: Bearer`; and how both lists (this and `GET /connections`) read `order`.

use http::{HeaderMap, StatusCode, Uri, header};
use serde_json::{Value, json};

use super::reply::{Reply, json_reply};
use super::seed::Seed;

/// A fixed timestamp: the seed has no history.
const CREATED_AT: &str = "2026-01-15T12:00:00.000Z";

/// The query of a list request; repeated names (`domains=a&domains=b`) all count.
struct ListQuery(Vec<(String, String)>);

impl ListQuery {
    fn parse(uri: &Uri) -> Self {
        let query = uri.query().unwrap_or_default();
        Self(
            form_urlencoded::parse(query.as_bytes())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name || n.strip_suffix("[]") == Some(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `GET /organizations`: filter `domains` (repeatable).
pub(super) fn list_organizations(seed: &Seed, uri: &Uri, headers: &HeaderMap) -> Reply {
    if let Some(refused) = unauthorized(seed, headers) {
        return refused;
    }
    let query = ListQuery::parse(uri);
    let wanted: Vec<&str> = query.all("domains").collect();
    let mut organizations: Vec<(&str, Option<&str>, Vec<&str>)> = Vec::new();
    for connection in &seed.connections {
        let Some(id) = connection.organization_id.as_deref() else {
            continue;
        };
        let domains = connection.domains.iter().map(String::as_str);
        match organizations.iter_mut().find(|(org, _, _)| *org == id) {
            Some((_, _, known)) => known.extend(domains),
            None => organizations.push((
                id,
                connection.organization_name.as_deref(),
                domains.collect(),
            )),
        }
    }
    let items = organizations
        .into_iter()
        .filter(|(_, _, domains)| {
            wanted.is_empty()
                || domains
                    .iter()
                    .any(|d| wanted.iter().any(|w| w.eq_ignore_ascii_case(d)))
        })
        .map(|(id, name, domains)| {
            let domains: Vec<Value> = domains
                .iter()
                .map(|domain| {
                    json!({"id": format!("org_domain_{id}_{domain}"), "object": "organization_domain",
                           "domain": domain, "state": "verified"})
                })
                .collect();
            let organization = json!({
                "object": "organization", "id": id, "name": name.unwrap_or(id),
                "domains": domains, "allow_profiles_outside_organization": false,
                "created_at": CREATED_AT, "updated_at": CREATED_AT,
            });
            (id.to_owned(), organization)
        })
        .collect();
    paginate(&query, items)
}

/// Whether a list's `order` puts the newest first; `None` for a value the API refuses.
///
/// The spec (`sso-openapi.yaml`, `GET /connections`) orders by creation time, allows `normal`,
/// `desc` and `asc`, and makes `desc` the default; it says nothing more of `normal`, so the
/// fake reads it as the normal, default order: newest first. Both lists use this one reading.
pub(super) fn newest_first(order: Option<&str>) -> Option<bool> {
    match order {
        None | Some("desc" | "normal") => Some(true),
        Some("asc") => Some(false),
        Some(_) => None,
    }
}

/// One page of `items` (in seed order, the order of creation), in the `order` of
/// [`newest_first`]; `after`/`before` are the id of the item the page starts after or ends
/// before; `limit` 1..=100, default 10.
fn paginate(query: &ListQuery, mut items: Vec<(String, Value)>) -> Reply {
    let limit = match query.get("limit").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(limit)) if (1..=100).contains(&limit) => limit,
        Some(_) => return unprocessable("limit must be between 1 and 100"),
    };
    match newest_first(query.get("order")) {
        Some(true) => items.reverse(),
        Some(false) => {}
        None => return unprocessable("order must be one of normal, desc, asc"),
    }
    let position = |id: &str| items.iter().position(|(item, _)| item == id);
    let (start, end) = match (query.get("after"), query.get("before")) {
        (Some(after), _) => {
            let start = position(after).map_or(items.len(), |i| i + 1);
            (start, (start + limit).min(items.len()))
        }
        (None, Some(before)) => {
            let end = position(before).unwrap_or(0);
            (end.saturating_sub(limit), end)
        }
        (None, None) => (0, limit.min(items.len())),
    };
    let page = &items[start..end];
    let before = (start > 0 && !page.is_empty()).then(|| page[0].0.clone());
    let after = (end < items.len() && !page.is_empty()).then(|| page[page.len() - 1].0.clone());
    let data: Vec<&Value> = page.iter().map(|(_, item)| item).collect();
    json_reply(
        StatusCode::OK,
        &json!({
            "object": "list",
            "data": data,
            "list_metadata": {"before": before, "after": after},
        }),
    )
}

/// 401 unless the request carries the seed's API key as a bearer token.
fn unauthorized(seed: &Seed, headers: &HeaderMap) -> Option<Reply> {
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    (sent != Some(seed.api_key.as_str())).then(|| {
        json_reply(
            StatusCode::UNAUTHORIZED,
            &json!({"message": "Unauthorized"}),
        )
    })
}

fn unprocessable(message: &str) -> Reply {
    json_reply(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({"message": message}),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::testkit::{Endpoint, MockWorkOs, Seed};

    async fn list(mock: &MockWorkOs, path_and_query: &str, key: Option<&str>) -> (u16, Value) {
        let mut request =
            reqwest::Client::new().get(format!("{}{path_and_query}", mock.base_url()));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    fn ids(page: &Value) -> Vec<&str> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].as_str().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn connections_are_filtered_by_domain_organization_and_type() {
        let mock = MockWorkOs::start().await.unwrap();
        let key = Some(mock.api_key().to_owned());
        let key = key.as_deref();
        let (status, page) = list(&mock, "/connections?domain=GLOBEX.test", key).await;
        assert_eq!(status, 200);
        assert_eq!(page["object"], "list");
        assert_eq!(ids(&page), ["conn_01GLOBEXENTRA"]);
        let globex = &page["data"][0];
        assert_eq!(globex["state"], "active");
        assert_eq!(globex["organization_id"], "org_01GLOBEX");
        assert_eq!(globex["domains"][0]["domain"], "globex.test");
        assert_eq!(globex["domains"][0]["object"], "connection_domain");
        let (_, page) = list(&mock, "/connections?organization_id=org_01ACME", key).await;
        assert_eq!(ids(&page), ["conn_01ACMEOKTA"]);
        let (_, page) = list(&mock, "/connections?connection_type=GoogleOAuth", key).await;
        assert_eq!(ids(&page), ["conn_01GOOGLE"]);
        let (_, page) = list(&mock, "/connections?domain=nowhere.test", key).await;
        assert!(ids(&page).is_empty());
        assert_eq!(page["list_metadata"]["after"], Value::Null);
        let (status, _) = list(&mock, "/connections", None).await;
        assert_eq!(status, 401);
        let (status, _) = list(&mock, "/connections", Some("sk_test_wrong")).await;
        assert_eq!(status, 401);
        assert_eq!(mock.requests(Endpoint::Connections), 6);
    }

    #[tokio::test]
    async fn lists_page_with_before_after_limit_and_order() {
        let mut seed = Seed::default();
        for i in 0..5 {
            let mut extra = seed.connections[0].clone();
            extra.id = format!("conn_01EXTRA{i}");
            seed.connections.push(extra);
        }
        let mock = MockWorkOs::start_with(seed).await.unwrap();
        let key = mock.api_key().to_owned();
        let key = Some(key.as_str());
        let (_, first) = list(&mock, "/connections?limit=3&order=asc", key).await;
        assert_eq!(
            ids(&first),
            ["conn_01ACMEOKTA", "conn_01GLOBEXENTRA", "conn_01GOOGLE"]
        );
        assert_eq!(first["list_metadata"]["before"], Value::Null);
        assert_eq!(first["list_metadata"]["after"], "conn_01GOOGLE");
        let (_, second) = list(
            &mock,
            "/connections?limit=3&order=asc&after=conn_01GOOGLE",
            key,
        )
        .await;
        assert_eq!(
            ids(&second),
            ["conn_01EXTRA0", "conn_01EXTRA1", "conn_01EXTRA2"]
        );
        assert_eq!(second["list_metadata"]["before"], "conn_01EXTRA0");
        let (_, last) = list(
            &mock,
            "/connections?limit=3&order=asc&after=conn_01EXTRA2",
            key,
        )
        .await;
        assert_eq!(ids(&last), ["conn_01EXTRA3", "conn_01EXTRA4"]);
        assert_eq!(last["list_metadata"]["after"], Value::Null);
        let (_, back) = list(
            &mock,
            "/connections?limit=2&order=asc&before=conn_01EXTRA0",
            key,
        )
        .await;
        assert_eq!(ids(&back), ["conn_01GLOBEXENTRA", "conn_01GOOGLE"]);
        // Newest first by default, ten at a time.
        let (_, newest) = list(&mock, "/connections", key).await;
        assert_eq!(ids(&newest)[0], "conn_01EXTRA4");
        assert_eq!(ids(&newest).len(), 8);
        for bad in ["limit=0", "limit=101", "limit=x", "order=sideways"] {
            let (status, _) = list(&mock, &format!("/connections?{bad}"), key).await;
            assert_eq!(status, 422, "{bad}");
        }
    }

    #[tokio::test]
    async fn both_lists_read_order_alike_and_normal_is_the_default_newest_first() {
        let mock = MockWorkOs::start().await.unwrap();
        let key = mock.api_key().to_owned();
        let key = Some(key.as_str());
        for list_path in ["/connections", "/organizations"] {
            let (_, default) = list(&mock, list_path, key).await;
            let (_, normal) = list(&mock, &format!("{list_path}?order=normal"), key).await;
            let (_, desc) = list(&mock, &format!("{list_path}?order=desc"), key).await;
            let (_, asc) = list(&mock, &format!("{list_path}?order=asc"), key).await;
            assert_eq!(ids(&normal), ids(&default), "{list_path}");
            assert_eq!(ids(&desc), ids(&default), "{list_path}");
            let mut oldest_first = ids(&default);
            oldest_first.reverse();
            assert_eq!(ids(&asc), oldest_first, "{list_path}");
            assert!(ids(&asc).len() > 1, "{list_path}: nothing to order");
        }
    }

    #[tokio::test]
    async fn organizations_are_filtered_by_their_domains() {
        let mock = MockWorkOs::start().await.unwrap();
        let key = mock.api_key().to_owned();
        let key = Some(key.as_str());
        let (status, page) = list(&mock, "/organizations?domains=example.com", key).await;
        assert_eq!(status, 200);
        assert_eq!(ids(&page), ["org_01ACME"]);
        assert_eq!(page["data"][0]["name"], "Acme Corp");
        assert_eq!(page["data"][0]["domains"][0]["state"], "verified");
        let both = "/organizations?domains=example.com&domains=globex.test&order=asc";
        let (_, page) = list(&mock, both, key).await;
        assert_eq!(ids(&page), ["org_01ACME", "org_01GLOBEX"]);
        let (_, all) = list(&mock, "/organizations", key).await;
        assert_eq!(ids(&all).len(), 2, "OAuth connections have no organization");
        assert_eq!(mock.requests(Endpoint::Organizations), 3);
    }
}
