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

use std::error::Error;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use tower_workos_sso::testkit::DevSetup;
use tower_workos_sso::{Profile, Session, SsoLayer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_workos_sso=debug".into()),
        )
        .init();

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let origin = format!("http://localhost:{port}");
    let dev = DevSetup::from_env_or_fake(&format!("{origin}/auth/callback")).await?;
    let config = dev
        .builder
        .public_paths(["/public", "/favicon.ico"])
        .after_logout("/public")
        .build()?;
    let sso = SsoLayer::new(config);

    let app = Router::new()
        .route("/", get(home))
        .route("/public", get(public))
        .layer(sso);

    // Bind first, then tell people where to go.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    for note in &dev.notes {
        println!("{note}");
    }
    println!();
    println!("Open {origin}/ in a browser and sign in.");
    if dev.fake.is_some() {
        println!("Seeded users: alice@example.com, bob@example.com (Acme, the default),");
        println!("carol@globex.test (Globex), erin@gmail.test (Google OAuth).");
        println!("Or with curl:");
        println!(
            "  curl -sL -c jar -b jar '{origin}/auth/login?login_hint=alice@example.com&return_to=/'"
        );
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
        ("Email", profile.email.clone()),
        ("Name", profile.display_name()),
        (
            "Organization",
            profile
                .organization_id
                .clone()
                .unwrap_or_else(|| "none".into()),
        ),
        ("Connection type", profile.connection_type.clone()),
        ("Connection", profile.connection_id.clone()),
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
             <p><a href=\"/public\">A public page</a></p>",
            name = escape(&profile.display_name()),
        ),
    )
}

/// Public: listed in `public_paths`, so it needs no session, but sees one if there is.
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
            "<h1>Public page</h1><p>Public paths need no login.</p><p>{who}</p>\
             <h2>Sign in</h2><ul>\
             <li><a href=\"/auth/login\">With the default organization</a></li>\
             <li><a href=\"/auth/login?organization=org_01GLOBEX\">With Globex</a> (fake WorkOS)</li>\
             <li><a href=\"/auth/login?provider=GoogleOAuth\">With Google OAuth</a> (fake WorkOS)</li>\
             </ul>"
        ),
    )
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2328}}\
         table{{border-collapse:collapse;margin:1rem 0}}th,td{{text-align:left;padding:.35rem 1rem .35rem 0;border-bottom:1px solid #d0d7de}}\
         button{{background:#5b5bd6;color:#fff;border:0;border-radius:8px;padding:.55rem 1.1rem;font-size:1rem;cursor:pointer}}</style>\
         </head><body>{body}</body></html>"
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
