//! Argon2id password hashing and generation.
//!
//! Hashing is deliberately slow, so it runs on the blocking thread pool and
//! never stalls the async runtime.

use crate::errors::AppError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng;
use rand::rngs::OsRng;

/// Shortest password a person may choose.
pub const MIN_LEN: usize = 10;

/// Longest password, in bytes (also the most a sign-in may send).
pub const MAX_BYTES: usize = 1024;

/// Checks a password a person typed (not a generated one).
pub fn validate_new(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_LEN {
        let t = crate::api::staff::StaffMessages::caller();
        return Err(AppError::Validation(t.password_too_short(MIN_LEN)));
    }
    if password.len() > MAX_BYTES {
        let t = crate::api::staff::StaffMessages::caller();
        return Err(AppError::Validation(
            t.password_too_long(&t.number(MAX_BYTES)),
        ));
    }
    Ok(())
}

/// A PHC string `$argon2id$v=19$...`.
pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing task failed");
            AppError::Internal
        })?
}

pub fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::Internal
        })
}

/// Verifies against a stored hash. A missing user is verified against a
/// throw-away hash so that the answer takes as long as for a real one.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| dummy_hash().to_string());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password nobody knows, made once with the same
/// parameters as real ones so that verifying against it costs the same.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking(&generate()).unwrap_or_default())
}

/// A fingerprint of a password hash, kept in the session: when the password
/// changes, every session opened with the old one stops working.
pub fn fingerprint(stored_hash: &str) -> String {
    stored_hash
        .rsplit('$')
        .next()
        .unwrap_or_default()
        .chars()
        .take(16)
        .collect()
}

/// 20 characters from an alphabet without look-alikes, in groups of five
/// (about 100 bits), e.g. `k7Qm2-XpR4t-...`.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = OsRng;
    let chars: Vec<char> = (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), Some(h.clone())).await);
        assert!(!verify("correct horse battery!".into(), Some(h)).await);
    }

    #[tokio::test]
    async fn a_missing_user_never_verifies() {
        assert!(!verify("anything".into(), None).await);
    }

    #[test]
    fn generated_passwords_are_long_distinct_and_pass_validation() {
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), 23);
        assert_ne!(a, b);
        validate_new(&a).unwrap();
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(
            validate_new("short"),
            Err(AppError::Validation(_))
        ));
    }
}
