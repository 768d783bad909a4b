//! Mailgraph charts (roles `manager`, `security`, `admin`): the mail flow
//! and the rejects by class over a day, week, month, year or any dates,
//! for all hosts, one host or one hosted domain; stacked or lines, counts
//! or messages per minute, alone or against the previous period or the
//! same time last week (both overlaid, or the difference from it).
//! Approved blocks are markers on the time axis.
//!
//! The view lives in the address bar ([`ChartView`]): every choice, and
//! every zoom (drag across a chart), is a navigation, so the URL can be
//! shared and the back button restores the view before. The charts ask
//! again every minute, without reloading the page.

use crate::api::mailgraph::{load_chart, load_chart_filters};
use crate::components::chart::{ChartTexts, Style, TimeChart, local_label};
use crate::components::page::{Loaded, Page, param, url_search};
use crate::components::range::{Range, RangePicker, local_date};
use crate::components::refresh::refresh_tick;
use crate::errors::AppError;
use crate::i18n::common::Common;
use crate::i18n::{use_locale, use_texts};
use crate::model::{BlockRow, ChartData, ChartFilters, ChartQuery, Section};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use leptos_router::params::ParamsMap;
use mailflow::series::{self, Series};
use mailflow::time::DAY;
use std::collections::BTreeSet;
use std::time::Duration;

crate::texts! {
    /// The Charts page, and the chart server function's messages.
    pub struct ChartsTexts {
        nav_label = "Charts section", "Seção de gráficos";
        nav_charts = "Charts", "Gráficos";
        nav_report = "Report", "Relatório";
        range = "Range", "Período";
        day = "Day", "Dia";
        week = "Week", "Semana";
        month = "Month", "Mês";
        year = "Year", "Ano";
        host = "Host", "Servidor";
        all_hosts = "All hosts", "Todos os servidores";
        host_off = "Domain series are not kept per host", "As séries de um domínio não são guardadas por servidor";
        domain = "Domain", "Domínio";
        all_mail = "All mail", "Todo o e-mail";
        drawing = "Drawing", "Desenho";
        stacked = "Stacked", "Empilhado";
        lines = "Lines", "Linhas";
        values = "Values", "Valores";
        count = "Count", "Contagem";
        per_minute = "Per minute", "Por minuto";
        compare = "Compare with", "Comparar com";
        compare_none = "Nothing", "Nada";
        compare_previous = "Previous period", "Período anterior";
        compare_week = "Last week", "Semana passada";
        compare_as = "Show the comparison as", "Mostrar a comparação como";
        overlay = "Overlay", "Sobreposição";
        difference = "Difference", "Diferença";
        reset_zoom = "Reset zoom", "Voltar ao período";
        loading = "Loading the charts…", "Carregando os gráficos…";
        flow = "Mail flow", "Fluxo de e-mail";
        rejects = "Rejects by class and SASL failures", "Rejeições por classe e falhas de SASL";
        domain_note = "Spam and virus counts are kept per host only: a domain's charts do not show them.", "Spam e vírus são contados só por servidor: os gráficos de um domínio não os mostram.";
        no_data = "no data stored for this choice", "nenhum dado guardado para esta escolha";
        block = "Block", "Bloqueio";
        open_mailflow = "Open in MailFlow", "Abrir no MailFlow";
        bad_preset = "Choose day, week, month or year.", "Escolha dia, semana, mês ou ano.";
        bad_compare = "Compare with the previous period, last week or nothing.", "Compare com o período anterior, com a semana passada ou com nada.";
    }
    formats {
        range_line(from: &str, to: &str, per: &str, blocks: usize, updated: &str) =
            format!("{from} – {to} · per {per} · {blocks} block(s) approved · updated {updated}"),
            format!("{from} – {to} · por {per} · {blocks} bloqueio(s) aprovado(s) · atualizado {updated}");
        data_until(at: &str) = format!("data until {at}"), format!("dados até {at}");
        compared_with(from: &str, to: &str) =
            format!("dashed: {from} – {to}"), format!("tracejado: {from} – {to}");
        difference_from(from: &str, to: &str) =
            format!("difference from {from} – {to}"), format!("diferença em relação a {from} – {to}");
        name_too_long(max: usize) =
            format!("A host or domain name has at most {max} characters."),
            format!("Um nome de servidor ou domínio tem no máximo {max} caracteres.");
        block_title(id: i64, target: &str) = format!("Block #{id}: {target}"), format!("Bloqueio nº {id}: {target}");
        approved(by: &str, at: &str) = format!("approved by {by} {at}"), format!("aprovado por {by} em {at}");
        lifted(at: &str) = format!("lifted {at}"), format!("retirado em {at}");
        until(at: &str) = format!("until {at}"), format!("até {at}");
        refused(n: &str) = format!("Refused {n} request(s)."), format!("Recusou {n} pedido(s).");
    }
}

