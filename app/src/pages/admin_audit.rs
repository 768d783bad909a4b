//! The audit log browser: filter by who, what, text and dates; newest first;
//! older pages by keyset. The filter is a plain GET form, so the URL of a
//! filtered view can be shared.

use crate::api::audit::list_audit;
use crate::components::page::{DataTable, Loaded, Page, param, url_search};
use crate::model::{AuditEntry, AuditQuery, Section};
use leptos::prelude::*;
use leptos_router::components::Form;

#[component]
pub fn AuditPage() -> impl IntoView {
    view! { <Page title="Audit log" section=Section::Admin children=|_| view! { <AuditBrowser /> } /> }
}

#[component]
fn AuditBrowser() -> impl IntoView {
    let query = url_search(|p| AuditQuery {
        actor: param(p, "actor"),
        action: param(p, "action"),
        text: param(p, "text"),
        from: param(p, "from"),
        to: param(p, "to"),
        before_id: p.get("before_id").and_then(|v| v.parse().ok()),
    });
    let page = Resource::new(move || query.get(), list_audit);
    let q = query.get_untracked();

    view! {
        <h1>"Audit log"</h1>
        <section class="panel">
            <Form method="GET" action="" attr:class="filters">
                <label>
                    "Who" <input type="search" name="actor" value=q.actor placeholder="username" />
                </label>
                <label>
                    "Action" <input type="search" name="action" value=q.action placeholder="e.g. staff." />
                </label>
                <label>
                    "Contains" <input type="search" name="text" value=q.text placeholder="target, values, address" />
                </label>
                <label>"From" <input type="date" name="from" value=q.from /></label>
                <label>"To" <input type="date" name="to" value=q.to /></label>
                <div class="form-actions">
                    <button type="submit" class="primary">"Filter"</button>
                    <a href="/admin/audit" class="button">"Clear"</a>
                </div>
            </Form>
        </section>
        <Loaded resource=page children=move |page| {
            let next = page.next_before_id.map(|id| older_link(&query.get_untracked(), id));
            view! {
                <AuditTable entries=page.entries />
                {next.map(|href| view! { <p class="pager"><a href=href>"Older entries →"</a></p> })}
            }
        } />
    }
}

fn older_link(q: &AuditQuery, before_id: i64) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "/admin/audit?actor={}&action={}&text={}&from={}&to={}&before_id={before_id}",
        enc(&q.actor),
        enc(&q.action),
        enc(&q.text),
        enc(&q.from),
        enc(&q.to)
    )
}

#[component]
pub fn AuditTable(entries: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <DataTable rows=entries head=&["When (UTC)", "Who", "Action", "Target", "Change", "From"]
            class="data audit" empty="No entries match." row=move |e| {
                let has_change = e.before.is_some() || e.after.is_some();
                view! {
                    <tr>
                        <td class="nowrap">{e.at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                        <td>{e.actor}</td>
                        <td>
                            <code>{e.action}</code>
                        </td>
                        <td>{e.target}</td>
                        <td>
                            <ul class="change-list">
                                {changed_fields(e.before.as_deref(), e.after.as_deref())
                                    .into_iter()
                                    .map(|c| view! { <li>{c}</li> })
                                    .collect_view()}
                            </ul>
                            {has_change
                                .then(|| {
                                    view! {
                                        <details>
                                            <summary>"before / after"</summary>
                                            <div class="diff">
                                                <pre class="before">{e.before.unwrap_or_else(|| "—".into())}</pre>
                                                <pre class="after">{e.after.unwrap_or_else(|| "—".into())}</pre>
                                            </div>
                                        </details>
                                    }
                                })}
                        </td>
                        <td>{e.client_addr.unwrap_or_default()}</td>
                    </tr>
                }
            }
        />
    }
        .into_any()
}

/// What changed between two JSON snapshots, one line per field that
/// differs ("status: active → suspended"), at most eight lines; nothing
/// when either is missing (the raw states are shown beside it).
pub fn changed_fields(before: Option<&str>, after: Option<&str>) -> Vec<String> {
    use serde_json::Value;
    let parse = |s: Option<&str>| match s.map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(m))) => Some(m),
        _ => None,
    };
    let show = |v: Option<&Value>| match v {
        None | Some(Value::Null) => "—".to_string(),
        Some(Value::String(s)) if s.is_empty() => "—".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) if a.is_empty() => "—".to_string(),
        Some(Value::Array(a)) => a.iter().map(show_scalar).collect::<Vec<_>>().join(", "),
        Some(other) => other.to_string(),
    };
    fn show_scalar(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    match (parse(before), parse(after)) {
        (Some(b), Some(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| b.get(*k) != a.get(*k) && !k.ends_with("_at"))
                .take(8)
                .map(|k| format!("{k}: {} → {}", show(b.get(k)), show(a.get(k))))
                .collect()
        }
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::changed_fields;

    #[test]
    fn only_fields_that_differ_are_listed() {
        let before = r#"{"status":"active","status_reason":null,"quota_mb":1024,"updated_at":"x"}"#;
        let after =
            r#"{"status":"suspended","status_reason":"unpaid","quota_mb":1024,"updated_at":"y"}"#;
        assert_eq!(
            changed_fields(Some(before), Some(after)),
            ["status: active → suspended", "status_reason: — → unpaid"]
        );
        assert!(changed_fields(None, Some(after)).is_empty());
        assert!(changed_fields(None, None).is_empty());
    }
}
