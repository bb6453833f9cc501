//! Reading the scripts' replies: an array whose first element is a tag (`ok` or the
//! reason for a refusal), then integers and strings in an order each script documents.
//! Anything else is an [`RedisQueueError::Reply`], never a panic.

use redis::Value;

use super::RedisQueueError;

/// The rest of one script's reply, read front to back.
#[derive(Debug)]
pub struct Reply {
    /// Which script answered, for the error message.
    script: &'static str,
    /// What is left to read.
    items: std::vec::IntoIter<Value>,
}

impl Reply {
    /// The reply of `script`, which must be an array.
    pub fn new(script: &'static str, value: Value) -> Result<Self, RedisQueueError> {
        match value {
            Value::Array(items) => Ok(Self {
                script,
                items: items.into_iter(),
            }),
            other => Err(RedisQueueError::Reply {
                script,
                detail: format!("expected an array, got {other:?}"),
            }),
        }
    }

    fn bad(&self, detail: String) -> RedisQueueError {
        RedisQueueError::Reply {
            script: self.script,
            detail,
        }
    }

    fn next(&mut self, what: &str) -> Result<Value, RedisQueueError> {
        self.items
            .next()
            .ok_or_else(|| self.bad(format!("ended before the {what}")))
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.items.len() == 0
    }

    /// The next element as text.
    pub fn string(&mut self, what: &str) -> Result<String, RedisQueueError> {
        match self.next(what)? {
            Value::BulkString(bytes) => {
                String::from_utf8(bytes).map_err(|_| self.bad(format!("the {what} is not UTF-8")))
            }
            Value::SimpleString(s) => Ok(s),
            Value::Int(n) => Ok(n.to_string()),
            other => Err(self.bad(format!("the {what} is {other:?}, not text"))),
        }
    }

    /// The next element as a non-negative integer (Lua numbers arrive as integers, hash
    /// fields as text).
    pub fn u64(&mut self, what: &str) -> Result<u64, RedisQueueError> {
        match self.next(what)? {
            Value::Int(n) => {
                u64::try_from(n).map_err(|_| self.bad(format!("the {what} is negative: {n}")))
            }
            Value::BulkString(bytes) => std::str::from_utf8(&bytes)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| self.bad(format!("the {what} is not a number"))),
            other => Err(self.bad(format!("the {what} is {other:?}, not a number"))),
        }
    }

    /// An error saying that the `what` read, `value`, is not one this script gives.
    pub fn bad_value(&self, what: &str, value: &str) -> RedisQueueError {
        self.bad(format!("the {what} `{value}` is not valid"))
    }

    /// An error saying that `tag` is not an answer this script gives.
    pub fn unexpected(&self, tag: &str) -> RedisQueueError {
        self.bad(format!("unexpected tag `{tag}`"))
    }
}
