//! XML for the dataset formats (Pascal VOC, CVAT): escaping and numbers for
//! the writers, parsing for the readers.
//!
//! Parsing goes through `roxmltree` with DTDs refused (its default), so an
//! entity is never expanded and a file cannot make the reader fetch or
//! multiply anything; only XML's five predefined entities and character
//! references are read.

use roxmltree::{Document, Node, ParsingOptions};
use std::fmt::Write as _;

/// Appends `text` escaped for XML character data or a double-quoted
/// attribute value. Characters XML 1.0 cannot hold at all (most control
/// characters) become U+FFFD, since no reader would accept the file
/// otherwise; tabs and line breaks in attributes are written as character
/// references so that readers do not normalise them to spaces.
pub(crate) fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// Whether XML 1.0 allows `c` in a document (its `Char` production).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// `text` escaped for an attribute or element, as [`push_escaped`] writes it.
pub(crate) fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

/// A pixel coordinate as a plain decimal (no exponent, which some readers
/// refuse) with at most 10 decimals: float noise such as
/// `175.99999999999997` goes, while converting back to percent stays within
/// 1e-9 percent of the original on any image wider than 5 pixels.
pub(crate) fn number(value: f64) -> String {
    let mut text = String::new();
    let _ = write!(text, "{value:.10}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    match trimmed {
        "-0" | "" => "0".to_owned(),
        other => other.to_owned(),
    }
}

/// A number read from an attribute or element: a finite decimal, surrounding
/// whitespace allowed.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// An image dimension: a whole number of pixels from 1 to `u32::MAX`.
pub(crate) fn parse_size(text: &str) -> Option<u32> {
    text.trim().parse::<u32>().ok().filter(|&n| n > 0)
}

/// Why a file is not XML Gloss reads, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlProblem {
    /// 1-based.
    pub(crate) line: u32,
    /// 1-based, in characters.
    pub(crate) column: u32,
    pub(crate) message: String,
}

/// The bytes as UTF-8 text without a byte order mark, or why not.
pub(crate) fn utf8_text(bytes: &[u8]) -> Result<&str, XmlProblem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|error| {
        let (line, column) = text_position(bytes, error.valid_up_to());
        XmlProblem {
            line,
            column,
            message: "is not UTF-8 text".to_owned(),
        }
    })
}

/// Parses a whole document; DTDs are refused.
pub(crate) fn parse(text: &str) -> Result<Document<'_>, XmlProblem> {
    let options = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(text, options).map_err(|error| {
        use roxmltree::Error;
        let (line, column) = match error {
            // These carry no position of their own: the text ended.
            Error::UnclosedRootNode | Error::UnexpectedEndOfStream | Error::NoRootNode => {
                text_position(text.as_bytes(), text.len())
            }
            Error::DtdDetected => {
                let at = find_ignore_case(text, "<!DOCTYPE").unwrap_or(0);
                text_position(text.as_bytes(), at)
            }
            _ => (error.pos().row, error.pos().col),
        };
        let message = match error {
            Error::DtdDetected => {
                "holds a <!DOCTYPE>, which is refused: entities and DTDs are never expanded"
                    .to_owned()
            }
            _ => {
                // roxmltree ends most messages with " at ROW:COL", which
                // the problem already has in its own fields.
                let message = error.to_string();
                let suffix = format!(" at {}", error.pos());
                message
                    .strip_suffix(&suffix)
                    .map_or(message.clone(), str::to_owned)
            }
        };
        XmlProblem {
            line,
            column,
            message,
        }
    })
}

fn find_ignore_case(text: &str, needle: &str) -> Option<usize> {
    text.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// 1-based line and column (in characters) of byte offset `at`.
fn text_position(bytes: &[u8], at: usize) -> (u32, u32) {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    (clamp(line), clamp(column))
}

/// The element children of `node` named `name`.
pub(crate) fn children<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.children()
        .filter(move |child| child.is_element() && child.tag_name().name() == name)
}

/// The first element child of `node` named `name`.
pub(crate) fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children()
        .find(|child| child.is_element() && child.tag_name().name() == name)
}

/// The text of the first element child named `name` (`""` when empty),
/// or `None` when there is no such child.
pub(crate) fn child_text<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(node, name).map(|c| c.text().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_characters_xml_cannot_hold() {
        assert_eq!(
            escaped("a<b>&\"c'\td\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#9;d\u{FFFD}"
        );
        assert_eq!(escaped("日本 🐱"), "日本 🐱");
    }

    #[test]
    fn numbers_are_plain_decimals_without_float_noise() {
        assert_eq!(number(175.99999999999997), "176");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(-1e-12), "0");
        assert_eq!(number(1e-7), "0.0000001");
        assert_eq!(number(3e20), "300000000000000000000");
    }

    #[test]
    fn numbers_read_are_finite() {
        assert_eq!(parse_number(" 12.5 "), Some(12.5));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        for bad in ["", "inf", "NaN", "1,5", "x"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
        assert_eq!(parse_size("640"), Some(640));
        for bad in ["0", "-1", "1.5", "4294967296"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn parse_errors_say_where() {
        let problem = parse("<a>\n  <b></a>").unwrap_err();
        assert_eq!((problem.line, problem.column), (2, 6));
        assert_eq!(problem.message, "expected 'b' tag, not 'a'");
        let problem = parse("<a>\n<b>").unwrap_err();
        assert_eq!((problem.line, problem.column), (2, 4));
        let problem = parse("<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>")
            .unwrap_err();
        assert_eq!((problem.line, problem.column), (2, 1));
        assert!(
            problem.message.contains("<!DOCTYPE>"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn text_must_be_utf8() {
        assert_eq!(utf8_text(b"\xEF\xBB\xBF<a/>"), Ok("<a/>"));
        let problem = utf8_text(b"<a>\n\xFF</a>").unwrap_err();
        assert_eq!((problem.line, problem.column), (2, 1));
    }
}
