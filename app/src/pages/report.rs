//! The Mailgraph report (roles `manager`, `security`, `admin`): pflogsumm's
//! tables for today, yesterday, the last seven days or any dates, each one
//! downloadable as CSV. `carteiro import --report text` prints the same.

use super::charts::ChartsNav;
use crate::api::mailgraph::{load_chart_filters, load_report};
use crate::components::format::group_digits;
use crate::components::page::{Loaded, Page};
use crate::components::range::{Range, RangePicker, local_date};
use crate::errors::AppError;
use crate::model::{MailReport, ReportTable, Section};
use leptos::prelude::*;
use mailflow::time::DAY;

/// Between the digit groups of the tables' figures.
const THIN_SPACE: char = '\u{2009}';

const PRESETS: [(&str, &str); 3] = [
    ("today", "Today"),
    ("yesterday", "Yesterday"),
    ("week", "Last 7 days"),
];

#[component]
pub fn ReportPage() -> impl IntoView {
    view! { <Page title="Mail report" section=Section::Charts children=|_| view! { <Report /> } /> }
}

#[component]
fn Report() -> impl IntoView {
    let filters = Resource::new(|| (), |_| load_chart_filters());
    // Made here, outside the `Suspend` below (see the Charts page).
    let range = RwSignal::new(Range::preset("today"));
    let report = Resource::new(move || range.get(), |r| load_report(r.preset, r.from, r.to));
    view! {
        <ChartsNav />
        <h1>"Mail report"</h1>
        <Loaded resource=filters let:f>
            <ReportBoard offset=f.offset now=f.now range report />
        </Loaded>
    }
}

#[component]
fn ReportBoard(
    offset: i64,
    now: i64,
    range: RwSignal<Range>,
    report: Resource<Result<MailReport, AppError>>,
) -> impl IntoView {
    view! {
        <section class="panel chart-controls">
            <RangePicker
                label="Period"
                presets=&PRESETS
                range
                offset
                first=local_date(now - DAY, offset)
                last=local_date(now - DAY, offset)
            />
        </section>
        <Loaded resource=report loading="Building the report…" let:r>
            <ReportTables report=r />
        </Loaded>
    }
}

#[component]
fn ReportTables(report: MailReport) -> impl IntoView {
    let period = format!(
        "{} – {}",
        crate::components::chart::time_label(report.from, report.offset, 60, true),
        crate::components::chart::time_label(report.to, report.offset, 60, true),
    );
    let (from, to) = (report.from, report.to);
    view! {
        <p class="muted" data-testid="period">{period}</p>
        <div class="report">
            {report
                .tables
                .into_iter()
                .map(|t| view! { <Table table=t from to /> })
                .collect_view()}
        </div>
    }
}

#[component]
fn Table(table: ReportTable, from: i64, to: i64) -> impl IntoView {
    let href = format!("/charts/report/{}.csv?from={from}&to={to}", table.id);
    let numeric: Vec<bool> = (0..table.columns.len())
        .map(|c| {
            c > 0
                && table.rows.iter().all(|r| {
                    r.get(c)
                        .is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit()))
                })
        })
        .collect();
    let numeric_head = numeric.clone();
    let wide = table.columns.len() > 3;
    view! {
        <section class="panel report-table" class:wide=wide aria-label=table.title.clone()>
            <header>
                <h2>{table.title.clone()}</h2>
                <a class="button small" href=href download rel="external">"CSV"</a>
            </header>
            {if table.rows.is_empty() {
                view! { <p class="muted">"Nothing in this period."</p> }.into_any()
            } else {
                view! {
                    <table class="data">
                        <thead>
                            <tr>
                                {table
                                    .columns
                                    .iter()
                                    .zip(numeric_head)
                                    .map(|(c, num)| view! { <th class:num=num>{c.clone()}</th> })
                                    .collect_view()}
                            </tr>
                        </thead>
                        <tbody>
                            {table
                                .rows
                                .into_iter()
                                .map(|row| {
                                    let numeric = numeric.clone();
                                    view! {
                                        <tr>
                                            {row
                                                .into_iter()
                                                .zip(numeric)
                                                .map(|(cell, num)| {
                                                    let text = if num { group_digits(&cell, THIN_SPACE) } else { cell };
                                                    view! { <td class:num=num>{text}</td> }
                                                })
                                                .collect_view()}
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any()
            }}
        </section>
    }
}
