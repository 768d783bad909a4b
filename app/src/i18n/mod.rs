//! The portal's words and how it writes numbers and times, per staff member.
//!
//! Carteiro speaks Brazilian Portuguese (the default) and English. Every
//! text a page shows comes from a *group* of texts declared with
//! [`texts!`]: each entry names a key and gives its English and its
//! Portuguese text side by side, so a key without one of them does not
//! compile, and [`catalogue`]'s test fails on an empty or untranslated one.
//! A group lives beside the page or component that uses it (the texts
//! every page shares in [`common`]): a section's texts then go into that
//! section's lazily loaded WASM file, not into the main one. Each group is
//! listed in [`catalogue`].
//!
//! A [`Locale`] (language + time zone) is provided at the top of the app:
//! on the server from the `carteiro_lang` cookie (set at sign-in and under
//! *Your account*), else the browser's `Accept-Language`, else
//! `server.default_language`; in the browser from the `<html>` element the
//! server wrote, so both render the same text. Times are stored and sent
//! as UTC seconds and shown in the one configured IANA zone
//! (`server.time_zone`), whose UTC offsets the server sends along (see
//! [`Zone`]): the browser needs no time-zone database.

use leptos::prelude::*;
use mailflow::time::{LocalDays, OffsetChanges};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub mod common;

/// The name of the cookie that carries the chosen language.
pub const LANG_COOKIE: &str = "carteiro_lang";

/// A language of the portal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "pt-BR")]
    PtBr,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::PtBr, Lang::En];

    /// The BCP 47 tag, as `<html lang>` and the settings write it.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::PtBr => "pt-BR",
            Lang::En => "en",
        }
    }

    /// The language's own name, as a language menu shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::PtBr => "Português (Brasil)",
            Lang::En => "English",
        }
    }

    /// `pt`, `pt-BR`, `pt_br`, `en`, `en-GB`… (any region of the two languages).
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        if primary.eq_ignore_ascii_case("pt") {
            Some(Lang::PtBr)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The best of our languages in an `Accept-Language` header (by its
    /// q-values, the first listed on a tie), if it names one.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for item in header.split(',').take(32) {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((lang, q));
            }
        }
        best.map(|(lang, _)| lang)
    }

    /// The language a request asks for: its cookie, else its
    /// `Accept-Language`, else `default`.
    pub fn of_request(cookie_header: Option<&str>, accept: Option<&str>, default: Lang) -> Lang {
        cookie_header
            .and_then(|c| {
                c.split(';').find_map(|kv| {
                    let (k, v) = kv.trim().split_once('=')?;
                    (k == LANG_COOKIE).then(|| Lang::parse(v)).flatten()
                })
            })
            .or_else(|| accept.and_then(Lang::from_accept_language))
            .unwrap_or(default)
    }
}

/// A time zone as the pages need it: its name and its UTC offset from each
/// change on. Built on the server from the IANA database (`Zone::named`),
/// sent to the browser in the page (`<html data-zone>`, as
/// `{"name":…,"changes":[[from, offset], …]}`). Its offsets are a
/// [`mailflow::time::OffsetChanges`], the list the engine's days use: one
/// lookup and one [`LocalDays::day_start`] for the engine, the server and
/// the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub name: String,
    /// `(utc_seconds, offset_seconds)`: the offset east of UTC from that
    /// instant until the next change. The first applies before it, too.
    pub changes: OffsetChanges,
}

impl Default for Zone {
    fn default() -> Self {
        Zone::fixed("UTC", 0)
    }
}

/// The zone's local days are the days the report, the charts and the
/// range picker count.
impl LocalDays for Zone {
    fn utc_offset(&self, t: i64) -> i64 {
        self.changes.utc_offset(t)
    }

    fn last_change(&self, t: i64) -> Option<i64> {
        self.changes.last_change(t)
    }
}

