//! The Mailgraph report (roles `manager`, `security`, `admin`): pflogsumm's
//! tables for today, yesterday, the last seven days or any dates, each one
//! downloadable as CSV. `carteiro import --report text` prints the same.
//!
//! The server names tables, columns and the grand totals' rows by stable
//! English keys (the CSV and the text report keep them); this page shows
//! them in the reader's language ([`ReportTexts::label`]), days in the
//! configured zone and numbers as the language writes them.

use super::charts::ChartsNav;
use crate::api::mailgraph::{load_chart_filters, load_report};
use crate::components::page::{Loaded, Page};
use crate::components::range::{Range, RangePicker, local_date};
use crate::errors::AppError;
use crate::i18n::{Lang, Locale, use_locale, use_texts};
use crate::model::{MailReport, ReportTable, Section};
use leptos::prelude::*;
use mailflow::time::LocalDays;
use std::sync::LazyLock;

crate::texts! {
    /// The report page.
    pub struct ReportTexts {
        title = "Mail report", "Relatório de e-mail";
        period = "Period", "Período";
        today = "Today", "Hoje";
        yesterday = "Yesterday", "Ontem";
        week = "Last 7 days", "Últimos 7 dias";
        bad_preset = "Choose today, yesterday or the last 7 days.", "Escolha hoje, ontem ou os últimos 7 dias.";
        building = "Building the report…", "Montando o relatório…";
        nothing = "Nothing in this period.", "Nada neste período.";
        csv_title = "Download this table as CSV", "Baixar esta tabela em CSV";
        // Tables, by id.
        t_totals = "Grand totals", "Totais gerais";
        t_per_day = "Per day", "Por dia";
        t_per_hour = "Per hour of day", "Por hora do dia";
        t_rejects_by_class = "Rejects by class", "Rejeições por classe";
        t_senders_by_count = "Senders by count", "Remetentes por quantidade";
        t_senders_by_size = "Senders by size", "Remetentes por volume";
        t_recipients_by_count = "Recipients by count", "Destinatários por quantidade";
        t_recipients_by_size = "Recipients by size", "Destinatários por volume";
        t_sending_domains_by_count = "Sending domains by count", "Domínios remetentes por quantidade";
        t_sending_domains_by_size = "Sending domains by size", "Domínios remetentes por volume";
        t_receiving_domains_by_count = "Receiving domains by count", "Domínios destinatários por quantidade";
        t_receiving_domains_by_size = "Receiving domains by size", "Domínios destinatários por volume";
        t_bounces_by_relay = "Bounces by remote server", "Devolvidas por servidor remoto";
        t_deferral_reasons = "Deferrals by reason", "Adiadas por motivo";
        t_rejects_by_client = "Rejects by client", "Rejeições por cliente";
        // Columns and the grand totals' rows, by key.
        k_series = "series", "série";
        k_count = "count", "quantidade";
        k_day = "day", "dia";
        k_hour = "hour", "hora";
        k_received = "received", "recebidas";
        k_sent = "sent", "enviadas";
        k_sent_delivered = "sent (delivered)", "enviadas (entregues)";
        k_deferred = "deferred", "adiadas";
        k_bounced = "bounced", "devolvidas";
        k_rejected = "rejected", "rejeitadas";
        k_spam = "spam", "Spam";
        k_virus = "virus", "vírus";
        k_sasl_failures = "SASL failures", "falhas de SASL";
        k_class = "class", "classe";
        k_rejects = "rejects", "rejeições";
        k_sender = "sender", "remetente";
        k_messages = "messages", "mensagens";
        k_recipient = "recipient", "destinatário";
        k_recipients = "recipients", "destinatários";
        k_delivered = "delivered", "entregues";
        k_bytes = "bytes", "Bytes";
        k_domain = "domain", "domínio";
        k_server = "server", "servidor";
        k_bounces = "bounces", "devoluções";
        k_reason = "reason", "motivo";
        k_client = "client", "cliente";
        k_bytes_received = "bytes received", "bytes recebidos";
        k_bytes_delivered = "bytes delivered", "bytes entregues";
        k_senders = "senders", "remetentes";
        k_sending_domains = "sending domains", "domínios remetentes";
        k_receiving_domains = "receiving domains", "domínios destinatários";
        no_reply = "(no reply)", "(sem resposta)";
    }
}

