//! One SVG time-series chart: stacked areas or lines, counts or rates,
//! a legend whose entries switch series on and off, a hover read-out with
//! the exact values of the bucket under the pointer, approved blocks as
//! markers on the time axis (click: the block's details beside the
//! marker), the compared period as dashed lines or the difference from it
//! (current − compared, around a zero line), missing data as gaps, drag
//! across it to zoom, and its export as SVG, PNG or CSV.
//!
//! The geometry is plain functions of the data ([`plot`]), unit-tested
//! without a browser; the component only draws what they return.

use crate::i18n::{Lang, Locale, use_locale, use_texts};
use crate::model::{BlockRow, ChartData, SeriesData};
use leptos::prelude::*;
use mailflow::Series;
use mailflow::series::reject_class;
use mailflow::time::{DAY, HOUR, MINUTE};
use std::collections::BTreeSet;

crate::texts! {
    /// A chart: its legend, read-out, markers, zoom and export.
    pub struct ChartTexts {
        toggle_series = "Show or hide this series", "Mostrar ou ocultar esta série";
        no_data = "no data", "sem dados";
        gap_title = "No counts stored for this time", "Nenhuma contagem guardada para este horário";
        previous = "compared", "comparado";
        delta_axis = "current − compared", "atual − comparado";
        export = "Export", "Exportar";
        export_svg = "SVG", "SVG";
        export_png = "PNG", "PNG";
        export_csv = "CSV", "CSV";
        zoom_hint = "Drag across the chart to zoom in.", "Arraste sobre o gráfico para ampliar.";
        time_column = "time", "horário";
        minute = "minute", "minuto";
        hour = "hour", "hora";
        day = "day", "dia";
        received = "Received", "Recebidas";
        sent = "Sent", "Enviadas";
        deferred = "Deferred", "Adiadas";
        bounced = "Bounced", "Devolvidas";
        rejected = "Rejected", "Rejeitadas";
        spam = "Spam", "Spam";
        virus = "Virus", "Vírus";
        sasl_failures = "SASL failures", "Falhas de SASL";
        class_sender_unknown = "Unknown sender", "Remetente desconhecido";
        class_unknown_user = "Unknown user", "Usuário inexistente";
        class_relay = "Relay denied", "Relay negado";
        class_domain = "Unknown domain", "Domínio desconhecido";
        class_not_logged = "Not signed in", "Sem autenticação";
        class_not_owned = "Sender not owned", "Remetente de outra conta";
        class_spf = "SPF failed", "Falha de SPF";
        class_sender_denied = "Sender denied", "Remetente negado";
        class_sender_other = "Sender refused (other)", "Remetente recusado (outros)";
        class_recipient_denied = "Recipient denied", "Destinatário negado";
        class_rate = "Rate limit", "Limite de taxa";
        class_rbl = "Blocklisted (RBL)", "Em lista de bloqueio (RBL)";
        class_reverse_dns = "No reverse DNS", "Sem DNS reverso";
        class_helo = "Bad HELO", "HELO inválido";
        class_server = "Server trouble", "Problema no servidor";
        class_other = "Other", "Outros";
    }
    formats {
        over_time(title: &str) = format!("{title} over time"), format!("{title} ao longo do tempo");
        series_group(title: &str) = format!("{title}: series"), format!("{title}: séries");
        this_bucket(span: &str) = format!("(this {span})"), format!("(neste intervalo de {span})");
        minutes(n: i64) = format!("{n} minutes"), format!("{n} minutos");
        hours(n: i64) = format!("{n} hours"), format!("{n} horas");
        marker(id: i64, target: &str, by: &str) = format!("Block #{id} of {target} approved by {by}"), format!("Bloqueio nº {id} de {target} aprovado por {by}");
        was(value: &str, delta: &str) = format!("compared: {value} ({delta})"), format!("comparado: {value} ({delta})");
        difference(diff: &str, now: &str, was: &str, change: &str) =
            format!("{diff} (now {now}, compared {was}, {change})"),
            format!("{diff} (agora {now}, comparado {was}, {change})");
    }
}

impl ChartTexts {
    /// How a chart names a stored series: a base series or a default
    /// reject class by its own text, any other class by its name with
    /// spaces (`reject.geo_block` → `Geo block`).
    pub fn series(self, name: &str) -> String {
        let text = match Series::parse(name) {
            Some(Series::Received) => self.received(),
            Some(Series::Sent) => self.sent(),
            Some(Series::Deferred) => self.deferred(),
            Some(Series::Bounced) => self.bounced(),
            Some(Series::Rejected) => self.rejected(),
            Some(Series::Spam) => self.spam(),
            Some(Series::Virus) => self.virus(),
            Some(Series::SaslFailures) => self.sasl_failures(),
            None => match reject_class(name).unwrap_or(name) {
                "sender_unknown" => self.class_sender_unknown(),
                "unknown_user" => self.class_unknown_user(),
                "relay" => self.class_relay(),
                "domain" => self.class_domain(),
                "not_logged" => self.class_not_logged(),
                "not_owned" => self.class_not_owned(),
                "spf" => self.class_spf(),
                "sender_denied" => self.class_sender_denied(),
                "sender_other" => self.class_sender_other(),
                "recipient_denied" => self.class_recipient_denied(),
                "rate" => self.class_rate(),
                "rbl" => self.class_rbl(),
                "reverse_dns" => self.class_reverse_dns(),
                "helo" => self.class_helo(),
                "server" => self.class_server(),
                "other" => self.class_other(),
                class => {
                    let words = class.replace('_', " ");
                    let mut chars = words.chars();
                    return chars
                        .next()
                        .map(|c| c.to_uppercase().chain(chars).collect())
                        .unwrap_or_default();
                }
            },
        };
        text.to_string()
    }

    /// What one bucket of `step` seconds is called in the read-out.
    pub fn bucket(self, step: i64) -> String {
        match step {
            MINUTE => self.minute().into(),
            HOUR => self.hour().into(),
            DAY => self.day().into(),
            s if s < HOUR => self.minutes(s / MINUTE),
            s => self.hours(s / HOUR),
        }
    }
}

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
    /// `(x0, x1)` of each run of missing buckets.
    pub gaps: Vec<(f64, f64)>,
    /// Buckets on the time axis.
    pub buckets: usize,
    /// The y of the zero line when the difference from the compared
    /// period is drawn (values below it are negative).
    pub zero: Option<f64>,
}

