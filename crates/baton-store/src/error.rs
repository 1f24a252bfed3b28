//! The one error type of the storage layer.

use baton_core::CoreError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No row with that id in this agency (another agency's id included).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule refused the change (e.g. an email already in use).
    #[error("{0}")]
    Duplicate(String),
    /// The actor may not do this to this entity (e.g. a reviewer deciding).
    #[error("{0}")]
    Forbidden(String),
    /// Another request already wrote under this request's claim (a second
    /// submit of the same form): nothing was written.
    #[error("this request was already handled")]
    AlreadyDone,
    /// The domain refused the change.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The database URL or a stored value makes no sense.
    #[error("{0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

/// A text that is not an id of the kind asked for names nothing: not found
/// (the same answer as another agency's id).
impl From<baton_core::types::NotAnId> for StoreError {
    fn from(_: baton_core::types::NotAnId) -> Self {
        StoreError::NotFound
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Duplicate("a record with the same unique value already exists".into())
            }
            _ => StoreError::Database(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
