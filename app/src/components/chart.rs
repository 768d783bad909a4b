//! One SVG time-series chart: stacked areas or lines, counts or rates,
//! a legend whose entries switch series on and off, a hover read-out with
//! the exact values of the bucket under the pointer, and approved blocks as
//! markers on the time axis (click: the block's details).
//!
//! The geometry is plain functions of the data ([`plot`]), unit-tested
//! without a browser; the component only draws what they return.

use crate::model::{BlockRow, ChartData};
use leptos::prelude::*;
use mailflow::Series;
use mailflow::series::label_of;
use mailflow::time::{DAY, HOUR, MINUTE};
use std::collections::BTreeSet;

/// The drawing's coordinate space (the SVG scales to its box).
pub const WIDTH: f64 = 960.0;
pub const HEIGHT: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

/// What to draw: one shape per visible series, axis ticks and markers.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    pub shapes: Vec<Shape>,
    /// (y, label) from the bottom up.
    pub y_ticks: Vec<(f64, String)>,
    /// (x, label).
    pub x_ticks: Vec<(f64, String)>,
    /// (x, block).
    pub markers: Vec<(f64, BlockRow)>,
    /// Buckets on the time axis.
    pub buckets: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub name: String,
    pub color: &'static str,
    /// SVG path data: a closed area (stacked) or an open line.
    pub d: String,
}

/// How the values are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub stacked: bool,
    /// Messages per minute instead of counts per bucket.
    pub rate: bool,
}

/// A bucket's value as shown: its count, or the count per minute.
pub fn shown(value: u64, step: i64, rate: bool) -> f64 {
    if rate {
        value as f64 * 60.0 / step.max(1) as f64
    } else {
        value as f64
    }
}

/// A round number at or above `v` (1, 2 or 5 times a power of ten).
pub fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|c| *c >= v * (1.0 - 1e-9))
        .unwrap_or(10.0 * power)
}

/// A fixed colour per base series; reject classes share a palette.
pub fn color(name: &str, index: usize) -> &'static str {
    match Series::parse(name) {
        Some(Series::Received) => "#2563eb",
        Some(Series::Sent) => "#16a34a",
        Some(Series::Bounced) => "#dc2626",
        Some(Series::Deferred) => "#f59e0b",
        Some(Series::Rejected) => "#7c3aed",
        Some(Series::Spam) => "#a16207",
        Some(Series::Virus) => "#111827",
        Some(Series::SaslFailures) => "#64748b",
        None => {
            const PALETTE: [&str; 10] = [
                "#0ea5e9", "#f97316", "#84cc16", "#e11d48", "#8b5cf6", "#14b8a6", "#eab308",
                "#6366f1", "#ec4899", "#78716c",
            ];
            PALETTE[index % PALETTE.len()]
        }
    }
}

fn x_of(i: f64, buckets: usize) -> f64 {
    LEFT + (i + 0.5) / buckets.max(1) as f64 * (WIDTH - LEFT - RIGHT)
}

/// The bucket under a point `fraction` (0..1) of the way across the SVG.
pub fn bucket_at(fraction: f64, buckets: usize) -> Option<usize> {
    if buckets == 0 {
        return None;
    }
    let x = fraction * WIDTH;
    let i = ((x - LEFT) / (WIDTH - LEFT - RIGHT) * buckets as f64).floor();
    (i >= 0.0 && i < buckets as f64).then_some(i as usize)
}

/// The x of bucket `i`'s centre as a fraction of the width (for the read-out).
pub fn bucket_fraction(i: usize, buckets: usize) -> f64 {
    x_of(i as f64, buckets) / WIDTH
}

