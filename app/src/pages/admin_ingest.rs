//! MailFlow ingest status (role `admin`): each live source's state, lag,
//! speed and last error, and every stored checkpoint (live sources and
//! files read by `carteiro import`). Refreshes itself every few seconds.

use crate::api::ingest_status::ingest_status;
use crate::components::guard::Guarded;
use crate::components::notice::ErrorBox;
use crate::components::refresh::refresh_tick;
use crate::model::{CheckpointInfo, IngestOverview, Section, SourceState, SourceStatus};
use leptos::prelude::*;
use leptos_meta::Title;
use std::time::Duration;

/// How often the page asks again.
const REFRESH: Duration = Duration::from_secs(5);

#[component]
pub fn IngestPage() -> impl IntoView {
    view! {
        <Title text="MailFlow ingest" />
        <Guarded section=Section::Admin children=|_| view! { <IngestBoard /> } />
    }
}

#[component]
fn IngestBoard() -> impl IntoView {
    let tick = refresh_tick(REFRESH);
    let status = Resource::new(move || tick.get(), |_| ingest_status());

    view! {
        <h1>"MailFlow ingest"</h1>
        <p class="muted">
            "Postfix logs read into the counters, message traces and charts. This page refreshes every "
            {REFRESH.as_secs()} " seconds."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(s) => view! { <StatusView status=s /> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn StatusView(status: IngestOverview) -> impl IntoView {
    let now = status.now;
    view! {
        <section class="panel">
            <h2>"Live sources"</h2>
            {if status.sources.is_empty() {
                view! {
                    <p class="muted">
                        "This server tails no log file. Add a " <code>"[[mailflow.sources]]"</code>
                        " entry (name and path) to carteiro.toml and restart it; archives are read with "
                        <code>"carteiro import FILE…"</code> "."
                    </p>
                }
                    .into_any()
            } else {
                view! { <SourcesTable sources=status.sources now=now /> }.into_any()
            }}
        </section>
        <section class="panel">
            <h2>"Stored positions"</h2>
            <CheckpointsTable checkpoints=status.checkpoints now=now />
        </section>
    }
}

#[component]
fn SourcesTable(sources: Vec<SourceStatus>, now: i64) -> impl IntoView {
    view! {
        <table class="data ingest">
            <thead>
                <tr>
                    <th>"Source"</th>
                    <th>"State"</th>
                    <th>"Read"</th>
                    <th class="num">"Lines"</th>
                    <th class="num">"Lines/s"</th>
                    <th>"Latest log line"</th>
                    <th>"Lag"</th>
                    <th>"Last error"</th>
                </tr>
            </thead>
            <tbody>
                {sources
                    .into_iter()
                    .map(|s| {
                        let badge = match s.state {
                            SourceState::Following => "badge ok",
                            SourceState::Error => "badge error",
                            _ => "badge",
                        };
                        view! {
                            <tr>
                                <td>
                                    <strong>{s.name}</strong>
                                    <br />
                                    <code class="muted">{s.path}</code>
                                </td>
                                <td>
                                    <span class=badge>{s.state.as_str()}</span>
                                </td>
                                <td class="nowrap">{progress(s.offset, s.size)}</td>
                                <td class="num">{thousands(s.lines)}</td>
                                <td class="num">{format!("{:.0}", s.lines_per_sec)}</td>
                                <td class="nowrap">{s.last_log_at.map(when).unwrap_or_else(|| "—".into())}</td>
                                <td class="nowrap">{s.lag_secs.map(age).unwrap_or_else(|| "—".into())}</td>
                                <td class="error-text">
                                    {s.last_error.unwrap_or_default()}
                                    {(now - s.updated_at > 60).then(|| format!(" (no news for {})", age(now - s.updated_at)))}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn CheckpointsTable(checkpoints: Vec<CheckpointInfo>, now: i64) -> impl IntoView {
    if checkpoints.is_empty() {
        return view! { <p class="muted">"Nothing has been read yet."</p> }.into_any();
    }
    view! {
        <table class="data">
            <thead>
                <tr>
                    <th>"Kind"</th>
                    <th>"File"</th>
                    <th class="num">"Bytes"</th>
                    <th class="num">"Lines"</th>
                    <th>"Latest log line"</th>
                    <th>"Stored"</th>
                </tr>
            </thead>
            <tbody>
                {checkpoints
                    .into_iter()
                    .map(|c| {
                        let label = if c.kind == "live" { c.name.clone() } else { "import".into() };
                        view! {
                            <tr>
                                <td>{label}</td>
                                <td>
                                    <code>{c.path}</code>
                                </td>
                                <td class="num">{thousands(c.offset)}</td>
                                <td class="num">{thousands(c.lines)}</td>
                                <td class="nowrap">{c.last_log_at.map(when).unwrap_or_else(|| "—".into())}</td>
                                <td class="nowrap">{format!("{} ago", age(now - c.updated_at))}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
        .into_any()
}

/// `12.3 of 45.6 MB (27%)`.
fn progress(offset: u64, size: u64) -> String {
    let mb = |b: u64| b as f64 / 1e6;
    if size == 0 {
        return format!("{:.1} MB", mb(offset));
    }
    let pct = 100.0 * offset.min(size) as f64 / size as f64;
    format!("{:.1} of {:.1} MB ({pct:.0}%)", mb(offset), mb(size))
}

/// A log time in UTC.
fn when(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// `42 s`, `3 min`, `5 h`, `2 d`.
fn age(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        7200..172_800 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86_400),
    }
}

/// `1 234 567`: digits grouped for reading at a glance.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_at_a_glance() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(age(-3), "0 s");
        assert_eq!(age(119), "119 s");
        assert_eq!(age(600), "10 min");
        assert_eq!(age(3 * 3600), "3 h");
        assert_eq!(age(3 * 86_400), "3 d");
        assert_eq!(progress(5_000_000, 0), "5.0 MB");
        assert_eq!(progress(25_000_000, 100_000_000), "25.0 of 100.0 MB (25%)");
    }
}
