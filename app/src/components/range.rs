//! The period picker of the Charts and Report pages: preset buttons, or a
//! start and end date shown when "Show dates" is pressed. Dates are whole
//! local days (days begin at `mailgraph.utc_offset`). The date fields
//! follow the range shown: a preset's days, a zoomed range's days.

use crate::i18n::use_texts;
use leptos::prelude::*;
use mailflow::time::DAY;

crate::texts! {
    /// The period picker, and the server's checks of a period.
    pub struct RangeTexts {
        from = "From", "De";
        to = "To", "Até";
        show_dates = "Show dates", "Mostrar datas";
        bad_dates = "Give a start date on or before the end date.", "Informe uma data inicial igual ou anterior à final.";
        date_out_of_bounds = "Choose a date between 1970 and 2099.", "Escolha uma data entre 1970 e 2099.";
        end_before_start = "The end must be after the start.", "O fim deve ser depois do início.";
    }
    formats {
        too_long(what: &str, days: i64) = format!("{what} covers at most {days} days."), format!("O período pode ter no máximo {days} dias.");
    }
}

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

    /// How an address bar carries it: the preset's key, or `from-to`.
    pub fn to_param(&self) -> String {
        if self.preset.is_empty() {
            format!("{}-{}", self.from, self.to)
        } else {
            self.preset.clone()
        }
    }

    /// The range of [`Range::to_param`]'s text, if it is one of `presets`
    /// or two times in order (Unix seconds).
    pub fn from_param(text: &str, presets: &[&str]) -> Option<Range> {
        if presets.contains(&text) {
            return Some(Range::preset(text));
        }
        let (from, to) = text.split_once('-')?;
        let (from, to) = (from.parse::<i64>().ok()?, to.parse::<i64>().ok()?);
        (0 <= from && from < to).then(|| Range {
            preset: String::new(),
            from,
            to,
        })
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
pub fn dates(first: &str, last: &str, offset: i64) -> Option<Range> {
    match (
        local_midnight(first, offset),
        local_midnight(last, offset).map(|t| t + DAY),
    ) {
        (Some(from), Some(to)) if to > from => Some(Range {
            preset: String::new(),
            from,
            to,
        }),
        _ => None,
    }
}

#[component]
pub fn RangePicker(
    /// The group's name for screen readers, e.g. "Range".
    label: &'static str,
    /// (key, button text) of each preset.
    #[prop(into)]
    presets: Vec<(&'static str, &'static str)>,
    range: RwSignal<Range>,
    offset: i64,
    /// The dates the date fields start with.
    first: String,
    last: String,
    /// `[from, to)` of a preset's key: given, the date fields show the
    /// days of whatever range is chosen (else only dates typed in).
    #[prop(optional, into)]
    span_of: Option<Callback<String, Option<(i64, i64)>>>,
) -> impl IntoView {
    let t = use_texts::<RangeTexts>();
    let first = RwSignal::new(first);
    let last = RwSignal::new(last);
    let error = RwSignal::new(None::<&'static str>);
    if let Some(span_of) = span_of {
        // The fields follow the range, so that "Show dates" after a preset
        // or a zoom starts from the days on screen, not stale ones.
        Effect::new(move |_| {
            let r = range.get();
            let span = if r.preset.is_empty() {
                Some((r.from, r.to))
            } else {
                span_of.run(r.preset.clone())
            };
            if let Some((from, to)) = span {
                first.set(local_date(from, offset));
                last.set(local_date(to - 1, offset));
            }
        });
    }
    let show_dates = move |_| match dates(&first.get(), &last.get(), offset) {
        Some(r) => {
            error.set(None);
            range.set(r);
        }
        None => error.set(Some(t.bad_dates())),
    };
    // One root element: the error line after the controls stays inside it.
    view! {
        <div class="range-picker">
        <div class="toolbar">
            <div class="segmented" role="group" aria-label=label>
                {presets
                    .into_iter()
                    .map(|(key, text)| {
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
                    {t.from()}
                    <input type="date" prop:value=first on:input=move |ev| first.set(event_target_value(&ev)) />
                </label>
                <label>
                    {t.to()}
                    <input type="date" prop:value=last on:input=move |ev| last.set(event_target_value(&ev)) />
                </label>
                <button type="button" aria-pressed=move || range.with(|r| r.preset.is_empty()).to_string() on:click=show_dates>
                    {t.show_dates()}
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
        assert!(dates("2026-11-30", "2026-11-29", 0).is_none());
        assert!(dates("", "2026-11-29", 0).is_none());
    }

    #[test]
    fn a_range_goes_through_the_address_bar_unchanged() {
        let presets = ["day", "week"];
        for r in [
            Range::preset("week"),
            Range {
                preset: String::new(),
                from: 1_795_921_200,
                to: 1_795_924_800,
            },
        ] {
            assert_eq!(Range::from_param(&r.to_param(), &presets), Some(r));
        }
        // Unknown presets, reversed or negative times, junk: none.
        for bad in ["decade", "10-5", "-5-10", "5-", "a-b", "", "1-2-3"] {
            assert_eq!(Range::from_param(bad, &presets), None, "{bad}");
        }
    }
}
