//! Identities: the e-mail addresses and phone numbers contacts are known
//! by, normalised so that one address or number is always written the same
//! way (e-mail addresses trimmed and lower-cased, phone numbers as `+` and
//! digits), and references to a contact by one of them (`email:<address>`,
//! `phone:<number>`).

use crate::StoreError;

/// The kind of an e-mail address.
pub const EMAIL: &str = "email";
/// The kind of a phone number.
pub const PHONE: &str = "phone";

/// Longest e-mail address (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;
/// Digits of a phone number with its country code (E.164 allows 15).
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 6..=15;
/// Most identities of each kind given at once.
pub const MAX_PER_KIND: usize = 20;

/// An e-mail address, trimmed and lower-cased; refused unless it has one
/// `@` with text on both sides and no spaces.
pub fn normalise_email(text: &str) -> Result<String, StoreError> {
    let email = text.trim().to_lowercase();
    let well_formed = email.len() <= MAX_EMAIL
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
    if well_formed {
        Ok(email)
    } else {
        Err(StoreError::Invalid(format!(
            "`{}` is not an e-mail address",
            text.trim()
        )))
    }
}

/// A phone number as `+` and its digits. It must carry its country code
/// (a leading `+` or `00`); spaces, dashes, dots, slashes and parentheses
/// are dropped.
pub fn normalise_phone(text: &str) -> Result<String, StoreError> {
    let invalid =
        |why: &str| StoreError::Invalid(format!("`{}` is not a phone number: {why}", text.trim()));
    let mut digits = String::new();
    let mut plus = false;
    for c in text.trim().chars() {
        match c {
            '+' if digits.is_empty() && !plus => plus = true,
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '/' | '(' | ')' => {}
            _ => return Err(invalid("only digits, a leading `+` and separators")),
        }
    }
    let digits = match (plus, digits.strip_prefix("00")) {
        (true, _) => digits.as_str(),
        (false, Some(rest)) => rest,
        (false, None) => {
            return Err(invalid(
                "it needs its country code (`+` or `00`), e.g. +44 20 7946 0958",
            ));
        }
    };
    if !PHONE_DIGITS.contains(&digits.len()) || digits.starts_with('0') {
        return Err(invalid("a country code and 6 to 15 digits in all"));
    }
    Ok(format!("+{digits}"))
}

/// The normalised form of an identity of `kind`.
pub fn normalise(kind: &str, text: &str) -> Result<String, StoreError> {
    match kind {
        EMAIL => normalise_email(text),
        _ => normalise_phone(text),
    }
}

/// How a contact is named: by id, or by one of its identities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A contact id.
    Id(String),
    /// An identity: its kind ([`EMAIL`] or [`PHONE`]) and normalised value.
    Identity(&'static str, String),
}

impl Reference {
    /// Reads `email:<address>`, `phone:<number>` or a contact id.
    pub fn parse(text: &str) -> Result<Reference, StoreError> {
        for kind in [EMAIL, PHONE] {
            if let Some(value) = text.strip_prefix(kind).and_then(|t| t.strip_prefix(':')) {
                return Ok(Reference::Identity(kind, normalise(kind, value)?));
            }
        }
        Ok(Reference::Id(text.to_string()))
    }
}

/// Normalises identities of one kind, in order, dropping repeats.
pub fn normalise_all(kind: &str, texts: &[String]) -> Result<Vec<String>, StoreError> {
    if texts.len() > MAX_PER_KIND {
        return Err(StoreError::Invalid(format!(
            "at most {MAX_PER_KIND} identities of each kind"
        )));
    }
    let mut values: Vec<String> = Vec::with_capacity(texts.len());
    for text in texts {
        let value = normalise(kind, text)?;
        if !values.contains(&value) {
            values.push(value);
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalise_email("  Ada.Lovelace@Example.COM ").unwrap(),
            "ada.lovelace@example.com"
        );
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "a b@example.com",
            "a@b@c",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn phone_numbers_become_plus_and_digits() {
        assert_eq!(
            normalise_phone("+44 20 7946-0958").unwrap(),
            "+442079460958"
        );
        assert_eq!(
            normalise_phone("0044 (20) 7946.0958").unwrap(),
            "+442079460958"
        );
        assert_eq!(normalise_phone("+1/555/0100 123").unwrap(), "+15550100123");
        for bad in [
            "020 7946 0958",
            "+44 20 x946",
            "+0 123 456 789",
            "12+34",
            "+1234",
            "+1234567890123456",
        ] {
            assert!(normalise_phone(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn references_name_an_id_or_an_identity() {
        assert_eq!(
            Reference::parse("email:Ada@Example.com").unwrap(),
            Reference::Identity(EMAIL, "ada@example.com".into())
        );
        assert_eq!(
            Reference::parse("phone:+44 20 7946 0958").unwrap(),
            Reference::Identity(PHONE, "+442079460958".into())
        );
        assert_eq!(
            Reference::parse("0190a4c2-0000-7000-8000-000000000000").unwrap(),
            Reference::Id("0190a4c2-0000-7000-8000-000000000000".into())
        );
        assert!(Reference::parse("email:nobody").is_err());
    }

    #[test]
    fn repeats_are_dropped_in_order() {
        let given = ["B@x.org".to_string(), "a@x.org".into(), "b@X.org".into()];
        assert_eq!(
            normalise_all(EMAIL, &given).unwrap(),
            ["b@x.org", "a@x.org"]
        );
    }
}
