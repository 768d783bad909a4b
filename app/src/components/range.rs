//! The period picker of the Charts and Report pages: preset buttons, or a
//! start and end date shown when "Show dates" is pressed. Dates are whole
//! local days of the configured zone (`server.time_zone`, the page's
//! [`Zone`](crate::i18n::Zone)), each converted with the offset in force
//! on that day, so a range across a summer-time change begins and ends at
//! local midnights. The date fields follow the range shown: a preset's
//! days, a zoomed range's days.

use crate::i18n::{use_locale, use_texts};
use leptos::prelude::*;
use mailflow::time::LocalDays;

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

/// The first instant of the local day `date` (`YYYY-MM-DD`) in `zone`:
/// its midnight, or when the clocks skipped midnight (São Paulo's summer
/// time began at 00:00), the moment they jumped.
pub fn local_midnight(date: &str, zone: impl LocalDays) -> Option<i64> {
    let day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    // Local noon is inside the day whatever the offset (offsets change by
    // an hour or two, never near noon): the day that holds it.
    let noon = day.and_hms_opt(12, 0, 0)?.and_utc().timestamp();
    Some(zone.day_start(noon - zone.utc_offset(noon)))
}

/// A Unix time's local date in `zone`, `YYYY-MM-DD`.
pub fn local_date(t: i64, zone: impl LocalDays) -> String {
    chrono::DateTime::from_timestamp(t + zone.utc_offset(t), 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The days from `first` to `last` (inclusive, `YYYY-MM-DD`) as a range:
/// from the start of `first` to the start of the day after `last`, local
/// days of `zone` (23 or 25 hours long around a summer-time change).
pub fn dates(first: &str, last: &str, zone: impl LocalDays) -> Option<Range> {
    match (
        local_midnight(first, &zone),
        local_midnight(last, &zone).map(|t| zone.next_day_start(t)),
    ) {
        (Some(from), Some(to)) if to > from => Some(Range {
            preset: String::new(),
            from,
            to,
        }),
        _ => None,
    }
}

/// The first and last local days of `[from, to)` in `zone`, as the date
/// fields show them.
pub fn date_fields(from: i64, to: i64, zone: impl LocalDays) -> (String, String) {
    (local_date(from, &zone), local_date(to - 1, &zone))
}

#[component]
pub fn RangePicker(
    /// The group's name for screen readers, e.g. "Range".
    label: &'static str,
    /// (key, button text) of each preset.
    #[prop(into)]
    presets: Vec<(&'static str, &'static str)>,
    range: RwSignal<Range>,
    /// The dates the date fields start with.
    first: String,
    last: String,
    /// `[from, to)` of a preset's key: given, the date fields show the
    /// days of whatever range is chosen (else only dates typed in).
    #[prop(optional, into)]
    span_of: Option<Callback<String, Option<(i64, i64)>>>,
) -> impl IntoView {
    let t = use_texts::<RangeTexts>();
    let zone = StoredValue::new(use_locale().zone);
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
                let (a, b) = zone.with_value(|z| date_fields(from, to, &**z));
                first.set(a);
                last.set(b);
            }
        });
    }
    let show_dates = move |_| match zone.with_value(|z| dates(&first.get(), &last.get(), &**z)) {
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

    use crate::i18n::Zone;

    #[test]
    fn dates_are_whole_local_days() {
        // 2026-11-29 00:00 in Brazil (UTC-3) is 03:00 UTC.
        let brt = -3 * 3600_i64;
        assert_eq!(local_midnight("2026-11-29", brt), Some(1_795_921_200));
        assert_eq!(local_midnight("29/11/2026", 0), None);
        assert_eq!(local_date(1_795_921_200, brt), "2026-11-29");
        let r = dates("2026-11-29", "2026-11-29", brt).unwrap();
        assert_eq!((r.from, r.to), (1_795_921_200, 1_795_921_200 + 86_400));
        assert!(r.preset.is_empty());
        assert!(dates("2026-11-30", "2026-11-29", 0).is_none());
        assert!(dates("", "2026-11-29", 0).is_none());
    }

    /// São Paulo around its 2018 summer time, as the server sends it:
    /// -03:00, -02:00 from 2018-11-04 03:00 UTC (local midnight skipped to
    /// 01:00), -03:00 again from 2019-02-17 02:00 UTC (23:00 twice).
    fn sao_paulo_2018() -> Zone {
        Zone {
            name: "America/Sao_Paulo".into(),
            changes: mailflow::time::OffsetChanges(vec![
                (i64::MIN, -3 * 3600),
                (1_541_300_400, -2 * 3600),
                (1_550_368_800, -3 * 3600),
            ]),
        }
    }

    #[test]
    fn dates_across_a_summer_time_change_follow_the_zone() {
        let sp = sao_paulo_2018();
        // 3 to 5 November 2018: 3 Nov began at 03:00 UTC; 4 Nov (23 h) at
        // 03:00 UTC too, when the clocks jumped to 01:00; 5 Nov at 02:00
        // UTC; 6 Nov, the end, at 02:00 UTC. 24 + 23 + 24 hours.
        let r = dates("2018-11-03", "2018-11-05", &sp).unwrap();
        assert_eq!(r.from, 1_541_214_000);
        assert_eq!(r.to, 1_541_469_600);
        assert_eq!(r.to - r.from, 71 * 3600);
        assert_eq!(local_midnight("2018-11-04", &sp), Some(1_541_300_400));
        assert_eq!(local_midnight("2018-11-05", &sp), Some(1_541_383_200));
        // The fields show the same days back.
        assert_eq!(
            date_fields(r.from, r.to, &sp),
            ("2018-11-03".to_string(), "2018-11-05".to_string())
        );
        // 16 February 2019 lasted 25 hours (02:00 UTC to 03:00 UTC next day).
        let r = dates("2019-02-16", "2019-02-16", &sp).unwrap();
        assert_eq!((r.from, r.to), (1_550_282_400, 1_550_372_400));
        assert_eq!(
            date_fields(r.from, r.to, &sp),
            ("2019-02-16".to_string(), "2019-02-16".to_string())
        );
        // A fixed offset (the one at some other instant, as the picker
        // used) puts a summer day's range an hour off: its first field
        // shows the day before.
        let summer = dates("2018-12-10", "2018-12-12", &sp).unwrap();
        assert_eq!(summer.from, 1_544_407_200, "local midnight is 02:00 UTC");
        assert_eq!(
            date_fields(summer.from, summer.to, -3 * 3600_i64).0,
            "2018-12-09"
        );
        assert_eq!(date_fields(summer.from, summer.to, &sp).0, "2018-12-10");
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
