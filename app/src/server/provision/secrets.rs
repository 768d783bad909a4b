//! Mailbox passwords in the form Dovecot reads: `{ARGON2ID}$argon2id$...`
//! (what Carteiro writes) or `{BLF-CRYPT}$2y$...` (accepted from systems a
//! mailbox moves from). Also the small text checks several requests share.

use crate::errors::AppError;
use crate::provision::texts::ProvisionTexts;
use crate::server::passwords;

/// Dovecot's scheme prefix for the hashes Carteiro writes.
pub const SCHEME: &str = "{ARGON2ID}";

/// The password a request sets.
pub enum NewPassword {
    /// Make one up and show it once.
    Generate,
    /// Typed by a person or sent by an API client: hashed on apply.
    Plain(String),
    /// Already a Dovecot hash: stored as it is.
    Hashed(String),
}

impl NewPassword {
    pub fn from_input(input: &str) -> Result<Self, String> {
        if input.is_empty() {
            return Ok(NewPassword::Generate);
        }
        if input.starts_with('{') {
            return if is_dovecot_hash(input) {
                check_cost(input)?;
                Ok(NewPassword::Hashed(input.to_string()))
            } else {
                Err(ProvisionTexts::caller().hash_schemes().into())
            };
        }
        passwords::validate_new(input).map_err(|e| e.to_string())?;
        Ok(NewPassword::Plain(input.to_string()))
    }

    /// The stored form, and the generated password to show (if generated).
    /// In a dry run nothing is hashed (the preview is rolled back anyway).
    pub async fn into_stored(self, dry_run: bool) -> Result<(String, Option<String>), AppError> {
        if dry_run {
            return Ok((format!("{SCHEME}dry-run"), None));
        }
        match self {
            NewPassword::Hashed(h) => Ok((h, None)),
            NewPassword::Plain(p) => Ok((format!("{SCHEME}{}", passwords::hash(p).await?), None)),
            NewPassword::Generate => {
                let p = passwords::generate();
                let stored = format!("{SCHEME}{}", passwords::hash(p.clone()).await?);
                Ok((stored, Some(p)))
            }
        }
    }
}

/// The stored form of the password `input` asks for, hashed now (before
/// the request's transaction opens), and the generated password to show
/// once. `None` when there is nothing to hash: a taken-over hash (kept as
/// typed), input that `validate` will refuse, or a dry run.
pub async fn prepare(input: &str, dry_run: bool) -> Result<Option<Hashed>, AppError> {
    if dry_run {
        return Ok(None);
    }
    match NewPassword::from_input(input) {
        Ok(p @ (NewPassword::Plain(_) | NewPassword::Generate)) => {
            let (stored, secret) = p.into_stored(false).await?;
            Ok(Some(Hashed { stored, secret }))
        }
        Ok(NewPassword::Hashed(_)) | Err(_) => Ok(None),
    }
}

/// A password hashed by [`prepare`].
pub struct Hashed {
    /// `{ARGON2ID}$argon2id$…`, as Dovecot reads it.
    pub stored: String,
    /// The generated password, if it was generated.
    pub secret: Option<String>,
}

/// A well-formed hash of one of the two schemes Dovecot reads here.
pub fn is_dovecot_hash(s: &str) -> bool {
    if let Some(phc) = s.strip_prefix(SCHEME) {
        return argon2::password_hash::PasswordHash::new(phc)
            .is_ok_and(|h| h.algorithm.as_str() == "argon2id");
    }
    if let Some(bcrypt) = s.strip_prefix("{BLF-CRYPT}") {
        // $2y$10$ + 22 salt + 31 hash characters of bcrypt's base64.
        let b = bcrypt.as_bytes();
        return b.len() == 60
            && (bcrypt.starts_with("$2y$")
                || bcrypt.starts_with("$2b$")
                || bcrypt.starts_with("$2a$"))
            && b[4].is_ascii_digit()
            && b[5].is_ascii_digit()
            && b[6] == b'$'
            && b[7..]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'/');
    }
    false
}

/// Largest Argon2 memory cost taken over, in KiB (256 MiB).
pub const ARGON2_MAX_M_KIB: u32 = 256 * 1024;
/// Largest Argon2 time cost (passes) taken over.
pub const ARGON2_MAX_T: u32 = 10;
/// Largest Argon2 parallelism taken over.
pub const ARGON2_MAX_P: u32 = 8;
/// The bcrypt costs taken over.
pub const BCRYPT_COSTS: std::ops::RangeInclusive<u32> = 4..=14;

