//! How pages write figures and times: digits grouped by thousands, and Unix
//! times as UTC dates to the second.

/// `353116574` → `353 116 574`: the digits grouped by thousands with
/// `separator` between groups, so big counts read at a glance.
pub fn group_digits(digits: &str, separator: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// Unix seconds as `2026-11-29 14:05:09` (UTC), as log lines are dated;
/// empty for a time chrono cannot show.
pub fn utc_seconds(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_group_by_thousands() {
        assert_eq!(
            group_digits("353116574", '\u{2009}'),
            "353\u{2009}116\u{2009}574"
        );
        assert_eq!(group_digits("1000", '\u{2009}'), "1\u{2009}000");
        assert_eq!(group_digits("999", '\u{2009}'), "999");
        assert_eq!(group_digits("0", '\u{2009}'), "0");
    }
}
