//! How the operator and emulator processes stop: the first SIGTERM or SIGINT asks for a graceful stop
//! (reconciles in progress finish, the Lease is released), bounded by a deadline below the
//! 30 s Kubernetes gives a pod between SIGTERM and SIGKILL; a second signal exits at once.
//!
//! The signal handlers are installed before anything else runs, and watched by a task of their
//! own, so that a signal is honoured whatever the rest of the process is doing: connecting to
//! the API server, waiting for the Lease, or stuck in a call that never answers. (A process that
//! installs its handlers only once it is running, and listens only where its controllers poll,
//! can swallow a SIGTERM that arrives in between and then ignore every later one.)

use std::time::Duration;

use tokio::sync::watch;

/// The default time a graceful stop may take: below a pod's default 30 s grace period, so
/// that the process exits by itself and is never SIGKILLed mid-write.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25);

/// Exit code after the stop deadline passed.
pub const EXIT_DEADLINE: i32 = 1;
/// Exit code after a second signal (128 + SIGINT, as shells report an interrupted command).
pub const EXIT_SECOND_SIGNAL: i32 = 130;

/// The process's stop request, set by the first signal.
#[derive(Clone)]
pub struct Shutdown {
    requested: watch::Receiver<bool>,
}

impl Shutdown {
    /// Installs the SIGTERM and SIGINT handlers and the task that watches them: the first
    /// signal requests a graceful stop that must end within `timeout`, a second one exits at
    /// once. Needs a running Tokio runtime.
    pub fn install(timeout: Duration) -> std::io::Result<Shutdown> {
        let mut signals = Signals::install()?;
        let (request, requested) = watch::channel(false);
        tokio::spawn(async move {
            let first = signals.next().await;
            tracing::info!(
                "{first} received: stopping; reconciles in progress may take up to {} s to finish (send it again to exit at once)",
                timeout.as_secs_f64()
            );
            let _ = request.send(true);
            tokio::select! {
                second = signals.next() => {
                    tracing::warn!("{second} received again while stopping: exiting at once");
                    std::process::exit(EXIT_SECOND_SIGNAL);
                }
                () = tokio::time::sleep(timeout) => {
                    tracing::error!(
                        "did not stop within {} s of {first}: exiting without waiting further (--shutdown-timeout)",
                        timeout.as_secs_f64()
                    );
                    std::process::exit(EXIT_DEADLINE);
                }
            }
        });
        Ok(Shutdown { requested })
    }

    /// Resolves once a stop was requested (at once if it already was).
    pub async fn requested(mut self) {
        // An error means the watching task is gone, which only happens as the process exits.
        let _ = self.requested.wait_for(|r| *r).await;
    }

    /// Whether a stop was requested.
    pub fn is_requested(&self) -> bool {
        *self.requested.borrow()
    }
}

/// The stop signals this platform has.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The name of the next signal received.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
