//! The Connections API in the fake: the seeded connections as WorkOS `Connection` objects,
//! listed with filters and cursor pages, fetched and deleted by id.

use http::{StatusCode, Uri};
use serde_json::{Value, json};

use super::directory::newest_first;
use super::reply::{Reply, json_reply, reply};
use super::request::Params;
use super::seed::Seed;
use super::state::{Shared, lock};

/// The WorkOS `Connection` object of seeded connection `index`. Connections are "created" a
/// second apart in seed order, so `order` has something to sort by.
fn connection_json(seed: &Seed, index: usize) -> Value {
    let connection = &seed.connections[index];
    let domains: Vec<Value> = connection
        .domains
        .iter()
        .map(|domain| {
            json!({ "object": "connection_domain", "id": format!("conn_domain_{}_{domain}", connection.id), "domain": domain })
        })
        .collect();
    let at = format!(
        "2026-01-15T12:{:02}:{:02}.000Z",
        index / 60 % 60,
        index % 60
    );
    let mut object = json!({
        "object": "connection",
        "id": connection.id,
        "organization_id": connection.organization_id,
        "connection_type": connection.connection_type,
        "name": connection.organization_name.clone().unwrap_or_else(|| connection.connection_type.clone()),
        "state": connection.state,
        "status": if connection.state == "active" { "linked" } else { "unlinked" },
        "domains": domains,
        "created_at": at,
        "updated_at": at,
    });
    if connection.connection_type.ends_with("SAML") {
        object["options"] = json!({ "signing_cert": null });
    }
    object
}

fn unprocessable(message: &str) -> Reply {
    json_reply(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({ "code": "invalid_request_parameters", "message": message }),
    )
}

fn not_found() -> Reply {
    json_reply(
        StatusCode::NOT_FOUND,
        &json!({ "code": "entity_not_found", "message": "Connection not found." }),
    )
}

/// The live (not deleted) connection with this id, by seed index.
fn find(shared: &Shared, id: &str) -> Option<usize> {
    let deleted = lock(&shared.api.deleted);
    (shared.seed.connections.iter())
        .position(|c| c.id == id)
        .filter(|_| !deleted.contains(id))
}

/// `GET /connections`: filters, then `order`, then the page the cursor names.
pub(super) fn list(shared: &Shared, uri: &Uri) -> Reply {
    let params = Params::parse(uri);
    let limit = match params.get("limit").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(limit)) if (1..=100).contains(&limit) => limit,
        Some(_) => return unprocessable("limit must be between 1 and 100."),
    };
    let Some(newest_first) = newest_first(params.get("order")) else {
        return unprocessable("order must be one of normal, desc, asc.");
    };
    let seed = &shared.seed;
    let deleted = lock(&shared.api.deleted).clone();
    let mut matching: Vec<usize> = (0..seed.connections.len())
        .filter(|&i| {
            let c = &seed.connections[i];
            let domain = params.get("domain");
            !deleted.contains(&c.id)
                && params
                    .get("organization_id")
                    .is_none_or(|org| c.organization_id.as_deref() == Some(org))
                && params
                    .get("connection_type")
                    .is_none_or(|kind| c.connection_type == kind)
                && domain
                    .is_none_or(|domain| c.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)))
        })
        .collect();
    if newest_first {
        matching.reverse();
    }
    let position = |id: &str| matching.iter().position(|&i| seed.connections[i].id == id);
    let (start, end) = match (params.get("after"), params.get("before")) {
        (Some(after), _) => {
            let start = position(after).map_or(matching.len(), |at| at + 1);
            (start, (start + limit).min(matching.len()))
        }
        (None, Some(before)) => {
            let end = position(before).unwrap_or(0);
            (end.saturating_sub(limit), end)
        }
        (None, None) => (0, limit.min(matching.len())),
    };
    let page = &matching[start..end];
    let id = |i: usize| seed.connections[i].id.clone();
    let before = (start > 0 && !page.is_empty()).then(|| id(page[0]));
    let after = (end < matching.len() && !page.is_empty()).then(|| id(page[page.len() - 1]));
    let data: Vec<Value> = page.iter().map(|&i| connection_json(seed, i)).collect();
    json_reply(
        StatusCode::OK,
        &json!({
            "object": "list",
            "data": data,
            "list_metadata": { "before": before, "after": after },
        }),
    )
}

/// `GET /connections/{id}`.
pub(super) fn get(shared: &Shared, id: &str) -> Reply {
    match find(shared, id) {
        Some(index) => json_reply(StatusCode::OK, &connection_json(&shared.seed, index)),
        None => not_found(),
    }
}

/// `DELETE /connections/{id}`: gone from then on (list, get, delete).
pub(super) fn delete(shared: &Shared, id: &str) -> Reply {
    if find(shared, id).is_none() {
        return not_found();
    }
    lock(&shared.api.deleted).insert(id.to_owned());
    reply(StatusCode::NO_CONTENT, "application/json", "")
}
