//! The audit log browser: filter by who, what, text and dates; newest first;
//! older pages by keyset. The filter is a plain GET form, so the URL of a
//! filtered view can be shared.

use crate::api::audit::list_audit;
use crate::components::page::{DataTable, Loaded, Page, param, url_search};
use crate::i18n::{Locale, Time, use_locale, use_texts};
use crate::model::{AuditEntry, AuditQuery, Section};
use leptos::prelude::*;
use leptos_router::components::Form;

crate::texts! {
    /// The audit log page.
    pub struct AuditTexts {
        title = "Audit log", "Registro de auditoria";
        who = "Who", "Quem";
        who_placeholder = "username", "usuário";
        action = "Action", "Ação";
        any_action = "Any action", "Qualquer ação";
        contains = "Contains", "Contém";
        contains_placeholder = "target, values, address", "alvo, valores, endereço";
        from = "From", "De";
        to = "To", "Até";
        filter = "Filter", "Filtrar";
        clear = "Clear", "Limpar";
        older = "Older entries →", "Entradas mais antigas →";
        col_when = "When", "Quando";
        col_target = "Target", "Alvo";
        col_change = "Change", "Alteração";
        col_from = "From", "Origem";
        none_match = "No entries match.", "Nenhuma entrada corresponde.";
        before_after = "before / after", "antes / depois";
        from_date_format = "From must be a date like 2026-11-28.", "De deve ser uma data como 28/11/2026.";
        to_date_format = "To must be a date like 2026-11-28.", "Até deve ser uma data como 28/11/2026.";
    }
    formats {
        all_of(group: &str) = format!("{group}: all"), format!("{group}: todas");
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let title = use_texts::<AuditTexts>().title();
    view! { <Page title section=Section::Admin children=|_| view! { <AuditBrowser /> } /> }
}

#[component]
fn AuditBrowser() -> impl IntoView {
    let t = use_texts::<AuditTexts>();
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
    let chosen = q.action.clone();

    view! {
        <h1>{t.title()}</h1>
        <section class="panel">
            <Form method="GET" action="" attr:class="filters">
                <label>
                    {t.who()} <input type="search" name="actor" value=q.actor placeholder=t.who_placeholder() />
                </label>
                <label>
                    {t.action()}
                    <Transition fallback=move || view! { <select name="action"><option value=chosen.clone()>{t.any_action()}</option></select> }>
                        {move || Suspend::new(async move {
                            let actions = page.await.map(|p| p.actions).unwrap_or_default();
                            let chosen = query.get_untracked().action;
                            view! { <ActionSelect actions chosen /> }
                        })}
                    </Transition>
                </label>
                <label>
                    {t.contains()} <input type="search" name="text" value=q.text placeholder=t.contains_placeholder() />
                </label>
                <label>{t.from()} <input type="date" name="from" value=q.from /></label>
                <label>{t.to()} <input type="date" name="to" value=q.to /></label>
                <div class="form-actions">
                    <button type="submit" class="primary">{t.filter()}</button>
                    <a href="/admin/audit" class="button">{t.clear()}</a>
                </div>
            </Form>
        </section>
        <Loaded resource=page children=move |page| {
            let next = page.next_before_id.map(|id| older_link(&query.get_untracked(), id));
            view! {
                <AuditTable entries=page.entries />
                {next.map(|href| view! { <p class="pager"><a href=href>{t.older()}</a></p> })}
            }
        } />
    }
}

/// The action filter: any, each group of actions (`staff.`), or one action.
#[component]
fn ActionSelect(actions: Vec<String>, chosen: String) -> impl IntoView {
    let t = use_texts::<AuditTexts>();
    let mut groups: Vec<String> = actions
        .iter()
        .filter_map(|a| a.split_once('.').map(|(g, _)| format!("{g}.")))
        .collect();
    groups.dedup();
    let known = chosen.is_empty() || actions.contains(&chosen) || groups.contains(&chosen);
    view! {
        <select name="action">
            <option value="" selected=chosen.is_empty()>{t.any_action()}</option>
            {(!known).then(|| view! { <option value=chosen.clone() selected=true>{chosen.clone()}</option> })}
            {groups
                .into_iter()
                .map(|g| {
                    let members: Vec<String> = actions.iter().filter(|a| a.starts_with(&g)).cloned().collect();
                    let label = t.all_of(g.trim_end_matches('.'));
                    view! {
                        <optgroup label=g.trim_end_matches('.').to_string()>
                            <option value=g.clone() selected=chosen == g>{label}</option>
                            {members
                                .into_iter()
                                .map(|a| view! { <option value=a.clone() selected=chosen == a>{a.clone()}</option> })
                                .collect_view()}
                        </optgroup>
                    }
                })
                .collect_view()}
        </select>
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
    let t = use_texts::<AuditTexts>();
    let locale = use_locale();
    view! {
        <div class="table-scroll">
        <DataTable rows=entries head=vec![t.col_when(), t.who(), t.action(), t.col_target(), t.col_change(), t.col_from()]
            class="data audit" empty=t.none_match() row=move |e| {
                let has_change = e.before.is_some() || e.after.is_some();
                view! {
                    <tr>
                        <td class="nowrap"><Time at=e.at.timestamp() seconds=true /></td>
                        <td>{e.actor}</td>
                        <td>
                            <code>{e.action}</code>
                        </td>
                        <td>{e.target}</td>
                        <td>
                            <ul class="change-list">
                                {changed_fields(e.before.as_deref(), e.after.as_deref(), &locale)
                                    .into_iter()
                                    .map(|c| view! { <li>{c}</li> })
                                    .collect_view()}
                            </ul>
                            {has_change
                                .then(|| {
                                    view! {
                                        <details>
                                            <summary>{t.before_after()}</summary>
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
        </div>
    }
    .into_any()
}

/// What changed between two JSON snapshots, one line per field that
/// differs ("status: active → suspended"), at most eight lines; nothing
/// when either is missing (the raw states are shown beside it). Times
/// (`…_at` fields holding Unix seconds) read as local times; the
/// bookkeeping `updated_at`/`created_at` are left out.
pub fn changed_fields(before: Option<&str>, after: Option<&str>, locale: &Locale) -> Vec<String> {
    use serde_json::Value;
    let parse = |s: Option<&str>| match s.map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(m))) => Some(m),
        _ => None,
    };
    let show = |k: &str, v: Option<&Value>| match v {
        Some(Value::Number(n)) if k.ends_with("_at") && n.as_i64().is_some_and(|t| t > 0) => {
            locale.datetime(n.as_i64().unwrap_or_default())
        }
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
                .filter(|k| {
                    b.get(*k) != a.get(*k) && !matches!(k.as_str(), "updated_at" | "created_at")
                })
                .take(8)
                .map(|k| format!("{k}: {} → {}", show(k, b.get(k)), show(k, a.get(k))))
                .collect()
        }
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::changed_fields;
    use crate::i18n::{Lang, Locale, Zone};
    use std::sync::Arc;

    fn locale() -> Locale {
        Locale {
            lang: Lang::PtBr,
            zone: Arc::new(Zone::fixed("America/Sao_Paulo", -3 * 3600)),
        }
    }

    #[test]
    fn only_fields_that_differ_are_listed() {
        let before = r#"{"status":"active","status_reason":null,"quota_mb":1024,"updated_at":"x"}"#;
        let after =
            r#"{"status":"suspended","status_reason":"unpaid","quota_mb":1024,"updated_at":"y"}"#;
        assert_eq!(
            changed_fields(Some(before), Some(after), &locale()),
            ["status: active → suspended", "status_reason: — → unpaid"]
        );
        assert!(changed_fields(None, Some(after), &locale()).is_empty());
        assert!(changed_fields(None, None, &locale()).is_empty());
    }

    #[test]
    fn a_block_extension_shows_the_new_expiry_as_a_local_time() {
        // Before and after are the same kind of record (the block).
        let before = r#"{"id":3,"expires_at":1764556200,"lifted_at":null}"#;
        let after = r#"{"id":3,"expires_at":1764642600,"lifted_at":null}"#;
        assert_eq!(
            changed_fields(Some(before), Some(after), &locale()),
            ["expires_at: 30/11/2025 23:30 → 01/12/2025 23:30"]
        );
        let lifted =
            r#"{"id":3,"expires_at":1764556200,"lifted_at":1764500000,"reason":"false positive"}"#;
        assert_eq!(
            changed_fields(Some(before), Some(lifted), &locale()),
            [
                "lifted_at: — → 30/11/2025 07:53",
                "reason: — → false positive"
            ]
        );
    }
}