/// Refuses a taken-over hash (well formed) whose cost would make Dovecot
/// spend seconds or gigabytes on every sign-in attempt: Argon2 with more
/// than 256 MiB, 10 passes or 8 lanes; bcrypt outside costs 4–14.
fn check_cost(hash: &str) -> Result<(), String> {
    let t = ProvisionTexts::caller();
    if let Some(phc) = hash.strip_prefix(SCHEME) {
        let parsed = argon2::password_hash::PasswordHash::new(phc)
            .map_err(|e| t.argon_unreadable(&e.to_string()))?;
        let param = |name: &str| {
            parsed
                .params
                .get_decimal(name)
                .ok_or_else(|| t.argon_no_param(name))
        };
        let (m, passes, p) = (param("m")?, param("t")?, param("p")?);
        if m > ARGON2_MAX_M_KIB || passes > ARGON2_MAX_T || p > ARGON2_MAX_P {
            return Err(t.argon_too_costly(
                &format!("m={m}, t={time}, p={p}", time = passes),
                &format!("m={ARGON2_MAX_M_KIB} (256 MiB), t={ARGON2_MAX_T}, p={ARGON2_MAX_P}"),
            ));
        }
        if m == 0 || passes == 0 || p == 0 {
            return Err(t.argon_zero().into());
        }
    }
    if let Some(bcrypt) = hash.strip_prefix("{BLF-CRYPT}") {
        let cost: u32 = bcrypt[4..6]
            .parse()
            .map_err(|_| t.bcrypt_no_cost().to_string())?;
        if !BCRYPT_COSTS.contains(&cost) {
            return Err(t.bcrypt_cost(cost, *BCRYPT_COSTS.start(), *BCRYPT_COSTS.end()));
        }
    }
    Ok(())
}

/// A customer's name: trimmed, at most 200 characters, no control characters.
pub fn check_name(input: &str) -> Result<String, String> {
    let t = ProvisionTexts::caller();
    let name = input.trim();
    if name.chars().count() > 200 {
        return Err(t.name_too_long().into());
    }
    if name.chars().any(char::is_control) {
        return Err(t.name_control().into());
    }
    Ok(name.to_string())
}

/// A free-text reason or description: trimmed, at most 500 characters.
pub fn check_note(input: &str) -> Result<String, String> {
    let note = input.trim();
    if note.chars().count() > 500 {
        return Err(ProvisionTexts::caller().note_too_long().into());
    }
    Ok(note.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT_AND_HASH: &str = "$c2FsdHNhbHQ$Y2FuYWRhY2FuYWRhY2FuYWRhY2FuYWRhY2FuYWRh";

    #[test]
    fn taken_over_hashes_of_any_cost_are_refused_with_a_clear_message() {
        let argon = |params: &str| format!("{SCHEME}$argon2id$v=19${params}{SALT_AND_HASH}");
        let bcrypt = |cost: &str| {
            format!("{{BLF-CRYPT}}$2y${cost}$abcdefghijklmnopqrstuuZr8Aq8F6Nd8bQm5L7jRrEoY0h3cm5mS")
        };
        for ok in [
            argon("m=19456,t=2,p=1"),
            argon("m=262144,t=10,p=8"),
            bcrypt("04"),
            bcrypt("14"),
        ] {
            assert!(
                matches!(NewPassword::from_input(&ok), Ok(NewPassword::Hashed(_))),
                "{ok}"
            );
        }
        for (bad, says) in [
            (argon("m=4194304,t=1000000,p=255"), "costs too much"),
            (argon("m=262145,t=2,p=1"), "m=262145"),
            (argon("m=19456,t=11,p=1"), "t=11"),
            (argon("m=19456,t=2,p=9"), "p=9"),
            (bcrypt("31"), "cost 31"),
            (bcrypt("99"), "cost 99"),
            (bcrypt("03"), "cost 3"),
        ] {
            let message = NewPassword::from_input(&bad).err().unwrap_or_default();
            assert!(message.contains(says), "{bad}: {message:?}");
        }
    }

    #[test]
    fn only_well_formed_dovecot_hashes_are_taken_over() {
        let argon = format!(
            "{SCHEME}{}",
            passwords::hash_blocking("a long password").unwrap()
        );
        assert!(is_dovecot_hash(&argon));
        assert!(is_dovecot_hash(
            "{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuuZr8Aq8F6Nd8bQm5L7jRrEoY0h3cm5mS"
        ));
        for bad in [
            "{PLAIN}secret",
            "{ARGON2ID}$argon2i$x",
            "{BLF-CRYPT}$2y$10$short",
            "{SHA512-CRYPT}$6$x$y",
        ] {
            assert!(!is_dovecot_hash(bad), "{bad}");
            assert!(NewPassword::from_input(bad).is_err());
        }
        assert!(matches!(
            NewPassword::from_input(""),
            Ok(NewPassword::Generate)
        ));
        assert!(NewPassword::from_input("short").is_err());
        assert!(matches!(
            NewPassword::from_input(&argon),
            Ok(NewPassword::Hashed(_))
        ));
        assert!(matches!(
            NewPassword::from_input("a long password"),
            Ok(NewPassword::Plain(_))
        ));
    }
}
