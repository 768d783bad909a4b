//! "Test this change" under each policy on the detection settings page:
//! the numbers edited in the policy's row (not saved) are replayed over the
//! last days' hourly counters, beside the saved ones, and the page lists
//! who would now be proposed and who no longer would (see
//! `crate::api::whatif`). The row's form is read when the analyst presses
//! Run, so what is tested is exactly what Save would store.

use crate::api::whatif::{WhatIf, WhatIfResult, WhatIfSubject};
use crate::components::notice::ActionError;
use crate::components::page::DataTable;
use crate::i18n::{Time, use_locale, use_texts};
use crate::pages::defence::DefenceTexts;
use leptos::prelude::*;

crate::texts! {
    /// "Test this change" on the detection settings page and its server
    /// function's messages.
    pub struct WhatIfTexts {
        test_change = "Test this change", "Simular esta alteração";
        help = "Replays the stored hourly counts with this row's edited window, threshold and burst factor (nothing is saved) and with the saved ones. Counts are kept per hour, so windows are rounded up to whole hours for both.", "Reproduz as contagens por hora guardadas com a janela, o limiar e o fator de pico editados nesta linha (nada é salvo) e com os salvos. As contagens são guardadas por hora, então as janelas são arredondadas para cima, em horas inteiras, nos dois casos.";
        days_to_replay = "Days to replay", "Dias a reproduzir";
        run = "Run", "Simular";
        truncated = "Too many counters: only part of them were replayed. Choose fewer days.", "Contadores demais: só parte deles foi reproduzida. Escolha menos dias.";
        now_proposed = "Would now be proposed", "Passariam a ser propostos";
        no_longer = "Would no longer be proposed", "Deixariam de ser propostos";
        col_subject = "Subject", "Alvo";
        col_peak = "Peak", "Pico";
        col_peak_at = "Peak window from", "Janela de pico a partir de";
        col_first_at = "Crossed from", "Acima do limiar a partir de";
        none = "None.", "Nenhum.";
        window = "Window", "Janela";
        threshold = "Threshold", "Limiar";
        days = "Days", "Dias";
        days_range = "Replay 1 to 30 days.", "Reproduza de 1 a 30 dias.";
    }
    formats {
        windows(hours: i64) = format!("{hours} h windows"), format!("janelas de {hours} h");
        windows_changed(now: i64, edited: i64) = format!("{now} h windows now, {edited} h edited"), format!("janelas de {now} h agora, {edited} h na edição");
        replayed(days: i64, since: &str, n: &str, subject: &str, windows: &str) = format!("{days} days from {since}, {n} {subject}s, {windows}"), format!("{days} dias desde {since}, {n} alvos do tipo {subject}, {windows}");
        outcome(now: &str, no_longer: &str, unchanged: &str) = format!("{now} would now be proposed, {no_longer} no longer, {unchanged} unchanged."), format!("{now} passariam a ser propostos, {no_longer} deixariam de ser, {unchanged} sem mudança.");
        biggest(n: usize, total: &str) = format!("The {n} biggest of {total}."), format!("Os {n} maiores de {total}.");
        not_whole(label: &str, text: &str) = format!("{label}: {text:?} is not a whole number."), format!("{label}: {text:?} não é um número inteiro.");
        out_of_range(why: &str) = format!("The saved policy is out of range: {why}"), format!("A política salva está fora dos limites: {why}");
        unreadable(name: &str) = format!("Policy {name} cannot be read."), format!("A política {name} não pode ser lida.");
        not_replayable(name: &str, what: &str) = format!("{name} counts {what}, which the hourly counters do not keep: it cannot be replayed."), format!("{name} conta {what}, que os contadores por hora não guardam: não pode ser reproduzida.");
    }
}

/// The what-if texts in the language of the request being answered.
#[cfg(feature = "ssr")]
pub fn server_texts() -> WhatIfTexts {
    WhatIfTexts(crate::server::locale::request_lang())
}