impl Zone {
    /// A zone that never changes its offset.
    pub fn fixed(name: &str, offset_secs: i32) -> Zone {
        Zone {
            name: name.into(),
            changes: OffsetChanges::fixed(offset_secs),
        }
    }

    /// Seconds east of UTC at the instant `t` (UTC seconds).
    pub fn offset_at(&self, t: i64) -> i32 {
        self.changes.offset_at(t)
    }

    /// `t` as a local date and time (no zone).
    pub fn local(&self, t: i64) -> Option<chrono::NaiveDateTime> {
        let local = t.checked_add(i64::from(self.offset_at(t)))?;
        chrono::DateTime::from_timestamp(local, 0).map(|d| d.naive_utc())
    }

    /// The UTC seconds of the local date and time `local` (for a time that
    /// a summer-time change skips or repeats: the offset in force just
    /// before the change).
    pub fn utc_of_local(&self, local: chrono::NaiveDateTime) -> i64 {
        let naive = local.and_utc().timestamp();
        // The offset at `naive - offset` is the one that applies, unless a
        // change lies in between: one more step settles it.
        let guess = naive - i64::from(self.offset_at(naive));
        naive - i64::from(self.offset_at(guess))
    }

    /// The IANA zone `name` (e.g. `America/Sao_Paulo`), with its offsets
    /// from 1970 to 2100. Finding them takes ~70 M instructions (a lookup a
    /// day for 130 years), so each zone is found once per process.
    #[cfg(feature = "ssr")]
    pub fn named(name: &str) -> Result<Zone, String> {
        static FOUND: std::sync::Mutex<Vec<Zone>> = std::sync::Mutex::new(Vec::new());
        let mut found = FOUND
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(zone) = found.iter().find(|z| z.name == name) {
            return Ok(zone.clone());
        }
        let zone = Self::find(name)?;
        found.push(zone.clone());
        Ok(zone)
    }

    #[cfg(feature = "ssr")]
    fn find(name: &str) -> Result<Zone, String> {
        use chrono::{Offset, TimeZone};
        let tz: chrono_tz::Tz = name
            .parse()
            .map_err(|_| format!("{name:?} is not an IANA time zone such as America/Sao_Paulo"))?;
        let offset = |t: i64| -> i32 {
            tz.offset_from_utc_datetime(
                &chrono::DateTime::from_timestamp(t, 0)
                    .unwrap_or_default()
                    .naive_utc(),
            )
            .fix()
            .local_minus_utc()
        };
        // Offsets change at most a few times a year and never twice within
        // a day: step by days, then find each change to the second.
        const DAY: i64 = 86_400;
        let (start, end) = (0_i64, 4_102_444_800_i64); // 1970 .. 2100
        let mut changes = vec![(i64::MIN, offset(start))];
        let mut t = start;
        while t < end {
            let next = t + DAY;
            if offset(next) != offset(t) {
                let (mut lo, mut hi) = (t, next);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if offset(mid) == offset(lo) {
                        lo = mid
                    } else {
                        hi = mid
                    }
                }
                changes.push((hi, offset(hi)));
            }
            t = next;
        }
        Ok(Zone {
            name: name.into(),
            changes: OffsetChanges(changes),
        })
    }
}

/// The language and time zone a page is shown in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Locale {
    pub lang: Lang,
    pub zone: Arc<Zone>,
}

impl Locale {
    /// The texts of group `T` in this language.
    pub fn texts<T: From<Lang>>(&self) -> T {
        T::from(self.lang)
    }

    /// `1234567` → `1.234.567` (pt-BR) or `1,234,567` (en).
    pub fn number(&self, n: impl Into<i128>) -> String {
        let n: i128 = n.into();
        let digits = group_digits(&n.unsigned_abs().to_string(), self.thousands());
        if n < 0 { format!("-{digits}") } else { digits }
    }