/// How often the charts ask for new counts.
const REFRESH: Duration = Duration::from_secs(60);

/// The presets' keys, as the server and the address bar know them.
const PRESETS: [&str; 4] = ["day", "week", "month", "year"];

/// The mail-flow chart's series, bottom of the stack first.
const FLOW: [Series; 7] = Series::TRAFFIC;

/// What the page shows, as its address carries it:
/// `?range=day|week|month|year|<from>-<to>` (Unix seconds), `host`,
/// `domain`, `draw=lines`, `values=rate`, `compare=previous|week`,
/// `compared=delta` (the difference instead of the overlay), and
/// `unzoom` (the range before the first zoom, for "Reset zoom").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartView {
    pub range: Range,
    pub host: String,
    pub domain: String,
    pub lines: bool,
    pub rate: bool,
    pub compare: String,
    /// The comparison drawn as the difference (current − compared).
    pub delta: bool,
    pub unzoom: Option<Range>,
}

impl Default for ChartView {
    fn default() -> Self {
        ChartView {
            range: Range::preset("day"),
            host: String::new(),
            domain: String::new(),
            lines: false,
            rate: false,
            compare: String::new(),
            delta: false,
            unzoom: None,
        }
    }
}

impl ChartView {
    /// The view a URL's query asks for; anything unknown is the default.
    pub fn from_query(params: &ParamsMap) -> ChartView {
        let range = |key: &str| Range::from_param(&param(params, key), &PRESETS);
        let compare = param(params, "compare");
        ChartView {
            range: range("range").unwrap_or_else(|| Range::preset("day")),
            host: param(params, "host"),
            domain: param(params, "domain"),
            lines: param(params, "draw") == "lines",
            rate: param(params, "values") == "rate",
            compare: if matches!(compare.as_str(), "previous" | "week") {
                compare
            } else {
                String::new()
            },
            delta: param(params, "compared") == "delta",
            unzoom: range("unzoom"),
        }
    }

    /// The URL of this view (only what differs from the default).
    pub fn href(&self) -> String {
        let mut q = ParamsMap::new();
        let mut put = |key: &'static str, value: String| {
            if !value.is_empty() {
                q.insert(key, value);
            }
        };
        if self.range != Range::preset("day") {
            put("range", self.range.to_param());
        }
        put("host", self.host.clone());
        put("domain", self.domain.clone());
        put("draw", if self.lines { "lines" } else { "" }.into());
        put("values", if self.rate { "rate" } else { "" }.into());
        put("compare", self.compare.clone());
        put("compared", if self.delta { "delta" } else { "" }.into());
        put(
            "unzoom",
            self.unzoom
                .as_ref()
                .map(Range::to_param)
                .unwrap_or_default(),
        );
        format!("/charts{}", q.to_query_string())
    }

    /// This view zoomed to `[from, to)`: the range before the first zoom
    /// is kept for "Reset zoom".
    pub fn zoomed(&self, from: i64, to: i64) -> ChartView {
        ChartView {
            range: Range {
                preset: String::new(),
                from,
                to,
            },
            unzoom: Some(self.unzoom.clone().unwrap_or_else(|| self.range.clone())),
            ..self.clone()
        }
    }

    /// What the server is asked for.
    pub fn query(&self) -> ChartQuery {
        ChartQuery {
            preset: self.range.preset.clone(),
            from: self.range.from,
            to: self.range.to,
            host: self.host.clone(),
            domain: self.domain.clone(),
            compare: self.compare.clone(),
        }
    }
}

/// `[from, to)` of a preset ending at `now` (as the server takes it).
fn preset_span(key: &str, now: i64) -> Option<(i64, i64)> {
    let days = ChartQuery::preset_days(key)?;
    let to = now - now.rem_euclid(60);
    Some((to - days * DAY, to))
}

#[component]
pub fn ChartsPage() -> impl IntoView {
    let t = use_texts::<Common>();
    view! { <Page title=t.section_charts() section=Section::Charts children=|_| view! { <Charts /> } /> }
}

