//! Domain values of provisioning, parsed once: a domain name (IDN converted
//! to punycode), a mailbox local part, an address, a quota. Once a value
//! has one of these types it is valid and in the form Postfix looks up.

use crate::provision::texts::ProvisionTexts;
use std::fmt;

/// A DNS domain in lower-case ASCII (punycode for IDN), without a final dot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(String);

impl DomainName {
    pub fn parse(input: &str) -> Result<Self, String> {
        let t = ProvisionTexts::caller();
        let trimmed = input.trim().trim_end_matches('.');
        if trimmed.is_empty() {
            return Err(t.domain_empty().into());
        }
        let ascii = idna::domain_to_ascii(trimmed).map_err(|_| t.domain_invalid(trimmed))?;
        if ascii.len() > 253 {
            return Err(t.domain_too_long().into());
        }
        let labels: Vec<&str> = ascii.split('.').collect();
        if labels.len() < 2 {
            return Err(t.domain_two_parts(trimmed));
        }
        for label in &labels {
            let ok = !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(t.domain_label(trimmed));
            }
        }
        if labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(t.domain_ip(trimmed));
        }
        Ok(DomainName(ascii))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Unicode form people read (`açaí.com.br` for `xn--aa-...`).
    pub fn display(&self) -> String {
        unicode_domain(&self.0)
    }

    /// A warning when the name can pass for another one: a part that mixes
    /// Latin, Cyrillic or Greek letters (Cyrillic `с` in `сliente.com.br`),
    /// or a Cyrillic or Greek part made only of letters that look Latin
    /// (`сео.com`). Such names are allowed (they may be real), never silent.
    pub fn lookalike_warning(&self) -> Option<String> {
        mixed_script_warning(&self.display(), &self.0)
    }
}

/// The confusable alphabets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Script {
    Latin,
    Greek,
    Cyrillic,
}

impl Script {
    fn of(c: char) -> Option<Script> {
        match c {
            'a'..='z' | 'A'..='Z' | '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}'
                if c != '×' && c != '÷' =>
            {
                Some(Script::Latin)
            }
            '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}' => Some(Script::Greek),
            '\u{0400}'..='\u{052F}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}' => {
                Some(Script::Cyrillic)
            }
            _ => None,
        }
    }

    fn name(self, t: ProvisionTexts) -> &'static str {
        match self {
            Script::Latin => t.script_latin(),
            Script::Greek => t.script_greek(),
            Script::Cyrillic => t.script_cyrillic(),
        }
    }
}

/// Cyrillic and Greek letters that look like Latin ones.
const LATIN_LOOKALIKES: &str = "аеорсухіјѕһԁԛԝӏвкмнтαβεικνοπρτυχ";

