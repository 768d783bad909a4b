//! MailFlow ingest status (role `admin`): each live source's state, lag,
//! speed, last error and warnings (a log the engine cannot read, shown
//! above the table so nobody mistakes its zeros for a quiet day), and
//! every stored checkpoint (live sources and
//! files read by `carteiro import`). Refreshes itself every few seconds.

use crate::api::ingest_status::ingest_status;
use crate::components::format::{group_digits, utc_seconds};
use crate::components::page::{DataTable, Loaded, Page};
use crate::components::refresh::refresh_tick;
use crate::model::{CheckpointInfo, IngestOverview, Section, SourceState, SourceStatus};
use leptos::prelude::*;
use mailflow::time::{DAY, HOUR};
use std::time::Duration;

/// How often the page asks again.
const REFRESH: Duration = Duration::from_secs(5);

#[component]
pub fn IngestPage() -> impl IntoView {
    view! { <Page title="MailFlow ingest" section=Section::Admin children=|_| view! { <IngestBoard /> } /> }
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
        <Loaded resource=status let:s>
            <StatusView status=s />
        </Loaded>
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
                view! {
                    <SourceWarnings sources=status.sources.clone() />
                    <SourcesTable sources=status.sources now=now />
                }
                    .into_any()
            }}
        </section>
        <section class="panel">
            <h2>"Stored positions"</h2>
            <CheckpointsTable checkpoints=status.checkpoints now=now />
        </section>
    }
}

/// One notice per source whose latest lines the engine could not read.
#[component]
fn SourceWarnings(sources: Vec<SourceStatus>) -> impl IntoView {
    sources
        .into_iter()
        .filter(|s| !s.warnings.is_empty())
        .map(|s| {
            view! {
                <div class="notice error source-warning">
                    <strong>"Warning for source " {s.name} ": "</strong>
                    {s
                        .warnings
                        .into_iter()
                        .map(|w| view! { <p>{w}</p> })
                        .collect_view()}
                </div>
            }
        })
        .collect_view()
}

#[component]
fn SourcesTable(sources: Vec<SourceStatus>, now: i64) -> impl IntoView {
    view! {
        <DataTable rows=sources head=&["Source", "State", "Read", "Lines", "Lines/s", "Latest log line", "Lag", "Last error"]
            class="data ingest" num=&["Lines", "Lines/s"] row=move |s| {
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
                        <td class="nowrap">{s.last_log_at.map(utc_seconds).unwrap_or_else(|| "—".into())}</td>
                        <td class="nowrap">{s.lag_secs.map(age).unwrap_or_else(|| "—".into())}</td>
                        <td class="error-text">
                            {s.last_error.unwrap_or_default()}
                            {(now - s.updated_at > 60).then(|| format!(" (no news for {})", age(now - s.updated_at)))}
                        </td>
                    </tr>
                }
            }
        />
    }
}

#[component]
fn CheckpointsTable(checkpoints: Vec<CheckpointInfo>, now: i64) -> impl IntoView {
    view! {
        <DataTable rows=checkpoints head=&["Kind", "File", "Bytes", "Lines", "Latest log line", "Stored"]
            num=&["Bytes", "Lines"] empty="Nothing has been read yet." row=move |c| {
                let label = if c.kind == "live" { c.name.clone() } else { "import".into() };
                view! {
                    <tr>
                        <td>{label}</td>
                        <td>
                            <code>{c.path}</code>
                        </td>
                        <td class="num">{thousands(c.offset)}</td>
                        <td class="num">{thousands(c.lines)}</td>
                        <td class="nowrap">{c.last_log_at.map(utc_seconds).unwrap_or_else(|| "—".into())}</td>
                        <td class="nowrap">{format!("{} ago", age(now - c.updated_at))}</td>
                    </tr>
                }
            }
        />
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

/// `42 s`, `3 min`, `5 h`, `2 d`.
fn age(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        7200..172_800 => format!("{} h", secs / HOUR),
        _ => format!("{} d", secs / DAY),
    }
}

/// `1 234 567`: digits grouped for reading at a glance.
fn thousands(n: u64) -> String {
    group_digits(&n.to_string(), '\u{202f}')
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
