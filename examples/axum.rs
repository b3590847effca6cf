//! Sign in with WorkOS SSO in an Axum app.
//!
//! ```text
//! cargo run --example axum
//! ```
//!
//! With no WorkOS credentials in the environment it starts the crate's fake WorkOS, so you can
//! sign in at once as one of its seeded users (alice@example.com, ...). With `WORKOS_API_KEY`,
//! `WORKOS_CLIENT_ID` (and `SSO_SESSION_SECRET`, `SSO_DEFAULT_ORGANIZATION`, ...) set, it uses the
//! real WorkOS. `PORT` changes the port (default 3000).
//!
//! Multi-tenant sign-in: emails are routed by their domain through the WorkOS API (the fake
//! serves `GET /connections` for its seed: `example.com` is Acme's, `globex.test` Globex's), and
//! `GET /auth/session` answers who is signed in as JSON. With the fake,
//! `SSO_CHOOSER=1 cargo run --example axum` configures no default organization, so
//! `/auth/login` shows the sign-in chooser; `/t/acme/` and `/t/globex/` are each a tenant's
//! (a path-prefix tenant resolver). With real credentials, no `SSO_DEFAULT_*` and
//! `SSO_ALLOWED_ORGANIZATIONS=*`, `/auth/login` shows the chooser and routes by domain
//! through the WorkOS API.
//!
//! Operations: `GET /metrics` (public) is Prometheus text of the crate's metrics. With
//! `REDIS_URL` set (`redis://[:password@]host:port/db`), revocations and used login states are
//! shared through Redis, so several instances behind one load balancer agree; with
//! `WORKOS_WEBHOOK_SECRET` set, `POST /auth/webhooks/workos` takes WorkOS's events and ends the
//! sessions of deleted or deactivated connections and deleted organizations.

mod common;

use std::error::Error;

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use common::{Site, escape};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_workos_sso::client::{PortalIntent, WorkOsClient};
use tower_workos_sso::store::RedisStore;
use tower_workos_sso::{Guard, Profile, Selector, Session, SsoLayer, Tenant, TenantResolver};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let site = Site::from_env(3000);
    let dev = site.workos().await?;
    // The crate's metrics, rendered as Prometheus text at `/metrics`.
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    let mut builder = dev
        .builder
        .optional_paths(["/public"])
        .public_paths(["/favicon.ico", "/metrics"])
        .after_logout("/public")
        // The chooser's emails (and `/auth/login?email=...`) go by their domain to the
        // organization WorkOS knows for it, if the app admits it.
        .route_domains_through_workos();
    if dev.fake.is_some() {
        // Who may sign in: the default organization always, and here also the fake's Acme
        // (named for `SSO_CHOOSER=1`, where there is no default), Globex and Google OAuth.
        // Against the real WorkOS, say it with SSO_ALLOWED_ORGANIZATIONS (`*` for any),
        // SSO_ALLOWED_CONNECTIONS and SSO_ALLOWED_PROVIDERS instead.
        let org = |id: &str| Selector::organization(id).expect("a valid id");
        builder = builder
            .allowed_organizations(["org_01ACME", "org_01GLOBEX"])
            .allowed_providers(["GoogleOAuth"])
            // `/t/acme/...` is Acme's, `/t/globex/...` Globex's: signing in there needs no
            // query, and a session of the other organization counts as none.
            .tenant_resolver(TenantResolver::by_path_prefix(
                "/t/",
                [("acme", org("org_01ACME")), ("globex", org("org_01GLOBEX"))],
            ));
    }
    // Several instances: share revocations and login states through Redis.
    if let Ok(url) = std::env::var("REDIS_URL") {
        let store = RedisStore::new(&url)?;
        println!("Sharing sessions' revocations through {store:?}");
        builder = builder.session_store(store);
    }
    // WorkOS webhooks: register {origin}/auth/webhooks/workos in the WorkOS dashboard.
    if let Ok(secret) = std::env::var("WORKOS_WEBHOOK_SECRET") {
        builder = builder.workos_webhooks(secret);
        println!("WorkOS webhooks: POST {}/auth/webhooks/workos", site.origin);
    }
    let sso = SsoLayer::new(builder.build()?);
    let portal_return = format!("{}/admin", site.origin);

    let app = Router::new()
        // Signed in is not enough here: only admins (alice is one, bob is not) get in, and
        // the Admin Portal also wants a sign-in within the last 10 minutes (step-up).
        .route("/admin/portal", get(admin_portal))
        .route_layer(sso.require(
            Guard::role("admin").and(Guard::signed_in_within(Duration::from_secs(10 * 60))),
        ))
        .with_state((sso.workos().clone(), portal_return))
        .route("/admin", get(admin))
        .route_layer(sso.require(Guard::role("admin")))
        .route("/", get(home))
        .route("/t/{tenant}/", get(tenant_home))
        .route("/public", get(public))
        .route("/metrics", get(move || metrics(prometheus.clone())))
        .layer(sso);

    let listener = site.listen(&dev.notes).await?;
    println!("Open {}/ in a browser and sign in.", site.origin);
    if dev.fake.is_some() {
        println!("Seeded users: alice@example.com, bob@example.com (Acme, the default),");
        println!("carol@globex.test (Globex), erin@gmail.test (Google OAuth).");
        println!("Tenants: {0}/t/acme/ and {0}/t/globex/.", site.origin);
        println!("Or with curl:");
        println!("{}", site.curl_login("/"));
    }
    axum::serve(listener, app).await?;
    Ok(())
}