fn mixed_script_warning(unicode: &str, ascii: &str) -> Option<String> {
    let t = ProvisionTexts::caller();
    for label in unicode.split('.') {
        let mut scripts: Vec<Script> = Vec::new();
        for s in label.chars().filter_map(Script::of) {
            if !scripts.contains(&s) {
                scripts.push(s);
            }
        }
        let lookalike_only = matches!(scripts.as_slice(), [Script::Cyrillic | Script::Greek])
            && label
                .chars()
                .filter(|c| Script::of(*c).is_some())
                .all(|c| LATIN_LOOKALIKES.contains(c.to_lowercase().next().unwrap_or(c)));
        if scripts.len() > 1 {
            let names: Vec<&str> = scripts.iter().map(|s| s.name(t)).collect();
            return Some(t.mixed_scripts(unicode, &names.join(t.and()), label, ascii));
        }
        if lookalike_only {
            return Some(t.lookalike(label, unicode, scripts[0].name(t), ascii));
        }
    }
    None
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The Unicode form of a stored (ASCII) domain name.
pub fn unicode_domain(ascii: &str) -> String {
    let (unicode, result) = idna::domain_to_unicode(ascii);
    if result.is_ok() {
        unicode
    } else {
        ascii.to_string()
    }
}

/// The part before the `@` of a mailbox or alias the ISP hosts: lower-case
/// letters, digits, dots, hyphens and underscores. `+` is left out because
/// it is Postfix's recipient delimiter (`ana+news@` reaches `ana@`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalPart(String);

impl LocalPart {
    pub fn parse(input: &str) -> Result<Self, String> {
        let t = ProvisionTexts::caller();
        let s = input.trim().to_lowercase();
        if s.is_empty() {
            return Err(t.local_empty().into());
        }
        if s.len() > 64 {
            return Err(t.local_too_long().into());
        }
        if let Some(bad) = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(*c)))
        {
            return Err(t.local_bad_char(bad));
        }
        if s.starts_with('.') || s.ends_with('.') || s.contains("..") {
            return Err(t.local_dots().into());
        }
        Ok(LocalPart(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An address the ISP hosts (a mailbox or an alias).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    pub local: LocalPart,
    pub domain: DomainName,
}

impl Address {
    pub fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim();
        let Some((local, domain)) = input.rsplit_once('@') else {
            return Err(ProvisionTexts::caller().no_at(input));
        };
        Ok(Address {
            local: LocalPart::parse(local)?,
            domain: DomainName::parse(domain)?,
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local.0, self.domain.0)
    }
}

/// Where an alias or a forward sends mail: any valid address, hosted here
/// or elsewhere. The local part follows RFC 5322's dot-atom (so `+` tags
/// and the like are fine); the domain is normalised as a [`DomainName`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub local: String,
    pub domain: DomainName,
}

impl Target {
    pub fn parse(input: &str) -> Result<Self, String> {
        let t = ProvisionTexts::caller();
        let input = input.trim();
        let Some((local, domain)) = input.rsplit_once('@') else {
            return Err(t.no_at(input));
        };
        let local = local.to_lowercase();
        let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-.".contains(c);
        if local.is_empty()
            || local.len() > 64
            || !local.chars().all(atext)
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
        {
            return Err(t.target_invalid(input));
        }
        Ok(Target {
            local,
            domain: DomainName::parse(domain).map_err(|e| format!("{input:?}: {e}"))?,
        })
    }

    /// A comma/space/newline separated list, duplicates removed, order kept.
    pub fn parse_list(input: &str) -> Result<Vec<Target>, String> {
        let mut out: Vec<Target> = Vec::new();
        for item in input
            .split([',', ';', ' ', '\n', '\r', '\t'])
            .filter(|s| !s.is_empty())
        {
            let t = Target::parse(item)?;
            if !out.contains(&t) {
                out.push(t);
            }
        }
        if out.is_empty() {
            return Err(ProvisionTexts::caller().targets_empty().into());
        }
        if out.len() > 200 {
            return Err(ProvisionTexts::caller().targets_too_many().into());
        }
        Ok(out)
    }

    /// The storage form of a list: `a@x,b@y`.
    pub fn join(list: &[Target]) -> String {
        list.iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// The search key of a customer's name: lower case, accents dropped and
/// spaces collapsed, so "joao pere" finds "João  Pereira".
pub fn name_key(name: &str) -> String {
    let folded: String = name
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            'ý' | 'ÿ' => 'y',
            other => other,
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Largest quota anyone may set: 10 TB.
pub const MAX_QUOTA_MB: i64 = 10_000_000;

/// A mailbox quota in megabytes (0: unlimited), from a form field.
pub fn parse_quota(input: &str) -> Result<i64, String> {
    let t = ProvisionTexts::caller();
    let s = input.trim();
    let mb: i64 = s.parse().map_err(|_| t.quota_not_number(s))?;
    if !(0..=MAX_QUOTA_MB).contains(&mb) {
        return Err(t.quota_range(&t.number(MAX_QUOTA_MB)));
    }
    Ok(mb)
}

/// A limit (0: none), from a form field; `what` names it in the message
/// (`ProvisionTexts::limit_mailboxes`).
pub fn parse_limit(input: &str, what: &str) -> Result<i32, String> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(0);
    }
    s.parse::<i32>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| ProvisionTexts::caller().limit_not_number(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idn_domains_become_punycode_and_read_back_as_unicode() {
        let d = DomainName::parse(" Açaí.COM.br. ").unwrap();
        assert_eq!(d.as_str(), "xn--aa-4iaz.com.br");
        assert_eq!(d.display(), "açaí.com.br");
    }

    #[test]
    fn names_that_can_pass_for_others_are_flagged_but_real_ones_are_not() {
        let warning = |name: &str| DomainName::parse(name).unwrap().lookalike_warning();
        // Cyrillic с (U+0441) in front of Latin "liente".
        let w = warning("\u{0441}liente.com.br").expect("mixed scripts");
        assert!(
            w.contains("Latin and Cyrillic") || w.contains("Cyrillic and Latin"),
            "{w}"
        );
        assert!(w.contains("xn--"), "{w}");
        // Greek ο in a Latin name.
        assert!(warning("g\u{03bf}ogle.com").is_some());
        // All-Cyrillic letters that all look Latin: "сео".
        assert!(warning("\u{0441}\u{0435}\u{043e}.com").is_some());
        for fine in [
            "cliente.com.br",
            "açaí.com.br",
            "пример.рф",
            "пример.com",
            "ελληνικά.gr",
            "例え.jp",
            "a1-b2.com",
        ] {
            assert_eq!(warning(fine), None, "{fine}");
        }
    }

    #[test]
    fn bad_domains_are_refused_with_a_reason() {
        for bad in [
            "",
            "localhost",
            "-a.com",
            "a-.com",
            "a..com",
            "exa mple.com",
            "1.2.3.4",
            "a_b.com",
        ] {
            assert!(DomainName::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(DomainName::parse(&format!("{}.com", "a".repeat(64))).is_err());
        assert!(DomainName::parse(&format!("{}.com", "a".repeat(63))).is_ok());
    }

    #[test]
    fn local_parts_are_lower_case_and_conservative() {
        assert_eq!(
            LocalPart::parse(" Ana.Silva ").unwrap().as_str(),
            "ana.silva"
        );
        for bad in [
            "",
            ".ana",
            "ana.",
            "a..b",
            "ana+x",
            "ana silva",
            "ana\"",
            "ção",
        ] {
            assert!(LocalPart::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(LocalPart::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn addresses_split_at_the_last_at_and_normalise_both_halves() {
        let a = Address::parse("Ana@Exemplo.COM.BR").unwrap();
        assert_eq!(a.to_string(), "ana@exemplo.com.br");
        assert!(Address::parse("ana").is_err());
        assert!(Address::parse("ana@").is_err());
    }

    #[test]
    fn target_lists_accept_separators_and_drop_duplicates() {
        let list = Target::parse_list("a@x.com, B+tag@Y.org\nA@X.COM;c@z.net").unwrap();
        assert_eq!(Target::join(&list), "a@x.com,b+tag@y.org,c@z.net");
        assert!(Target::parse_list(" , ").is_err());
        assert!(Target::parse_list("a@x.com, nope").is_err());
    }

    #[test]
    fn name_keys_fold_case_accents_and_spaces() {
        assert_eq!(name_key("  João   PEREIRA "), "joao pereira");
        assert_eq!(name_key("Conceição Açaí"), "conceicao acai");
    }

    #[test]
    fn quotas_and_limits_are_bounded_numbers() {
        assert_eq!(parse_quota("2048"), Ok(2048));
        assert!(parse_quota("-1").is_err());
        assert!(parse_quota("2 GB").is_err());
        assert!(parse_quota(&(MAX_QUOTA_MB + 1).to_string()).is_err());
        assert_eq!(parse_limit("", "limit"), Ok(0));
        assert!(parse_limit("-3", "limit").is_err());
    }
}