    /// `x` with `places` decimals: `1.234,5` (pt-BR) or `1,234.5` (en).
    pub fn decimal(&self, x: f64, places: usize) -> String {
        if !x.is_finite() {
            return "—".into();
        }
        let text = format!("{:.*}", places, x.abs());
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let mut out = String::new();
        if x < 0.0 && text.bytes().any(|b| matches!(b, b'1'..=b'9')) {
            out.push('-');
        }
        out.push_str(&group_digits(int, self.thousands()));
        if !frac.is_empty() {
            out.push(self.decimal_mark());
            out.push_str(frac);
        }
        out
    }

    /// A percentage with `places` decimals, as the language writes it.
    pub fn percent(&self, x: f64, places: usize) -> String {
        match self.lang {
            Lang::PtBr => format!("{}%", self.decimal(x, places)),
            Lang::En => format!("{}%", self.decimal(x, places)),
        }
    }

    fn thousands(&self) -> char {
        match self.lang {
            Lang::PtBr => '.',
            Lang::En => ',',
        }
    }

    fn decimal_mark(&self) -> char {
        match self.lang {
            Lang::PtBr => ',',
            Lang::En => '.',
        }
    }

    /// The date format: `01/12/2026` (pt-BR) or `2026-12-01` (en; one
    /// unambiguous order for an English reader anywhere).
    fn date_format(&self) -> &'static str {
        match self.lang {
            Lang::PtBr => "%d/%m/%Y",
            Lang::En => "%Y-%m-%d",
        }
    }

    /// The local date of `t` (UTC seconds).
    pub fn date(&self, t: i64) -> String {
        self.zone
            .local(t)
            .map(|d| d.format(self.date_format()).to_string())
            .unwrap_or_default()
    }

    /// The local date and time of `t` to the minute.
    pub fn datetime(&self, t: i64) -> String {
        self.zone
            .local(t)
            .map(|d| format!("{} {}", d.format(self.date_format()), d.format("%H:%M")))
            .unwrap_or_default()
    }

    /// The local date and time of `t` to the second (log-line times).
    pub fn datetime_secs(&self, t: i64) -> String {
        self.zone
            .local(t)
            .map(|d| format!("{} {}", d.format(self.date_format()), d.format("%H:%M:%S")))
            .unwrap_or_default()
    }

    /// The local time of day of `t`, `14:05`.
    pub fn time(&self, t: i64) -> String {
        self.zone
            .local(t)
            .map(|d| d.format("%H:%M").to_string())
            .unwrap_or_default()
    }

    /// `t` in UTC, ISO-style, for a hover title: `2026-12-01 17:05:09 UTC`.
    pub fn utc(&self, t: i64) -> String {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default()
    }
}

/// `353116574` → `353.116.574`: the digits grouped by thousands with
/// `separator` between groups.
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

/// Makes the page's [`Locale`] available to everything inside the app.
/// Call once, at the top of the app.
pub fn provide_locale() {
    provide_context(current_locale());
}

/// The page's locale (the default one outside the app, as in unit tests).
pub fn use_locale() -> Locale {
    use_context::<Locale>().unwrap_or_default()
}

/// The texts of group `T` in the page's language.
pub fn use_texts<T: From<Lang>>() -> T {
    use_locale().texts()
}

/// The locale of the request being rendered, read afresh (prefer
/// [`use_locale`] inside the app).
#[cfg(feature = "ssr")]
pub fn current_locale() -> Locale {
    // Rendering a page: the request's language; a server function or a
    // test without a request gets the settings' default.
    let settings = use_context::<crate::state::AppState>().map(|s| s.locale.clone());
    let default = settings
        .as_ref()
        .map(|s| s.default_lang)
        .unwrap_or_default();
    let lang = use_context::<http::request::Parts>().map_or(default, |parts| {
        let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        Lang::of_request(
            header(http::header::COOKIE),
            header(http::header::ACCEPT_LANGUAGE),
            default,
        )
    });
    Locale {
        lang,
        zone: settings.map(|s| s.zone.clone()).unwrap_or_default(),
    }
}

