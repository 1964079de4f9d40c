//! Files sent in chats: the checks a file passes before it is stored.

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Over the size limit.
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    /// Its type is not allowed, or its content is not of its type.
    #[error("{0}")]
    Type(String),
    /// Empty, or a name that cannot be kept.
    #[error("{0}")]
    Invalid(String),
}

/// Longest file name kept.
const MAX_NAME: usize = 200;

/// A file name safe to store and show: the last path component, without
/// control characters, at most 200 characters.
pub fn clean_name(name: &str) -> Result<String, Refused> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME)
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return Err(Refused::Invalid("the file needs a name (`?name=`)".into()));
    }
    Ok(cleaned)
}

/// Checks a file of declared media type `declared` against the allowed
/// types and its content: a recognisable binary format must be the one
/// declared, and `text/*` must be UTF-8 text.
pub fn check(allowed: &[String], declared: &str, data: &[u8]) -> Result<(), Refused> {
    let declared = declared
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if data.is_empty() {
        return Err(Refused::Invalid("the file is empty".into()));
    }
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&declared)) {
        return Err(Refused::Type(format!(
            "files of type `{declared}` are not accepted; accepted: {}",
            allowed.join(", ")
        )));
    }
    match infer::get(data) {
        Some(found) if found.mime_type() != declared => Err(Refused::Type(format!(
            "the file is declared `{declared}` but its content is `{}`",
            found.mime_type()
        ))),
        Some(_) => Ok(()),
        None if declared.starts_with("text/") => {
            std::str::from_utf8(data).map(|_| ()).map_err(|_| {
                Refused::Type(format!(
                    "the file is declared `{declared}` but is not UTF-8 text"
                ))
            })
        }
        None => Err(Refused::Type(format!(
            "the file's content is not recognisable as `{declared}`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec!["image/png".into(), "text/plain".into()]
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn accepts_content_matching_an_allowed_type() {
        assert_eq!(check(&allowed(), "image/png", PNG), Ok(()));
        assert_eq!(
            check(&allowed(), "text/plain; charset=utf-8", "héllo".as_bytes()),
            Ok(())
        );
    }

    #[test]
    fn refuses_types_not_allowed_and_disguised_content() {
        assert!(matches!(
            check(&allowed(), "application/zip", b"PK\x03\x04"),
            Err(Refused::Type(_))
        ));
        assert!(
            matches!(check(&allowed(), "text/plain", PNG), Err(Refused::Type(m)) if m.contains("image/png"))
        );
        assert!(matches!(
            check(&allowed(), "text/plain", b"\xff\xfe\x00bad"),
            Err(Refused::Type(_))
        ));
        assert!(matches!(
            check(&allowed(), "image/png", b"plain text"),
            Err(Refused::Type(_))
        ));
        assert!(matches!(
            check(&allowed(), "image/png", b""),
            Err(Refused::Invalid(_))
        ));
    }

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(clean_name("C:\\Users\\a\\photo.png").unwrap(), "photo.png");
        assert_eq!(clean_name("re\u{7}port.txt").unwrap(), "report.txt");
        assert!(clean_name("..").is_err());
        assert!(clean_name("").is_err());
    }
}
