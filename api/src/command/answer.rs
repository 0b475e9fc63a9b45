//! Kea's answers: result codes, the answer element, and database errors as answers.
//! A leaf: the command handlers (`mod.rs`, `lease_cmds`, `host_cmds`) all build on it.

use serde_json::{Map, Value};
use tracing::error;

use crate::error::{classify, DbFault};
use crate::kea::FieldError;

/// Kea's result codes.
pub mod result {
    /// Success.
    pub const SUCCESS: i64 = 0;
    /// Error.
    pub const ERROR: i64 = 1;
    /// Command not supported.
    pub const UNSUPPORTED: i64 = 2;
    /// Nothing found.
    pub const EMPTY: i64 = 3;
    /// Conflict.
    pub const CONFLICT: i64 = 4;
}

/// A handler's answer: `Ok` and `Err` both are answers, `Err` lets `?` end a handler early.
pub type Outcome = Result<Answer, Answer>;

/// One answer element.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Result code.
    pub result: i64,
    /// Text, when Kea gives one.
    pub text: Option<String>,
    /// Arguments, when any.
    pub arguments: Option<Value>,
}

impl Answer {
    pub(crate) fn new(result: i64, text: impl Into<String>) -> Self {
        Self {
            result,
            text: Some(text.into()),
            arguments: None,
        }
    }
    pub(crate) fn ok(text: impl Into<String>) -> Self {
        Self::new(result::SUCCESS, text)
    }
    pub(crate) fn err(text: impl Into<String>) -> Self {
        Self::new(result::ERROR, text)
    }
    pub(crate) fn with(mut self, args: Value) -> Self {
        self.arguments = Some(args);
        self
    }
    /// Kea's JSON for the answer.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("result".into(), self.result.into());
        if let Some(t) = &self.text {
            m.insert("text".into(), t.clone().into());
        }
        if let Some(a) = &self.arguments {
            m.insert("arguments".into(), a.clone());
        }
        Value::Object(m)
    }
}

impl From<FieldError> for Answer {
    fn from(e: FieldError) -> Self {
        Answer::err(e.to_string())
    }
}

/// A database error as Kea answers it (conflicts with result 4, the rest logged).
pub(crate) fn db_answer(e: tern_store::Error) -> Answer {
    match classify(&e) {
        DbFault::Conflict(m) => Answer::new(result::CONFLICT, m),
        DbFault::Invalid(m) => Answer::err(m),
        DbFault::Other => {
            match &e {
                tern_store::Error::Database(e) => error!("API_DB_ERROR {e}"),
                e => error!("API_DB_ERROR {e}"),
            }
            Answer::err("database error (details in the server log)")
        }
    }
}

/// `.db()`: a database result with its error as an answer.
pub(crate) trait DbExt<T> {
    /// The error as Kea answers it.
    fn db(self) -> Result<T, Answer>;
}

impl<T> DbExt<T> for tern_store::Result<T> {
    fn db(self) -> Result<T, Answer> {
        self.map_err(db_answer)
    }
}

/// Kea's answer for a command the daemon does not have.
pub(crate) fn unsupported(command: &str) -> Answer {
    Answer::new(
        result::UNSUPPORTED,
        format!("'{command}' command not supported."),
    )
}
