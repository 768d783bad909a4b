//! Mailgraph charts (roles `manager`, `security`, `admin`): the mail flow
//! and the rejects by class over a day, week, month, year or any dates,
//! for all hosts, one host or one hosted domain; stacked or lines, counts
//! or messages per minute. Approved blocks are markers on the time axis.
//! The charts ask again every minute, without reloading the page.

use crate::api::mailgraph::{load_chart, load_chart_filters};
use crate::components::chart::{Style, TimeChart};
use crate::components::page::{Loaded, Page};
use crate::components::range::{Range, RangePicker, local_date};
use crate::components::refresh::refresh_tick;
use crate::errors::AppError;
use crate::model::{BlockRow, ChartData, ChartFilters, ChartQuery, Section};
use leptos::prelude::*;
use leptos_router::components::A;
use mailflow::series::{self, Series};
use mailflow::time::DAY;
use std::collections::BTreeSet;
use std::time::Duration;

/// How often the charts ask for new counts.
const REFRESH: Duration = Duration::from_secs(60);

const PRESETS: [(&str, &str); 4] = [
    ("day", "Day"),
    ("week", "Week"),
    ("month", "Month"),
    ("year", "Year"),
];

/// The mail-flow chart's series, bottom of the stack first.
const FLOW: [Series; 7] = Series::TRAFFIC;

#[component]
pub fn ChartsPage() -> impl IntoView {
    view! { <Page title="Charts" section=Section::Charts children=|_| view! { <Charts /> } /> }
}

/// The links inside the Charts section.
#[component]
pub fn ChartsNav() -> impl IntoView {
    view! {
        <nav class="subnav" aria-label="Charts section">
            <A href="/charts" exact=true>"Charts"</A>
            <A href="/charts/report">"Report"</A>
        </nav>
    }
}

#[component]
fn Charts() -> impl IntoView {
    let filters = Resource::new(|| (), |_| load_chart_filters());
    // Every resource of the page is made here, not inside the `Suspend`
    // below: the browser then finds each one's server-rendered data in the
    // same order the server made them, whatever resolves first.
    let range = RwSignal::new(Range::preset("day"));
    let host = RwSignal::new(String::new());
    let domain = RwSignal::new(String::new());
    let tick = refresh_tick(REFRESH);
    let query = Memo::new(move |_| {
        let Range { preset, from, to } = range.get();
        ChartQuery {
            preset,
            from,
            to,
            host: host.get(),
            domain: domain.get(),
        }
    });
    let chart = Resource::new(move || (query.get(), tick.get()), |(q, _)| load_chart(q));
    view! {
        <ChartsNav />
        <h1>"Charts"</h1>
        <Loaded resource=filters let:f>
            <ChartBoard filters=f range host domain chart />
        </Loaded>
    }
}

