//! Leader election on a `coordination.k8s.io/v1` Lease, so that several replicas of the
//! operator can run and exactly one reconciles (kube-runtime has none of its own).
//!
//! The protocol is client-go's: the leader renews the Lease's `renewTime` every retry period;
//! a contender takes the Lease over once its record has not changed for `leaseDurationSeconds`
//! by the contender's own clock (so clock skew between nodes does not matter); every write is
//! guarded by the Lease's resourceVersion, so two contenders can never both win. A leader that
//! cannot renew within the renew deadline, or finds another holder, has lost and must stop
//! reconciling (the operator exits and its pod restarts as a contender). A leader shutting
//! down gracefully releases the Lease so that a successor takes over at once.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;
use kube::api::entry::{CommitError, Entry};
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

/// Where the Lease lives and how it is held.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// This replica's identity, written as `holderIdentity`.
    pub identity: String,
    /// How long a holder's claim lasts without renewal.
    pub lease_duration: Duration,
    /// A leader that has not renewed for this long has lost.
    pub renew_deadline: Duration,
    /// How often the leader renews and contenders retry.
    pub retry_period: Duration,
}

impl LeaseConfig {
    /// client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry period.
    pub fn new(namespace: &str, name: &str, identity: &str) -> Self {
        LeaseConfig {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            identity: identity.to_owned(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// An identity unique to this process: the pod name (or host name) and a random suffix.
pub fn default_identity() -> String {
    use std::hash::BuildHasher;
    let host = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "kinesis-operator".to_owned());
    let random = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
    format!("{host}_{:08x}", random as u32)
}

/// What went wrong talking to the API server about the Lease.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The API server refused or failed a Lease call.
    #[error(
        "lease {namespace}/{name}: {}",
        crate::controller::runtime::kube_words::kube_words(source)
    )]
    Kube {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// The failure.
        #[source]
        source: kube::Error,
    },
}

/// Leadership held by this replica, renewed in the background until released or lost.
pub struct Leadership {
    lost: watch::Receiver<bool>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Leadership {
    /// A future that resolves once leadership is lost (another holder, or no renewal within
    /// the renew deadline).
    pub fn lost(&self) -> impl Future<Output = ()> + Send + Sync + 'static {
        let mut lost = self.lost.clone();
        async move {
            let _ = lost.wait_for(|l| *l).await;
        }
    }

    /// Whether leadership has been lost.
    pub fn is_lost(&self) -> bool {
        *self.lost.borrow()
    }

    /// Stops renewing and hands the Lease back so that a successor takes over at once.
    pub async fn release(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Leadership {
    /// Dropped without [`Leadership::release`]: stop renewing; the Lease expires by itself.
    fn drop(&mut self) {
        if self.stop.is_some() {
            self.task.abort();
        }
    }
}

/// The Lease record as last observed, and when (by the local clock) it last changed.
struct Observed {
    resource_version: Option<String>,
    since: Instant,
}

fn now() -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::now())
}

/// One attempt to acquire or renew the Lease. `Ok(true)` when this replica holds it.
async fn try_acquire_or_renew(
    api: &Api<Lease>,
    config: &LeaseConfig,
    observed: &mut Option<Observed>,
) -> Result<bool, kube::Error> {
    let duration_secs = config.lease_duration.as_secs().max(1) as i32;
    let mut occupied = match api.entry(&config.name).await? {
        Entry::Vacant(vacant) => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(config.name.clone()),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(config.identity.clone()),
                    lease_duration_seconds: Some(duration_secs),
                    acquire_time: Some(now()),
                    renew_time: Some(now()),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            return won(vacant.insert(lease).commit(&PostParams::default()).await);
        }
        Entry::Occupied(occupied) => occupied,
    };
    let lease = occupied.get();
    let spec = lease.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
    let rv = lease.metadata.resource_version.clone();
    let local_now = Instant::now();
    match observed {
        Some(o) if o.resource_version == rv => {}
        _ => {
            *observed = Some(Observed {
                resource_version: rv,
                since: local_now,
            });
        }
    }
    let ours = holder.as_deref() == Some(config.identity.as_str());
    let held_for =
        Duration::from_secs(spec.lease_duration_seconds.unwrap_or(duration_secs).max(1) as u64);
    let expired = holder.is_none()
        || observed
            .as_ref()
            .is_some_and(|o| local_now.duration_since(o.since) >= held_for);
    if !ours && !expired {
        return Ok(false);
    }
    let spec = occupied.get_mut().spec.get_or_insert_with(Default::default);
    if !ours {
        spec.holder_identity = Some(config.identity.clone());
        spec.acquire_time = Some(now());
        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
    }
    spec.lease_duration_seconds = Some(duration_secs);
    spec.renew_time = Some(now());
    let won = won(occupied.commit(&PostParams::default()).await)?;
    if won {
        *observed = Some(Observed {
            resource_version: occupied.get().metadata.resource_version.clone(),
            since: Instant::now(),
        });
    }
    Ok(won)
}

