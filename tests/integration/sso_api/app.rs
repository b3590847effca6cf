//! A test app with routes of its own (a step-up guarded page, an admin portal route) on the
//! harness's configuration, and a seed with an OIDC connection (IdP logout needs one).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use axum::Router;
use tower_workos_sso::testkit::{MockWorkOs, Seed, SeedConnection, SeedUser};
use tower_workos_sso::{SsoConfigBuilder, SsoLayer};

use crate::support::harness::config_for;

/// The default seed plus Initech on a GenericOIDC connection (peter@initech.test).
pub fn seed_with_oidc() -> Seed {
    let mut seed = Seed::default();
    seed.connections.push(SeedConnection {
        id: "conn_01INITECHOIDC".into(),
        organization_id: Some("org_01INITECH".into()),
        organization_name: Some("Initech".into()),
        connection_type: "GenericOIDC".into(),
        users: vec![SeedUser {
            profile_id: "prof_01PETER".into(),
            email: "peter@initech.test".into(),
            first_name: Some("Peter".into()),
            last_name: Some("Gibbons".into()),
            idp_id: "oidc|peter".into(),
            role: Some("admin".into()),
            groups: Vec::new(),
        }],
        domains: vec!["initech.test".into()],
        state: "active".into(),
    });
    seed
}

/// An app of `routes` behind the layer, with a clock the test moves.
pub struct Custom {
    pub base: String,
    pub workos: MockWorkOs,
    offset: Arc<AtomicU64>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Custom {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Custom {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn advance(&self, by: Duration) {
        self.offset.fetch_add(by.as_secs(), Ordering::SeqCst);
    }
}

/// Binds, builds the layer from the harness configuration (Acme by default) adjusted by
/// `configure`, lets `routes` use the layer (for guards), then serves.
pub async fn start(
    workos: MockWorkOs,
    configure: impl FnOnce(SsoConfigBuilder) -> SsoConfigBuilder,
    routes: impl FnOnce(&SsoLayer) -> Router,
) -> Custom {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let offset = Arc::new(AtomicU64::new(0));
    let clock = offset.clone();
    let builder = config_for(&workos, &base)
        .clock(move || SystemTime::now() + Duration::from_secs(clock.load(Ordering::SeqCst)));
    let layer = SsoLayer::new(configure(builder).build().expect("valid test config"));
    let app = routes(&layer).layer(layer.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Custom {
        base,
        workos,
        offset,
        server,
    }
}
