//! MailFlow ingest status (role `admin`): each live source's state, lag,
//! speed, last error and warnings (a log the engine cannot read, shown
//! above the table so nobody mistakes its zeros for a quiet day), and
//! every stored checkpoint (live sources and
//! files read by `carteiro import`). Refreshes itself every few seconds.

use crate::api::ingest_status::ingest_status;
use crate::components::page::{DataTable, Loaded, Page};
use crate::components::refresh::refresh_tick;
use crate::i18n::{Locale, Time, use_locale, use_texts};
use crate::model::{CheckpointInfo, IngestOverview, Section, SourceState, SourceStatus};
use leptos::prelude::*;
use mailflow::time::{DAY, HOUR};
use std::time::Duration;

crate::texts! {
    /// The MailFlow ingest status page.
    pub struct IngestTexts {
        title = "MailFlow ingest", "Ingestão MailFlow";
        live_sources = "Live sources", "Fontes ao vivo";
        no_sources = "This server tails no log file. Add a ", "Este servidor não acompanha nenhum arquivo de log. Inclua uma entrada ";
        no_sources_end = " entry (name and path) to carteiro.toml and restart it; archives are read with ", " (nome e caminho) no carteiro.toml e reinicie-o; arquivos antigos são lidos com ";
        stored_positions = "Stored positions", "Posições armazenadas";
        col_source = "Source", "Fonte";
        col_state = "State", "Situação";
        col_read = "Read", "Lido";
        col_lines = "Lines", "Linhas";
        col_rate = "Lines/s", "Linhas/s";
        col_latest = "Latest log line", "Última linha do log";
        col_lag = "Lag", "Atraso";
        col_error = "Last error", "Último erro";
        col_kind = "Kind", "Tipo";
        col_file = "File", "Arquivo";
        col_bytes = "Bytes", "Bytes lidos";
        col_stored = "Stored", "Armazenado";
        nothing_read = "Nothing has been read yet.", "Nada foi lido ainda.";
        import = "import", "importação";
        starting = "starting", "iniciando";
        following = "following", "acompanhando";
        catching_up = "catching up", "recuperando atraso";
        error = "error", "erro";
    }
    formats {
        intro(secs: u64) = format!("Postfix logs read into the counters, message traces and charts. This page refreshes every {secs} seconds."), format!("Logs do Postfix lidos para os contadores, rastreios de mensagens e gráficos. Esta página se atualiza a cada {secs} segundos.");
        warning_for(name: &str) = format!("Warning for source {name}: "), format!("Aviso da fonte {name}: ");
        no_news(age: &str) = format!(" (no news for {age})"), format!(" (sem notícias há {age})");
        ago(age: &str) = format!("{age} ago"), format!("há {age}");
        megabytes(mb: &str) = format!("{mb} MB"), format!("{mb} MB");
        progress(done: &str, size: &str, pct: &str) = format!("{done} of {size} MB ({pct}%)"), format!("{done} de {size} MB ({pct}%)");
    }
}

impl IngestTexts {
    /// A source's state in words.
    pub fn state(self, s: SourceState) -> &'static str {
        match s {
            SourceState::Starting => self.starting(),
            SourceState::Following => self.following(),
            SourceState::CatchingUp => self.catching_up(),
            SourceState::Error => self.error(),
        }
    }
}

/// How often the page asks again.
const REFRESH: Duration = Duration::from_secs(5);

#[component]
pub fn IngestPage() -> impl IntoView {
    let title = use_texts::<IngestTexts>().title();
    view! { <Page title section=Section::Admin children=|_| view! { <IngestBoard /> } /> }
}

#[component]
fn IngestBoard() -> impl IntoView {
    let t = use_texts::<IngestTexts>();
    let tick = refresh_tick(REFRESH);
    let status = Resource::new(move || tick.get(), |_| ingest_status());

    view! {
        <h1>{t.title()}</h1>
        <p class="muted">{t.intro(REFRESH.as_secs())}</p>
        <Loaded resource=status let:s>
            <StatusView status=s />
        </Loaded>
    }
}