/// The "Test this change" control for policy `policy`, whose edit form
/// has the id `form`.
#[component]
pub fn TestChange(policy: i32, form: String) -> impl IntoView {
    let t = use_texts::<WhatIfTexts>();
    let run = ServerAction::<WhatIf>::new();
    let days = NodeRef::<leptos::html::Input>::new();
    let days_id = format!("whatif-days-{policy}");
    let start = move |_| {
        let (window_minutes, threshold, burst_factor) = edited(&form);
        let days = days.get().map(|i| i.value()).unwrap_or_default();
        run.dispatch(WhatIf {
            id: policy,
            window_minutes,
            threshold,
            burst_factor,
            days,
        });
    };
    view! {
        <details class="whatif">
            <summary>{t.test_change()}</summary>
            <div class="whatif-body">
                <p class="muted">{t.help()}</p>
                <div class="inline">
                    <label for=days_id.clone()>{t.days_to_replay()}</label>
                    <input id=days_id type="number" min="1" max="30" value="7" class="tiny" node_ref=days />
                    <button type="button" class="small" on:click=start disabled=move || run.pending().get()>
                        {t.run()}
                    </button>
                </div>
                <ActionError result=run.value() />
                {move || run.value().get().and_then(Result::ok).map(|r| view! { <Report r /> })}
            </div>
        </details>
    }
}

/// The window, threshold and burst factor as typed in the form `form`
/// (empty where it cannot be read: the server then says what is missing).
/// Called in the browser only (on a click).
fn edited(form: &str) -> (String, String, String) {
    use leptos::wasm_bindgen::JsCast;
    let data = document()
        .get_element_by_id(form)
        .and_then(|f| f.dyn_into::<web_sys::HtmlFormElement>().ok())
        .and_then(|f| web_sys::FormData::new_with_form(&f).ok());
    let field = |name: &str| {
        data.as_ref()
            .and_then(|d| d.get(name).as_string())
            .unwrap_or_default()
    };
    (
        field("window_minutes"),
        field("threshold"),
        field("burst_factor"),
    )
}

#[component]
fn Report(r: WhatIfResult) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<WhatIfTexts>();
    let windows = if r.current_window_hours == r.edited_window_hours {
        t.windows(r.current_window_hours)
    } else {
        t.windows_changed(r.current_window_hours, r.edited_window_hours)
    };
    let summary = format!(
        "{}: {}",
        t.replayed(
            r.days,
            &locale.datetime(r.since),
            &locale.number(r.subjects),
            locale.texts::<DefenceTexts>().subject(r.subject),
            &windows,
        ),
        t.outcome(
            &locale.number(r.now_proposed_total),
            &locale.number(r.no_longer_total),
            &locale.number(r.unchanged),
        )
    );
    view! {
        <p class="whatif-summary" title=locale.utc(r.since)>{summary}</p>
        {r.truncated.then(|| view! { <p class="notice info">{t.truncated()}</p> })}
        <Listed title=t.now_proposed() rows=r.now_proposed total=r.now_proposed_total />
        <Listed title=t.no_longer() rows=r.no_longer total=r.no_longer_total />
    }
}

#[component]
fn Listed(title: &'static str, rows: Vec<WhatIfSubject>, total: u64) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<WhatIfTexts>();
    let more = (total > rows.len() as u64).then(|| {
        view! { <p class="muted">{t.biggest(rows.len(), &locale.number(total))}</p> }
    });
    let head = vec![
        t.col_subject(),
        t.col_peak(),
        t.col_peak_at(),
        t.col_first_at(),
    ];
    view! {
        <h3>{title}</h3>
        <DataTable rows class="data whatif-list" head num=vec![t.col_peak()] empty=t.none()
            row=move |s: WhatIfSubject| view! {
                <tr data-subject=s.subject.clone()>
                    <td class="target">{s.subject.clone()}</td>
                    <td class="num">{locale.number(s.peak)}</td>
                    <td><Time at=s.peak_at /></td>
                    <td><Time at=s.first_at /></td>
                </tr>
            }
        />
        {more}
    }
}