/// The locale of the page, read afresh from `<html>` (prefer
/// [`use_locale`] inside the app).
#[cfg(not(feature = "ssr"))]
pub fn current_locale() -> Locale {
    // What the server wrote on `<html>` (see [`html_attributes`]).
    let root = document().document_element();
    let attr = |name: &str| root.as_ref().and_then(|r| r.get_attribute(name));
    Locale {
        lang: attr("lang")
            .and_then(|l| Lang::parse(&l))
            .unwrap_or_default(),
        zone: Arc::new(
            attr("data-zone")
                .and_then(|z| serde_json::from_str(&z).ok())
                .unwrap_or_default(),
        ),
    }
}

/// The `lang` and `data-zone` attributes of the page's `<html>` element,
/// from which the browser reads the locale the server rendered with.
pub fn html_attributes(locale: &Locale) -> (&'static str, String) {
    (
        locale.lang.tag(),
        serde_json::to_string(&*locale.zone).unwrap_or_default(),
    )
}

/// A time shown in the configured zone, with UTC on hover.
#[component]
pub fn Time(
    /// UTC seconds.
    at: i64,
    /// Down to the second (log lines) rather than the minute.
    #[prop(optional)]
    seconds: bool,
) -> impl IntoView {
    let locale = use_locale();
    let text = if seconds {
        locale.datetime_secs(at)
    } else {
        locale.datetime(at)
    };
    let iso = chrono::DateTime::from_timestamp(at, 0)
        .map(|d| d.to_rfc3339())
        .unwrap_or_default();
    view! { <time datetime=iso title=locale.utc(at)>{text}</time> }
}

