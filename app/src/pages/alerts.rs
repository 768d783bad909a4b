//! The alerts section atop the MailFlow page: the whole server's SASL
//! failures, or rejects of one class, far above their usual rate — what,
//! since when, how far above the usual — with an "acknowledge" button for
//! analysts. Open alerts first, then the last ones acknowledged.

use crate::api::detect::{AcknowledgeAlert, AlertRow, alerts};
use crate::components::notice::ActionError;
use crate::components::page::{Loaded, submissions};
use crate::components::refresh::refresh_tick;
use crate::i18n::{Time, use_locale};
use leptos::prelude::*;

crate::texts! {
    /// The alerts atop the MailFlow page and their server functions' messages.
    pub struct AlertTexts {
        title = "Alerts", "Alertas";
        sasl_failures = "SASL failures", "Falhas SASL";
        since = "since", "desde";
        last = "last", "último";
        acknowledge = "Acknowledge", "Reconhecer";
        acknowledged_by = "acknowledged by", "reconhecido por";
        someone = "someone", "alguém";
    }
    formats {
        rejects(class: &str) = format!("Rejects: {class}"), format!("Rejeições: {class}");
        what(label: &str, count: &str, window: i64, ratio: &str, usual: &str) = format!("{label}: {count} in {window} min, {ratio}× the usual {usual}"), format!("{label}: {count} em {window} min, {ratio}× o habitual de {usual}");
        alert_n(id: i64) = format!("Alert {id}"), format!("Alerta {id}");
        already_acknowledged(id: i64, by: &str) = format!("Alert {id} was already acknowledged by {by}."), format!("O alerta {id} já foi reconhecido por {by}.");
    }
}

impl AlertTexts {
    /// What alert `a` is about, in words (its kind is `sasl_failures` or
    /// `reject.<class>`; another keeps the server's label).
    pub fn label(self, a: &AlertRow) -> String {
        match a.kind.as_str() {
            "sasl_failures" => self.sasl_failures().into(),
            kind => match mailflow::series::reject_class(kind) {
                Some(class) => self.rejects(&class.replace('_', " ")),
                None => a.label.clone(),
            },
        }
    }
}

/// The alert texts in the language of the request being answered.
#[cfg(feature = "ssr")]
pub fn server_texts() -> AlertTexts {
    AlertTexts(crate::server::locale::request_lang())
}

/// How often the alerts are re-read.
const REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

#[component]
pub fn Alerts() -> impl IntoView {
    let ack = ServerAction::<AcknowledgeAlert>::new();
    let tick = refresh_tick(REFRESH);
    let list = Resource::new(
        move || (tick.get(), submissions([ack.version()])),
        |_| alerts(),
    );
    view! {
        <ActionError result=ack.value() />
        <Loaded resource=list let:rows>
            <AlertList rows ack />
        </Loaded>
    }
}

#[component]
fn AlertList(rows: Vec<AlertRow>, ack: ServerAction<AcknowledgeAlert>) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<AlertTexts>();
    let open = rows.iter().filter(|a| a.open).count();
    if rows.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="panel alerts" aria-labelledby="alerts-title">
            <h2 id="alerts-title">{t.title()} " " <span class="badge" class:error={open > 0}>{locale.number(open as u64)}</span></h2>
            <ul class="alerts">
                {rows.into_iter().map(|a| view! { <AlertItem a ack /> }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn AlertItem(a: AlertRow, ack: ServerAction<AcknowledgeAlert>) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<AlertTexts>();
    let what = t.what(
        &t.label(&a),
        &locale.number(a.count),
        a.window_minutes,
        &locale.decimal(a.ratio, 1),
        &locale.decimal(a.usual, 0),
    );
    view! {
        <li class="alert" class:open=a.open data-kind=a.kind.clone()>
            <strong>{what}</strong>
            " "
            <span class="muted">
                {t.since()} " " <Time at=a.since /> " · " {t.last()} " " <Time at=a.last_seen />
            </span>
            {match (a.open, a.acknowledged_by.clone()) {
                (true, _) => view! {
                    <ActionForm action=ack attr:class="inline">
                        <input type="hidden" name="id" value=a.id.to_string() />
                        <button type="submit" class="small">{t.acknowledge()}</button>
                    </ActionForm>
                }
                .into_any(),
                (false, by) => view! {
                    <span class="muted">
                        " · " {t.acknowledged_by()} " " {by.unwrap_or_default()} " "
                        {a.acknowledged_at.map(|at| view! { <Time at /> })}
                    </span>
                }
                .into_any(),
            }}
        </li>
    }
}