/// Lays out `names` (in order, bottom first when stacked) of `data`.
pub fn plot(data: &ChartData, names: &[String], style: Style) -> Plot {
    let series: Vec<(usize, &crate::model::SeriesData)> = data
        .series
        .iter()
        .enumerate()
        .filter(|(_, s)| names.contains(&s.name))
        .collect();
    let buckets = data.series.first().map_or(0, |s| s.values.len());
    let value = |v: u64| shown(v, data.step, style.rate);
    let max = (0..buckets)
        .map(|i| {
            let vals = series.iter().map(|(_, s)| value(s.values[i]));
            if style.stacked {
                vals.sum::<f64>()
            } else {
                vals.fold(0.0, f64::max)
            }
        })
        .fold(0.0, f64::max);
    let top = nice_max(max);
    let y_of = |v: f64| HEIGHT - BOTTOM - v / top * (HEIGHT - TOP - BOTTOM);
    let mut base = vec![0.0; buckets];
    let mut shapes = Vec::new();
    for (index, s) in &series {
        let mut d = String::new();
        let upper: Vec<f64> = (0..buckets)
            .map(|i| value(s.values[i]) + if style.stacked { base[i] } else { 0.0 })
            .collect();
        for (i, v) in upper.iter().enumerate() {
            let cmd = if i == 0 { 'M' } else { 'L' };
            d.push_str(&format!(
                "{cmd}{:.1},{:.1}",
                x_of(i as f64, buckets),
                y_of(*v)
            ));
        }
        if style.stacked {
            for i in (0..buckets).rev() {
                d.push_str(&format!(
                    "L{:.1},{:.1}",
                    x_of(i as f64, buckets),
                    y_of(base[i])
                ));
            }
            d.push('Z');
            base = upper;
        }
        shapes.push(Shape {
            name: s.name.clone(),
            color: color(&s.name, *index),
            d,
        });
    }
    // Whole steps: 0-2-4-…-10, 0-5-10-15-20, 0-10-…-50.
    let divisions = if (top / 10f64.powf(top.log10().floor()) - 2.0).abs() < 1e-9 {
        4
    } else {
        5
    };
    let y_ticks = (0..=divisions)
        .map(|k| {
            let v = top * f64::from(k) / f64::from(divisions);
            (y_of(v), number(v))
        })
        .collect();
    let x_ticks = time_ticks(data, buckets);
    let span = data.step * buckets as i64;
    let markers = data
        .blocks
        .iter()
        .filter(|b| b.approved_at >= data.from && b.approved_at < data.from + span)
        .map(|b| {
            let i = (b.approved_at - data.from) as f64 / data.step as f64 - 0.5;
            (x_of(i, buckets), b.clone())
        })
        .collect();
    Plot {
        shapes,
        y_ticks,
        x_ticks,
        markers,
        buckets,
    }
}

/// About seven labels on the time axis, on round local times.
fn time_ticks(data: &ChartData, buckets: usize) -> Vec<(f64, String)> {
    const EVERY: [i64; 17] = [
        300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800,
        1_209_600, 2_592_000, 5_270_400, 7_862_400, 15_724_800,
    ];
    if buckets == 0 {
        return Vec::new();
    }
    let span = data.step * buckets as i64;
    let every = EVERY
        .into_iter()
        .find(|e| *e >= data.step && e % data.step == 0 && span / e <= 7)
        .unwrap_or(data.step * buckets.div_ceil(7) as i64);
    (0..buckets)
        .filter(|i| (data.from + *i as i64 * data.step + data.offset).rem_euclid(every) == 0)
        .map(|i| {
            let t = data.from + i as i64 * data.step;
            (
                x_of(i as f64 - 0.5, buckets),
                time_label(t, data.offset, data.step, false),
            )
        })
        .collect()
}

/// A time as the axis (short) or the read-out (`long`) shows it, for
/// buckets of `step` seconds.
pub fn time_label(t: i64, offset: i64, step: i64, long: bool) -> String {
    let Some(d) = chrono::DateTime::from_timestamp(t + offset, 0) else {
        return String::new();
    };
    let format = match (step, long) {
        (..HOUR, false) => "%H:%M",
        (..DAY, false) => "%d/%m %Hh",
        (_, false) => "%d/%m",
        (DAY.., true) => "%a %d/%m/%Y",
        (_, true) => "%a %d/%m/%Y %H:%M",
    };
    d.format(format).to_string()
}