impl ReportTexts {
    /// A table title, column or grand-totals row the server names by `key`
    /// (its English text), in this language; an unknown key (a reject
    /// class an admin added) as it is.
    pub fn label(self, key: &str) -> Option<&'static str> {
        // The English text is the key: tables are the `t_` entries, columns
        // and rows the `k_` ones.
        Self::ENTRIES
            .iter()
            .find(|(name, en, _)| {
                *en == key
                    && (name.starts_with("t_") || name.starts_with("k_") || *name == "no_reply")
            })
            .map(|&(_, en, pt)| match self.0 {
                Lang::En => en,
                Lang::PtBr => pt,
            })
    }

    /// The period presets, as the picker wants them (made once per language).
    fn presets(self) -> &'static [(&'static str, &'static str)] {
        fn of(lang: Lang) -> [(&'static str, &'static str); 3] {
            let t = ReportTexts(lang);
            [
                ("today", t.today()),
                ("yesterday", t.yesterday()),
                ("week", t.week()),
            ]
        }
        static EN: LazyLock<[(&str, &str); 3]> = LazyLock::new(|| of(Lang::En));
        static PT: LazyLock<[(&str, &str); 3]> = LazyLock::new(|| of(Lang::PtBr));
        match self.0 {
            Lang::En => &*EN,
            Lang::PtBr => &*PT,
        }
    }
}

/// `[from, to)` of report preset `key` in `zone`'s local days, the
/// current day ending at `end`: what the server reports and the date
/// fields show.
pub fn preset_range(zone: &impl LocalDays, key: &str, now: i64, end: i64) -> Option<(i64, i64)> {
    let today = zone.day_start(now);
    let days_before = |n: usize| (0..n).fold(today, |day, _| zone.day_start(day - 1));
    match key {
        "today" => Some((today, end)),
        "yesterday" => Some((days_before(1), today)),
        "week" => Some((days_before(6), end)),
        _ => None,
    }
}

#[component]
pub fn ReportPage() -> impl IntoView {
    let title = use_texts::<ReportTexts>().title();
    view! { <Page title section=Section::Charts children=|_| view! { <Report /> } /> }
}

#[component]
fn Report() -> impl IntoView {
    let t = use_texts::<ReportTexts>();
    let filters = Resource::new(|| (), |_| load_chart_filters());
    // Made here, outside the `Suspend` below (see the Charts page).
    let range = RwSignal::new(Range::preset("today"));
    let report = Resource::new(move || range.get(), |r| load_report(r.preset, r.from, r.to));
    view! {
        <ChartsNav />
        <h1>{t.title()}</h1>
        <Loaded resource=filters let:f>
            <ReportBoard now=f.now range report />
        </Loaded>
    }
}

#[component]
fn ReportBoard(
    now: i64,
    range: RwSignal<Range>,
    report: Resource<Result<MailReport, AppError>>,
) -> impl IntoView {
    let t = use_texts::<ReportTexts>();
    let zone = use_locale().zone;
    // The date fields show the days of the preset chosen.
    let span_of = Callback::new({
        let zone = zone.clone();
        move |key: String| preset_range(&*zone, &key, now, now + 1)
    });
    view! {
        <section class="panel chart-controls">
            <RangePicker
                label=t.period()
                presets=t.presets()
                range
                first=local_date(now, &*zone)
                last=local_date(now, &*zone)
                span_of
            />
        </section>
        <Loaded resource=report loading=t.building() let:r>
            <ReportTables report=r />
        </Loaded>
    }
}

#[component]
fn ReportTables(report: MailReport) -> impl IntoView {
    let locale = use_locale();
    let period = format!(
        "{} – {}",
        locale.datetime(report.from),
        locale.datetime(report.to)
    );
    let title = format!("{} – {}", locale.utc(report.from), locale.utc(report.to));
    let (from, to) = (report.from, report.to);
    view! {
        <p class="muted" data-testid="period" title=title>{period}</p>
        <div class="report">
            {report
                .tables
                .into_iter()
                .map(|t| view! { <Table table=t from to /> })
                .collect_view()}
        </div>
    }
}