#[component]
fn ChartBoard(
    filters: ChartFilters,
    range: RwSignal<Range>,
    host: RwSignal<String>,
    domain: RwSignal<String>,
    chart: Resource<Result<ChartData, AppError>>,
) -> impl IntoView {
    let offset = filters.offset;
    let stacked = RwSignal::new(true);
    let rate = RwSignal::new(false);
    let hidden = RwSignal::new(BTreeSet::<String>::new());
    let selected = RwSignal::new(None::<BlockRow>);
    let style = Signal::derive(move || Style {
        stacked: stacked.get(),
        rate: rate.get(),
    });
    let hosts = filters.hosts.clone();
    let domains = filters.domains.clone();
    view! {
        <section class="panel chart-controls">
            <RangePicker
                label="Range"
                presets=&PRESETS
                range
                offset
                first=local_date(filters.now - 7 * DAY, offset)
                last=local_date(filters.now, offset)
            />
            <div class="toolbar">
                <label>
                    "Host"
                    <select
                        on:change=move |ev| host.set(event_target_value(&ev))
                        prop:disabled=move || !domain.get().is_empty()
                        title="Domain series are not kept per host"
                    >
                        <option value="">"All hosts"</option>
                        {hosts.into_iter().map(|h| view! { <option value=h.clone()>{h.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>
                    "Domain"
                    <select on:change=move |ev| domain.set(event_target_value(&ev))>
                        <option value="">"All mail"</option>
                        {domains.into_iter().map(|d| view! { <option value=d.clone()>{d.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <div class="segmented" role="group" aria-label="Drawing">
                    <button type="button" aria-pressed=move || stacked.get().to_string() on:click=move |_| stacked.set(true)>"Stacked"</button>
                    <button type="button" aria-pressed=move || (!stacked.get()).to_string() on:click=move |_| stacked.set(false)>"Lines"</button>
                </div>
                <div class="segmented" role="group" aria-label="Values">
                    <button type="button" aria-pressed=move || (!rate.get()).to_string() on:click=move |_| rate.set(false)>"Count"</button>
                    <button type="button" aria-pressed=move || rate.get().to_string() on:click=move |_| rate.set(true)>"Per minute"</button>
                </div>
            </div>
        </section>
        <Loaded resource=chart loading="Loading the charts…" let:data>
            <ChartSet data hidden style selected />
        </Loaded>
        {move || selected.get().map(|b| view! { <BlockDetails block=b selected offset /> })}
    }
}

/// The range line, the totals and both charts of one answer.
#[component]
fn ChartSet(
    data: ChartData,
    hidden: RwSignal<BTreeSet<String>>,
    style: Signal<Style>,
    selected: RwSignal<Option<BlockRow>>,
) -> impl IntoView {
    let mut flow: Vec<String> = FLOW.iter().map(|s| s.name().to_string()).collect();
    flow.retain(|n| data.series.iter().any(|s| &s.name == n));
    let rejects: Vec<String> = data
        .series
        .iter()
        .map(|s| s.name.clone())
        .filter(|n| {
            series::reject_class(n).is_some() || Series::parse(n) == Some(Series::SaslFailures)
        })
        .collect();
    let resolution = format!("per {}", crate::components::chart::bucket_name(data.step));
    let range = format!(
        "{} – {} · {resolution} · {} block(s) approved · updated {}",
        crate::components::chart::time_label(data.from, data.offset, 60, true),
        crate::components::chart::time_label(data.to, data.offset, 60, true),
        data.blocks.len(),
        crate::components::chart::time_label(data.now, data.offset, 60, true),
    );
    let totals: Vec<(String, u64)> = FLOW
        .iter()
        .map(|n| {
            let sum = data
                .series
                .iter()
                .find(|s| s.name == n.name())
                .map_or(0, |s| s.values.iter().sum());
            (n.label().to_string(), sum)
        })
        .collect();
    view! {
        <p class="muted range-line" data-testid="range">{range}</p>
        <dl class="totals">
            {totals
                .into_iter()
                .map(|(label, n)| view! { <div><dt>{label}</dt><dd>{n.to_string()}</dd></div> })
                .collect_view()}
        </dl>
        <TimeChart title="Mail flow" data=data.clone() names=flow hidden style selected />
        <crate::components::refused_chart::RefusedChart chart=data.clone() style selected />
        <TimeChart title="Rejects by class and SASL failures" data names=rejects hidden style selected />
    }
}

#[component]
fn BlockDetails(
    block: BlockRow,
    selected: RwSignal<Option<BlockRow>>,
    offset: i64,
) -> impl IntoView {
    let time = move |t: i64| crate::components::chart::time_label(t, offset, 60, true);
    let user = crate::components::session::use_current_user();
    let href = format!("/mailflow#block-{}", block.id);
    let ended = match block.lifted_at {
        Some(at) => format!("lifted {}", time(at)),
        None => format!("until {}", time(block.expires_at)),
    };
    view! {
        <section class="panel block-details" aria-label="Block">
            <h2>"Block #" {block.id} ": " {block.target.clone()}</h2>
            <p>
                <span class="badge">{block.subject.name()}</span>
                " approved by " <strong>{block.approved_by.clone()}</strong> " " {time(block.approved_at)}
                ", " {ended} ". Refused " {block.hits} " request(s)."
            </p>
            <p>{block.reason.clone()}</p>
            <div class="form-actions">
                // Only the security team and admins may open MailFlow.
                <Transition fallback=|| ()>
                    {move || {
                        let href = href.clone();
                        Suspend::new(async move {
                        let may = matches!(user.await, Ok(Some(u)) if u.may_enter(Section::MailFlow));
                        may.then(|| view! { <a class="button" href=href>"Open in MailFlow"</a> })
                    })
                    }}
                </Transition>
                <button type="button" on:click=move |_| selected.set(None)>"Close"</button>
            </div>
        </section>
    }
}