/// What one bucket of `step` seconds is called in the read-out.
pub fn bucket_name(step: i64) -> String {
    match step {
        60 => "minute".into(),
        HOUR => "hour".into(),
        DAY => "day".into(),
        s if s < HOUR => format!("{} minutes", s / MINUTE),
        s => format!("{} hours", s / HOUR),
    }
}

/// A number for an axis or read-out: thousands as k, millions as M.
pub fn number(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6).replace(".0M", "M")
    } else if v >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if v.fract().abs() > 1e-9 {
        format!("{v:.2}")
    } else {
        format!("{v:.0}")
    }
}

/// A chart of the named series of `data`. `hidden` holds the series the
/// legend switched off (shared by the page's charts).
#[component]
pub fn TimeChart(
    /// The chart's heading.
    title: &'static str,
    data: ChartData,
    /// The series this chart may show, in stacking order.
    names: Vec<String>,
    hidden: RwSignal<BTreeSet<String>>,
    style: Signal<Style>,
    /// The block whose details are open (shared by the page's charts).
    selected: RwSignal<Option<BlockRow>>,
) -> impl IntoView {
    let data = StoredValue::new(data);
    let names = StoredValue::new(names);
    let hover = RwSignal::new(None::<usize>);
    let visible = move || {
        let hidden = hidden.get();
        names
            .get_value()
            .into_iter()
            .filter(|n| !hidden.contains(n))
            .collect::<Vec<_>>()
    };
    let drawing = Memo::new(move |_| data.with_value(|d| plot(d, &visible(), style.get())));
    let on_move = move |ev: leptos::ev::MouseEvent| {
        use leptos::wasm_bindgen::JsCast;
        let Some(target) = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let rect = target.get_bounding_client_rect();
        if rect.width() > 0.0 {
            let fraction = (f64::from(ev.client_x()) - rect.left()) / rect.width();
            hover.set(bucket_at(fraction, drawing.with(|p| p.buckets)));
        }
    };
    let legend = move || {
        data.with_value(|d| {
            names
                .get_value()
                .into_iter()
                .enumerate()
                .map(|(i, name)| {
                    let total: u64 = d
                        .series
                        .iter()
                        .find(|s| s.name == name)
                        .map_or(0, |s| s.values.iter().sum());
                    let index = d.series.iter().position(|s| s.name == name).unwrap_or(i);
                    let toggle = name.clone();
                    let on = {
                        let name = name.clone();
                        move || !hidden.with(|h| h.contains(&name))
                    };
                    view! {
                        <button
                            type="button"
                            class="legend-item"
                            aria-pressed=move || on().to_string()
                            title="Show or hide this series"
                            on:click=move |_| {
                                hidden
                                    .update(|h| {
                                        if !h.remove(&toggle) {
                                            h.insert(toggle.clone());
                                        }
                                    })
                            }
                        >
                            <span class="swatch" style=format!("background:{}", color(&name, index))></span>
                            {label_of(&name)}
                            <span class="legend-total">{total.to_string()}</span>
                        </button>
                    }
                })
                .collect_view()
        })
    };
    let readout = move || {
        let i = hover.get()?;
        let p = drawing.get();
        let (time, rows, step) = data.with_value(|d| {
            let time = time_label(d.from + i as i64 * d.step, d.offset, d.step, true);
            let rows: Vec<(String, &'static str, String)> = p
                .shapes
                .iter()
                .rev()
                .filter_map(|s| {
                    let v = d.series.iter().find(|x| x.name == s.name)?.values[i];
                    let text = if style.get().rate {
                        format!("{}/min ({v})", number(shown(v, d.step, true)))
                    } else {
                        v.to_string()
                    };
                    Some((label_of(&s.name), s.color, text))
                })
                .collect();
            (time, rows, d.step)
        });
        let fraction = bucket_fraction(i, p.buckets);
        let side = if fraction > 0.6 { "right" } else { "left" };
        let pos = if side == "left" {
            format!("left:{:.2}%", fraction * 100.0)
        } else {
            format!("right:{:.2}%", (1.0 - fraction) * 100.0)
        };
        let span = bucket_name(step);
        Some(view! {
            <div class="readout" style=pos role="status">
                <strong>{time}</strong>
                <span class="muted">" (this " {span} ")"</span>
                <table>
                    {rows
                        .into_iter()
                        .map(|(label, color, text)| {
                            view! {
                                <tr>
                                    <td><span class="swatch" style=format!("background:{color}")></span>{label}</td>
                                    <td class="num">{text}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </table>
            </div>
        })
    };
    view! {
        <figure class="chart" aria-label=title>
            <figcaption>
                <h2>{title}</h2>
                <div class="legend" role="group" aria-label=format!("{title}: series")>{legend}</div>
            </figcaption>
            <div class="chart-box">
                <svg
                    viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                    role="img"
                    aria-label=format!("{title} over time")
                    on:mousemove=on_move
                    on:mouseleave=move |_| hover.set(None)
                >
                    {move || {
                        let p = drawing.get();
                        let stacked = style.get().stacked;
                        view! {
                            <g class="grid">
                                {p.y_ticks.iter().map(|(y, label)| view! {
                                    <line x1=LEFT x2=WIDTH - RIGHT y1=*y y2=*y />
                                    <text x=LEFT - 6.0 y=*y + 4.0 text-anchor="end">{label.clone()}</text>
                                }).collect_view()}
                                {p.x_ticks.iter().map(|(x, label)| view! {
                                    <line class="tick" x1=*x x2=*x y1=HEIGHT - BOTTOM y2=HEIGHT - BOTTOM + 5.0 />
                                    <text x=*x y=HEIGHT - 10.0 text-anchor="middle">{label.clone()}</text>
                                }).collect_view()}
                            </g>
                            <g class="series">
                                {p.shapes.iter().map(|s| view! {
                                    <path
                                        d=s.d.clone()
                                        data-series=s.name.clone()
                                        fill=if stacked { s.color } else { "none" }
                                        fill-opacity="0.75"
                                        stroke=s.color
                                        stroke-width=if stacked { "0.5" } else { "1.5" }
                                    />
                                }).collect_view()}
                            </g>
                            {hover.get().map(|i| {
                                let x = bucket_fraction(i, p.buckets) * WIDTH;
                                view! { <line class="cursor" x1=x x2=x y1=TOP y2=HEIGHT - BOTTOM /> }
                            })}
                            <g class="markers">
                                {p.markers.iter().map(|(x, b)| {
                                    let block = b.clone();
                                    let label = format!("Block #{} of {} approved by {}", b.id, b.target, b.approved_by);
                                    let aria = label.clone();
                                    view! {
                                        <g
                                            class="marker"
                                            role="button"
                                            tabindex="0"
                                            aria-label=aria
                                            on:click=move |_| selected.set(Some(block.clone()))
                                        >
                                            <title>{label}</title>
                                            <line x1=*x x2=*x y1=TOP y2=HEIGHT - BOTTOM />
                                            <path d=format!("M{:.1},{:.1}l-6,10h12z", x, HEIGHT - BOTTOM) />
                                        </g>
                                    }
                                }).collect_view()}
                            </g>
                        }
                    }}
                </svg>
                {readout}
            </div>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SeriesData;

    fn data(series: &[(&str, &[u64])], step: i64) -> ChartData {
        ChartData {
            from: 1_795_910_400,
            to: 1_795_910_400 + step * series[0].1.len() as i64,
            step,
            offset: 0,
            series: series
                .iter()
                .map(|(n, v)| SeriesData {
                    name: n.to_string(),
                    values: v.to_vec(),
                })
                .collect(),
            blocks: Vec::new(),
            now: 0,
        }
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn axis_steps_are_whole() {
        for (top_value, want) in [
            (7, "0 2 4 6 8 10"),
            (15, "0 5 10 15 20"),
            (45, "0 10 20 30 40 50"),
        ] {
            let d = data(&[("received", &[top_value])], 60);
            let p = plot(
                &d,
                &names(&["received"]),
                Style {
                    stacked: true,
                    rate: false,
                },
            );
            let labels: Vec<&str> = p.y_ticks.iter().map(|(_, l)| l.as_str()).collect();
            assert_eq!(labels.join(" "), want);
        }
    }

    #[test]
    fn nice_maxima() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(10.0), 10.0);
        assert_eq!(nice_max(11.0), 20.0);
        assert_eq!(nice_max(430.0), 500.0);
        assert_eq!(nice_max(0.3), 0.5);
    }

    #[test]
    fn stacked_areas_sit_on_each_other_and_the_scale_fits_the_sum() {
        let d = data(&[("received", &[2, 4]), ("sent", &[3, 6])], 3600);
        let p = plot(
            &d,
            &names(&["received", "sent"]),
            Style {
                stacked: true,
                rate: false,
            },
        );
        // Largest stack 10 → scale to 10; the top label says so.
        assert_eq!(p.y_ticks.last().unwrap().1, "10");
        assert_eq!(p.shapes.len(), 2);
        // "sent" is drawn on top of "received": its lower edge is received's top.
        let top_of_received = HEIGHT - BOTTOM - 4.0 / 10.0 * (HEIGHT - TOP - BOTTOM);
        assert!(p.shapes[1].d.contains(&format!(",{top_of_received:.1}")));
        assert!(p.shapes.iter().all(|s| s.d.ends_with('Z')));
    }

    #[test]
    fn lines_scale_to_the_largest_single_value_and_hidden_series_are_left_out() {
        let d = data(&[("received", &[2, 4]), ("sent", &[3, 6])], 3600);
        let p = plot(
            &d,
            &names(&["sent"]),
            Style {
                stacked: false,
                rate: false,
            },
        );
        assert_eq!(p.shapes.len(), 1);
        assert_eq!(p.shapes[0].name, "sent");
        assert_eq!(p.y_ticks.last().unwrap().1, "10");
        assert!(!p.shapes[0].d.contains('Z'));
    }

    #[test]
    fn rates_are_per_minute() {
        assert_eq!(shown(120, 3600, true), 2.0);
        assert_eq!(shown(120, 60, true), 120.0);
        assert_eq!(shown(120, 86_400, false), 120.0);
        let d = data(&[("received", &[600, 1200])], 3600);
        let p = plot(
            &d,
            &names(&["received"]),
            Style {
                stacked: false,
                rate: true,
            },
        );
        assert_eq!(p.y_ticks.last().unwrap().1, "20");
    }

    #[test]
    fn the_pointer_finds_its_bucket_and_markers_their_time() {
        assert_eq!(bucket_at(0.0, 10), None);
        assert_eq!(bucket_at(LEFT / WIDTH + 0.0001, 10), Some(0));
        assert_eq!(bucket_at(0.9999 - RIGHT / WIDTH, 10), Some(9));
        assert_eq!(bucket_at(0.9999, 10), None);
        let mut d = data(&[("received", &[1, 1, 1, 1])], 3600);
        d.blocks.push(BlockRow {
            id: 7,
            approved_at: d.from + 2 * 3600,
            ..BlockRow::default()
        });
        d.blocks.push(BlockRow {
            id: 8,
            approved_at: d.from + 9 * 3600,
            ..BlockRow::default()
        });
        let p = plot(
            &d,
            &names(&["received"]),
            Style {
                stacked: true,
                rate: false,
            },
        );
        assert_eq!(
            p.markers.len(),
            1,
            "a block outside the range has no marker"
        );
        // At the start of the third bucket: halfway between centres 1 and 2.
        let expected = (x_of(1.0, 4) + x_of(2.0, 4)) / 2.0;
        assert!((p.markers[0].0 - expected).abs() < 1e-9);
    }

    #[test]
    fn axis_labels_fall_on_round_times() {
        let d = data(&[("received", &[0; 24])], 3600);
        let p = plot(
            &d,
            &names(&["received"]),
            Style {
                stacked: true,
                rate: false,
            },
        );
        let labels: Vec<&str> = p.x_ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["29/11 00h", "29/11 06h", "29/11 12h", "29/11 18h"]);
        assert_eq!(number(1_500_000.0), "1.5M");
        assert_eq!(number(25_000.0), "25k");
        assert_eq!(number(2.5), "2.50");
    }
}