impl Plot {
    /// A plot of `data`'s buckets: its time axis and block markers, with
    /// `shapes` and the y axis drawn by the caller.
    fn on_time_axis(
        data: &ChartData,
        locale: &Locale,
        shapes: Vec<Shape>,
        y_ticks: Vec<(f64, String)>,
        gaps: Vec<(f64, f64)>,
        zero: Option<f64>,
    ) -> Self {
        let buckets = data.series.first().map_or(0, |s| s.values.len());
        Plot {
            shapes,
            y_ticks,
            x_ticks: time_ticks(data, buckets, locale),
            markers: markers(data, buckets),
            gaps,
            buckets,
            zero,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub name: String,
    pub color: &'static str,
    /// SVG path data: closed areas (stacked) or open lines, one piece per
    /// run of buckets with data.
    pub d: String,
    /// The compared period's (a dashed line).
    pub previous: bool,
}

/// How the values are shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    pub stacked: bool,
    /// Messages per minute instead of counts per bucket.
    pub rate: bool,
    /// With a compared period: the difference from it (current −
    /// compared, lines around zero) instead of both periods overlaid.
    pub delta: bool,
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

/// The colours reject classes (and any series without one of its own)
/// take by the hash of their name: none is a base series' colour.
const PALETTE: [&str; 20] = [
    "#0ea5e9", "#f97316", "#84cc16", "#e11d48", "#8b5cf6", "#14b8a6", "#eab308", "#6366f1",
    "#ec4899", "#78716c", "#0891b2", "#c2410c", "#4d7c0f", "#be185d", "#6d28d9", "#0f766e",
    "#ca8a04", "#4338ca", "#f472b6", "#57534e",
];

/// A series' colour, the same on every chart whatever else is shown: a
/// fixed one per base series; a reject class's from [`PALETTE`] by a
/// stable hash of its class name (FNV-1a, spread by a multiplier chosen
/// so that the ISP's default classes all differ).
pub fn color(name: &str) -> &'static str {
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
            let class = reject_class(name).unwrap_or(name);
            let hash = class.bytes().fold(0x811c_9dc5_u32, |h, b| {
                (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
            });
            let spread = hash.wrapping_mul(170) >> 16;
            PALETTE[(spread as usize * PALETTE.len()) >> 16]
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

/// The range a drag from `a` to `b` (fractions of the width, either way
/// round, outside the plot meaning its edge) zooms to: the buckets it
/// spans, `[start, end)` in Unix seconds. `None` for less than two
/// buckets (a click, or a mere wobble).
pub fn zoom_span(data: &ChartData, buckets: usize, a: f64, b: f64) -> Option<(i64, i64)> {
    if buckets == 0 {
        return None;
    }
    let clamp = |f: f64| {
        let i = ((f * WIDTH - LEFT) / (WIDTH - LEFT - RIGHT) * buckets as f64).floor();
        i.clamp(0.0, (buckets - 1) as f64) as i64
    };
    let (i0, i1) = (clamp(a.min(b)), clamp(a.max(b)));
    if i1 <= i0 {
        return None;
    }
    let start = data.from + i0 * data.step;
    let end = (data.from + (i1 + 1) * data.step).min(data.to);
    (end > start).then_some((start, end))
}

/// Whether the bucket starting at `start` (of `step` seconds) has stored
/// counts behind it, or lies before the first or after the last (a gap).
pub fn known(data: &ChartData, start: i64) -> bool {
    let after_first = data.data_from.is_some_and(|f| start + data.step > f);
    let before_last = data.data_until.is_some_and(|u| start < u);
    after_first && before_last
}

/// Appends to the path `d` a line through buckets `a..b` at heights `y`.
fn trace(d: &mut String, (a, b): (usize, usize), buckets: usize, y: impl Fn(usize) -> f64) {
    for (k, i) in (a..b).enumerate() {
        let cmd = if k == 0 { 'M' } else { 'L' };
        d.push_str(&format!("{cmd}{:.1},{:.1}", x_of(i as f64, buckets), y(i)));
    }
}

/// The runs `[a, b)` of consecutive buckets for which `ok` holds.
fn runs(buckets: usize, ok: impl Fn(usize) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for i in 0..=buckets {
        match (start, i < buckets && ok(i)) {
            (None, true) => start = Some(i),
            (Some(a), false) => {
                out.push((a, i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Lays out `names` (in order, bottom first when stacked) of `data`, and
/// the compared period's (dashed) when it came along. Times are placed on
/// round local times of `locale`'s zone.
pub fn plot(data: &ChartData, names: &[String], style: Style, locale: &Locale) -> Plot {
    if style.delta && data.shift > 0 {
        return plot_delta(data, names, style.rate, locale);
    }
    let pick = |list: &[SeriesData]| -> Vec<SeriesData> {
        names
            .iter()
            .filter_map(|n| list.iter().find(|s| &s.name == n).cloned())
            .collect()
    };
    let current = pick(&data.series);
    let previous = pick(&data.previous);
    let buckets = data.series.first().map_or(0, |s| s.values.len());
    let value = |v: u64| shown(v, data.step, style.rate);
    let start = |i: usize| data.from + i as i64 * data.step;
    let now_known = |i: usize| known(data, start(i));
    let then_known = |i: usize| known(data, start(i) - data.shift);
    // The tops of each series' shape (stacked: on the ones below).
    let tops = |list: &[SeriesData]| -> Vec<Vec<f64>> {
        let mut base = vec![0.0; buckets];
        list.iter()
            .map(|s| {
                let upper: Vec<f64> = (0..buckets)
                    .map(|i| {
                        let v = s.values.get(i).copied().map_or(0.0, value);
                        v + if style.stacked { base[i] } else { 0.0 }
                    })
                    .collect();
                if style.stacked {
                    base.clone_from(&upper);
                }
                upper
            })
            .collect()
    };
    let now_tops = tops(&current);
    let then_tops = tops(&previous);
    let max = now_tops
        .iter()
        .chain(&then_tops)
        .flat_map(|t| t.iter().copied())
        .fold(0.0, f64::max);
    let top = nice_max(max);
    let y_of = |v: f64| HEIGHT - BOTTOM - v / top * (HEIGHT - TOP - BOTTOM);
    let line = |upper: &[f64], run: (usize, usize), d: &mut String| {
        trace(d, run, buckets, |i| y_of(upper[i]));
    };
    let mut shapes = Vec::new();
    let now_runs = runs(buckets, now_known);
    for (k, s) in current.iter().enumerate() {
        let mut d = String::new();
        for &run in &now_runs {
            line(&now_tops[k], run, &mut d);
            if style.stacked {
                for i in (run.0..run.1).rev() {
                    let below = if k == 0 { 0.0 } else { now_tops[k - 1][i] };
                    d.push_str(&format!(
                        "L{:.1},{:.1}",
                        x_of(i as f64, buckets),
                        y_of(below)
                    ));
                }
                d.push('Z');
            }
        }
        shapes.push(Shape {
            name: s.name.clone(),
            color: color(&s.name),
            d,
            previous: false,
        });
    }
    let then_runs = runs(buckets, then_known);
    for (k, s) in previous.iter().enumerate() {
        let mut d = String::new();
        for &run in &then_runs {
            line(&then_tops[k], run, &mut d);
        }
        shapes.push(Shape {
            name: s.name.clone(),
            color: color(&s.name),
            d,
            previous: true,
        });
    }
    let gaps = runs(buckets, |i| !now_known(i))
        .into_iter()
        .map(|(a, b)| (x_of(a as f64 - 0.5, buckets), x_of(b as f64 - 0.5, buckets)))
        .collect();
    // Whole steps: 0-2-4-…-10, 0-5-10-15-20, 0-10-…-50.
    let divisions = if (top / 10f64.powf(top.log10().floor()) - 2.0).abs() < 1e-9 {
        4
    } else {
        5
    };
    let y_ticks = (0..=divisions)
        .map(|k| {
            let v = top * f64::from(k) / f64::from(divisions);
            (y_of(v), number(v, locale.lang))
        })
        .collect();
    Plot::on_time_axis(data, locale, shapes, y_ticks, gaps, None)
}

/// One series' difference from the compared period, bucket by bucket: its
/// value now minus its value then, as shown (counts, or per minute with
/// `rate`). A bucket missing on either side (no counts stored then, or no
/// period compared) is missing in the difference too: `None`, never a
/// zero. Within stored data a series without a row is zero (a reject class
/// seen in only one of the periods).
pub fn delta(data: &ChartData, name: &str, rate: bool) -> Vec<Option<f64>> {
    let buckets = data.series.first().map_or(0, |s| s.values.len());
    let find = |list: &[SeriesData]| list.iter().find(|s| s.name == name).cloned();
    let (now, then) = (find(&data.series), find(&data.previous));
    let at = |s: &Option<SeriesData>, i: usize| {
        let v = s.as_ref().and_then(|s| s.values.get(i).copied());
        shown(v.unwrap_or(0), data.step, rate)
    };
    (0..buckets)
        .map(|i| {
            let start = data.from + i as i64 * data.step;
            let both = data.shift > 0 && known(data, start) && known(data, start - data.shift);
            both.then(|| at(&now, i) - at(&then, i))
        })
        .collect()
}

/// The difference view of [`plot`]: one line per series around a zero
/// line in the middle, on a scale symmetric about it.
fn plot_delta(data: &ChartData, names: &[String], rate: bool, locale: &Locale) -> Plot {
    let buckets = data.series.first().map_or(0, |s| s.values.len());
    let lines: Vec<(&String, Vec<Option<f64>>)> = names
        .iter()
        .filter(|n| data.series.iter().any(|s| &s.name == *n))
        .map(|n| (n, delta(data, n, rate)))
        .collect();
    let reach = lines
        .iter()
        .flat_map(|(_, d)| d.iter().flatten())
        .fold(0.0, |m: f64, v| m.max(v.abs()));
    let top = nice_max(reach);
    let zero = (TOP + HEIGHT - BOTTOM) / 2.0;
    let y_of = |v: f64| zero - v / top * (HEIGHT - TOP - BOTTOM) / 2.0;
    let shapes = lines
        .iter()
        .map(|(name, d)| {
            let mut path = String::new();
            for run in runs(buckets, |i| d[i].is_some()) {
                trace(&mut path, run, buckets, |i| y_of(d[i].unwrap_or(0.0)));
            }
            Shape {
                name: name.to_string(),
                color: color(name),
                d: path,
                previous: false,
            }
        })
        .collect();
    let start = |i: usize| data.from + i as i64 * data.step;
    let gaps = runs(buckets, |i| {
        !known(data, start(i)) || !known(data, start(i) - data.shift)
    })
    .into_iter()
    .map(|(a, b)| (x_of(a as f64 - 0.5, buckets), x_of(b as f64 - 0.5, buckets)))
    .collect();
    // ±top, ±half of it when that is a whole number, and zero.
    let mut levels = vec![-top, 0.0, top];
    if (top / 2.0).fract() == 0.0 {
        levels.extend([-top / 2.0, top / 2.0]);
    }
    levels.sort_by(f64::total_cmp);
    let y_ticks = levels
        .into_iter()
        .map(|v| (y_of(v), signed(v, locale.lang)))
        .collect();
    Plot::on_time_axis(data, locale, shapes, y_ticks, gaps, Some(zero))
}

/// The blocks approved within the chart's buckets, at their time.
fn markers(data: &ChartData, buckets: usize) -> Vec<(f64, BlockRow)> {
    let span = data.step * buckets as i64;
    data.blocks
        .iter()
        .filter(|b| b.approved_at >= data.from && b.approved_at < data.from + span)
        .map(|b| {
            let i = (b.approved_at - data.from) as f64 / data.step as f64 - 0.5;
            (x_of(i, buckets), b.clone())
        })
        .collect()
}

/// About seven labels on the time axis, on round local times.
fn time_ticks(data: &ChartData, buckets: usize, locale: &Locale) -> Vec<(f64, String)> {
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
        .filter_map(|i| {
            let t = data.from + i as i64 * data.step;
            let local = t + i64::from(locale.zone.offset_at(t));
            (local.rem_euclid(every) == 0).then(|| {
                (
                    x_of(i as f64 - 0.5, buckets),
                    local_label(locale, t, data.step, false),
                )
            })
        })
        .collect()
}

/// A time as the axis (short) or the read-out (`long`) shows it, for
/// buckets of `step` seconds, in `locale`'s zone and language.
pub fn local_label(locale: &Locale, t: i64, step: i64, long: bool) -> String {
    if long {
        return if step >= DAY {
            locale.date(t)
        } else {
            locale.datetime(t)
        };
    }
    let Some(d) = locale.zone.local(t) else {
        return String::new();
    };
    let format = match (step, locale.lang) {
        (..HOUR, _) => "%H:%M",
        (..DAY, Lang::PtBr) => "%d/%m %Hh",
        (..DAY, Lang::En) => "%b %d %Hh",
        (_, Lang::PtBr) => "%d/%m",
        (_, Lang::En) => "%b %d",
    };
    d.format(format).to_string()
}

/// A time at a fixed UTC `offset` as the axis (short) or a read-out
/// (`long`) showed it before times followed the configured zone (the
/// report page still uses it; prefer [`local_label`]).
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

/// A number for an axis or read-out: thousands as k, millions as M,
/// decimals with the language's mark.
pub fn number(v: f64, lang: Lang) -> String {
    let text = if v >= 1e6 {
        format!("{:.1}M", v / 1e6).replace(".0M", "M")
    } else if v >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if v.fract().abs() > 1e-9 {
        format!("{v:.2}")
    } else {
        format!("{v:.0}")
    };
    match lang {
        Lang::PtBr => text.replace('.', ","),
        Lang::En => text,
    }
}

/// A difference as an axis or read-out shows it: `+12`, `−3,5` (a true
/// minus sign), `0`.
pub fn signed(v: f64, lang: Lang) -> String {
    if v > 0.0 {
        format!("+{}", number(v, lang))
    } else if v < 0.0 {
        format!("−{}", number(-v, lang))
    } else {
        "0".into()
    }
}

/// How much `now` changed from `was`, in percent of `was` (`+12%`,
/// `−40%`); `—` when `was` is zero.
pub fn change(now: f64, was: f64, locale: &Locale) -> String {
    if was == 0.0 {
        return "—".into();
    }
    let pct = (now - was) / was * 100.0;
    let sign = if pct >= 0.5 {
        "+"
    } else if pct <= -0.5 {
        "−"
    } else {
        ""
    };
    format!("{sign}{}%", locale.decimal(pct.abs(), 0))
}

/// A cell as a spreadsheet shows it but never runs it: text beginning
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`;
/// quoted when it holds a comma, a quote or a line break.
pub fn csv_cell(cell: &str) -> String {
    let safe = if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

/// The chart's data as CSV: a header (the local time's column, then each
/// of `names` by its stored name, then `<name> (compared)` columns when a
/// period is compared), one row per bucket with the bucket's local start
/// (`YYYY-MM-DD HH:MM`, any language) and plain counts; a missing bucket's
/// cells are empty.
pub fn chart_csv(data: &ChartData, names: &[String], locale: &Locale) -> String {
    let t = locale.texts::<ChartTexts>();
    let find = |list: &[SeriesData], n: &str| list.iter().find(|s| s.name == n).cloned();
    let now: Vec<SeriesData> = names.iter().filter_map(|n| find(&data.series, n)).collect();
    let then: Vec<SeriesData> = names
        .iter()
        .filter_map(|n| find(&data.previous, n))
        .collect();
    let mut header = vec![csv_cell(t.time_column())];
    header.extend(now.iter().map(|s| csv_cell(&s.name)));
    header.extend(
        then.iter()
            .map(|s| csv_cell(&format!("{} ({})", s.name, t.previous()))),
    );
    let mut out = header.join(",");
    out.push('\n');
    let buckets = data.series.first().map_or(0, |s| s.values.len());
    for i in 0..buckets {
        let start = data.from + i as i64 * data.step;
        let when = locale
            .zone
            .local(start)
            .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let mut row = vec![when];
        let cells = |list: &[SeriesData], ok: bool, row: &mut Vec<String>| {
            for s in list {
                let v = s.values.get(i).copied().unwrap_or(0);
                row.push(if ok { v.to_string() } else { String::new() });
            }
        };
        cells(&now, known(data, start), &mut row);
        cells(&then, known(data, start - data.shift), &mut row);
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// A file name for an export: `carteiro-<what>-<local date of from>.<ext>`.
fn file_name(what: &str, data: &ChartData, locale: &Locale, ext: &str) -> String {
    let day = locale
        .zone
        .local(data.from)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    format!("carteiro-{what}-{day}.{ext}")
}

/// The browser side of the exports: a text or a data URL offered as a
/// download, and an SVG drawn onto a canvas for a PNG.
mod export {
    use leptos::prelude::document;
    use leptos::wasm_bindgen::{JsCast, JsValue, closure::Closure};

    /// Offers `url` as the download `name`.
    pub fn download(url: &str, name: &str) {
        let Some(a) = document()
            .create_element("a")
            .ok()
            .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        else {
            return;
        };
        a.set_href(url);
        a.set_download(name);
        if let Some(body) = document().body() {
            let _ = body.append_child(&a);
            a.click();
            a.remove();
        }
    }

    /// An object URL of `text` with the MIME type `kind`.
    pub fn text_url(text: &str, kind: &str) -> Option<String> {
        let parts = web_sys::js_sys::Array::of1(&JsValue::from_str(text));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(kind);
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
        web_sys::Url::create_object_url_with_blob(&blob).ok()
    }

    /// Offers `text` as the download `name`.
    pub fn save_text(text: &str, kind: &str, name: &str) {
        if let Some(url) = text_url(text, kind) {
            download(&url, name);
            revoke_later(url);
        }
    }

    /// Frees an object URL once the download it started has read it.
    fn revoke_later(url: String) {
        let free = Closure::once_into_js(move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        });
        let _ = leptos::prelude::window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(free.unchecked_ref(), 10_000);
    }

    /// The SVG element as a standalone SVG file's text.
    pub fn svg_text(svg: &web_sys::SvgElement) -> Option<String> {
        web_sys::XmlSerializer::new()
            .ok()?
            .serialize_to_string(svg)
            .ok()
    }

    /// Draws the SVG `text` (`width` × `height`) at twice its size on a
    /// white canvas and offers it as the PNG `name`.
    pub fn save_png(text: &str, width: f64, height: f64, name: String) {
        // A data URL: an image from it does not taint the canvas.
        let url = format!(
            "data:image/svg+xml;charset=utf-8,{}",
            web_sys::js_sys::encode_uri_component(text)
        );
        let (Ok(img), Some(canvas)) = (
            web_sys::HtmlImageElement::new(),
            document()
                .create_element("canvas")
                .ok()
                .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok()),
        ) else {
            return;
        };
        let (w, h) = (width * 2.0, height * 2.0);
        canvas.set_width(w as u32);
        canvas.set_height(h as u32);
        let image = img.clone();
        let onload = Closure::once_into_js(move || {
            let context = canvas
                .get_context("2d")
                .ok()
                .flatten()
                .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok());
            if let Some(ctx) = context {
                ctx.set_fill_style_str("#ffffff");
                ctx.fill_rect(0.0, 0.0, w, h);
                let _ =
                    ctx.draw_image_with_html_image_element_and_dw_and_dh(&image, 0.0, 0.0, w, h);
                if let Ok(png) = canvas.to_data_url_with_type("image/png") {
                    download(&png, &name);
                }
            }
        });
        img.set_onload(Some(onload.unchecked_ref()));
        img.set_src(&url);
    }
}

/// Where on the SVG (a fraction of its width) a pointer event is.
fn pointer_fraction(ev: &leptos::ev::PointerEvent) -> Option<f64> {
    use leptos::wasm_bindgen::JsCast;
    let target = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())?;
    let rect = target.get_bounding_client_rect();
    (rect.width() > 0.0).then(|| (f64::from(ev.client_x()) - rect.left()) / rect.width())
}

/// Scrolls `el` up just into the window when it ends below it.
fn reveal(el: &web_sys::Element) {
    let height = leptos::prelude::window()
        .inner_height()
        .ok()
        .and_then(|h| h.as_f64());
    if height.is_some_and(|h| el.get_bounding_client_rect().bottom() > h) {
        el.scroll_into_view_with_bool(false);
    }
}

/// A chart of the named series of `data`. `hidden` holds the series the
/// legend switched off (shared by the page's charts).
#[component]
pub fn TimeChart(
    /// The chart's heading.
    title: &'static str,
    /// What its exported files are called (`flow` → `carteiro-flow-….png`).
    file: &'static str,
    data: ChartData,
    /// The series this chart may show, in stacking order.
    names: Vec<String>,
    hidden: RwSignal<BTreeSet<String>>,
    style: Signal<Style>,
    /// The block whose details are open beside its marker on this chart.
    selected: RwSignal<Option<BlockRow>>,
    /// The open block's details (shown next to its marker).
    #[prop(into)]
    details: ViewFn,
    /// Called with `[from, to)` when a span is dragged across the chart.
    #[prop(optional)]
    on_zoom: Option<Callback<(i64, i64)>>,
) -> impl IntoView {
    let t = use_texts::<ChartTexts>();
    let locale = StoredValue::new(use_locale());
    let data = StoredValue::new(data);
    let names = StoredValue::new(names);
    let hover = RwSignal::new(None::<usize>);
    // (start, now) of a drag, as fractions of the width.
    let drag = RwSignal::new(None::<(f64, f64)>);
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();
    let visible = move || {
        let hidden = hidden.get();
        names
            .get_value()
            .into_iter()
            .filter(|n| !hidden.contains(n))
            .collect::<Vec<_>>()
    };
    let drawing = Memo::new(move |_| {
        let v = visible();
        let s = style.get();
        data.with_value(|d| locale.with_value(|l| plot(d, &v, s, l)))
    });
    let on_down = move |ev: leptos::ev::PointerEvent| {
        if on_zoom.is_some() && ev.button() == 0 {
            // No text selection or native drag while a span is dragged.
            ev.prevent_default();
            drag.set(pointer_fraction(&ev).map(|f| (f, f)));
        }
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let Some(f) = pointer_fraction(&ev) else {
            return;
        };
        hover.set(bucket_at(f, drawing.with(|p| p.buckets)));
        if let Some((a, b)) = drag.get_untracked() {
            // Capture once it is a drag (a click on a marker stays a click):
            // the release then counts even outside the chart.
            if (a - b).abs() < 0.01 && (a - f).abs() >= 0.01 {
                use leptos::wasm_bindgen::JsCast;
                if let Some(el) = ev
                    .current_target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                {
                    let _ = el.set_pointer_capture(ev.pointer_id());
                }
            }
            drag.set(Some((a, f)));
        }
    };
    let on_up = move |ev: leptos::ev::PointerEvent| {
        let Some((a, _)) = drag.get_untracked() else {
            return;
        };
        drag.set(None);
        let b = pointer_fraction(&ev).unwrap_or(a);
        let span = data.with_value(|d| zoom_span(d, drawing.with_untracked(|p| p.buckets), a, b));
        if let (Some(span), Some(zoom)) = (span, on_zoom) {
            hover.set(None);
            zoom.run(span);
        }
    };
    let legend = move || {
        data.with_value(|d| {
            names
                .get_value()
                .into_iter()
                .map(|name| {
                    let total: u64 = d
                        .series
                        .iter()
                        .find(|s| s.name == name)
                        .map_or(0, |s| s.values.iter().sum());
                    let toggle = name.clone();
                    let on = {
                        let name = name.clone();
                        move || !hidden.with(|h| h.contains(&name))
                    };
                    let total = locale.with_value(|l| l.number(total));
                    view! {
                        <button
                            type="button"
                            class="legend-item"
                            aria-pressed=move || on().to_string()
                            title=t.toggle_series()
                            on:click=move |_| {
                                hidden
                                    .update(|h| {
                                        if !h.remove(&toggle) {
                                            h.insert(toggle.clone());
                                        }
                                    })
                            }
                        >
                            <span class="swatch" style=format!("background:{}", color(&name))></span>
                            {t.series(&name)}
                            <span class="legend-total">{total}</span>
                        </button>
                    }
                })
                .collect_view()
        })
    };
    let readout = move || {
        let i = hover.get()?;
        if drag.get().is_some() {
            return None;
        }
        let p = drawing.get();
        let rate = style.get().rate;
        let (time, rows, step) = data.with_value(|d| {
            locale.with_value(|l| {
                let start = d.from + i as i64 * d.step;
                let time = local_label(l, start, d.step, true);
                let text = |v: u64| {
                    if rate {
                        format!(
                            "{}/min ({})",
                            number(shown(v, d.step, true), l.lang),
                            l.number(v)
                        )
                    } else {
                        l.number(v)
                    }
                };
                let (now_ok, then_ok) = (known(d, start), d.shift > 0 && known(d, start - d.shift));
                let rows: Vec<(String, &'static str, String)> = p
                    .shapes
                    .iter()
                    .filter(|s| !s.previous)
                    .rev()
                    .filter_map(|s| {
                        let v = d.series.iter().find(|x| x.name == s.name)?.values[i];
                        let was = d.previous.iter().find(|x| x.name == s.name);
                        let w = was.and_then(|x| x.values.get(i).copied()).unwrap_or(0);
                        let (a, b) = (shown(v, d.step, rate), shown(w, d.step, rate));
                        let line = if p.zero.is_some() {
                            // The difference: both values and the change.
                            if now_ok && then_ok {
                                t.difference(
                                    &signed(a - b, l.lang),
                                    &text(v),
                                    &text(w),
                                    &change(a, b, l),
                                )
                            } else {
                                t.no_data().to_string()
                            }
                        } else {
                            let now = if now_ok {
                                text(v)
                            } else {
                                t.no_data().to_string()
                            };
                            match was {
                                Some(_) if then_ok => {
                                    format!("{now} · {}", t.was(&text(w), &change(a, b, l)))
                                }
                                _ => now,
                            }
                        };
                        Some((t.series(&s.name), s.color, line))
                    })
                    .collect();
                (time, rows, d.step)
            })
        });
        let fraction = bucket_fraction(i, p.buckets);
        let pos = if fraction > 0.6 {
            format!("right:{:.2}%", (1.0 - fraction) * 100.0)
        } else {
            format!("left:{:.2}%", fraction * 100.0)
        };
        let span = t.this_bucket(&t.bucket(step));
        Some(view! {
            <div class="readout" style=pos role="status">
                <strong>{time}</strong>
                <span class="muted">" " {span}</span>
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
    // The open block's details beside its marker on this chart.
    let popover_ref = NodeRef::<leptos::html::Div>::new();
    let popover = move || {
        let block = selected.get()?;
        let x = drawing.with(|p| {
            p.markers
                .iter()
                .find(|(_, b)| b.id == block.id)
                .map(|(x, _)| *x / WIDTH)
        })?;
        let pos = if x > 0.6 {
            format!("right:{:.2}%", (1.0 - x) * 100.0)
        } else {
            format!("left:{:.2}%", x * 100.0)
        };
        Some(
            view! { <div class="block-popover" style=pos node_ref=popover_ref>{details.run()}</div> },
        )
    };
    // Details that open below the window's edge are brought up into it.
    Effect::new(move |_| {
        if let Some(el) = popover_ref.get() {
            reveal(&el);
        }
    });
    let export_svg = move |_| {
        if let Some(text) = svg_ref.get_untracked().and_then(|s| export::svg_text(&s)) {
            let name = data.with_value(|d| locale.with_value(|l| file_name(file, d, l, "svg")));
            export::save_text(&text, "image/svg+xml", &name);
        }
    };
    let export_png = move |_| {
        if let Some(text) = svg_ref.get_untracked().and_then(|s| export::svg_text(&s)) {
            let name = data.with_value(|d| locale.with_value(|l| file_name(file, d, l, "png")));
            export::save_png(&text, WIDTH, HEIGHT, name);
        }
    };
    let export_csv = move |_| {
        let (text, name) = data.with_value(|d| {
            locale.with_value(|l| (chart_csv(d, &visible(), l), file_name(file, d, l, "csv")))
        });
        export::save_text(&text, "text/csv;charset=utf-8", &name);
    };
    view! {
        <figure class="chart" aria-label=title>
            <figcaption>
                <h2>{title}</h2>
                <div class="legend" role="group" aria-label=t.series_group(title)>{legend}</div>
                <div class="chart-export" role="group" aria-label=format!("{}: {title}", t.export())>
                    <button type="button" on:click=export_svg>{t.export_svg()}</button>
                    <button type="button" on:click=export_png>{t.export_png()}</button>
                    <button type="button" on:click=export_csv>{t.export_csv()}</button>
                </div>
            </figcaption>
            <div class="chart-box">
                <svg
                    node_ref=svg_ref
                    viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                    width=WIDTH
                    height=HEIGHT
                    role="img"
                    aria-label=t.over_time(title)
                    font-family="system-ui, sans-serif"
                    on:pointerdown=on_down
                    on:pointermove=on_move
                    on:pointerup=on_up
                    on:pointercancel=move |_| drag.set(None)
                    on:pointerleave=move |_| {
                        hover.set(None);
                        // A press that never became a drag ends here.
                        if drag.get_untracked().is_some_and(|(a, b)| (a - b).abs() < 0.01) {
                            drag.set(None);
                        }
                    }
                >
                    <title>{t.zoom_hint()}</title>
                    {move || {
                        let p = drawing.get();
                        // The difference is drawn as lines around zero.
                        let stacked = style.get().stacked && p.zero.is_none();
                        view! {
                            <g class="gaps">
                                {p.gaps.iter().map(|(x0, x1)| view! {
                                    <rect x=*x0 y=TOP width=(x1 - x0).max(0.0) height=HEIGHT - TOP - BOTTOM fill="#f1f5f9">
                                        <title>{t.gap_title()}</title>
                                    </rect>
                                }).collect_view()}
                            </g>
                            <g class="grid">
                                {p.y_ticks.iter().map(|(y, label)| view! {
                                    <line x1=LEFT x2=WIDTH - RIGHT y1=*y y2=*y stroke="#e5e7eb" />
                                    <text x=LEFT - 6.0 y=*y + 4.0 text-anchor="end" font-size="11" fill="#6b7280">{label.clone()}</text>
                                }).collect_view()}
                                {p.x_ticks.iter().map(|(x, label)| view! {
                                    <line class="tick" x1=*x x2=*x y1=HEIGHT - BOTTOM y2=HEIGHT - BOTTOM + 5.0 stroke="#9ca3af" />
                                    <text x=*x y=HEIGHT - 10.0 text-anchor="middle" font-size="11" fill="#6b7280">{label.clone()}</text>
                                }).collect_view()}
                            </g>
                            {p.zero.map(|y| view! {
                                <line class="zero" x1=LEFT x2=WIDTH - RIGHT y1=y y2=y stroke="#374151" />
                                <text
                                    class="axis-title"
                                    transform=format!("rotate(-90) translate({:.1},12)", -(TOP + HEIGHT - BOTTOM) / 2.0)
                                    text-anchor="middle"
                                    font-size="11"
                                    fill="#374151"
                                >
                                    {t.delta_axis()}
                                </text>
                            })}
                            <g class="series">
                                {p.shapes.iter().map(|s| {
                                    let fill = if stacked && !s.previous { s.color } else { "none" };
                                    view! {
                                        <path
                                            d=s.d.clone()
                                            data-series=s.name.clone()
                                            data-compared=s.previous.then_some("true")
                                            data-delta=p.zero.is_some().then_some("true")
                                            fill=fill
                                            fill-opacity="0.75"
                                            stroke=s.color
                                            stroke-width=if stacked && !s.previous { "0.5" } else { "1.5" }
                                            stroke-dasharray=s.previous.then_some("5 4")
                                        />
                                    }
                                }).collect_view()}
                            </g>
                            {hover.get().map(|i| {
                                let x = bucket_fraction(i, p.buckets) * WIDTH;
                                view! { <line class="cursor" x1=x x2=x y1=TOP y2=HEIGHT - BOTTOM /> }
                            })}
                            {drag.get().map(|(a, b)| {
                                let (x0, x1) = (a.min(b) * WIDTH, a.max(b) * WIDTH);
                                view! { <rect class="zoom-band" x=x0 y=TOP width=x1 - x0 height=HEIGHT - TOP - BOTTOM /> }
                            })}
                            <g class="markers">
                                {p.markers.iter().map(|(x, b)| {
                                    let block = b.clone();
                                    let again = b.clone();
                                    let label = t.marker(b.id, &b.target, &b.approved_by);
                                    let aria = label.clone();
                                    view! {
                                        <g
                                            class="marker"
                                            role="button"
                                            tabindex="0"
                                            aria-label=aria
                                            on:click=move |_| selected.set(Some(block.clone()))
                                            on:keydown=move |ev| {
                                                if ev.key() == "Enter" || ev.key() == " " {
                                                    ev.prevent_default();
                                                    selected.set(Some(again.clone()));
                                                }
                                            }
                                        >
                                            <title>{label}</title>
                                            <line x1=*x x2=*x y1=TOP y2=HEIGHT - BOTTOM stroke="#dc2626" stroke-dasharray="4 3" />
                                            <path d=format!("M{:.1},{:.1}l-6,10h12z", x, HEIGHT - BOTTOM) fill="#dc2626" />
                                        </g>
                                    }
                                }).collect_view()}
                            </g>
                        }
                    }}
                </svg>
                {readout}
                {popover}
            </div>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Zone;
    use crate::model::SeriesData;
    use std::sync::Arc;

    fn data(series: &[(&str, &[u64])], step: i64) -> ChartData {
        ChartData {
            from: 1_795_910_400,
            to: 1_795_910_400 + step * series[0].1.len() as i64,
            step,
            series: series
                .iter()
                .map(|(n, v)| SeriesData {
                    name: n.to_string(),
                    values: v.to_vec(),
                })
                .collect(),
            blocks: Vec::new(),
            now: 0,
            data_from: Some(1_795_910_400),
            data_until: Some(1_795_910_400 + step * series[0].1.len() as i64),
            ..ChartData::default()
        }
    }

    /// pt-BR in UTC (the time-axis tests' dates are UTC days).
    fn utc() -> Locale {
        Locale::default()
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    /// `d` drawn in UTC with the series `shown`, stacked or not, as counts
    /// or per-minute rates.
    fn plot_utc(d: &ChartData, shown: &[&str], stacked: bool, rate: bool) -> Plot {
        let style = Style {
            stacked,
            rate,
            delta: false,
        };
        plot(d, &names(shown), style, &utc())
    }

    #[test]
    fn axis_steps_are_whole() {
        for (top_value, want) in [
            (7, "0 2 4 6 8 10"),
            (15, "0 5 10 15 20"),
            (45, "0 10 20 30 40 50"),
        ] {
            let d = data(&[("received", &[top_value])], 60);
            let p = plot_utc(&d, &["received"], true, false);
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
        let p = plot_utc(&d, &["received", "sent"], true, false);
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
        let p = plot_utc(&d, &["sent"], false, false);
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
        let p = plot_utc(&d, &["received"], false, true);
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
        let p = plot_utc(&d, &["received"], true, false);
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
        let p = plot_utc(&d, &["received"], true, false);
        let labels: Vec<&str> = p.x_ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["29/11 00h", "29/11 06h", "29/11 12h", "29/11 18h"]);
        assert_eq!(number(1_500_000.0, Lang::En), "1.5M");
        assert_eq!(number(1_500_000.0, Lang::PtBr), "1,5M");
        assert_eq!(number(25_000.0, Lang::En), "25k");
        assert_eq!(number(2.5, Lang::PtBr), "2,50");
    }

    #[test]
    fn the_time_axis_is_in_the_configured_zone() {
        // The same UTC day seen from São Paulo (UTC-3): ticks fall on
        // round local hours, labelled in local time.
        let d = data(&[("received", &[0; 24])], 3600);
        let sp = Locale {
            lang: Lang::En,
            zone: Arc::new(Zone::fixed("America/Sao_Paulo", -3 * 3600)),
        };
        let p = plot(
            &d,
            &names(&["received"]),
            Style {
                stacked: true,
                ..Style::default()
            },
            &sp,
        );
        let labels: Vec<&str> = p.x_ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["Nov 29 00h", "Nov 29 06h", "Nov 29 12h", "Nov 29 18h"]
        );
        assert_eq!(local_label(&sp, d.from, 300, true), "2026-11-28 21:00");
        let pt = Locale {
            lang: Lang::PtBr,
            ..sp
        };
        assert_eq!(local_label(&pt, d.from, 86_400, true), "28/11/2026");
    }

    #[test]
    fn every_default_series_has_its_own_colour_whatever_else_is_shown() {
        let defaults = [
            "sender_unknown",
            "unknown_user",
            "relay",
            "domain",
            "not_logged",
            "not_owned",
            "spf",
            "sender_denied",
            "sender_other",
            "recipient_denied",
            "rate",
            "rbl",
            "reverse_dns",
            "helo",
            "server",
            "other",
        ];
        let mut all: Vec<String> = Series::ALL.iter().map(|s| s.name().to_string()).collect();
        all.extend(defaults.iter().map(|c| mailflow::series::reject_series(c)));
        let colours: BTreeSet<&str> = all.iter().map(|n| color(n)).collect();
        assert_eq!(
            colours.len(),
            all.len(),
            "two default series share a colour"
        );
        assert_ne!(color("reject.domain"), color("reject.unknown_user"));
        // A class's colour is its own: the same on any chart, shown with
        // any others, and in the shapes a plot draws.
        let d = data(
            &[
                ("received", &[1]),
                ("reject.domain", &[1]),
                ("reject.rbl", &[1]),
            ],
            60,
        );
        let style = Style {
            stacked: true,
            ..Style::default()
        };
        for shown in [
            &["reject.rbl"][..],
            &["reject.domain", "reject.rbl"],
            &["received", "reject.rbl"],
        ] {
            let p = plot(&d, &names(shown), style, &utc());
            let rbl = p.shapes.iter().find(|s| s.name == "reject.rbl").unwrap();
            assert_eq!(rbl.color, color("reject.rbl"));
        }
        // Unknown classes get a palette colour too, never a base series'.
        let base: BTreeSet<&str> = Series::ALL.iter().map(|s| color(s.name())).collect();
        for class in ["geo_block", "x", "", "a_very_long_class_name_indeed"] {
            assert!(!base.contains(color(&mailflow::series::reject_series(class))));
        }
    }

    #[test]
    fn missing_buckets_are_gaps_not_zero() {
        // Six buckets; counts stored from the 2nd to the end of the 4th.
        let mut d = data(&[("received", &[0, 3, 0, 5, 0, 0])], 60);
        d.data_from = Some(d.from + 60);
        d.data_until = Some(d.from + 4 * 60);
        let known: Vec<bool> = (0..6).map(|i| known(&d, d.from + i * 60)).collect();
        assert_eq!(known, [false, true, true, true, false, false]);
        for stacked in [true, false] {
            let p = plot_utc(&d, &["received"], stacked, false);
            // One piece, over buckets 1..4 only; the zero at 2 is drawn.
            let path = &p.shapes[0].d;
            assert_eq!(path.matches('M').count(), 1, "{path}");
            assert!(
                path.starts_with(&format!("M{:.1},", x_of(1.0, 6))),
                "{path}"
            );
            assert!(
                path.contains(&format!("L{:.1},{:.1}", x_of(2.0, 6), HEIGHT - BOTTOM)),
                "{path}"
            );
            assert!(!path.contains(&format!("{:.1},", x_of(0.0, 6))), "{path}");
            assert!(!path.contains(&format!("{:.1},", x_of(4.0, 6))), "{path}");
            assert_eq!(p.gaps.len(), 2);
        }
        // A gap in the middle splits a line in two.
        let mut d = data(&[("received", &[1, 1, 1, 1])], 60);
        d.data_from = Some(d.from + 120);
        let p = plot_utc(&d, &["received"], false, false);
        assert_eq!(p.shapes[0].d.matches('M').count(), 1);
        // No stored count at all: nothing but gap.
        d.data_from = None;
        d.data_until = None;
        let p = plot_utc(&d, &["received"], true, false);
        assert!(p.shapes[0].d.is_empty());
        assert_eq!(p.gaps.len(), 1);
    }

    #[test]
    fn the_compared_period_is_dashed_lines_on_the_same_scale() {
        let mut d = data(&[("received", &[2, 4]), ("sent", &[1, 1])], 3600);
        d.previous = vec![
            SeriesData {
                name: "received".into(),
                values: vec![30, 1],
            },
            SeriesData {
                name: "sent".into(),
                values: vec![1, 1],
            },
        ];
        d.shift = 7 * 86_400;
        d.data_from = Some(d.from - 8 * 86_400);
        let style = Style {
            stacked: true,
            ..Style::default()
        };
        let p = plot(&d, &names(&["received"]), style, &utc());
        assert_eq!(p.shapes.len(), 2, "the current and the compared received");
        let was = p.shapes.iter().find(|s| s.previous).unwrap();
        assert_eq!(was.name, "received");
        assert!(!was.d.contains('Z'), "a line, not an area");
        assert_eq!(
            p.y_ticks.last().unwrap().1,
            "50",
            "the scale holds the compared 30"
        );
        // Before the first stored day, the compared period is missing too.
        d.data_from = Some(d.from);
        let p = plot(&d, &names(&["received"]), style, &utc());
        assert!(p.shapes.iter().find(|s| s.previous).unwrap().d.is_empty());
    }

    /// Four hourly buckets of `received` now and a week before, stored
    /// from the first bucket on (and the week before).
    fn compared(now: &[u64], then: &[u64]) -> ChartData {
        let mut d = data(&[("received", now), ("sent", &[0; 4])], 3600);
        d.previous = vec![
            SeriesData {
                name: "received".into(),
                values: then.to_vec(),
            },
            SeriesData {
                name: "sent".into(),
                values: vec![0; 4],
            },
        ];
        d.shift = 7 * 86_400;
        d.data_from = Some(d.from - d.shift);
        d
    }

    #[test]
    fn the_difference_is_now_minus_then_and_gaps_stay_gaps() {
        let mut d = compared(&[10, 3, 0, 8], &[4, 5, 0, 2]);
        assert_eq!(
            delta(&d, "received", false),
            [Some(6.0), Some(-2.0), Some(0.0), Some(6.0)]
        );
        // Per minute: hourly buckets divided by 60 (6 more a hour).
        let rate = delta(&d, "received", true)[0].unwrap();
        assert!((rate - 0.1).abs() < 1e-9, "{rate}");
        // Missing now (after the last stored minute): missing, not 0 − 2.
        d.data_until = Some(d.from + 3 * 3600);
        assert_eq!(delta(&d, "received", false)[3], None);
        // Missing then (before the first stored day): missing, not 10 − 0.
        d.data_from = Some(d.from - d.shift + 3600);
        assert_eq!(
            delta(&d, "received", false),
            [None, Some(-2.0), Some(0.0), None]
        );
        // A reject class seen in only one period is zero in the other.
        d.series.push(SeriesData {
            name: "reject.rbl".into(),
            values: vec![1, 2, 3, 4],
        });
        assert_eq!(
            delta(&d, "reject.rbl", false),
            [None, Some(2.0), Some(3.0), None]
        );
        // Nothing compared: nothing to subtract.
        d.shift = 0;
        assert_eq!(delta(&d, "received", false), [None; 4]);
    }

    #[test]
    fn the_difference_is_drawn_around_a_zero_line() {
        let mut d = compared(&[10, 3, 0, 8], &[4, 5, 0, 2]);
        d.data_until = Some(d.from + 3 * 3600);
        let style = Style {
            stacked: true,
            rate: false,
            delta: true,
        };
        let p = plot(&d, &names(&["received"]), style, &utc());
        let zero = p.zero.expect("a zero line");
        assert_eq!(zero, (TOP + HEIGHT - BOTTOM) / 2.0);
        // One line, no area, no dashed copy: +6, −2, 0 (the 4th is missing).
        assert_eq!(p.shapes.len(), 1);
        let path = &p.shapes[0].d;
        assert!(!p.shapes[0].previous && !path.contains('Z'), "{path}");
        assert_eq!(path.matches(['M', 'L']).count(), 3, "{path}");
        let half = (HEIGHT - TOP - BOTTOM) / 2.0;
        let y = |v: f64| zero - v / 10.0 * half;
        assert!(
            path.starts_with(&format!("M{:.1},{:.1}", x_of(0.0, 4), y(6.0))),
            "{path}"
        );
        assert!(
            path.contains(&format!("L{:.1},{:.1}", x_of(1.0, 4), y(-2.0))),
            "{path}"
        );
        assert!(
            y(-2.0) > zero,
            "a negative difference is below the zero line"
        );
        assert!(
            path.contains(&format!("L{:.1},{zero:.1}", x_of(2.0, 4))),
            "{path}"
        );
        // The scale is symmetric and signed; the missing bucket is a gap.
        let labels: Vec<&str> = p.y_ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["−10", "−5", "0", "+5", "+10"]);
        assert_eq!(p.gaps.len(), 1);
        // A gap in the compared period splits the line too.
        d.data_from = Some(d.from - d.shift + 3600);
        let p = plot(&d, &names(&["received"]), style, &utc());
        assert_eq!(p.shapes[0].d.matches('M').count(), 1);
        assert!(!p.shapes[0].d.contains(&format!("{:.1},", x_of(0.0, 4))));
        assert_eq!(p.gaps.len(), 2);
        // Without a compared period the delta style draws the plain chart.
        d.shift = 0;
        d.previous.clear();
        assert_eq!(plot(&d, &names(&["received"]), style, &utc()).zero, None);
    }

    #[test]
    fn differences_and_changes_are_signed() {
        assert_eq!(signed(12.0, Lang::PtBr), "+12");
        assert_eq!(signed(-2.5, Lang::PtBr), "−2,50");
        assert_eq!(signed(-25_000.0, Lang::En), "−25k");
        assert_eq!(signed(0.0, Lang::En), "0");
        let pt = utc();
        assert_eq!(change(120.0, 100.0, &pt), "+20%");
        assert_eq!(change(60.0, 100.0, &pt), "−40%");
        assert_eq!(change(100.2, 100.0, &pt), "0%");
        assert_eq!(change(5.0, 0.0, &pt), "—");
    }

    #[test]
    fn a_drag_zooms_to_the_buckets_it_spans() {
        let d = data(&[("received", &[0; 10])], 60);
        let at = |i: usize| bucket_fraction(i, 10);
        assert_eq!(
            zoom_span(&d, 10, at(2), at(5)),
            Some((d.from + 120, d.from + 360))
        );
        // Either way round; beyond the plot means its edge.
        assert_eq!(
            zoom_span(&d, 10, at(5), at(2)),
            Some((d.from + 120, d.from + 360))
        );
        assert_eq!(zoom_span(&d, 10, -1.0, 2.0), Some((d.from, d.from + 600)));
        // A click, or a wobble within a bucket: no zoom.
        assert_eq!(zoom_span(&d, 10, at(3), at(3) + 0.001), None);
        assert_eq!(zoom_span(&d, 0, 0.1, 0.9), None);
    }

    #[test]
    fn the_csv_is_plain_numbers_with_gaps_empty_and_safe_cells() {
        let mut d = data(&[("received", &[1234, 5]), ("reject.=cmd", &[1, 0])], 3600);
        d.data_from = Some(d.from - 7200);
        d.data_until = Some(d.from + 3600);
        d.previous = vec![SeriesData {
            name: "received".into(),
            values: vec![7, 8],
        }];
        d.shift = 7200;
        let csv = chart_csv(&d, &names(&["received", "reject.=cmd"]), &utc());
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "horário,received,reject.=cmd,received (comparado)"
        );
        assert_eq!(lines[1], "2026-11-29 00:00,1234,1,7");
        assert_eq!(
            lines[2], "2026-11-29 01:00,,,8",
            "after the last stored minute; the compared time is known"
        );
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("@sum"), "'@sum");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("plain"), "plain");
    }

    #[test]
    fn series_are_named_in_the_language() {
        let en = ChartTexts(Lang::En);
        let pt = ChartTexts(Lang::PtBr);
        assert_eq!(en.series("received"), "Received");
        assert_eq!(pt.series("received"), "Recebidas");
        assert_eq!(pt.series("reject.unknown_user"), "Usuário inexistente");
        assert_eq!(pt.series("reject.geo_block"), "Geo block");
        assert_eq!(pt.bucket(300), "5 minutos");
        assert_eq!(en.bucket(7200), "2 hours");
    }
}
