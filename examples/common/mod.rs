//! What the examples share and what is not about single sign-on: logging, the port, WorkOS (the
//! real one or the built-in fake), binding and telling people where to go, and HTML helpers.
//!
//! A folder with `mod.rs`, so cargo does not take it for an example; each one says `mod common;`.

use std::error::Error;

use tokio::net::TcpListener;
use tower_workos_sso::testkit::DevSetup;

/// Where an example serves: `127.0.0.1:PORT`, opened as `http://localhost:PORT`.
pub struct Site {
    pub port: u16,
    pub origin: String,
}

impl Site {
    /// Turns logging on (`RUST_LOG`, else info and the crate's debug lines) and reads `PORT`.
    pub fn from_env(default_port: u16) -> Site {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info,tower_workos_sso=debug".into()),
            )
            .init();
        let port = std::env::var("PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(default_port);
        Site {
            port,
            origin: format!("http://localhost:{port}"),
        }
    }

    /// The real WorkOS when its credentials are set, else the built-in fake, with this site's
    /// `/auth/callback` as the redirect URI.
    pub async fn workos(&self) -> Result<DevSetup, Box<dyn Error>> {
        DevSetup::from_env_or_fake(&format!("{}/auth/callback", self.origin)).await
    }

    /// Binds first, then prints the set-up's notes and a blank line; the example goes on to say
    /// where to go.
    pub async fn listen(&self, notes: &[String]) -> std::io::Result<TcpListener> {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await?;
        for note in notes {
            println!("{note}");
        }
        println!();
        Ok(listener)
    }

    /// The whole sign-in with curl as the fake's alice@example.com, ending on `return_to`.
    pub fn curl_login(&self, return_to: &str) -> String {
        format!(
            "  curl -sL -c jar -b jar '{}/auth/login?login_hint=alice@example.com&return_to={return_to}'",
            self.origin
        )
    }
}

/// A whole HTML page, in the examples' one style.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2328}}\
         table{{border-collapse:collapse;margin:1rem 0}}th,td{{text-align:left;padding:.35rem 1rem .35rem 0;border-bottom:1px solid #d0d7de}}\
         button{{background:#5b5bd6;color:#fff;border:0;border-radius:8px;padding:.55rem 1.1rem;font-size:1rem;cursor:pointer}}</style>\
         </head><body>{body}</body></html>"
    )
}

/// Text made safe inside HTML, for what comes from the profile.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