/// Declares a group of texts: a type holding a [`Lang`] with one method per
/// key. A plain entry `key = "English", "Português";` returns a
/// `&'static str`; an entry after `formats` takes arguments and gives two
/// expressions (usually `format!`) that may use them, returning a `String`.
///
/// ```ignore
/// texts! {
///     /// The trace page.
///     pub struct TraceTexts {
///         title = "Message trace", "Rastreio de mensagens";
///     }
///     formats {
///         found(n: usize) = format!("{n} messages"), format!("{n} mensagens");
///     }
/// }
/// ```
#[macro_export]
macro_rules! texts {
    (
        $(#[$doc:meta])*
        $vis:vis struct $group:ident {
            $( $(#[$kdoc:meta])* $key:ident = $en:expr, $pt:expr; )*
        }
        $( formats {
            $( $(#[$fdoc:meta])* $fkey:ident ( $($arg:ident : $ty:ty),* $(,)? ) = $fen:expr, $fpt:expr; )*
        } )?
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis struct $group(pub $crate::i18n::Lang);

        impl From<$crate::i18n::Lang> for $group {
            fn from(lang: $crate::i18n::Lang) -> Self {
                $group(lang)
            }
        }

        #[allow(dead_code)]
        impl $group {
            $(
                $(#[$kdoc])*
                pub fn $key(self) -> &'static str {
                    // On the server, the text itself; in the browser, the
                    // page's copy in its language (see `page_text`), so the
                    // texts of every language stay out of the WASM.
                    #[cfg(feature = "ssr")]
                    {
                        #[cfg(debug_assertions)]
                        $crate::i18n::assert_registered(Self::NAME);
                        match self.0 {
                            $crate::i18n::Lang::En => $en,
                            $crate::i18n::Lang::PtBr => $pt,
                        }
                    }
                    #[cfg(not(feature = "ssr"))]
                    {
                        const INDEX: usize = $crate::i18n::key_index(
                            $group::KEYS,
                            stringify!($key),
                        );
                        $crate::i18n::page_text(Self::NAME, INDEX)
                    }
                }
            )*
            $($(
                $(#[$fdoc])*
                pub fn $fkey(self, $($arg: $ty),*) -> String {
                    match self.0 {
                        $crate::i18n::Lang::En => $fen,
                        $crate::i18n::Lang::PtBr => $fpt,
                    }
                }
            )*)?

            /// Every plain entry: `(key, English, Portuguese)`.
            pub const ENTRIES: &'static [(&'static str, &'static str, &'static str)] =
                &[$((stringify!($key), $en, $pt)),*];

            /// The group's name: its texts' name in the page's copy.
            pub const NAME: &'static str = stringify!($group);

            /// The plain entries' keys, in order (read at compile time
            /// only).
            const KEYS: &'static [&'static str] = &[$(stringify!($key)),*];
        }
    };
}

/// The id of the `<script>` holding the page's copy of the texts.
pub const PAGE_TEXTS_ID: &str = "carteiro-texts";

/// Where `key` is in `keys` (at compile time: a group's plain entries are
/// looked up by position in the browser).
pub const fn key_index(keys: &[&str], key: &str) -> usize {
    let mut i = 0;
    while i < keys.len() {
        let (a, b) = (keys[i].as_bytes(), key.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("no such key in the group")
}

/// The page's copy of every group's plain texts in its language, as the
/// server writes it into the page (`{"Group": ["text", …], …}`, inside a
/// `<script type="application/json">`): the browser reads its texts from
/// it rather than carrying every language's texts in its WASM (the split
/// into lazily loaded sections moves code, not data: the texts of every
/// section would otherwise all sit in the main file).
#[cfg(feature = "ssr")]
pub fn page_texts_json(lang: Lang) -> &'static str {
    use std::sync::OnceLock;
    static EN: OnceLock<String> = OnceLock::new();
    static PT: OnceLock<String> = OnceLock::new();
    let cell = match lang {
        Lang::En => &EN,
        Lang::PtBr => &PT,
    };
    cell.get_or_init(|| {
        let groups: std::collections::BTreeMap<&str, Vec<&str>> = catalogue()
            .into_iter()
            .map(|(name, entries)| {
                let texts = entries.iter().map(|&(_, en, pt)| match lang {
                    Lang::En => en,
                    Lang::PtBr => pt,
                });
                (name, texts.collect())
            })
            .collect();
        // `</` would end the script element early; `<\/` is the same JSON.
        serde_json::to_string(&groups)
            .expect("texts serialise")
            .replace("</", "<\\/")
    })
}

/// Panics (debug builds of the server) when group `name` is missing from
/// [`catalogue`]: the browser would not find its texts.
#[cfg(all(feature = "ssr", debug_assertions))]
pub fn assert_registered(name: &str) {
    use std::sync::OnceLock;
    static NAMES: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    let names = NAMES.get_or_init(|| catalogue().into_iter().map(|(n, _)| n).collect());
    assert!(
        names.contains(name),
        "texts group {name} is not in i18n::catalogue()"
    );
}

/// Text `index` of group `group` from the page's copy (see
/// [`page_texts_json`]), read from the page once.
#[cfg(not(feature = "ssr"))]
pub fn page_text(group: &str, index: usize) -> &'static str {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static TEXTS: OnceLock<HashMap<String, Vec<&'static str>>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        let json = document()
            .get_element_by_id(PAGE_TEXTS_ID)
            .and_then(|e| e.text_content())
            .unwrap_or_default();
        let groups: HashMap<String, Vec<String>> = serde_json::from_str(&json).unwrap_or_default();
        groups
            .into_iter()
            .map(|(name, texts)| {
                let texts = texts.into_iter().map(|t| &*t.leak()).collect();
                (name, texts)
            })
            .collect()
    });
    texts
        .get(group)
        .and_then(|t| t.get(index))
        .copied()
        .unwrap_or("?")
}

/// A group's plain entries: `(key, English, Portuguese)`.
#[cfg(any(test, feature = "ssr"))]
type Entries = &'static [(&'static str, &'static str, &'static str)];