/// The links inside the Charts section.
#[component]
pub fn ChartsNav() -> impl IntoView {
    let t = use_texts::<ChartsTexts>();
    view! {
        <nav class="subnav" aria-label=t.nav_label()>
            <A href="/charts" exact=true>{t.nav_charts()}</A>
            <A href="/charts/report">{t.nav_report()}</A>
        </nav>
    }
}

#[component]
fn Charts() -> impl IntoView {
    let t = use_texts::<ChartsTexts>();
    let filters = Resource::new(|| (), |_| load_chart_filters());
    // Every resource of the page is made here, not inside the `Suspend`
    // below: the browser then finds each one's server-rendered data in the
    // same order the server made them, whatever resolves first.
    let view = url_search(ChartView::from_query);
    let tick = refresh_tick(REFRESH);
    let query = Memo::new(move |_| view.get().query());
    let chart = Resource::new(move || (query.get(), tick.get()), |(q, _)| load_chart(q));
    view! {
        <ChartsNav />
        <h1>{t.nav_charts()}</h1>
        <Loaded resource=filters let:f>
            <ChartBoard filters=f view chart />
        </Loaded>
    }
}

#[component]
fn ChartBoard(
    filters: ChartFilters,
    view: Memo<ChartView>,
    chart: Resource<Result<ChartData, AppError>>,
) -> impl IntoView {
    let t = use_texts::<ChartsTexts>();
    let zone = use_locale().zone;
    let navigate = use_navigate();
    let go = Callback::new(move |next: ChartView| {
        navigate(&next.href(), Default::default());
    });
    let change = move |edit: fn(&mut ChartView, String)| {
        move |value: String| {
            let mut next = view.get_untracked();
            edit(&mut next, value);
            go.run(next);
        }
    };
    // The picker works on a signal: it follows the address, and a choice
    // in it is a navigation (a new range drops any zoom).
    let range = RwSignal::new(view.get_untracked().range);
    Effect::new(move |_| {
        let r = view.get().range;
        if range.get_untracked() != r {
            range.set(r);
        }
    });
    Effect::new(move |_| {
        let r = range.get();
        let now = view.get_untracked();
        if now.range != r {
            go.run(ChartView {
                range: r,
                unzoom: None,
                ..now
            });
        }
    });
    let now = filters.now;
    let span_of = Callback::new(move |key: String| preset_span(&key, now));
    let hidden = RwSignal::new(BTreeSet::<String>::new());
    let style = Signal::derive(move || {
        let v = view.get();
        Style {
            stacked: !v.lines,
            rate: v.rate,
            delta: v.delta,
        }
    });
    let on_zoom = Callback::new(move |(from, to): (i64, i64)| {
        go.run(view.get_untracked().zoomed(from, to));
    });
    let presets = vec![
        ("day", t.day()),
        ("week", t.week()),
        ("month", t.month()),
        ("year", t.year()),
    ];
    let hosts = filters.hosts.clone();
    let domains = filters.domains.clone();
    let set_host = change(|v, host| v.host = host);
    let set_domain = change(|v, domain| v.domain = domain);
    let pressed = move |f: fn(&ChartView) -> bool| move || view.with(f).to_string();
    let toggle = move |edit: fn(&mut ChartView)| {
        move |_| {
            let mut next = view.get_untracked();
            edit(&mut next);
            if next != view.get_untracked() {
                go.run(next);
            }
        }
    };
    view! {
        <section class="panel chart-controls">
            <RangePicker
                label=t.range()
                presets
                range
                first=local_date(filters.now - 7 * DAY, &*zone)
                last=local_date(filters.now, &*zone)
                span_of
            />
            <div class="toolbar">
                <label>
                    {t.host()}
                    <select
                        on:change=move |ev| set_host(event_target_value(&ev))
                        prop:disabled=move || view.with(|v| !v.domain.is_empty())
                        prop:value=move || view.with(|v| v.host.clone())
                        title=t.host_off()
                    >
                        <option value="">{t.all_hosts()}</option>
                        {hosts.into_iter().map(|h| view! { <option value=h.clone()>{h.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>
                    {t.domain()}
                    <select
                        on:change=move |ev| set_domain(event_target_value(&ev))
                        prop:value=move || view.with(|v| v.domain.clone())
                    >
                        <option value="">{t.all_mail()}</option>
                        {domains.into_iter().map(|d| view! { <option value=d.clone()>{d.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <div class="segmented" role="group" aria-label=t.drawing()>
                    <button type="button" aria-pressed=pressed(|v| !v.lines) on:click=toggle(|v| v.lines = false)>{t.stacked()}</button>
                    <button type="button" aria-pressed=pressed(|v| v.lines) on:click=toggle(|v| v.lines = true)>{t.lines()}</button>
                </div>
                <div class="segmented" role="group" aria-label=t.values()>
                    <button type="button" aria-pressed=pressed(|v| !v.rate) on:click=toggle(|v| v.rate = false)>{t.count()}</button>
                    <button type="button" aria-pressed=pressed(|v| v.rate) on:click=toggle(|v| v.rate = true)>{t.per_minute()}</button>
                </div>
                <div class="segmented" role="group" aria-label=t.compare()>
                    <button type="button" aria-pressed=pressed(|v| v.compare.is_empty()) on:click=toggle(|v| {
                        v.compare.clear();
                        v.delta = false;
                    })>{t.compare_none()}</button>
                    <button type="button" aria-pressed=pressed(|v| v.compare == "previous") on:click=toggle(|v| v.compare = "previous".into())>{t.compare_previous()}</button>
                    <button type="button" aria-pressed=pressed(|v| v.compare == "week") on:click=toggle(|v| v.compare = "week".into())>{t.compare_week()}</button>
                </div>
                // Overlay or difference: only with something to compare.
                {move || view.with(|v| !v.compare.is_empty()).then(|| view! {
                    <div class="segmented" role="group" aria-label=t.compare_as()>
                        <button type="button" aria-pressed=pressed(|v| !v.delta) on:click=toggle(|v| v.delta = false)>{t.overlay()}</button>
                        <button type="button" aria-pressed=pressed(|v| v.delta) on:click=toggle(|v| v.delta = true)>{t.difference()}</button>
                    </div>
                })}
                {move || view.get().unzoom.map(|before| view! {
                    <button
                        type="button"
                        class="reset-zoom"
                        on:click=move |_| go.run(ChartView { range: before.clone(), unzoom: None, ..view.get_untracked() })
                    >
                        {t.reset_zoom()}
                    </button>
                })}
            </div>
            {move || view.with(|v| !v.domain.is_empty()).then(|| view! {
                <p class="notice info domain-note">{t.domain_note()}</p>
            })}
        </section>
        <Loaded resource=chart loading=t.loading() let:data>
            <ChartSet data hidden style on_zoom />
        </Loaded>
    }
}

/// The range line, the totals and both charts of one answer.
#[component]
fn ChartSet(
    data: ChartData,
    hidden: RwSignal<BTreeSet<String>>,
    style: Signal<Style>,
    on_zoom: Callback<(i64, i64)>,
) -> impl IntoView {
    let t = use_texts::<ChartsTexts>();
    let ct = use_texts::<ChartTexts>();
    let locale = use_locale();
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
    let at = |t: i64| local_label(&locale, t, 60, true);
    let range = t.range_line(
        &at(data.from),
        &at(data.to),
        &ct.bucket(data.step),
        data.blocks.len(),
        &at(data.now),
    );
    let until = match data.data_until {
        Some(u) if locale.date(u.min(data.now)) == locale.date(data.now) => {
            t.data_until(&locale.time(u))
        }
        Some(u) => t.data_until(&locale.datetime(u)),
        None => t.no_data().to_string(),
    };
    // The compared period, named as the view draws it (switching between
    // overlay and difference asks the server nothing).
    let compared = (data.shift > 0).then(|| {
        let (from, to) = (at(data.from - data.shift), at(data.to - data.shift));
        move || {
            if style.get().delta {
                t.difference_from(&from, &to)
            } else {
                t.compared_with(&from, &to)
            }
        }
    });
    let totals: Vec<(String, String)> = FLOW
        .iter()
        .map(|n| {
            let sum: u64 = data
                .series
                .iter()
                .find(|s| s.name == n.name())
                .map_or(0, |s| s.values.iter().sum());
            (ct.series(n.name()), locale.number(sum))
        })
        .collect();
    // Each chart opens the details of its own markers beside them.
    let flow_block = RwSignal::new(None::<BlockRow>);
    let rejects_block = RwSignal::new(None::<BlockRow>);
    let refused_block = RwSignal::new(None::<BlockRow>);
    let details = move |selected: RwSignal<Option<BlockRow>>| {
        move || {
            selected
                .get()
                .map(|b| view! { <BlockDetails block=b selected /> })
        }
    };
    view! {
        <p class="muted range-line" data-testid="range">{range}</p>
        <p class="muted data-until" data-testid="data-until">
            {until}
            {compared.map(|c| view! { " · " <span class="compared">{c}</span> })}
        </p>
        <dl class="totals">
            {totals
                .into_iter()
                .map(|(label, n)| view! { <div><dt>{label}</dt><dd>{n}</dd></div> })
                .collect_view()}
        </dl>
        <TimeChart
            title=t.flow()
            file="flow"
            data=data.clone()
            names=flow
            hidden
            style
            selected=flow_block
            details=details(flow_block)
            on_zoom
        />
        <crate::components::refused_chart::RefusedChart chart=data.clone() style selected=refused_block details=details(refused_block) />
        <TimeChart
            title=t.rejects()
            file="rejects"
            data
            names=rejects
            hidden
            style
            selected=rejects_block
            details=details(rejects_block)
            on_zoom
        />
    }
}

#[component]
fn BlockDetails(block: BlockRow, selected: RwSignal<Option<BlockRow>>) -> impl IntoView {
    let t = use_texts::<ChartsTexts>();
    let common = use_texts::<Common>();
    let locale = use_locale();
    let user = crate::components::session::use_current_user();
    let href = format!("/mailflow#block-{}", block.id);
    let ended = match block.lifted_at {
        Some(at) => t.lifted(&locale.datetime(at)),
        None => t.until(&locale.datetime(block.expires_at)),
    };
    view! {
        <section class="panel block-details" aria-label=t.block()>
            <h2>{t.block_title(block.id, &block.target)}</h2>
            <p>
                <span class="badge">{block.subject.name()}</span>
                " " {t.approved(&block.approved_by, &locale.datetime(block.approved_at))}
                ", " {ended} ". " {t.refused(&locale.number(block.hits))}
            </p>
            <p>{block.reason.clone()}</p>
            <div class="form-actions">
                // Only the security team and admins may open MailFlow.
                <Transition fallback=|| ()>
                    {move || {
                        let href = href.clone();
                        Suspend::new(async move {
                        let may = matches!(user.await, Ok(Some(u)) if u.may_enter(Section::MailFlow));
                        may.then(|| view! { <a class="button" href=href>{t.open_mailflow()}</a> })
                    })
                    }}
                </Transition>
                <button type="button" on:click=move |_| selected.set(None)>{common.close()}</button>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> ParamsMap {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_view_goes_through_the_address_bar_unchanged() {
        assert_eq!(ChartView::default().href(), "/charts");
        assert_eq!(
            ChartView::from_query(&ParamsMap::new()),
            ChartView::default()
        );
        let view = ChartView {
            range: Range::preset("week"),
            host: "mx1".into(),
            domain: String::new(),
            lines: true,
            rate: true,
            compare: "week".into(),
            delta: true,
            unzoom: None,
        };
        let zoomed = view.zoomed(1_795_921_200, 1_795_924_800);
        assert_eq!(zoomed.unzoom, Some(Range::preset("week")));
        // Zooming again keeps the range to go back to.
        let again = zoomed.zoomed(1_795_921_200, 1_795_922_000);
        assert_eq!(again.unzoom, Some(Range::preset("week")));
        for v in [view, zoomed, again] {
            let href = v.href();
            let query = href.strip_prefix("/charts?").unwrap();
            assert_eq!(ChartView::from_query(&params(query)), v, "{href}");
        }
        let q =
            ChartView::from_query(&params("range=1795921200-1795924800&compare=previous")).query();
        assert_eq!(
            (q.preset.as_str(), q.from, q.to),
            ("", 1_795_921_200, 1_795_924_800)
        );
        assert_eq!(q.compare, "previous");
        // The difference view is the page's choice: the server is asked
        // the same.
        let delta = ChartView::from_query(&params(
            "range=1795921200-1795924800&compare=previous&compared=delta",
        ));
        assert!(delta.delta);
        assert_eq!(delta.query(), q);
        assert!(!ChartView::from_query(&params("compared=overlay")).delta);
    }

    #[test]
    fn junk_in_the_address_gives_the_default_view() {
        let v = ChartView::from_query(&params("range=decade&compare=<b>&draw=x&unzoom=9-1"));
        assert_eq!(v, ChartView::default());
    }

    #[test]
    fn presets_span_whole_minutes_up_to_now() {
        let now = 1_795_921_234;
        assert_eq!(
            preset_span("day", now),
            Some((1_795_834_800, 1_795_921_200))
        );
        assert_eq!(preset_span("week", now).map(|(f, t)| t - f), Some(7 * DAY));
        assert_eq!(preset_span("decade", now), None);
    }
}
