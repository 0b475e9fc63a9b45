//! The engine's error type, shared by the engine and the batch workers that answer it.

use std::sync::Arc;

use thiserror::Error;

/// Failures while processing a request: the packet is dropped.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The store failed.
    #[error("lease database: {0}")]
    Store(#[from] tern_store::Error),
    /// The batch this request was committed with failed.
    #[error("lease database: {0}")]
    Batch(Arc<EngineError>),
    /// The engine is stopping.
    #[error("the DHCPv4 engine is stopping")]
    Stopped,
}

impl From<sqlx::Error> for EngineError {
    fn from(e: sqlx::Error) -> Self {
        EngineError::Store(e.into())
    }
}
