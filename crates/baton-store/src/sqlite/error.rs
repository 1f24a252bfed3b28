//! SQLite's errors as sqlx database errors, classified the way sqlx's own
//! driver does (so a unique violation is still `StoreError::Duplicate`).

use std::borrow::Cow;

use rusqlite::ffi;
use sqlx_core::error::{DatabaseError, Error, ErrorKind};

/// An error SQLite reported, with its extended result code.
#[derive(Debug)]
pub struct SqliteError {
    code: i32,
    message: String,
}

impl std::fmt::Display for SqliteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteError {}

impl DatabaseError for SqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

/// A rusqlite error as sqlx's: SQLite's own failures are database errors,
/// the rest (a value of the wrong type, bad UTF-8) protocol errors.
pub(super) fn db_error(e: rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::SqliteFailure(err, message) => Error::Database(Box::new(SqliteError {
            code: err.extended_code,
            message: message.unwrap_or_else(|| err.to_string()),
        })),
        rusqlite::Error::SqlInputError { error, msg, .. } => {
            Error::Database(Box::new(SqliteError {
                code: error.extended_code,
                message: msg,
            }))
        }
        other => Error::Protocol(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_constraint_failures_like_sqlx() {
        let cases = [
            (ffi::SQLITE_CONSTRAINT_UNIQUE, ErrorKind::UniqueViolation),
            (
                ffi::SQLITE_CONSTRAINT_PRIMARYKEY,
                ErrorKind::UniqueViolation,
            ),
            (
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY,
                ErrorKind::ForeignKeyViolation,
            ),
            (ffi::SQLITE_CONSTRAINT_NOTNULL, ErrorKind::NotNullViolation),
            (ffi::SQLITE_CONSTRAINT_CHECK, ErrorKind::CheckViolation),
            (ffi::SQLITE_BUSY, ErrorKind::Other),
        ];
        for (code, kind) in cases {
            let e = SqliteError {
                code,
                message: "x".into(),
            };
            assert_eq!(
                std::mem::discriminant(&e.kind()),
                std::mem::discriminant(&kind),
                "code {code}"
            );
        }
    }
}
