//! Markdown of LLM prompts and responses as safe HTML.
//!
//! The labeling screen shows chat messages, `List` items and `Text` objects
//! marked `markdown="true"` as formatted text. The browser app takes no
//! third-party code, so the Markdown is rendered here, with
//! `pulldown-cmark` (CommonMark with tables and strikethrough), and the HTML
//! it gives, raw HTML in the Markdown included, is cleaned by `ammonia`'s
//! allow-list: no scripts, styles, event handlers, forms or frames, links
//! only to `http`, `https` and `mailto` (opening in a new tab, with
//! `rel="noopener noreferrer"`).
//! Images are never loaded: a Markdown image shows as its alt text, and
//! `<img>` tags are removed.

use crate::{Error, Result};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Texts one request may render.
pub const MAX_MARKDOWN_TEXTS: usize = 1000;

/// Bytes of Markdown one request may render, all texts together.
pub const MAX_MARKDOWN_BYTES: usize = 4 * 1024 * 1024;

/// Renders each text as sanitized HTML, in order.
pub fn render_markdown(texts: &[String]) -> Result<Vec<String>> {
    check_limits(texts)?;
    let cleaner = cleaner();
    Ok(texts
        .iter()
        .map(|text| render_one(&cleaner, text))
        .collect())
}

/// Cleans each HTML text (a `HyperText`'s) with the same allow-list as the
/// Markdown's HTML, in order.
pub fn sanitize_html(texts: &[String]) -> Result<Vec<String>> {
    check_limits(texts)?;
    let cleaner = cleaner();
    Ok(texts
        .iter()
        .map(|text| cleaner.clean(text).to_string())
        .collect())
}

/// At most [`MAX_MARKDOWN_TEXTS`] texts and [`MAX_MARKDOWN_BYTES`] in all.
fn check_limits(texts: &[String]) -> Result<()> {
    if texts.len() > MAX_MARKDOWN_TEXTS {
        return Err(Error::invalid(
            "texts",
            format!(
                "at most {MAX_MARKDOWN_TEXTS} texts at a time, not {}",
                texts.len()
            ),
        ));
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    if bytes > MAX_MARKDOWN_BYTES {
        return Err(Error::invalid(
            "texts",
            format!("at most {MAX_MARKDOWN_BYTES} bytes in all, not {bytes}"),
        ));
    }
    Ok(())
}

fn cleaner() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder
        .rm_tags(["img"])
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        // A link opens beside the labeling screen, not in its place.
        .set_tag_attribute_value("a", "target", "_blank");
    builder
}

fn render_one(cleaner: &ammonia::Builder<'static>, text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    // An image becomes its alt text: its start and end are dropped, the
    // text inside them stays.
    let events = Parser::new_ext(text, options).filter(|event| {
        !matches!(
            event,
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image)
        )
    });
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    cleaner.clean(&html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> String {
        render_markdown(&[text.to_owned()]).unwrap().remove(0)
    }

    #[test]
    fn markdown_is_formatted() {
        assert_eq!(
            one("**bold** and *it*"),
            "<p><strong>bold</strong> and <em>it</em></p>\n"
        );
        let html = one("```rust\nfn main() {}\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~no~~");
        assert!(html.contains("<pre><code>fn main() {}"), "{html}");
        assert!(html.contains("<td>1</td>"), "{html}");
        assert!(html.contains("<del>no</del>"), "{html}");
        let link = one("[docs](https://example.org/a?b=1)");
        assert!(
            link.contains(
                r#"<a href="https://example.org/a?b=1" target="_blank" rel="noopener noreferrer">docs</a>"#
            ),
            "{link}"
        );
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_stripped() {
        for (text, gone) in [
            ("<script>alert(1)</script>hi", "script"),
            ("<img src=x onerror=alert(1)>", "onerror"),
            ("<img src=x onerror=alert(1)>", "<img"),
            ("[click](javascript:alert(1))", "javascript"),
            ("<a href=\"javascript:alert(1)\">x</a>", "javascript"),
            (
                "<p onclick=\"alert(1)\" style=\"color:red\">x</p>",
                "onclick",
            ),
            ("<p onclick=\"alert(1)\" style=\"color:red\">x</p>", "style"),
            ("<iframe src=\"https://example.org\"></iframe>", "iframe"),
            ("<svg><script>alert(1)</script></svg>", "alert"),
            ("[x](data:text/html;base64,PHNjcmlwdD4=)", "data:"),
        ] {
            let html = one(text);
            assert!(
                !html.to_ascii_lowercase().contains(gone),
                "{text:?} gave {html:?}"
            );
        }
        // A Markdown image shows its alt text and loads nothing.
        assert_eq!(
            one("![a cat](https://example.org/cat.png)"),
            "<p>a cat</p>\n"
        );
        // Text that looks like markup is escaped.
        assert_eq!(
            one("1 < 2 & `<b>`"),
            "<p>1 &lt; 2 &amp; <code>&lt;b&gt;</code></p>\n"
        );
    }

    #[test]
    fn limits_are_named() {
        let many = vec![String::new(); MAX_MARKDOWN_TEXTS + 1];
        assert!(render_markdown(&many).is_err());
        let big = vec!["x".repeat(MAX_MARKDOWN_BYTES + 1)];
        assert!(render_markdown(&big).is_err());
    }
}
