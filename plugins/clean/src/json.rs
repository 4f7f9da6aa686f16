//! JSON: one article object, with fields in their common spellings.
//!
//! | field     | accepted keys                                                        |
//! |-----------|----------------------------------------------------------------------|
//! | text      | `text`, `content`, `body`, `articleBody`, `content_text`, `content_html`, `description` |
//! | title     | `title`, `headline`, `name`                                          |
//! | url       | `url`, `link`, `canonical_url`                                       |
//! | outlet    | `outlet`, `source`, `publisher`, `site_name` (a string or `{name}`)  |
//! | published | `published`, `date`, `published_at`, `datePublished`, `pubDate`, `date_published` |
//! | author    | `author`, `byline`, `authors` (a string, `{name}`, or a list)        |
//! | language  | `language`, `lang`, `inLanguage`                                     |
//!
//! Lists of articles and JSON Feed come with the full cleaner; today they fail with that reason.

use serde_json::Value;

use crate::{html, normalize_paragraphs, strip_invisible, Extracted};

/// Extracts one article from a JSON document.
pub fn extract(text: &str) -> Result<Extracted, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        format!("invalid JSON at line {}, column {}: {e}", e.line(), e.column())
    })?;
    match value {
        Value::Object(map) => from_object(&map),
        Value::Array(items) => Err(format!(
            "the JSON file holds a list of {} items; this version reads one article object per file, \
             e.g. {{\"title\": \"...\", \"text\": \"...\"}} (lists and JSON Feed are not supported yet)",
            items.len()
        )),
        other => Err(format!(
            "the JSON file holds a {}; expected one article object such as {{\"title\": \"...\", \"text\": \"...\"}}",
            kind(&other)
        )),
    }
}

fn from_object(map: &serde_json::Map<String, Value>) -> Result<Extracted, String> {
    let body_keys = ["text", "content", "body", "articleBody", "content_text", "content_html", "description"];
    let Some((key, body)) = body_keys.iter().find_map(|k| string_of(map.get(*k)).map(|v| (*k, v))) else {
        return Err(format!(
            "the JSON object has no article text; expected one of the keys {}",
            body_keys.map(|k| format!("\"{k}\"")).join(", ")
        ));
    };
    let text = if key == "content_html" || (body.contains("</") && body.contains('>')) {
        html::fragment_text(&body)
    } else {
        normalize_paragraphs(&strip_invisible(&body.replace("\r\n", "\n")))
    };
    let first = |keys: &[&str]| keys.iter().find_map(|k| string_of(map.get(*k)));
    Ok(Extracted {
        text,
        title: first(&["title", "headline", "name"]),
        url: first(&["url", "link", "canonical_url"]),
        outlet: first(&["outlet", "source", "publisher", "site_name"]),
        published: first(&["published", "date", "published_at", "datePublished", "pubDate", "date_published"]),
        author: first(&["author", "byline", "authors"]),
        language: first(&["language", "lang", "inLanguage"]),
    })
}

/// A string, a `{ "name": ... }` object, or a list of those joined by commas.
fn string_of(value: Option<&Value>) -> Option<String> {
    let s = match value? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Object(o) => return string_of(o.get("name")),
        Value::Array(items) => {
            items.iter().filter_map(|v| string_of(Some(v))).collect::<Vec<_>>().join(", ")
        }
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_common_spellings() {
        let x = extract(r#"{"headline":"H","articleBody":"Body text here.","publisher":{"name":"AP"},"datePublished":"2025-07-13"}"#)
            .unwrap();
        assert_eq!(x.title.as_deref(), Some("H"));
        assert_eq!(x.outlet.as_deref(), Some("AP"));
        assert_eq!(x.published.as_deref(), Some("2025-07-13"));
        assert_eq!(x.text, "Body text here.");
    }

    #[test]
    fn names_what_was_expected() {
        assert!(extract("42").unwrap_err().contains("holds a number"));
        assert!(extract("{\"x\": 1}").unwrap_err().contains("no article text"));
        assert!(extract("{\"x\": ").unwrap_err().starts_with("invalid JSON at line 1"));
    }
}