/// Every group's plain entries, by group name: for the catalogue's test
/// and the page's copy of the texts (add a group here when you declare
/// one; a debug build's server panics on a group missing here).
#[cfg(any(test, feature = "ssr"))]
pub fn catalogue() -> Vec<(&'static str, Entries)> {
    vec![
        (common::Common::NAME, common::Common::ENTRIES),
        (common::LimitTexts::NAME, common::LimitTexts::ENTRIES),
        (
            crate::pages::account::AccountTexts::NAME,
            crate::pages::account::AccountTexts::ENTRIES,
        ),
        (
            crate::pages::home::HomeTexts::NAME,
            crate::pages::home::HomeTexts::ENTRIES,
        ),
        (
            crate::pages::login::LoginTexts::NAME,
            crate::pages::login::LoginTexts::ENTRIES,
        ),
        (
            crate::components::guard::GuardTexts::NAME,
            crate::components::guard::GuardTexts::ENTRIES,
        ),
        (
            crate::components::notice::NoticeTexts::NAME,
            crate::components::notice::NoticeTexts::ENTRIES,
        ),
        (
            crate::pages::admin::AdminTexts::NAME,
            crate::pages::admin::AdminTexts::ENTRIES,
        ),
        (
            crate::pages::admin_audit::AuditTexts::NAME,
            crate::pages::admin_audit::AuditTexts::ENTRIES,
        ),
        (
            crate::pages::admin_staff::StaffTexts::NAME,
            crate::pages::admin_staff::StaffTexts::ENTRIES,
        ),
        (
            crate::pages::admin_tokens::TokensTexts::NAME,
            crate::pages::admin_tokens::TokensTexts::ENTRIES,
        ),
        (
            crate::pages::aliases::AliasesTexts::NAME,
            crate::pages::aliases::AliasesTexts::ENTRIES,
        ),
        (
            crate::pages::domains::DomainsTexts::NAME,
            crate::pages::domains::DomainsTexts::ENTRIES,
        ),
        (
            crate::components::subnav::SubnavTexts::NAME,
            crate::components::subnav::SubnavTexts::ENTRIES,
        ),
        (
            crate::components::request_form::RequestFormTexts::NAME,
            crate::components::request_form::RequestFormTexts::ENTRIES,
        ),
        (
            crate::pages::trace::TraceTexts::NAME,
            crate::pages::trace::TraceTexts::ENTRIES,
        ),
        (
            crate::pages::trace::DsnTexts::NAME,
            crate::pages::trace::DsnTexts::ENTRIES,
        ),
        (
            crate::pages::mailbox_import::ImportTexts::NAME,
            crate::pages::mailbox_import::ImportTexts::ENTRIES,
        ),
        (
            crate::pages::report::ReportTexts::NAME,
            crate::pages::report::ReportTexts::ENTRIES,
        ),
        (
            crate::components::refused_chart::RefusedTexts::NAME,
            crate::components::refused_chart::RefusedTexts::ENTRIES,
        ),
        (
            crate::pages::mailboxes::MailboxesTexts::NAME,
            crate::pages::mailboxes::MailboxesTexts::ENTRIES,
        ),
        (
            crate::pages::mailbox::MailboxTexts::NAME,
            crate::pages::mailbox::MailboxTexts::ENTRIES,
        ),
        (
            crate::pages::defence::DefenceTexts::NAME,
            crate::pages::defence::DefenceTexts::ENTRIES,
        ),
        (
            crate::pages::detection::DetectionTexts::NAME,
            crate::pages::detection::DetectionTexts::ENTRIES,
        ),
        (
            crate::pages::never_block::NeverBlockTexts::NAME,
            crate::pages::never_block::NeverBlockTexts::ENTRIES,
        ),
        (
            crate::pages::alerts::AlertTexts::NAME,
            crate::pages::alerts::AlertTexts::ENTRIES,
        ),
        (
            crate::pages::unclassified::UnclassifiedTexts::NAME,
            crate::pages::unclassified::UnclassifiedTexts::ENTRIES,
        ),
        (
            crate::pages::whatif::WhatIfTexts::NAME,
            crate::pages::whatif::WhatIfTexts::ENTRIES,
        ),
        (
            crate::pages::admin_ingest::IngestTexts::NAME,
            crate::pages::admin_ingest::IngestTexts::ENTRIES,
        ),
        (
            crate::pages::charts::ChartsTexts::NAME,
            crate::pages::charts::ChartsTexts::ENTRIES,
        ),
        (
            crate::components::chart::ChartTexts::NAME,
            crate::components::chart::ChartTexts::ENTRIES,
        ),
        (
            crate::components::range::RangeTexts::NAME,
            crate::components::range::RangeTexts::ENTRIES,
        ),
        (
            crate::provision::texts::ProvisionTexts::NAME,
            crate::provision::texts::ProvisionTexts::ENTRIES,
        ),
        (
            crate::api::staff::StaffMessages::NAME,
            crate::api::staff::StaffMessages::ENTRIES,
        ),
        (
            crate::errors::ErrorTexts::NAME,
            crate::errors::ErrorTexts::ENTRIES,
        ),
    ]
}

