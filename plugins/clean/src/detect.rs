//! Recognises a document's format from its content, with the file extension as a tie-breaker.

use stage_api::Format;

/// The format of `text`, judged by content first; `file_name`'s extension decides only
/// between formats the content leaves open.
pub fn detect(text: &str, file_name: &str) -> Format {
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok() || ext == "json" {
            return Format::Json;
        }
    }
    if ext == "json" {
        return Format::Json;
    }
    let head: String = trimmed.chars().take(2048).collect::<String>().to_ascii_lowercase();
    if head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || head.contains("<html")
        || head.contains("<body")
        || head.contains("<head")
        || (head.starts_with("<?xml") && head.contains("xhtml"))
        || matches!(ext.as_str(), "html" | "htm" | "xhtml")
    {
        return Format::Html;
    }
    let lower_tags = ["</p>", "</div>", "<br", "</a>", "</span>"];
    let tag_count: usize = lower_tags.iter().map(|t| head.matches(t).count()).sum();
    if tag_count >= 3 {
        return Format::Html;
    }
    if trimmed.starts_with("---\n") || trimmed.starts_with("---\r\n") || matches!(ext.as_str(), "md" | "markdown") {
        return Format::Markdown;
    }
    let markdown_signs = text
        .lines()
        .take(200)
        .filter(|l| l.starts_with("# ") || l.starts_with("## ") || l.contains("](http"))
        .count();
    if markdown_signs >= 2 {
        return Format::Markdown;
    }
    Format::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_beats_extension() {
        assert_eq!(detect("<!DOCTYPE html><html><body><p>x</p></body></html>", "a.txt"), Format::Html);
        assert_eq!(detect("{\"title\": \"x\"}", "a.txt"), Format::Json);
        assert_eq!(detect("---\ntitle: x\n---\nbody", "a.txt"), Format::Markdown);
        assert_eq!(detect("Just words.\n\nMore words.", "a.txt"), Format::Text);
    }

    #[test]
    fn extension_decides_when_content_is_open() {
        assert_eq!(detect("plain words", "a.md"), Format::Markdown);
        assert_eq!(detect("{broken", "a.json"), Format::Json);
    }
}
