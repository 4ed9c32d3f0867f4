//! Serve fakecloud's Firehose and S3 services together, and nothing else, through
//! fakecloud-core's dispatcher, wired the way fakecloud's own main wires them (Firehose writes
//! into the S3 state): `fakecloud-firehose-bench ADDR [REGION]`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use fakecloud_core::delivery::DeliveryBus;
use fakecloud_core::dispatch::{DispatchConfig, dispatch};
use fakecloud_core::multi_account::MultiAccountState;
use fakecloud_core::registry::ServiceRegistry;
use fakecloud_firehose::FirehoseService;
use fakecloud_s3::SharedS3State;
use fakecloud_s3::S3Service;

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

    let s3_state: SharedS3State = Arc::new(parking_lot::RwLock::new(MultiAccountState::new(
        ACCOUNT, &region, &endpoint,
    )));
    let firehose_state = Arc::new(parking_lot::RwLock::new(
        fakecloud_firehose::FirehoseAccounts::new(),
    ));
    let mut registry = ServiceRegistry::new();
    registry.register(Arc::new(S3Service::new(
        s3_state.clone(),
        Arc::new(DeliveryBus::new()),
    )));
    registry.register(Arc::new(
        FirehoseService::new(firehose_state).with_s3(s3_state),
    ));
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
