//! The MailFlow hot path on a generated, seeded log held in memory, so the
//! numbers are the parser's and not the disk's: each stage alone, then the
//! whole engine. Criterion prints lines per second ("elements/s").
//!
//!     cargo bench -p mailflow --bench mailflow

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailflow::count::{Counter, RejectRules, Settings};
use mailflow::event::classify;
use mailflow::generate::{Generator, Shape};
use mailflow::syslog::{self, YearGuess};
use std::hint::black_box;

/// The allocator the `carteiro` binary runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LINES: usize = 200_000;

fn log() -> String {
    let mut g = Generator::new(Shape {
        seed: 1,
        start: 1_793_491_200, // 2026-11-01
        lines_per_day: 20_000_000,
        hosts: vec!["mx1".into(), "mx2".into(), "smtp1".into()],
        rfc3339: false,
    });
    let mut text = String::with_capacity(LINES * 150);
    for _ in 0..LINES {
        g.next_line(&mut text);
    }
    text
}

fn stages(c: &mut Criterion) {
    let text = log();
    let mut group = c.benchmark_group("mailflow");
    group.throughput(Throughput::Elements(LINES as u64));
    group.sample_size(20);

    group.bench_function("syslog header", |b| {
        b.iter(|| {
            let mut years = YearGuess::new(2026);
            let mut n = 0usize;
            for line in text.lines() {
                n += usize::from(syslog::parse(line, &mut years).is_some());
            }
            black_box(n)
        })
    });
    group.bench_function("header + classify", |b| {
        b.iter(|| {
            let mut years = YearGuess::new(2026);
            let mut n = 0usize;
            for line in text.lines() {
                if let Some(h) = syslog::parse(line, &mut years) {
                    black_box(classify(&h));
                    n += 1;
                }
            }
            black_box(n)
        })
    });
    group.bench_function("whole engine", |b| {
        b.iter(|| {
            let mut c = Counter::new(Settings::default(), RejectRules::defaults(), 2026);
            for line in text.as_bytes().split_inclusive(|b| *b == b'\n') {
                c.feed_bytes(line);
            }
            black_box(c.take_batch());
            black_box(c.totals)
        })
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
