//! Rewriting the generated part of a hand-written document: the text between a begin and an
//! end marker (HTML comments, invisible when rendered) is replaced, the rest stays byte for
//! byte. A document without its markers is an error, never a guess about where they belong.

use std::fmt;

/// Why a document's generated part could not be rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkerError {
    /// The begin marker is not in the document.
    MissingBegin(String),
    /// The end marker is not after the begin marker.
    MissingEnd(String),
    /// A marker appears more than once, so which part is generated is unclear.
    Repeated(String),
}

impl fmt::Display for MarkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingBegin(m) => write!(f, "the marker `{m}` is missing"),
            Self::MissingEnd(m) => write!(f, "the marker `{m}` is missing after its begin marker"),
            Self::Repeated(m) => write!(f, "the marker `{m}` appears more than once"),
        }
    }
}

/// `text` with what lies between `begin` and `end` replaced by `content` (on lines of its
/// own, the markers kept).
pub fn replace_between(
    text: &str,
    begin: &str,
    end: &str,
    content: &str,
) -> Result<String, MarkerError> {
    for marker in [begin, end] {
        if text.matches(marker).count() > 1 {
            return Err(MarkerError::Repeated(marker.to_owned()));
        }
    }
    let start = text
        .find(begin)
        .ok_or_else(|| MarkerError::MissingBegin(begin.to_owned()))?
        + begin.len();
    let stop = text[start..]
        .find(end)
        .map(|i| start + i)
        .ok_or_else(|| MarkerError::MissingEnd(end.to_owned()))?;
    Ok(format!(
        "{}\n{}\n{}",
        &text[..start],
        content.trim_matches('\n'),
        &text[stop..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: &str = "<!-- bench:begin -->";
    const E: &str = "<!-- bench:end -->";

    #[test]
    fn only_the_text_between_the_markers_changes() {
        let doc = format!("# Title\n\n{B}\nold\nlines\n{E}\n\n## Hand-written\nkept\n");
        let new = replace_between(&doc, B, E, "new table\n").unwrap();
        assert_eq!(
            new,
            format!("# Title\n\n{B}\nnew table\n{E}\n\n## Hand-written\nkept\n")
        );
        assert_eq!(
            replace_between(&new, B, E, "new table").unwrap(),
            new,
            "rewriting with the same content changes nothing"
        );
    }

    #[test]
    fn a_document_without_its_markers_is_a_clear_error() {
        assert_eq!(
            replace_between("# Title\n", B, E, "x"),
            Err(MarkerError::MissingBegin(B.to_owned()))
        );
        let error = replace_between(&format!("{B}\nx\n"), B, E, "y").unwrap_err();
        assert_eq!(error, MarkerError::MissingEnd(E.to_owned()));
        assert!(
            error.to_string().contains(E),
            "the message names the marker"
        );
        assert_eq!(
            replace_between(&format!("{E}\n{B}\n"), B, E, "y"),
            Err(MarkerError::MissingEnd(E.to_owned())),
            "an end marker before the begin marker does not count"
        );
    }

    #[test]
    fn a_repeated_marker_is_refused() {
        let doc = format!("{B}\n{E}\n{B}\n{E}\n");
        assert_eq!(
            replace_between(&doc, B, E, "x"),
            Err(MarkerError::Repeated(B.to_owned()))
        );
    }
}
