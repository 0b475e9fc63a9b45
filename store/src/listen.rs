//! LISTEN on one notification channel with reconnect: the machinery shared by
//! [`HostWatcher`](crate::HostWatcher) and [`ZoneWatcher`](crate::zone::ZoneWatcher).
//!
//! Notifications are not queued while nobody listens: when the connection drops,
//! the task reconnects with backoff and then hands over the channel's "resync"
//! event, telling the consumer to reload everything, since it may have missed some.

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::error::{Error, Result};
use crate::Store;

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One channel and the words its log lines use.
pub(crate) struct Channel<E> {
    /// The channel LISTENed on.
    pub name: &'static str,
    /// `application_name` of the dedicated connection.
    pub application_name: &'static str,
    /// Log id prefix, e.g. `STORE_HOST`.
    pub log_prefix: &'static str,
    /// What is watched, e.g. "host changes".
    pub what: &'static str,
    /// What the consumer does on a resync, e.g. "reloading reservations".
    pub reload: &'static str,
    /// A payload turned into an event.
    pub parse: fn(&str) -> E,
    /// The event asking to reload everything.
    pub resync: fn() -> E,
}

/// A running listener; dropping it stops listening.
pub(crate) struct Listening<E> {
    rx: mpsc::Receiver<E>,
    task: JoinHandle<()>,
}

impl<E: Send + 'static> Listening<E> {
    /// Starts listening on a dedicated connection. Returns once `LISTEN` is in
    /// effect, so every change committed after this returns is reported.
    pub async fn start(store: &Store, channel: &'static Channel<E>) -> Result<Listening<E>> {
        let mut settings = store.settings().clone();
        settings.application_name = channel.application_name.to_owned();
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy_with(settings.pg_options());
        let listener = listen(&pool, channel.name)
            .await
            .map_err(|source| Error::Connect {
                target: settings.target(),
                source,
            })?;
        let (tx, rx) = mpsc::channel(1024);
        let task = tokio::spawn(run(listener, pool, tx, channel));
        Ok(Listening { rx, task })
    }

    /// The next event; `None` only after the listener stopped.
    pub async fn recv(&mut self) -> Option<E> {
        self.rx.recv().await
    }
}

impl<E> Drop for Listening<E> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn listen(pool: &PgPool, channel: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

async fn run<E>(
    mut listener: PgListener,
    pool: PgPool,
    tx: mpsc::Sender<E>,
    c: &'static Channel<E>,
) {
    let p = c.log_prefix;
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                debug!("{p}_EVENT {}", notification.payload());
                if tx.send((c.parse)(notification.payload())).await.is_err() {
                    return;
                }
            }
            // sqlx noticed the connection drop and already reconnected.
            Ok(None) => {
                warn!(
                    "{p}_WATCH_RECONNECTED connection for {} was re-established; {}",
                    c.what, c.reload
                );
                if tx.send((c.resync)()).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                warn!("{p}_WATCH_LOST lost the connection for {}: {e}", c.what);
                drop(listener);
                let mut backoff = MIN_BACKOFF;
                listener = loop {
                    tokio::time::sleep(backoff).await;
                    if tx.is_closed() {
                        return;
                    }
                    match listen(&pool, c.name).await {
                        Ok(l) => break l,
                        Err(e) => {
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                            warn!(
                                "{p}_WATCH_RETRY cannot listen for {} ({e}); retrying in {backoff:?}",
                                c.what
                            );
                        }
                    }
                };
                info!(
                    "{p}_WATCH_RESUMED listening for {} again; {}",
                    c.what, c.reload
                );
                if tx.send((c.resync)()).await.is_err() {
                    return;
                }
            }
        }
    }
}