/// A failed Lease write as a client error.
fn commit_error(e: CommitError) -> kube::Error {
    match e {
        CommitError::Save(e) => e,
        CommitError::Validate(e) => kube::Error::Service(Box::new(e)),
    }
}

/// The outcome of a guarded Lease write: `Ok(false)` when another replica wrote it first
/// (409 Conflict on the resourceVersion).
fn won(result: Result<(), CommitError>) -> Result<bool, kube::Error> {
    match result {
        Ok(()) => Ok(true),
        Err(CommitError::Save(kube::Error::Api(e))) if e.code == 409 => Ok(false),
        Err(e) => Err(commit_error(e)),
    }
}

/// Hands the Lease back if this replica still holds it.
async fn release(api: &Api<Lease>, config: &LeaseConfig) -> Result<(), kube::Error> {
    if let Entry::Occupied(mut occupied) = api.entry(&config.name).await? {
        let spec = occupied.get_mut().spec.get_or_insert_with(Default::default);
        if spec.holder_identity.as_deref() == Some(config.identity.as_str()) {
            spec.holder_identity = None;
            spec.lease_duration_seconds = Some(1);
            spec.renew_time = Some(now());
            occupied
                .commit(&PostParams::default())
                .await
                .map_err(commit_error)?;
        }
    }
    Ok(())
}

/// Waits until this replica holds the Lease, then keeps renewing it in the background.
/// API errors while contending are logged and retried; only cancellation (dropping the
/// future) ends the wait.
pub async fn acquire(client: kube::Client, config: LeaseConfig) -> Leadership {
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    let mut observed = None;
    let mut logged_waiting = false;
    loop {
        match try_acquire_or_renew(&api, &config, &mut observed).await {
            Ok(true) => break,
            Ok(false) => {
                if !logged_waiting {
                    tracing::info!(lease = %config.name, namespace = %config.namespace, identity = %config.identity, "another replica leads; waiting for the lease");
                    logged_waiting = true;
                }
            }
            Err(e) => {
                let e = LeaseError::Kube {
                    namespace: config.namespace.clone(),
                    name: config.name.clone(),
                    source: e,
                };
                tracing::warn!(error = %e, "contending for the lease failed; retrying");
            }
        }
        tokio::time::sleep(config.retry_period).await;
    }
    tracing::info!(lease = %config.name, namespace = %config.namespace, identity = %config.identity, "acquired the lease; leading");
    let (lost_tx, lost) = watch::channel(false);
    let (stop, mut stopped) = oneshot::channel();
    let task = tokio::spawn(async move {
        let mut renewed = Instant::now();
        loop {
            tokio::select! {
                _ = &mut stopped => {
                    if let Err(e) = release(&api, &config).await {
                        tracing::warn!(error = %crate::controller::runtime::kube_words::kube_words(&e), lease = %config.name, "releasing the lease failed; it expires by itself");
                    } else {
                        tracing::info!(lease = %config.name, "released the lease");
                    }
                    return;
                }
                _ = tokio::time::sleep(config.retry_period) => {}
            }
            match try_acquire_or_renew(&api, &config, &mut observed).await {
                Ok(true) => renewed = Instant::now(),
                Ok(false) => {
                    tracing::error!(lease = %config.name, "another replica took the lease; leadership lost");
                    let _ = lost_tx.send(true);
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %crate::controller::runtime::kube_words::kube_words(&e), lease = %config.name, "renewing the lease failed");
                    if renewed.elapsed() >= config.renew_deadline {
                        tracing::error!(lease = %config.name, "no renewal within the renew deadline; leadership lost");
                        let _ = lost_tx.send(true);
                        return;
                    }
                }
            }
        }
    });
    Leadership {
        lost,
        stop: Some(stop),
        task,
    }
}
