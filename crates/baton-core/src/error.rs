//! The one error type of the domain layer.

/// Why the domain refused an input or a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// A field failed validation; `field` names it as the API spells it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The change is not possible from the entity's current state.
    #[error("{0}")]
    Conflict(String),
}

impl CoreError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        CoreError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
