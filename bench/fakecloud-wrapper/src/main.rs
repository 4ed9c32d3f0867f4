//! Serve fakecloud's Kinesis service, and nothing else, through fakecloud-core's dispatcher,
//! as fakecloud's own main does for every service: `fakecloud-kinesis-bench ADDR [REGION]`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use fakecloud_core::dispatch::{DispatchConfig, dispatch};
use fakecloud_core::multi_account::MultiAccountState;
use fakecloud_core::registry::ServiceRegistry;
use fakecloud_kinesis::{KinesisService, SharedKinesisState};

const ACCOUNT: &str = "000000000000";

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:4566".into())
        .parse()
        .expect("listen address");
    let region = args.next().unwrap_or_else(|| "us-east-1".into());
    let endpoint = format!("http://{addr}");

    let state: SharedKinesisState = Arc::new(parking_lot::RwLock::new(MultiAccountState::new(
        ACCOUNT, &region, &endpoint,
    )));
    let mut registry = ServiceRegistry::new();
    registry.register(Arc::new(KinesisService::new(state)));
    let app = axum::Router::new()
        .fallback(dispatch)
        .layer(Extension(Arc::new(registry)))
        .layer(Extension(Arc::new(DispatchConfig::new(region, ACCOUNT))));

    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .expect("serve");
}
