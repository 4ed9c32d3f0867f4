//! The AWS emulator: one HTTP port serving the emulated services over their real wire
//! protocols, so that AWS SDKs, the AWS CLI and this operator cannot tell it from AWS.
//!
//! It never imports controller code; the operator reaches it over HTTP like it reaches AWS.

pub mod auth;
pub mod clock;
pub mod dispatch;
pub mod error;
pub mod faults;
pub mod fuzz;
pub mod kinesis;
pub mod protocol;
mod server;
pub mod storage;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use clock::Clock;
use faults::{Fault, Faults};
use kinesis::Kinesis;

/// How the emulator runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Account of requests whose access key is not a 12-digit account ID.
    pub account_id: String,
    /// Kinesis behaviour (delays, limits).
    pub kinesis: kinesis::Settings,
    /// Injected faults.
    pub faults: Vec<Fault>,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Where state is stored so that it survives restarts and crashes; memory only when
    /// `None`.
    pub data_dir: Option<std::path::PathBuf>,
    /// When set, requests must carry a valid SigV4 signature by one of these credentials.
    pub sigv4: Option<Vec<auth::Credential>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            account_id: "000000000000".to_owned(),
            kinesis: kinesis::Settings::default(),
            faults: Vec::new(),
            max_body_bytes: 24 << 20,
            data_dir: None,
            sigv4: None,
        }
    }
}

/// Every emulated service, shared by the connections.
pub struct Services {
    config: Config,
    stopping: watch::Receiver<bool>,
    verifier: Option<auth::Verifier>,
    clock: Arc<Clock>,
    faults: Faults,
    kinesis: Kinesis,
}

impl Services {
    /// True once shutdown began: long-lived answers (event streams) end.
    fn stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    fn health(&self) -> serde_json::Value {
        serde_json::json!({"status": "ok", "services": {"kinesis": "running"}})
    }
}

/// A running emulator.
pub struct Emulator {
    addr: SocketAddr,
    services: Arc<Services>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Emulator {
    /// Opens the data directory (if any), binds the listener and starts serving.
    pub async fn start(config: Config) -> std::io::Result<Emulator> {
        let clock = Arc::new(Clock::default());
        let kinesis = match &config.data_dir {
            None => Kinesis::new(config.kinesis.clone(), clock.clone()),
            Some(dir) => {
                let storage = storage::Storage::open(dir).map_err(|e| {
                    std::io::Error::other(format!("data directory {}: {e}", dir.display()))
                })?;
                Kinesis::with_storage(config.kinesis.clone(), clock.clone(), Arc::new(storage))
                    .map_err(|e| {
                        std::io::Error::other(format!("data directory {}: {e}", dir.display()))
                    })?
            }
        };
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (shutdown, receiver) = watch::channel(false);
        let services = Arc::new(Services {
            stopping: receiver.clone(),
            verifier: config.sigv4.as_deref().map(auth::Verifier::new),
            faults: Faults::new(config.faults.clone()),
            kinesis,
            clock,
            config,
        });
        let task = tokio::spawn(server::serve(listener, services.clone(), receiver));
        Ok(Emulator {
            addr,
            services,
            shutdown,
            task,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, for `--endpoint-url` and SDK clients.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The emulator's clock; tests advance it to expire iterators and budgets.
    pub fn clock(&self) -> &Clock {
        &self.services.clock
    }

    /// Stops accepting connections and waits for open requests to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    /// Waits until the server task ends (it ends only after [`Emulator::shutdown`]).
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }

    /// Asks the server to stop without waiting.
    pub fn request_shutdown(&self) {
        let _ = self.shutdown.send(true);
    }
}
