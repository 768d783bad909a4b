//! Server functions: the portal's whole browser-facing API.
//!
//! Each function names who may call it on its first line, through
//! `crate::server::auth::{require, require_signed_in}` (or says it is public),
//! and `server/tests/api/role_matrix.rs` holds the expected matrix for every
//! registered function.

pub mod audit;
pub mod defence;
pub mod detect;
pub mod ingest_status;
pub mod mailgraph;
pub mod provision;
pub mod refused;
pub mod session;
pub mod staff;
pub mod trace;
pub mod unclassified;
pub mod whatif;

/// Every server function answers in JSON decoded from text, as Leptos
/// decodes the data it embeds in server-rendered pages: the WASM then holds
/// one JSON decoder per type instead of two (one for bytes, one for text),
/// which keeps the bundle small. Declared on each function as
/// `output = crate::api::TextJson`.
pub type TextJson = leptos::server_fn::codec::Post<TextJsonEncoding>;

/// JSON, read as UTF-8 text.
pub struct TextJsonEncoding;

impl leptos::server_fn::ContentType for TextJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl leptos::server_fn::FormatType for TextJsonEncoding {
    const FORMAT_TYPE: leptos::server_fn::Format = leptos::server_fn::Format::Text;
}

impl<T: serde::Serialize> leptos::server_fn::Encodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<leptos::server_fn::Bytes, Self::Error> {
        serde_json::to_vec(output).map(leptos::server_fn::Bytes::from)
    }
}

impl<T: serde::de::DeserializeOwned> leptos::server_fn::Decodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: leptos::server_fn::Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}
