//! Requests that share one database round trip: callers [`Batcher::submit`] a job and
//! wait for its answer; workers take every job queued while they were busy (up to a
//! batch size) and answer them together. Batches form by themselves under load and
//! cost nothing extra when idle (a lone job is a batch of one).

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::JoinHandle;

use crate::error::EngineError;

/// Where a job's answer goes.
pub(crate) type Answer<R> = oneshot::Sender<Result<R, EngineError>>;

/// Queues jobs of type `J` for workers answering `R`.
pub(crate) struct Batcher<J, R> {
    tx: mpsc::Sender<(J, Answer<R>)>,
}

impl<J, R> Clone for Batcher<J, R> {
    fn clone(&self) -> Self {
        Batcher {
            tx: self.tx.clone(),
        }
    }
}

impl<J: Send + 'static, R: Send + 'static> Batcher<J, R> {
    /// Starts `workers` tasks, each running `run` on up to `max_batch` jobs at a time;
    /// `run` answers every job it is given.
    pub fn start<F, Fut>(max_batch: usize, workers: usize, run: F) -> (Self, Vec<JoinHandle<()>>)
    where
        F: Fn(Vec<(J, Answer<R>)>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let (tx, rx) = mpsc::channel::<(J, Answer<R>)>(4096);
        let rx = Arc::new(Mutex::new(rx));
        let handles = (0..workers.max(1))
            .map(|_| {
                let (rx, run) = (rx.clone(), run.clone());
                tokio::spawn(async move {
                    loop {
                        let batch = {
                            let mut rx = rx.lock().await;
                            let Some(first) = rx.recv().await else { return };
                            let mut batch = vec![first];
                            while batch.len() < max_batch.max(1) {
                                match rx.try_recv() {
                                    Ok(j) => batch.push(j),
                                    Err(_) => break,
                                }
                            }
                            batch
                        };
                        run(batch).await;
                    }
                })
            })
            .collect();
        (Batcher { tx }, handles)
    }

    /// Queues one job and waits for its answer.
    pub async fn submit(&self, job: J) -> Result<R, EngineError> {
        let (answer, rx) = oneshot::channel();
        self.tx
            .send((job, answer))
            .await
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)?
    }
}

/// Answers a batch: each job its own value, or every job the batch's error (shared).
pub(crate) fn answer_all<R>(answers: Vec<Answer<R>>, result: Result<Vec<R>, EngineError>) {
    match result {
        Ok(values) => {
            for (a, v) in answers.into_iter().zip(values) {
                let _ = a.send(Ok(v));
            }
        }
        Err(e) => {
            let e = Arc::new(e);
            for a in answers {
                let _ = a.send(Err(EngineError::Batch(e.clone())));
            }
        }
    }
}
