//! The one error type every server function returns.
//!
//! Expected failures (not signed in, not allowed, bad input, not found) are
//! variants a page can show as they are; anything unexpected is logged on the
//! server and reaches the browser only as [`AppError::Internal`].

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("Your account does not have permission for this.")]
    Forbidden,
    #[error("Wrong username or password.")]
    InvalidCredentials,
    #[error("{0}")]
    TooManyAttempts(String),
    #[error("{0}")]
    Validation(String),
    /// Bad input in named form fields; forms show each message beside its field.
    #[error("{}", join_fields(.0))]
    Fields(Vec<FieldError>),
    #[error("{0} was not found.")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The database stayed busy (other writers, a deadlock) through every
    /// retry: nothing was changed, and the same request may succeed later.
    #[error("The server is busy; nothing was changed. Please try again in a moment.")]
    Busy,
    #[error("Something went wrong on the server; the details are in its log.")]
    Internal,
    /// The request never got a proper answer (network, decoding).
    #[error("Could not talk to the server: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status the server answers with for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Unauthenticated | AppError::InvalidCredentials => 401,
            AppError::Forbidden => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::Validation(_) | AppError::Fields(_) => 422,
            AppError::TooManyAttempts(_) => 429,
            AppError::Busy => 503,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }
}

impl AppError {
    /// One bad field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Fields(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// The message for `field`, if this error names it.
    pub fn field_message(&self, field: &str) -> Option<&str> {
        match self {
            AppError::Fields(list) => list
                .iter()
                .find(|f| f.field == field)
                .map(|f| f.message.as_str()),
            _ => None,
        }
    }
}

/// What is wrong with one form field (`field` is the form's input name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn join_fields(list: &[FieldError]) -> String {
    list.iter()
        .map(|f| f.message.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => {
                AppError::Validation(ErrorTexts(caller_lang()).invalid_request(&msg))
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

crate::texts! {
    /// The generic messages made here (the fixed variants' texts are in
    /// `i18n::common::Common`).
    pub struct ErrorTexts {
        taken_meanwhile = "That already exists: someone created it a moment ago. Look it up again.", "Isso já existe: alguém acabou de criá-lo. Consulte de novo.";
    }
    formats {
        invalid_request(detail: &str) = format!("Invalid request: {detail}"), format!("Pedido inválido: {detail}");
    }
}

/// The language of the request being answered (on the server) or of the
/// page (in the browser).
fn caller_lang() -> crate::i18n::Lang {
    #[cfg(feature = "ssr")]
    {
        crate::server::locale::request_lang()
    }
    #[cfg(not(feature = "ssr"))]
    {
        crate::i18n::current_locale().lang
    }
}

#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        // Checks run before writes, so a unique key is only violated when
        // someone else wrote the same thing a moment earlier.
        if let Some(sea_orm::SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() {
            tracing::info!(%detail, "a concurrent change took the same key first");
            let t = ErrorTexts(caller_lang());
            return AppError::Conflict(t.taken_meanwhile().into());
        }
        if crate::server::retry::is_transient(&err) {
            tracing::warn!(error = %err, "the database stayed busy");
            return AppError::Busy;
        }
        tracing::error!(error = %err, "database error");
        AppError::Internal
    }
}
