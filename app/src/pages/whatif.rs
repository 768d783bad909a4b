//! "Test this change" under each policy on the detection settings page:
//! the numbers edited in the policy's row (not saved) are replayed over the
//! last days' hourly counters, beside the saved ones, and the page lists
//! who would now be proposed and who no longer would (see
//! `crate::api::whatif`). The row's form is read when the analyst presses
//! Run, so what is tested is exactly what Save would store.

use crate::api::whatif::{WhatIf, WhatIfResult, WhatIfSubject};
use crate::components::format::{group_digits, utc_seconds};
use crate::components::notice::ActionError;
use crate::components::page::DataTable;
use leptos::prelude::*;

/// The "Test this change" control for policy `policy`, whose edit form
/// has the id `form`.
#[component]
pub fn TestChange(policy: i32, form: String) -> impl IntoView {
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
            <summary>"Test this change"</summary>
            <div class="whatif-body">
                <p class="muted">
                    "Replays the stored hourly counts with this row's edited window, threshold and burst factor (nothing is saved) "
                    "and with the saved ones. Counts are kept per hour, so windows are rounded up to whole hours for both."
                </p>
                <div class="inline">
                    <label for=days_id.clone()>"Days to replay"</label>
                    <input id=days_id type="number" min="1" max="30" value="7" class="tiny" node_ref=days />
                    <button type="button" class="small" on:click=start disabled=move || run.pending().get()>
                        "Run"
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
    let windows = if r.current_window_hours == r.edited_window_hours {
        format!("{} h windows", r.current_window_hours)
    } else {
        format!(
            "{} h windows now, {} h edited",
            r.current_window_hours, r.edited_window_hours
        )
    };
    let summary = format!(
        "{} days from {} UTC, {} {}s, {}: {} would now be proposed, {} no longer, {} unchanged.",
        r.days,
        utc_seconds(r.since),
        group_digits(&r.subjects.to_string(), ','),
        r.subject.name(),
        windows,
        r.now_proposed_total,
        r.no_longer_total,
        r.unchanged
    );
    view! {
        <p class="whatif-summary">{summary}</p>
        {r.truncated.then(|| view! {
            <p class="notice info">"Too many counters: only part of them were replayed. Choose fewer days."</p>
        })}
        <Listed title="Would now be proposed" rows=r.now_proposed total=r.now_proposed_total />
        <Listed title="Would no longer be proposed" rows=r.no_longer total=r.no_longer_total />
    }
}

#[component]
fn Listed(title: &'static str, rows: Vec<WhatIfSubject>, total: u64) -> impl IntoView {
    let more = (total > rows.len() as u64).then(|| {
        view! { <p class="muted">{format!("The {} biggest of {total}.", rows.len())}</p> }
    });
    view! {
        <h3>{title}</h3>
        <DataTable rows class="data whatif-list" head=&["Subject", "Peak", "Peak window from (UTC)", "Crossed from (UTC)"]
            num=&["Peak"] empty="None." row=|s: WhatIfSubject| view! {
                <tr data-subject=s.subject.clone()>
                    <td class="target">{s.subject.clone()}</td>
                    <td class="num">{s.peak}</td>
                    <td>{utc_seconds(s.peak_at)}</td>
                    <td>{utc_seconds(s.first_at)}</td>
                </tr>
            }
        />
        {more}
    }
}
