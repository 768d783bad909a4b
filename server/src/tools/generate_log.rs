//! `carteiro generate-log`: writes the `mailflow` crate's generated Postfix
//! log (see `mailflow::generate`) to a file, gzipped or not, or to
//! standard output.

use crate::cli::args::GenerateLog;
use anyhow::{Context, Result, bail};
use std::io::Write;

/// Writes the log `args` describe.
pub fn run(args: GenerateLog) -> Result<()> {
    use mailflow::generate::{Generator, Shape};
    if args.hosts.iter().any(|h| h.is_empty() || h.contains(' ')) {
        bail!("--hosts: names must be non-empty and without spaces");
    }
    let start = args
        .start
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or_default();
    let mut generator = Generator::new(Shape {
        seed: args.seed,
        start,
        lines_per_day: args.lines_per_day,
        hosts: args.hosts,
        rfc3339: args.rfc3339,
    });
    if args.attacks {
        generator = generator.with_attacks(attacks_start(start, args.lines, args.lines_per_day));
    }
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            if path.extension().is_some_and(|e| e == "gz") {
                Box::new(flate2::write::GzEncoder::new(
                    file,
                    flate2::Compression::fast(),
                ))
            } else {
                Box::new(file)
            }
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, sink);
    generator.write_lines(args.lines, &mut out)?;
    Ok(())
}

/// Where [`Generator::with_attacks`](mailflow::generate::Generator::with_attacks)
/// starts them: five and a half hours before the log's (expected) end, so
/// they end half an hour before it; at its start if it is shorter.
pub fn attacks_start(start: i64, lines: u64, lines_per_day: u64) -> i64 {
    use mailflow::time::{DAY, MINUTE};
    let span = u128::from(lines) * DAY as u128 / u128::from(lines_per_day.max(1));
    let span = i64::try_from(span).unwrap_or(i64::MAX);
    start.saturating_add(span.saturating_sub(330 * MINUTE).max(0))
}