/// A cell as the reader's language writes it: plain digits as a number,
/// a day (`2026-12-01`, in the per-day table) as a date, a known key as
/// its text.
fn cell_text(locale: &Locale, t: ReportTexts, cell: String, numeric: bool) -> String {
    if numeric && let Ok(n) = cell.parse::<u64>() {
        return locale.number(n);
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(&cell, "%Y-%m-%d") {
        // Local noon of that day: its date in the zone, whatever the offset.
        let noon = day
            .and_hms_opt(12, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp();
        return locale.date(noon - i64::from(locale.zone.offset_at(noon)));
    }
    t.label(&cell).map_or(cell, str::to_string)
}

#[component]
fn Table(table: ReportTable, from: i64, to: i64) -> impl IntoView {
    let (t, locale) = (use_texts::<ReportTexts>(), use_locale());
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
    let title = t
        .label(&table.title)
        .map_or_else(|| table.title.clone(), str::to_string);
    let (label, id) = (title.clone(), table.id.clone());
    view! {
        <section class="panel report-table" class:wide=wide aria-label=label data-table=id>
            <header>
                <h2>{title}</h2>
                <a class="button small" href=href download rel="external" title=t.csv_title()>"CSV"</a>
            </header>
            {if table.rows.is_empty() {
                view! { <p class="muted">{t.nothing()}</p> }.into_any()
            } else {
                view! {
                    <table class="data">
                        <thead>
                            <tr>
                                {table
                                    .columns
                                    .iter()
                                    .zip(numeric_head)
                                    .map(|(c, num)| {
                                        let c = t.label(c).map_or_else(|| c.clone(), str::to_string);
                                        view! { <th class:num=num>{c}</th> }
                                    })
                                    .collect_view()}
                            </tr>
                        </thead>
                        <tbody>
                            {table
                                .rows
                                .into_iter()
                                .map(|row| {
                                    let numeric = numeric.clone();
                                    let locale = locale.clone();
                                    view! {
                                        <tr>
                                            {row
                                                .into_iter()
                                                .zip(numeric)
                                                .map(|(cell, num)| {
                                                    let text = cell_text(&locale, t, cell, num);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_local_days_even_across_a_summer_time_change() {
        use mailflow::time::OffsetChanges;
        // São Paulo, 2018: summer time began on Sunday 4 November at 00:00
        // (−03:00 → −02:00), so that day began at 01:00 and lasted 23 hours.
        let change = 1_541_300_400; // 2018-11-04T03:00Z
        let zone = OffsetChanges(vec![(i64::MIN, -3 * 3600), (change, -2 * 3600)]);
        let now = change + 30 * 3600; // Monday 5 November, 11:00 local
        let monday = change + 23 * 3600; // its local midnight (02:00Z)
        assert_eq!(
            preset_range(&zone, "today", now, now + 1),
            Some((monday, now + 1))
        );
        assert_eq!(
            preset_range(&zone, "yesterday", now, now + 1),
            Some((change, monday))
        );
        // Seven days up to Monday: from Tuesday 30 October, 00:00 at −03:00.
        let week = preset_range(&zone, "week", now, now + 1).unwrap();
        assert_eq!(week.0, change - 5 * 86_400);
        assert_eq!(preset_range(&zone, "month", now, now + 1), None);
    }

    #[test]
    fn every_key_the_server_writes_has_a_text() {
        let pt = ReportTexts(Lang::PtBr);
        for key in [
            "Grand totals",
            "Deferrals by reason",
            "sent (delivered)",
            "SASL failures",
            "bytes received",
            "reason",
            "(no reply)",
        ] {
            assert!(pt.label(key).is_some(), "{key}");
        }
        for s in mailflow::Series::ALL {
            assert!(pt.label(s.report_label()).is_some(), "{}", s.report_label());
            assert!(pt.label(s.name()).is_some() || s.name() == "sasl_failures");
        }
        assert_eq!(pt.label("deferred"), Some("adiadas"));
        assert_eq!(pt.label("reject.my_class"), None);
    }

    #[test]
    fn cells_follow_the_language() {
        let pt = Locale {
            lang: Lang::PtBr,
            zone: std::sync::Arc::new(crate::i18n::Zone::fixed("America/Sao_Paulo", -3 * 3600)),
        };
        let t = ReportTexts(Lang::PtBr);
        assert_eq!(cell_text(&pt, t, "1234567".into(), true), "1.234.567");
        assert_eq!(cell_text(&pt, t, "2026-12-01".into(), false), "01/12/2026");
        assert_eq!(cell_text(&pt, t, "received".into(), false), "recebidas");
        assert_eq!(cell_text(&pt, t, "a@b.com".into(), false), "a@b.com");
    }
}
