//! The OpenAPI 3.0 description of the REST API (`/api/v1/openapi.json`),
//! generated from the request registry and the DTOs themselves, so it
//! cannot drift from what the server accepts.

use super::{KindDoc, kinds};
use crate::provision::{
    AliasPage, DomainView, ImportJob, ImportOutcome, MailboxPage, MailboxStatus, MailboxView,
    RequestDone,
};
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

/// Where the REST API lives.
pub const BASE: &str = "/api/v1";

pub fn document() -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let kinds = kinds(&mut generator);
    let done = generator.subschema_for::<RequestDone>();
    let mailbox_page = generator.subschema_for::<MailboxPage>();
    let mailbox = generator.subschema_for::<MailboxView>();
    let alias_page = generator.subschema_for::<AliasPage>();
    let domains = generator.subschema_for::<Vec<DomainView>>();
    let import = generator.subschema_for::<ImportOutcome>();
    let job = generator.subschema_for::<ImportJob>();
    let mut schemas = serde_json::Map::new();
    for (name, schema) in generator.take_definitions(true) {
        schemas.insert(name, schema);
    }
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string", "description": "What went wrong, for people."},
                "fields": {
                    "type": "array",
                    "description": "Per-field messages of a validation error.",
                    "items": {"type": "object", "properties": {
                        "field": {"type": "string"}, "message": {"type": "string"}}}
                }
            }
        }),
    );

    let mut paths = serde_json::Map::new();
    for k in &kinds {
        paths.insert(
            format!("{BASE}/requests/{}", k.kind),
            request_path(k, &done),
        );
    }
    let page_params = json!([
        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Prefix of the address (or of the name with by=name)."},
        {"name": "by", "in": "query", "schema": {"type": "string", "enum": ["address", "name"]}},
        {"name": "domain", "in": "query", "schema": {"type": "string"}},
        {"name": "status", "in": "query", "schema": {"type": "string", "enum": MailboxStatus::ALL}, "description": "Empty: all but deleted."},
        {"name": "after", "in": "query", "schema": {"type": "string"}, "description": "The `next` of the previous page."}
    ]);
    paths.insert(
        format!("{BASE}/mailboxes"),
        json!({"get": read_op("Search mailboxes (50 per page).", page_params, &mailbox_page)}),
    );
    paths.insert(
        format!("{BASE}/mailboxes/{{address}}"),
        json!({"get": read_op(
            "One mailbox.",
            json!([{"name": "address", "in": "path", "required": true, "schema": {"type": "string"}}]),
            &mailbox,
        )}),
    );
    paths.insert(
        format!("{BASE}/aliases"),
        json!({"get": read_op(
            "Search aliases by address prefix (50 per page).",
            json!([
                {"name": "q", "in": "query", "schema": {"type": "string"}},
                {"name": "domain", "in": "query", "schema": {"type": "string"}},
                {"name": "after", "in": "query", "schema": {"type": "string"}}
            ]),
            &alias_page,
        )}),
    );
    paths.insert(
        format!("{BASE}/domains"),
        json!({"get": read_op("Every domain with its limits and counts.", json!([]), &domains)}),
    );
    let mut import_responses = responses(&import);
    import_responses["202"] = json!({
        "description": "Still running after `wait` seconds: its progress; poll the `Location`.",
        "headers": {"Location": {"schema": {"type": "string"}, "description": "/api/v1/import/{id}"}},
        "content": {"application/json": {"schema": job}},
    });
    import_responses["413"] = json!({"description": "The file is larger than 20 MB."});
    paths.insert(
        format!("{BASE}/import"),
        json!({"post": {
            "summary": "Bulk CSV import of mailboxes and aliases, as a background job.",
            "description": "Columns: kind (mailbox|alias), address, name, password, quota_mb, send_only, receive_only, targets, description. Up to 20 MB and 50,000 rows. Each row is applied completely (with its audit entry) or not at all; rows with errors are reported and skipped. `dry_run=true` reports each row and writes nothing. The answer comes when the job ends or after `wait` seconds (default 10, at most 60), whichever is first.",
            "parameters": [
                {"name": "dry_run", "in": "query", "schema": {"type": "boolean"}},
                {"name": "wait", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 60}}
            ],
            "requestBody": {"required": true, "content": {"text/csv": {"schema": {"type": "string"}}}},
            "responses": import_responses,
        }}),
    );
    paths.insert(
        format!("{BASE}/import/{{id}}"),
        json!({"get": read_op(
            "An import's progress (rows done / total) and, once done, every row's result. Generated passwords are in the first answer after the end, to the token that started it.",
            json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]),
            &job,
        )}),
    );

    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Carteiro provisioning API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every change is a request of a kind (POST /api/v1/requests/{kind}); it is validated, applied in one transaction and written to the audit log under the token's name. Authenticate with `Authorization: Bearer ct_...`, a token an administrator issues with a role (Admin → API tokens). Messages (errors, `summary`, `warnings`) are in Brazilian Portuguese unless the request sends `Accept-Language: en` (the server's `server.default_language` when it names neither)."
        },
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": paths,
    })
}

fn request_path(k: &KindDoc, done: &schemars::Schema) -> Value {
    let roles: Vec<&str> = k.roles.iter().map(|r| r.as_str()).collect();
    json!({"post": {
        "operationId": k.kind,
        "summary": k.doc,
        "description": format!("Token roles allowed: {}.", roles.join(", ")),
        "requestBody": {"required": true, "content": {"application/json": {"schema": k.schema}}},
        "responses": responses(done),
    }})
}

fn read_op(summary: &str, parameters: Value, schema: &schemars::Schema) -> Value {
    json!({"summary": summary, "parameters": parameters, "responses": responses(schema)})
}

fn responses(ok: &schemars::Schema) -> Value {
    let error = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let with = |description: &str| {
        let mut e = error.clone();
        e["description"] = description.into();
        e
    };
    json!({
        "200": {"description": "Done.", "content": {"application/json": {"schema": ok}}},
        "401": with("No valid token."),
        "403": with("The token's role may not do this."),
        "404": with("Not found."),
        "409": with("Conflicts with the current state."),
        "422": with("Invalid input; `fields` says which."),
        "503": with("The database stayed busy; nothing was changed, try again."),
    })
}
