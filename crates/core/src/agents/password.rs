//! Password hashing (Argon2id, PHC strings) and secrets.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// Hashes a password with a fresh random salt.
pub fn hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    random_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 with default parameters hashes any password")
        .to_string()
}

/// Whether `password` matches a stored hash.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Fills `buf` from the operating system's random source.
pub fn random_bytes(buf: &mut [u8]) {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .expect("reading /dev/urandom");
}

/// A new random secret (256 bits, hex), with a prefix saying what it is.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    random_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// The SHA-256 of a secret, hex: how tokens and keys are stored and
/// compared, so a leaked database holds no usable secret.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let stored = hash("correct horse");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify("correct horse", &stored));
        assert!(!verify("correct horsf", &stored));
        assert!(!verify("correct horse", "not a hash"));
        assert_ne!(hash("correct horse"), stored, "salted");
    }
}
