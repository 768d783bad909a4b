//! "Refused by blocks" on the Charts page: the policy requests the policy
//! daemon answered REJECT in each bucket of the main chart, by IP blocks
//! and by account blocks, with the blocks approved in the range marked, so
//! the effect of a block shows at a glance. Drawn by the page's own
//! [`TimeChart`] from a [`ChartData`] holding these two series.

use crate::api::refused::load_refused;
use crate::components::chart::{Style, TimeChart};
use crate::components::notice::ErrorBox;
use crate::i18n::use_texts;
use crate::model::{BlockRow, ChartData, SeriesData};
use leptos::prelude::*;
use std::collections::BTreeSet;

crate::texts! {
    /// The "refused by blocks" chart and its server function's messages.
    pub struct RefusedTexts {
        title = "Refused by blocks", "Recusadas por bloqueios";
        by_ip = "IP blocks", "bloqueios de IP";
        by_account = "account blocks", "bloqueios de conta";
        loading = "Loading the refusals…", "Carregando as recusas…";
        note = "Requests the policy daemon refused, counted every few seconds.", "Pedidos recusados pelo daemon de política, contados a cada poucos segundos.";
        err_date = "Choose a date between 1970 and 2099.", "Escolha uma data entre 1970 e 2099.";
        err_order = "The end must be after the start.", "O fim deve ser depois do início.";
        err_step = "The interval must be whole minutes, at most a day.", "O intervalo deve ser em minutos inteiros, de no máximo um dia.";
    }
    formats {
        err_long(days: i64) = format!("A chart covers at most {days} days."), format!("Um gráfico cobre no máximo {days} dias.");
        err_buckets(n: i64) = format!("At most {n} intervals: choose a longer interval."), format!("No máximo {n} intervalos: escolha um intervalo maior.");
    }
}

/// The two refusal series in `chart`'s buckets, with its block markers,
/// named in `t`'s language. Nothing is compared on this chart (the
/// main chart's compared period holds other series).
pub fn refused_data(
    t: RefusedTexts,
    chart: &ChartData,
    ip: Vec<u64>,
    account: Vec<u64>,
) -> ChartData {
    ChartData {
        series: vec![
            SeriesData {
                name: t.by_ip().into(),
                values: ip,
            },
            SeriesData {
                name: t.by_account().into(),
                values: account,
            },
        ],
        previous: Vec::new(),
        shift: 0,
        ..chart.clone()
    }
}

/// The chart, under the main one: `chart` is the main chart's answer
/// (its range, buckets and blocks).
#[component]
pub fn RefusedChart(
    chart: ChartData,
    style: Signal<Style>,
    /// The block whose details are open beside its marker on this chart.
    selected: RwSignal<Option<BlockRow>>,
    /// The open block's details (shown next to its marker).
    #[prop(into)]
    details: ViewFn,
) -> impl IntoView {
    let t = use_texts::<RefusedTexts>();
    // Drawn in the browser only, once the page has hydrated: a resource
    // created inside the main chart's own loaded view does not hydrate
    // reliably, and this chart is secondary. The server renders the empty
    // section, and so does the browser while it hydrates.
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let (from, to, step) = (chart.from, chart.to, chart.step);
    let hidden = RwSignal::new(BTreeSet::new());
    let chart = StoredValue::new(chart);
    view! {
        <section class="refused-chart" data-testid="refused-chart">
            {move || {
                let details = details.clone();
                mounted.get().then(move || {
                    let refused = LocalResource::new(move || load_refused(from, to, step));
                    view! {
                        <Transition fallback=move || view! { <p class="muted">{t.loading()}</p> }>
                            {move || {
                                let details = details.clone();
                                Suspend::new(async move {
                                    match refused.await {
                                        Ok(s) => {
                                            let data = chart.with_value(|c| refused_data(t, c, s.ip, s.account));
                                            let names = data.series.iter().map(|s| s.name.clone()).collect();
                                            view! {
                                                <TimeChart title=t.title() file="refused" data names hidden style selected details />
                                                <p class="muted small">{t.note()}</p>
                                            }
                                            .into_any()
                                        }
                                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                                    }
                                })
                            }}
                        </Transition>
                    }
                })
            }}
        </section>
    }
}
