//! The alerts section atop the MailFlow page: the whole server's SASL
//! failures, or rejects of one class, far above their usual rate — what,
//! since when, how far above the usual — with an "acknowledge" button for
//! analysts. Open alerts first, then the last ones acknowledged.

use crate::api::detect::{AcknowledgeAlert, AlertRow, alerts};
use crate::components::format::utc_seconds as time;
use crate::components::notice::ActionError;
use crate::components::page::{Loaded, submissions};
use crate::components::refresh::refresh_tick;
use leptos::prelude::*;

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
    let open = rows.iter().filter(|a| a.open).count();
    if rows.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="panel alerts" aria-labelledby="alerts-title">
            <h2 id="alerts-title">"Alerts " <span class="badge" class:error={open > 0}>{open}</span></h2>
            <ul class="alerts">
                {rows.into_iter().map(|a| view! { <AlertItem a ack /> }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn AlertItem(a: AlertRow, ack: ServerAction<AcknowledgeAlert>) -> impl IntoView {
    let what = format!(
        "{}: {} in {} min, {:.1}× the usual {:.0}",
        a.label, a.count, a.window_minutes, a.ratio, a.usual
    );
    let when = format!(
        "since {} UTC · last {} UTC",
        time(a.since),
        time(a.last_seen)
    );
    view! {
        <li class="alert" class:open=a.open data-kind=a.kind.clone()>
            <strong>{what}</strong>
            " "
            <span class="muted">{when}</span>
            {match (a.open, a.acknowledged_by.clone()) {
                (true, _) => view! {
                    <ActionForm action=ack attr:class="inline">
                        <input type="hidden" name="id" value=a.id.to_string() />
                        <button type="submit" class="small">"Acknowledge"</button>
                    </ActionForm>
                }
                .into_any(),
                (false, by) => view! {
                    <span class="muted">
                        " · acknowledged by " {by.unwrap_or_default()} " "
                        {a.acknowledged_at.map(time).unwrap_or_default()}
                    </span>
                }
                .into_any(),
            }}
        </li>
    }
}
