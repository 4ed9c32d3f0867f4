//! The AWS emulator: one HTTP port serving the emulated services over their real wire
//! protocols, so that AWS SDKs, the AWS CLI and this operator cannot tell it from AWS.
//!
//! It never imports controller code; the operator reaches it over HTTP like it reaches AWS.

pub mod analytics;
pub mod auth;
pub mod clock;
pub mod cors;
pub mod dates;
pub mod dispatch;
pub mod error;
pub mod faults;
pub mod firehose;
pub mod fuzz;
pub mod iam;
pub mod kinesis;
pub mod protocol;
pub mod rest;
pub mod s3;
mod server;
pub mod storage;
pub mod sts;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use analytics::Analytics;
use clock::Clock;
use faults::{Fault, Faults};
use firehose::Firehose;
use iam::Iam;
use kinesis::Kinesis;
use s3::S3;
use sts::Sts;

/// How the emulator runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Account of requests whose access key is not a 12-digit account ID.
    pub account_id: String,
    /// Kinesis behaviour (delays, limits).
    pub kinesis: kinesis::Settings,
    /// Firehose behaviour (delays, limits, flush interval).
    pub firehose: firehose::Settings,
    /// Managed Service for Apache Flink behaviour (delays, the runner JVMs).
    pub analytics: analytics::Settings,
    /// Injected faults.
    pub faults: Vec<Fault>,
    /// Largest request body accepted by the JSON-RPC and query services.
    pub max_body_bytes: usize,
    /// Largest S3 request body (one PutObject or UploadPart) accepted.
    pub max_object_bytes: usize,
    /// Where state is stored so that it survives restarts and crashes; memory only when
    /// `None`.
    pub data_dir: Option<std::path::PathBuf>,
    /// When set, requests must carry a valid SigV4 signature by one of these credentials.
    pub sigv4: Option<Vec<auth::Credential>>,
    /// With `sigv4`: access keys made by IAM's `CreateAccessKey` sign requests too, and their
    /// users' policies decide what each request may do.
    pub iam_enforce: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            account_id: "000000000000".to_owned(),
            kinesis: kinesis::Settings::default(),
            firehose: firehose::Settings::default(),
            analytics: analytics::Settings::default(),
            faults: Vec::new(),
            max_body_bytes: 24 << 20,
            max_object_bytes: 256 << 20,
            data_dir: None,
            sigv4: None,
            iam_enforce: false,
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
    kinesis: Arc<Kinesis>,
    firehose: Arc<Firehose>,
    analytics: Arc<Analytics>,
    s3: Arc<S3>,
    iam: Iam,
    sts: Sts,
}

impl Services {
    /// True once shutdown began: long-lived answers (event streams) end.
    fn stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Checks the request's signature when `--auth sigv4` is on and says who signed it: an
    /// IAM user (under `--iam-enforce`), a role session (its token checked first: a wrong,
    /// missing or expired token is refused even with a right signature), or else the
    /// account's root. Without `--auth sigv4` every caller is the root.
    fn authenticate(
        &self,
        signed: &auth::SignedRequest<'_>,
    ) -> Result<iam::enforce::Caller, error::AwsError> {
        use iam::enforce::Caller;
        let Some(verifier) = &self.verifier else {
            return Ok(Caller::Root);
        };
        let now = self.clock.now_ms();
        let session = match sts::sessions::presented(signed) {
            (Some(key), token) if key.starts_with("ASIA") => {
                self.sts.check(&key, token.as_deref())?
            }
            _ => None,
        };
        let secret_of = |key: &str| match &session {
            Some(s) if s.stored.access_key == key => Some(s.stored.secret.clone()),
            _ if self.config.iam_enforce => self
                .iam
                .key_owner(key)
                .filter(|owner| owner.active)
                .map(|owner| owner.secret),
            _ => None,
        };
        let key = verifier.verify_with(signed, now, &secret_of)?;
        if let Some(s) = session.filter(|s| s.stored.access_key == key) {
            return Ok(Caller::Role(s.caller.clone()));
        }
        Ok(match self.iam.key_owner(&key) {
            Some(owner) if self.config.iam_enforce => Caller::User(owner),
            _ => Caller::Root,
        })
    }

    /// Who a request says it is by its access key alone, when signatures are not checked
    /// (`GetCallerIdentity` under `--auth none`): a role session, an IAM user, or the root.
    fn identify_unchecked(&self, signed: &auth::SignedRequest<'_>) -> iam::enforce::Caller {
        use iam::enforce::Caller;
        let Some(key) = sts::sessions::presented(signed).0 else {
            return Caller::Root;
        };
        if let Some(session) = self.sts.session(&key) {
            return Caller::Role(session.caller.clone());
        }
        self.iam.key_owner(&key).map_or(Caller::Root, Caller::User)
    }

    fn health(&self) -> serde_json::Value {
        serde_json::json!({"status": "ok", "services": {
            "kinesis": "running",
            "firehose": "running",
            "kinesisanalytics": "running",
            "s3": "running",
            "iam": "running",
            "sts": "running",
        }})
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
        let in_dir = |e: &dyn std::fmt::Display| match &config.data_dir {
            Some(dir) => std::io::Error::other(format!("data directory {}: {e}", dir.display())),
            None => std::io::Error::other(e.to_string()),
        };
        let storage = match &config.data_dir {
            None => None,
            Some(dir) => Some(Arc::new(
                storage::Storage::open(dir).map_err(|e| in_dir(&e))?,
            )),
        };
        let kinesis = Arc::new(match &storage {
            None => Kinesis::new(config.kinesis.clone(), clock.clone()),
            Some(storage) => {
                Kinesis::with_storage(config.kinesis.clone(), clock.clone(), storage.clone())
                    .map_err(|e| in_dir(&e))?
            }
        });
        let s3 = Arc::new(S3::new(clock.clone(), storage.clone()).map_err(|e| in_dir(&e))?);
        let iam = Iam::new(storage.clone()).map_err(|e| in_dir(&e))?;
        let sts =
            Sts::new(storage.clone(), clock.clone(), config.iam_enforce).map_err(|e| in_dir(&e))?;
        let firehose = Arc::new(
            Firehose::new(
                config.firehose.clone(),
                clock.clone(),
                s3.clone(),
                kinesis.clone(),
                storage.clone(),
            )
            .map_err(|e| in_dir(&e))?,
        );
        let analytics = Arc::new(
            Analytics::new(
                analytics::Settings {
                    sigv4: config.sigv4.clone(),
                    ..config.analytics.clone()
                },
                clock.clone(),
                s3.clone(),
                storage,
                config.data_dir.as_deref(),
            )
            .map_err(|e| in_dir(&e))?,
        );
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (shutdown, receiver) = watch::channel(false);
        let delivery = firehose.spawn(receiver.clone());
        // The runners reach the emulator on loopback when it listens on every address.
        let mut reachable = addr;
        if reachable.ip().is_unspecified() {
            reachable.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let runs = analytics.spawn(format!("http://{reachable}"), receiver.clone());
        let services = Arc::new(Services {
            stopping: receiver.clone(),
            verifier: config.sigv4.as_deref().map(auth::Verifier::new),
            faults: Faults::new(config.faults.clone()),
            kinesis,
            firehose,
            analytics,
            s3,
            iam,
            sts,
            clock,
            config,
        });
        let server = tokio::spawn(server::serve(listener, services.clone(), receiver));
        let task = tokio::spawn(async move {
            let _ = server.await;
            let _ = delivery.await;
            let _ = runs.await;
        });
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
