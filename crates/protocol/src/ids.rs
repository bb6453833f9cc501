//! Identifiers with their validity rules, checked once when text becomes an id.
//!
//! Both ends parse ids with [`FromStr`]: the server rejects a malformed path or query with a
//! clear error before it touches the engine, and the widget says "this link isn't valid"
//! without asking the server.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a text is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not an experience id.
    #[error("experienceId must be 1-64 of A-Z a-z 0-9 _ -")]
    Experience,
    /// Not a consumer id.
    #[error("consumerId must be 1-128 visible ASCII characters")]
    Consumer,
}

/// The conversions every id has: parsing with its rule ([`FromStr`], `TryFrom<String>`, which
/// serde uses too), and reading it back as text.
macro_rules! id_conversions {
    ($id:ident, $error:expr) => {
        impl $id {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $id {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.to_owned().try_into()
            }
        }

        impl TryFrom<String> for $id {
            type Error = IdError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                if Self::is_valid(&s) {
                    Ok(Self(s))
                } else {
                    Err($error)
                }
            }
        }

        impl From<$id> for String {
            fn from(id: $id) -> Self {
                id.0
            }
        }

        impl AsRef<str> for $id {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $id {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// An experience (one drop): 1–64 characters of `[A-Za-z0-9_-]`, so it is safe in a path,
/// a Redis key and a log line as it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExperienceId(String);

impl ExperienceId {
    /// Whether `id` is a well-formed experience id.
    pub fn is_valid(id: &str) -> bool {
        (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }
}

id_conversions!(ExperienceId, IdError::Experience);

/// A shopper: 1–128 visible ASCII characters (no spaces or control characters). This
/// server makes them (`c_` and random hex); servers written from the guide use their own
/// (UUIDs, user ids), which the widget passes through unchanged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConsumerId(String);

impl ConsumerId {
    /// Whether `id` is a well-formed consumer id.
    pub fn is_valid(id: &str) -> bool {
        (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
    }
}

id_conversions!(ConsumerId, IdError::Consumer);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn experience_ids_are_the_path_safe_alphabet() {
        assert!("demo-drop_2".parse::<ExperienceId>().is_ok());
        for bad in ["", "../admin", "a b", "é", &"x".repeat(65)] {
            assert_eq!(
                bad.parse::<ExperienceId>(),
                Err(IdError::Experience),
                "{bad:?}"
            );
        }
        assert!(
            serde_json::from_str::<ExperienceId>(r#""a/b""#).is_err(),
            "decoding checks the rule too"
        );
    }

    #[test]
    fn consumer_ids_are_visible_ascii() {
        assert!("c_0123abcd".parse::<ConsumerId>().is_ok());
        assert!(
            "3f2a9c1e-7b4d-4e8a-9f00-1234567890ab"
                .parse::<ConsumerId>()
                .is_ok()
        );
        for bad in ["", "a b", "tab\t", &"x".repeat(129)] {
            assert_eq!(bad.parse::<ConsumerId>(), Err(IdError::Consumer), "{bad:?}");
        }
    }
}