#[component]
fn StatusView(status: IngestOverview) -> impl IntoView {
    let t = use_texts::<IngestTexts>();
    let now = status.now;
    view! {
        <section class="panel">
            <h2>{t.live_sources()}</h2>
            {if status.sources.is_empty() {
                view! {
                    <p class="muted">
                        {t.no_sources()} <code>"[[mailflow.sources]]"</code>
                        {t.no_sources_end()}
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
            <h2>{t.stored_positions()}</h2>
            <CheckpointsTable checkpoints=status.checkpoints now=now />
        </section>
    }
}

/// One notice per source whose latest lines the engine could not read.
#[component]
fn SourceWarnings(sources: Vec<SourceStatus>) -> impl IntoView {
    let t = use_texts::<IngestTexts>();
    sources
        .into_iter()
        .filter(|s| !s.warnings.is_empty())
        .map(|s| {
            view! {
                <div class="notice error source-warning">
                    <strong>{t.warning_for(&s.name)}</strong>
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

/// A log time (local, UTC on hover), or a dash.
fn log_time(at: Option<i64>) -> AnyView {
    match at {
        Some(at) => view! { <Time at seconds=true /> }.into_any(),
        None => "—".into_any(),
    }
}

#[component]
fn SourcesTable(sources: Vec<SourceStatus>, now: i64) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<IngestTexts>();
    let head = vec![
        t.col_source(),
        t.col_state(),
        t.col_read(),
        t.col_lines(),
        t.col_rate(),
        t.col_latest(),
        t.col_lag(),
        t.col_error(),
    ];
    view! {
        <DataTable rows=sources head class="data ingest" num=vec![t.col_lines(), t.col_rate()] row=move |s| {
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
                            <span class=badge>{t.state(s.state)}</span>
                        </td>
                        <td class="nowrap">{progress(&locale, s.offset, s.size)}</td>
                        <td class="num">{locale.number(s.lines)}</td>
                        <td class="num">{locale.decimal(s.lines_per_sec, 0)}</td>
                        <td class="nowrap">{log_time(s.last_log_at)}</td>
                        <td class="nowrap">{s.lag_secs.map(age).unwrap_or_else(|| "—".into())}</td>
                        <td class="error-text">
                            {s.last_error.unwrap_or_default()}
                            {(now - s.updated_at > 60).then(|| t.no_news(&age(now - s.updated_at)))}
                        </td>
                    </tr>
                }
            }
        />
    }
}

#[component]
fn CheckpointsTable(checkpoints: Vec<CheckpointInfo>, now: i64) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<IngestTexts>();
    let head = vec![
        t.col_kind(),
        t.col_file(),
        t.col_bytes(),
        t.col_lines(),
        t.col_latest(),
        t.col_stored(),
    ];
    view! {
        <DataTable rows=checkpoints head num=vec![t.col_bytes(), t.col_lines()]
            empty=t.nothing_read() row=move |c| {
                let label = if c.kind == "live" { c.name.clone() } else { t.import().into() };
                view! {
                    <tr>
                        <td>{label}</td>
                        <td>
                            <code>{c.path}</code>
                        </td>
                        <td class="num">{locale.number(c.offset)}</td>
                        <td class="num">{locale.number(c.lines)}</td>
                        <td class="nowrap">{log_time(c.last_log_at)}</td>
                        <td class="nowrap" title=locale.utc(c.updated_at)>{t.ago(&age(now - c.updated_at))}</td>
                    </tr>
                }
            }
        />
    }
        .into_any()
}

/// `12.3 of 45.6 MB (27%)`, as the language writes numbers.
fn progress(locale: &Locale, offset: u64, size: u64) -> String {
    let t = locale.texts::<IngestTexts>();
    let mb = |b: u64| locale.decimal(b as f64 / 1e6, 1);
    if size == 0 {
        return t.megabytes(&mb(offset));
    }
    let pct = 100.0 * offset.min(size) as f64 / size as f64;
    t.progress(&mb(offset), &mb(size), &locale.decimal(pct, 0))
}

/// `42 s`, `3 min`, `5 h`, `2 d` (the same symbols in both languages).
fn age(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        7200..172_800 => format!("{} h", secs / HOUR),
        _ => format!("{} d", secs / DAY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn figures_read_at_a_glance() {
        let pt = Locale::default();
        let en = Locale {
            lang: Lang::En,
            ..Locale::default()
        };
        assert_eq!(age(-3), "0 s");
        assert_eq!(age(119), "119 s");
        assert_eq!(age(600), "10 min");
        assert_eq!(age(3 * 3600), "3 h");
        assert_eq!(age(3 * 86_400), "3 d");
        assert_eq!(progress(&en, 5_000_000, 0), "5.0 MB");
        assert_eq!(progress(&pt, 5_000_000, 0), "5,0 MB");
        assert_eq!(
            progress(&en, 25_000_000, 1_100_000_000),
            "25.0 of 1,100.0 MB (2%)"
        );
        assert_eq!(
            progress(&pt, 25_000_000, 1_100_000_000),
            "25,0 de 1.100,0 MB (2%)"
        );
        assert_eq!(
            IngestTexts(Lang::PtBr).state(SourceState::Following),
            "acompanhando"
        );
    }
}
