//! Property tests: whatever bytes arrive, the engine never panics, and
//! every line is counted once (parsed or unparsed). Inputs are arbitrary
//! bytes and, more usefully, realistic lines cut, spliced and corrupted.

use super::count::{Counter, RejectRules, Settings};
use super::generate::{Generator, Shape};
use proptest::prelude::*;
use std::sync::OnceLock;

/// A few thousand realistic lines of every kind to mutate.
fn samples() -> &'static [String] {
    static LINES: OnceLock<Vec<String>> = OnceLock::new();
    LINES.get_or_init(|| {
        let mut g = Generator::new(Shape {
            seed: 5,
            start: 1_793_491_200,
            lines_per_day: 2_000_000,
            hosts: vec!["mx1".into(), "smtp1".into()],
            rfc3339: false,
        });
        (0..3000)
            .map(|_| {
                let mut s = String::new();
                g.next_line(&mut s);
                s
            })
            .collect()
    })
}

/// One way to damage a line.
#[derive(Clone, Debug)]
enum Damage {
    Truncate(usize),
    Splice(usize, Vec<u8>),
    Overwrite(usize, u8),
    JoinWith(usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<usize>().prop_map(Damage::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 0..12))
            .prop_map(|(at, b)| Damage::Splice(at, b)),
        (
            any::<usize>(),
            prop::sample::select(b"<>[]=:;, ()\n\xff0".to_vec())
        )
            .prop_map(|(at, b)| Damage::Overwrite(at, b)),
        any::<usize>().prop_map(Damage::JoinWith),
    ]
}

fn apply(line: &str, d: &Damage) -> Vec<u8> {
    let mut b = line.as_bytes().to_vec();
    match d {
        Damage::Truncate(at) => b.truncate(at % (b.len() + 1)),
        Damage::Splice(at, bytes) => {
            let at = at % (b.len() + 1);
            b.splice(at..at, bytes.iter().copied());
        }
        Damage::Overwrite(at, byte) => {
            if !b.is_empty() {
                let i = at % b.len();
                b[i] = *byte;
            }
        }
        Damage::JoinWith(other) => {
            let s = samples();
            b.extend_from_slice(s[other % s.len()].as_bytes());
        }
    }
    b
}

fn counter() -> Counter {
    Counter::new(Settings::default(), RejectRules::defaults(), 2026)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(lines in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..40)) {
        let mut c = counter();
        for l in &lines {
            c.feed_bytes(l);
        }
        prop_assert_eq!(c.lines, lines.len() as u64);
        c.take_batch();
    }

    #[test]
    fn damaged_real_lines_never_panic(picks in prop::collection::vec((any::<usize>(), damage()), 1..60)) {
        let s = samples();
        let mut c = counter();
        for (i, d) in &picks {
            c.feed_bytes(&apply(&s[i % s.len()], d));
        }
        prop_assert_eq!(c.lines, picks.len() as u64);
        prop_assert!(c.unparsed <= c.lines);
        c.take_batch();
    }
}