/// Protected: the layer sends visitors without a session through the sign-in first.
async fn home(profile: Profile, session: Session) -> Html<String> {
    let expires = session
        .expires_at
        .duration_since(std::time::SystemTime::now())
        .map_or(0, |left| left.as_secs() / 60);
    let rows = [
        ("Email", profile.email.to_string()),
        ("Name", profile.display_name()),
        (
            "Organization",
            profile
                .organization_id
                .as_deref()
                .unwrap_or("none")
                .to_owned(),
        ),
        ("Connection type", profile.connection_type.to_string()),
        ("Connection", profile.connection_id.to_string()),
        (
            "Session ends in",
            format!("{expires} min unless you stay active"),
        ),
    ];
    let rows: String = rows
        .iter()
        .map(|(k, v)| format!("<tr><th>{k}</th><td>{}</td></tr>", escape(v)))
        .collect();
    page(
        "Signed in",
        &format!(
            "<h1>Hello, {name}</h1>\
             <p>You are signed in through WorkOS single sign-on.</p>\
             <table>{rows}</table>\
             <form method=\"post\" action=\"/auth/logout\"><button>Log out</button></form>\
             <p><a href=\"/public\">A public page</a> · \
             <a href=\"/admin\">The admin page</a> (admins only) · \
             <a href=\"/auth/session\">The session as JSON</a> (what a single-page app asks)</p>",
            name = escape(&profile.display_name()),
        ),
    )
}

/// A tenant's page: only its organization's users get in; others are sent to sign in to it.
async fn tenant_home(profile: Profile, tenant: Tenant) -> Html<String> {
    let organization = tenant.organization_id().unwrap_or("-");
    page(
        "Tenant",
        &format!(
            "<h1>{org}</h1><p>{email} belongs to this tenant.</p>\
             <p><a href=\"/auth/session\">Who am I (JSON)</a> · <a href=\"/\">Home</a></p>",
            org = escape(organization),
            email = escape(&profile.email),
        ),
    )
}

/// Guarded: only signed-in users with the `admin` role; others get a 403 page.
async fn admin(profile: Profile) -> Html<String> {
    page(
        "Admin",
        &format!(
            "<h1>Admin</h1><p>{} holds the admin role.</p>\
             <p><a href=\"/admin/portal\">Set up your organization's SSO</a> (WorkOS Admin Portal)</p>\
             <p><a href=\"/\">Home</a></p>",
            escape(&profile.email)
        ),
    )
}

/// Guarded (admins who signed in recently): a WorkOS Admin Portal link for the admin's own
/// organization, where their IT admin configures its SSO connection.
async fn admin_portal(
    State((workos, return_url)): State<(WorkOsClient, String)>,
    profile: Profile,
) -> Response {
    let Some(organization) = profile.organization_id.as_deref() else {
        return (
            StatusCode::NOT_FOUND,
            "This account belongs to no organization.",
        )
            .into_response();
    };
    match workos
        .generate_portal_link(organization, PortalIntent::Sso, Some(&return_url))
        .await
    {
        Ok(link) => Redirect::to(link.url()).into_response(),
        Err(error) => {
            eprintln!("Admin Portal link failed: {error}");
            (
                StatusCode::BAD_GATEWAY,
                "The Admin Portal is not available.",
            )
                .into_response()
        }
    }
}

/// Public (no session read): Prometheus text of the crate's metrics (README "Metrics").
async fn metrics(prometheus: PrometheusHandle) -> String {
    prometheus.render()
}

/// Listed in `optional_paths`: it needs no session, but sees one if there is.
async fn public(profile: Option<Profile>) -> Html<String> {
    let who = match profile {
        Some(p) => format!(
            "You are signed in as <b>{}</b>. <a href=\"/\">Home</a>",
            escape(&p.email)
        ),
        None => "You are not signed in, and that is fine here.".to_owned(),
    };
    page(
        "Public page",
        &format!(
            "<h1>Public page</h1><p>This page needs no login.</p><p>{who}</p>\
             <h2>Sign in</h2>\
             <form method=\"get\" action=\"/auth/login\"><label>Work email \
             <input type=\"email\" name=\"email\" placeholder=\"carol@globex.test\" required></label> \
             <button>Continue</button></form>\
             <p>The email's domain picks the organization (domain routing).</p><ul>\
             <li><a href=\"/auth/login\">With the default organization</a> (the chooser when there is none)</li>\
             <li><a href=\"/auth/login?organization=org_01GLOBEX\">With Globex</a> (fake WorkOS)</li>\
             <li><a href=\"/auth/login?provider=GoogleOAuth\">With Google OAuth</a> (fake WorkOS)</li>\
             </ul>"
        ),
    )
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(common::page(title, body))
}
