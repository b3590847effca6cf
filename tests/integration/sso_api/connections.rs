//! The Connections API over HTTP against the fake: list with filters and cursors, the stream
//! over every page, get and delete; and how its failures map, with bounded work.

use std::time::Duration;

use tower_workos_sso::client::{
    ConnectionState, ListConnections, Order, WorkOsClient, WorkOsError,
};
use tower_workos_sso::testkit::{Endpoint, Fault, MockWorkOs};

async fn all(workos: &WorkOsClient, query: ListConnections) -> Result<Vec<String>, WorkOsError> {
    let mut stream = workos.connections(query);
    let mut ids = Vec::new();
    while let Some(connection) = stream.next().await {
        ids.push(connection?.id);
    }
    Ok(ids)
}

#[tokio::test]
async fn the_connections_api_lists_pages_streams_gets_and_deletes() {
    let fake = MockWorkOs::start().await.unwrap();
    let workos = WorkOsClient::with_api_key(fake.api_key(), &fake.base_url()).unwrap();

    // Newest first by default; one page at a time with the cursors.
    let first = workos
        .list_connections(&ListConnections::new().limit(2))
        .await
        .unwrap();
    let ids: Vec<&str> = first.data.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["conn_01GOOGLE", "conn_01GLOBEXENTRA"]);
    assert_eq!(first.list_metadata.before, None);
    let after = first.list_metadata.after.clone().unwrap();
    let second = workos
        .list_connections(&ListConnections::new().limit(2).after(&after))
        .await
        .unwrap();
    assert_eq!(second.data.len(), 1);
    assert_eq!(second.data[0].id, "conn_01ACMEOKTA");
    assert_eq!(second.list_metadata.after, None);
    let back = workos
        .list_connections(&ListConnections::new().limit(2).before("conn_01ACMEOKTA"))
        .await
        .unwrap();
    assert_eq!(back.data.len(), 2);

    // The stream walks every page, in the asked order.
    assert_eq!(
        all(&workos, ListConnections::new().limit(1).order(Order::Asc))
            .await
            .unwrap(),
        ["conn_01ACMEOKTA", "conn_01GLOBEXENTRA", "conn_01GOOGLE"]
    );
    assert!(fake.requests(Endpoint::Connections) >= 5);

    // Filters.
    let only = |query| async { all(&workos, query).await.unwrap() };
    assert_eq!(
        only(ListConnections::new().organization_id("org_01ACME")).await,
        ["conn_01ACMEOKTA"]
    );
    assert_eq!(
        only(ListConnections::new().connection_type("GoogleOAuth")).await,
        ["conn_01GOOGLE"]
    );
    assert_eq!(
        only(ListConnections::new().domain("globex.test")).await,
        ["conn_01GLOBEXENTRA"]
    );
    assert!(
        only(ListConnections::new().domain("nowhere.test"))
            .await
            .is_empty()
    );

    // Get, typed per the spec.
    let acme = workos.get_connection("conn_01ACMEOKTA").await.unwrap();
    assert_eq!(acme.organization_id.as_deref(), Some("org_01ACME"));
    assert_eq!(acme.connection_type, "OktaSAML");
    assert_eq!(acme.state, ConnectionState::Active);
    assert_eq!(acme.name, "Acme Corp");
    assert_eq!(acme.domains[0].domain, "example.com");
    assert!(acme.options.is_some(), "SAML connections have options");

    // Delete: gone from get, delete and list.
    workos
        .delete_connection("conn_01GLOBEXENTRA")
        .await
        .unwrap();
    assert_eq!(
        workos
            .get_connection("conn_01GLOBEXENTRA")
            .await
            .unwrap_err(),
        WorkOsError::NotFound
    );
    assert_eq!(
        workos
            .delete_connection("conn_01GLOBEXENTRA")
            .await
            .unwrap_err(),
        WorkOsError::NotFound
    );
    assert_eq!(all(&workos, ListConnections::new()).await.unwrap().len(), 2);
}