/// Texts that read the same in both languages (names, abbreviations):
/// the catalogue's test accepts these untranslated.
#[cfg(test)]
const SAME_IN_BOTH: &[&str] = &[
    "Carteiro",
    "Alias",
    "Aliases",
    "Catch-all",
    "Tokens",
    "Bytes",
    "MailFlow",
    "Mailgraph",
    "Postfix",
    "Dovecot",
    "SASL",
    "IP",
    "CSV",
    "PNG",
    "SVG",
    "DSN",
    "E-mail",
    "Status",
    "Total",
    "Login",
    "Logs",
    "Spam",
    "HELO",
    "—",
    "OK",
    "Menu",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_copy_holds_every_group_in_its_language_and_order() {
        let mut names: Vec<_> = catalogue().into_iter().map(|(n, _)| n).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "two texts groups share a name");
        for lang in [Lang::En, Lang::PtBr] {
            let json = page_texts_json(lang);
            // Nothing in it may end the page's <script> early.
            assert!(!json.contains("</"));
            let copy: std::collections::HashMap<String, Vec<String>> =
                serde_json::from_str(json).unwrap();
            assert_eq!(copy.len(), n);
            for (name, entries) in catalogue() {
                let want: Vec<_> = entries
                    .iter()
                    .map(|&(_, en, pt)| if lang == Lang::En { en } else { pt })
                    .collect();
                assert_eq!(copy[name], want, "{name}");
            }
        }
    }

    #[test]
    fn keys_are_found_by_position() {
        let keys = ["title", "b", "bc", "c"];
        assert_eq!(key_index(&keys, "title"), 0);
        assert_eq!(key_index(&keys, "bc"), 2);
        assert_eq!(key_index(&keys, "c"), 3);
    }

    #[test]
    fn every_text_is_in_both_languages() {
        let mut problems = Vec::new();
        for (group, entries) in catalogue() {
            for (key, en, pt) in entries {
                if en.trim().is_empty() || pt.trim().is_empty() {
                    problems.push(format!("{group}.{key}: empty in a language"));
                } else if en == pt
                    && en.chars().any(char::is_alphabetic)
                    && !SAME_IN_BOTH.contains(en)
                {
                    problems.push(format!("{group}.{key}: {en:?} is not translated"));
                }
            }
        }
        assert!(
            problems.is_empty(),
            "catalogue problems:\n{}",
            problems.join("\n")
        );
    }

    #[test]
    fn keys_are_unique_within_a_group() {
        for (group, entries) in catalogue() {
            let mut keys: Vec<_> = entries.iter().map(|e| e.0).collect();
            keys.sort_unstable();
            let n = keys.len();
            keys.dedup();
            assert_eq!(keys.len(), n, "a key appears twice in {group}");
        }
    }

    #[test]
    fn numbers_and_dates_follow_the_language() {
        let pt = Locale {
            lang: Lang::PtBr,
            zone: Arc::new(Zone::fixed("America/Sao_Paulo", -3 * 3600)),
        };
        let en = Locale {
            lang: Lang::En,
            ..pt.clone()
        };
        assert_eq!(pt.number(1_234_567), "1.234.567");
        assert_eq!(en.number(1_234_567), "1,234,567");
        assert_eq!(pt.number(-1000), "-1.000");
        assert_eq!(pt.decimal(1234.56, 1), "1.234,6");
        assert_eq!(en.decimal(1234.56, 1), "1,234.6");
        assert_eq!(pt.decimal(-0.01, 1), "0,0");
        // 2025-12-01 02:30 UTC is still 30 November in São Paulo.
        let t = 1_764_556_200;
        assert_eq!(pt.date(t), "30/11/2025");
        assert_eq!(pt.datetime(t), "30/11/2025 23:30");
        assert_eq!(en.datetime_secs(t), "2025-11-30 23:30:00");
        assert_eq!(pt.utc(t), "2025-12-01 02:30:00 UTC");
    }

    #[test]
    fn the_request_chooses_the_language() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,pt-BR;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR, pt;q=0.5, en;q=0.4"),
            Some(Lang::PtBr)
        );
        assert_eq!(Lang::from_accept_language("de, fr;q=0.8"), None);
        assert_eq!(
            Lang::from_accept_language("en;q=0, pt-BR;q=0.1"),
            Some(Lang::PtBr)
        );
        let cookie = Some("a=b; carteiro_lang=en; c=d");
        assert_eq!(
            Lang::of_request(cookie, Some("pt-BR"), Lang::PtBr),
            Lang::En
        );
        assert_eq!(
            Lang::of_request(Some("carteiro_lang=xx"), Some("en"), Lang::PtBr),
            Lang::En
        );
        assert_eq!(Lang::of_request(None, None, Lang::En), Lang::En);
    }

    #[test]
    fn a_zone_goes_to_the_browser_in_the_same_form() {
        // `<html data-zone>`: the name and plain `[from, offset]` pairs,
        // as the browser's `current_locale` reads them back.
        let zone = Zone::fixed("America/Sao_Paulo", -3 * 3600);
        let (_, json) = html_attributes(&Locale {
            lang: Lang::PtBr,
            zone: Arc::new(zone.clone()),
        });
        assert_eq!(
            json,
            r#"{"name":"America/Sao_Paulo","changes":[[-9223372036854775808,-10800]]}"#
        );
        assert_eq!(serde_json::from_str::<Zone>(&json).unwrap(), zone);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn an_iana_zone_gives_its_offsets_and_summer_times() {
        let sp = Zone::named("America/Sao_Paulo").unwrap();
        // 2026: no summer time since 2019.
        assert_eq!(sp.offset_at(1_780_000_000), -3 * 3600);
        // 15 January 2018 was summer time (-02:00).
        assert_eq!(sp.offset_at(1_516_000_000), -2 * 3600);
        let berlin = Zone::named("Europe/Berlin").unwrap();
        // Summer time began at 2026-03-29 01:00 UTC, to the second.
        assert_eq!(berlin.offset_at(1_774_746_000 - 1), 3600);
        assert_eq!(berlin.offset_at(1_774_746_000), 7200);
        assert!(Zone::named("Mars/Olympus").is_err());
        // Local midnight in São Paulo is 03:00 UTC.
        let midnight = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(sp.utc_of_local(midnight), 1_764_558_000 + 365 * 86_400);
        assert_eq!(sp.local(sp.utc_of_local(midnight)), Some(midnight));
        // Its days are the engine's: 4 November 2018 began when the clocks
        // jumped from 00:00 to 01:00 (03:00 UTC) and lasted 23 hours.
        let nov4 = 1_541_300_400;
        assert_eq!(sp.day_start(nov4 + 3600), nov4);
        assert_eq!(sp.next_day_start(nov4) - nov4, 23 * 3600);
        assert_eq!(sp.day_start(nov4 + 3600), sp.changes.day_start(nov4 + 3600));
    }
}
