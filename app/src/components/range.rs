//! The period picker of the Charts and Report pages: preset buttons, or a
//! start and end date shown when "Show dates" is pressed. Dates are whole
//! local days (days begin at `mailgraph.utc_offset`).

use leptos::prelude::*;
use mailflow::time::DAY;

/// What the picker chose: a preset's key, or the dates `[from, to)` (Unix
/// seconds) when `preset` is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Range {
    pub preset: String,
    pub from: i64,
    pub to: i64,
}

impl Range {
    pub fn preset(key: &str) -> Self {
        Self {
            preset: key.to_string(),
            ..Self::default()
        }
    }
}

/// Unix time of local midnight starting `date` (`YYYY-MM-DD`).
pub fn local_midnight(date: &str, offset: i64) -> Option<i64> {
    let day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp() - offset)
}

/// A Unix time's local date, `YYYY-MM-DD`.
pub fn local_date(t: i64, offset: i64) -> String {
    chrono::DateTime::from_timestamp(t + offset, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The days from `first` to `last` (inclusive, `YYYY-MM-DD`) as a range.
pub fn dates(first: &str, last: &str, offset: i64) -> Result<Range, &'static str> {
    match (
        local_midnight(first, offset),
        local_midnight(last, offset).map(|t| t + DAY),
    ) {
        (Some(from), Some(to)) if to > from => Ok(Range {
            preset: String::new(),
            from,
            to,
        }),
        _ => Err("Give a start date on or before the end date."),
    }
}

#[component]
pub fn RangePicker(
    /// The group's name for screen readers, e.g. "Range".
    label: &'static str,
    /// (key, button text) of each preset.
    presets: &'static [(&'static str, &'static str)],
    range: RwSignal<Range>,
    offset: i64,
    /// The dates the date fields start with.
    first: String,
    last: String,
) -> impl IntoView {
    let first = RwSignal::new(first);
    let last = RwSignal::new(last);
    let error = RwSignal::new(None::<&'static str>);
    let show_dates = move |_| match dates(&first.get(), &last.get(), offset) {
        Ok(r) => {
            error.set(None);
            range.set(r);
        }
        Err(e) => error.set(Some(e)),
    };
    // One root element: the error line after the controls stays inside it.
    view! {
        <div class="range-picker">
        <div class="toolbar">
            <div class="segmented" role="group" aria-label=label>
                {presets
                    .iter()
                    .map(|&(key, text)| {
                        view! {
                            <button
                                type="button"
                                aria-pressed=move || range.with(|r| r.preset == key).to_string()
                                on:click=move |_| range.set(Range::preset(key))
                            >
                                {text}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            <div class="custom-range">
                <label>
                    "From"
                    <input type="date" prop:value=first on:input=move |ev| first.set(event_target_value(&ev)) />
                </label>
                <label>
                    "To"
                    <input type="date" prop:value=last on:input=move |ev| last.set(event_target_value(&ev)) />
                </label>
                <button type="button" aria-pressed=move || range.with(|r| r.preset.is_empty()).to_string() on:click=show_dates>
                    "Show dates"
                </button>
            </div>
        </div>
        {move || error.get().map(|e| view! { <p class="notice error">{e}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_whole_local_days() {
        // 2026-11-29 00:00 in Brazil (UTC-3) is 03:00 UTC.
        assert_eq!(local_midnight("2026-11-29", -3 * 3600), Some(1_795_921_200));
        assert_eq!(local_midnight("29/11/2026", 0), None);
        assert_eq!(local_date(1_795_921_200, -3 * 3600), "2026-11-29");
        let r = dates("2026-11-29", "2026-11-29", -3 * 3600).unwrap();
        assert_eq!((r.from, r.to), (1_795_921_200, 1_795_921_200 + 86_400));
        assert!(r.preset.is_empty());
        assert!(dates("2026-11-30", "2026-11-29", 0).is_err());
        assert!(dates("", "2026-11-29", 0).is_err());
    }
}