#[tokio::test]
async fn connections_calls_map_failures_and_bound_their_work() {
    let fake = MockWorkOs::start().await.unwrap();
    let workos = WorkOsClient::with_api_key(fake.api_key(), &fake.base_url()).unwrap();

    // A key WorkOS does not know: refused, with a hint, and the key nowhere in the error.
    let stranger =
        WorkOsClient::with_api_key("sk_test_unknown_key_1234", &fake.base_url()).unwrap();
    let refused = stranger
        .get_connection("conn_01ACMEOKTA")
        .await
        .unwrap_err();
    assert!(
        matches!(refused, WorkOsError::Rejected { status: 401, .. }),
        "{refused:?}"
    );
    assert!(refused.hint().unwrap().contains("WORKOS_API_KEY"));
    assert!(!format!("{refused:?} {refused}").contains("unknown_key"));

    // Bad input never reaches WorkOS.
    let before = fake.requests(Endpoint::Connections);
    for bad in [
        workos.get_connection("../sso/token").await,
        workos.get_connection("conn_1?x=1").await,
    ] {
        assert!(matches!(bad, Err(WorkOsError::InvalidInput(_))), "{bad:?}");
    }
    let too_many = workos
        .list_connections(&ListConnections::new().limit(101))
        .await;
    assert!(matches!(too_many, Err(WorkOsError::InvalidInput(_))));
    assert_eq!(fake.requests(Endpoint::Connections), before);

    // WorkOS failing: each maps to its error.
    let cases = [
        (Fault::status(503), WorkOsError::ServerError { status: 503 }),
        (
            Fault::status(429),
            WorkOsError::RateLimited { retry_after: None },
        ),
        (
            Fault::Body(vec![b' '; 300 * 1024]),
            WorkOsError::BadResponse("the response is too large"),
        ),
        (
            Fault::Body(b"<html>".to_vec()),
            WorkOsError::BadResponse("the connection list is not the expected JSON"),
        ),
    ];
    for (fault, expected) in cases {
        fake.set_fault(Endpoint::Connections, Some(fault));
        let error = workos
            .list_connections(&ListConnections::new())
            .await
            .unwrap_err();
        assert_eq!(error, expected);
    }

    // A cursor that never moves ends the stream with an error instead of looping.
    let stuck = serde_json::json!({
        "object": "list", "data": [], "list_metadata": {"before": null, "after": "conn_01STUCK"}
    });
    fake.set_fault(
        Endpoint::Connections,
        Some(Fault::Body(stuck.to_string().into_bytes())),
    );
    let error = all(&workos, ListConnections::new()).await.unwrap_err();
    assert_eq!(
        error,
        WorkOsError::BadResponse("the list cursor did not move")
    );
    fake.set_fault(Endpoint::Connections, None);

    // More pages than allowed: an error, not an endless walk.
    let mut capped = workos
        .connections(ListConnections::new().limit(1))
        .max_pages(2);
    let mut seen = Vec::new();
    while let Some(item) = capped.next().await {
        seen.push(item);
    }
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1], Err(WorkOsError::TooManyPages));

    // A hanging WorkOS times out with the layer's timeouts.
    let config = crate::support::harness::config_for(&fake, "http://localhost:3000")
        .workos_timeouts(Duration::from_millis(300), Duration::from_millis(300))
        .build()
        .unwrap();
    let layered = WorkOsClient::new(&config);
    fake.set_fault(Endpoint::Connections, Some(Fault::Hang));
    assert_eq!(
        layered.get_connection("conn_01ACMEOKTA").await.unwrap_err(),
        WorkOsError::Timeout
    );
}

#[tokio::test]
async fn a_stream_started_before_a_connection_keeps_paging_backwards() {
    // Newest first: Initech, Google, Globex, Acme.
    let fake = MockWorkOs::start_with(super::app::seed_with_oidc())
        .await
        .unwrap();
    let workos = WorkOsClient::with_api_key(fake.api_key(), &fake.base_url()).unwrap();
    let before_acme = ListConnections::new().limit(2).before("conn_01ACMEOKTA");
    let page = workos.list_connections(&before_acme).await.unwrap();
    let ids: Vec<&str> = page.data.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["conn_01GOOGLE", "conn_01GLOBEXENTRA"]);
    assert_eq!(page.list_metadata.before.as_deref(), Some("conn_01GOOGLE"));

    // The stream walks away from the cursor, nearest first, and never past it.
    let requests = fake.requests(Endpoint::Connections);
    assert_eq!(
        all(&workos, before_acme).await.unwrap(),
        ["conn_01GLOBEXENTRA", "conn_01GOOGLE", "conn_01INITECHOIDC"]
    );
    assert_eq!(fake.requests(Endpoint::Connections), requests + 2);
    assert_eq!(
        all(
            &workos,
            ListConnections::new().limit(1).before("conn_01GLOBEXENTRA")
        )
        .await
        .unwrap(),
        ["conn_01GOOGLE", "conn_01INITECHOIDC"]
    );
    // `after` still walks forwards.
    assert_eq!(
        all(
            &workos,
            ListConnections::new().limit(1).after("conn_01GOOGLE")
        )
        .await
        .unwrap(),
        ["conn_01GLOBEXENTRA", "conn_01ACMEOKTA"]
    );

    // A `before` cursor that does not move ends the stream with an error too.
    let stuck = serde_json::json!({
        "object": "list", "data": [], "list_metadata": {"before": "conn_01ACMEOKTA", "after": null}
    });
    fake.set_fault(
        Endpoint::Connections,
        Some(Fault::Body(stuck.to_string().into_bytes())),
    );
    assert_eq!(
        all(&workos, ListConnections::new().before("conn_01ACMEOKTA"))
            .await
            .unwrap_err(),
        WorkOsError::BadResponse("the list cursor did not move")
    );
}

#[tokio::test]
async fn a_standalone_client_takes_its_own_timeouts() {
    let fake = MockWorkOs::start().await.unwrap();
    let quick = WorkOsClient::with_api_key(fake.api_key(), &fake.base_url())
        .unwrap()
        .with_timeouts(Duration::from_millis(200), Duration::from_millis(300))
        .unwrap();
    assert!(
        quick
            .get_connection("conn_01ACMEOKTA")
            .await
            .is_ok_and(|c| c.id == "conn_01ACMEOKTA")
    );
    fake.set_fault(Endpoint::Connections, Some(Fault::Hang));
    let started = std::time::Instant::now();
    assert_eq!(
        quick.get_connection("conn_01ACMEOKTA").await.unwrap_err(),
        WorkOsError::Timeout
    );
    // The default would wait 15 s.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    for (connect, total) in [
        (Duration::ZERO, Duration::from_secs(1)),
        (Duration::from_secs(1), Duration::ZERO),
    ] {
        let refused = WorkOsClient::with_api_key(fake.api_key(), &fake.base_url())
            .unwrap()
            .with_timeouts(connect, total)
            .unwrap_err();
        assert_eq!(refused.setting(), "workos_timeouts");
    }
}
