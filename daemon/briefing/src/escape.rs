//! Markdown escaping of article text: every string that came from an article (headline,
//! summary, point, outlet, title, URL, file name) passes through here before it reaches the
//! Markdown briefing, so that it is shown as the literal text it is and never as markup.
//!
//! Article strings are hostile input: a saved page titled `<img src=x onerror=alert(1)>` or
//! linking `[x](javascript:alert(1))` must not become live HTML or a link in a Markdown viewer,
//! and a `*` in a headline must not start italics. [`text`] backslash-escapes every ASCII
//! punctuation character that can open or close an inline construct in CommonMark or the
//! common extensions (GFM tables, strikethrough and autolinks; footnotes, math, super- and
//! subscript, heading attributes, wiki links), which CommonMark defines for exactly this purpose
//! ("any ASCII punctuation character may be backslash-escaped"). `<` and `&` are always escaped,
//! so neither raw HTML nor an entity can form. The characters left alone (`, . ' " ; : ? / % @
//! ( ) - + =`) have no inline meaning there; those that matter only where a block starts
//! (`-`, `+`, `=`, `:` and the `.` or `)` of `1.`) are escaped at the start of the string, because
//! every escaped string may open a paragraph or list item. Escaping all ASCII punctuation would
//! also be safe, but would litter every `,` and `.` of the Markdown file with backslashes.
//!
//! Line structure is the caller's: [`text`] also folds all whitespace, newlines included, into
//! single spaces and drops control characters (a terminal showing the file would obey an
//! escape sequence), so a string can never end the line, list item or heading it sits in.
//!
//! Links are only made for `http` and `https` URLs ([`link`]), as autolinks whose characters a
//! renderer cannot misread. No crate on crates.io escapes Markdown text this way (the escape
//! crate pulldown-cmark uses is for HTML output), hence this module.

/// The ASCII punctuation escaped wherever it occurs.
const ALWAYS: &[char] =
    &['\\', '`', '*', '_', '{', '}', '[', ']', '<', '>', '#', '!', '|', '~', '&', '$', '^'];

/// `s` as literal Markdown inline text on one line.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut words = s.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty());
    let Some(first) = words.next() else {
        return out;
    };
    push_line_start(first, &mut out);
    for word in words {
        out.push(' ');
        push_escaped(word, &mut out);
    }
    out
}

/// `s` as a code span, for names that read best in monospace (a file name); its characters are
/// literal there already, and a backtick, the only one that could end the span, becomes `'`.
pub fn code(s: &str) -> String {
    let folded: Vec<&str> =
        s.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect();
    format!("`{}`", folded.join(" ").replace('`', "'"))
}

/// `url` parsed, when it is a well-formed `http` or `https` URL with a host: the only URLs any
/// briefing format makes a link of.
pub fn web_url(url: &str) -> Option<url::Url> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    (matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some_and(|h| !h.is_empty()))
        .then_some(parsed)
}

/// An autolink to `url` when it is a well-formed `http` or `https` URL, else `None` (the caller
/// shows it as [`text`]). A `javascript:`, `data:`, `vbscript:` or `file:` URL, or anything that
/// is not a URL at all, is never made a link.
pub fn link(url: &str) -> Option<String> {
    let parsed = web_url(url)?;
    // `Url` serialises with spaces, quotes, `<`, `>` and non-ASCII percent-encoded already;
    // the rest is encoded here so the URL cannot end the autolink early, nor read as markup to
    // a renderer that linkifies bare text and stops a link at a parenthesis.
    let mut out = String::with_capacity(parsed.as_str().len() + 2);
    out.push('<');
    for c in parsed.as_str().chars() {
        match c {
            '(' | ')' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}' | '"' | ' ' => {
                out.push_str(&format!("%{:02X}", c as u32));
            }
            c if c.is_ascii_control() => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('>');
    Some(out)
}

/// The first word of a string, which may open a block: a leading list, definition or setext
/// marker (`-`, `+`, `=`, `:`; escaped even where a space must follow, as "-5" is rare and
/// harmless) or an ordered-list number (`1.`, `2)`) is escaped as well.
fn push_line_start(word: &str, out: &mut String) {
    // An ordered-list marker is digits and `.` or `)` followed by a space or the line's end;
    // "1.5" or "001.txt" is none.
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && word.len() == digits + 1 && word.ends_with(['.', ')']) {
        out.push_str(&word[..digits]);
        out.push('\\');
        push_escaped(&word[digits..], out);
    } else if word.starts_with(['-', '+', '=', ':']) {
        out.push('\\');
        push_escaped(word, out);
    } else {
        push_escaped(word, out);
    }
}

fn push_escaped(word: &str, out: &mut String) {
    let chars: Vec<char> = word.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        // A `_` between two letters or digits can neither open nor close emphasis (CommonMark's
        // flanking rules), so `a_fire.txt` and `snake_case` stay as written.
        let intraword = c == '_'
            && i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if ALWAYS.contains(&c) && !intraword {
            out.push('\\');
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

    /// Every extension a viewer might turn on, except smart punctuation, which rewrites quotes
    /// and dashes by design (typography, not markup).
    fn all_extensions() -> Options {
        Options::all() - Options::ENABLE_SMART_PUNCTUATION
    }

    /// The text a renderer shows for `markdown`, and whether anything but text, paragraphs,
    /// list items and headings (markup the caller wrote) came out of it.
    fn rendered(markdown: &str) -> (String, Vec<String>) {
        let (mut shown, mut markup) = (String::new(), Vec::new());
        for event in Parser::new_ext(markdown, all_extensions()) {
            match event {
                Event::Text(t) => shown.push_str(&t),
                Event::Start(Tag::Paragraph | Tag::List(_) | Tag::Item | Tag::Heading { .. })
                | Event::End(TagEnd::Paragraph | TagEnd::List(_) | TagEnd::Item | TagEnd::Heading(_)) => {}
                other => markup.push(format!("{other:?}")),
            }
        }
        (shown, markup)
    }

    fn folded(s: &str) -> String {
        s.split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn hostile_strings_stay_literal_in_every_position() {
        let hostile = [
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "*Breaking* news_of_the_day_ **now**",
            "`code` and ``more``",
            "<https://evil.example>",
            "&lt;script&gt; &amp; &#106;avascript:",
            "# Not a heading #",
            "1. not a list",
            "2) not a list either",
            "- not an item",
            "+ nor this",
            "> not a quote",
            ": not a definition",
            "=== not an underline",
            "| a | b |",
            "~~struck~~ ^sup^ ~sub~ $x^2$",
            "[^1] footnote [[wiki]]",
            "Title {#id .class}",
            "snake_case_name __init__ a_b_c _x_ x_ _ é_ü 1_000",
            "back\\slash at the end\\",
            "line one\nline two\r\n\n- item\u{1b}[31m",
            "<!-- comment --> <?php ?> <![CDATA[x]]>",
        ];
        for s in hostile {
            for context in ["{}", "- {}", "## {}", "- **{}** · “{}”"] {
                let markdown = context.replace("{}", &text(s));
                let (shown, markup) = rendered(&markdown);
                let (_, own_markup) = rendered(&context.replace("{}", "x"));
                assert_eq!(markup, own_markup, "{s:?} in {context:?}");
                let expected = context.trim_start_matches("- ").trim_start_matches("## ").replace("**", "");
                assert_eq!(shown, expected.replace("{}", &folded(s)), "{s:?} in {context:?}");
            }
        }
    }

    #[test]
    fn escaped_text_reads_as_plain_text_in_the_file() {
        assert_eq!(
            text("Fire at Notre-Dame, 3 dead; (AP) says 50% gone."),
            "Fire at Notre-Dame, 3 dead; (AP) says 50% gone."
        );
        assert_eq!(text("*Breaking*: a_b _c_ d__e"), "\\*Breaking\\*: a_b \\_c\\_ d\\_\\_e");
        assert_eq!(text("1. x"), "1\\. x");
        assert_eq!(text("3)"), "3\\)");
        assert_eq!(text("001.txt 1.5"), "001.txt 1.5");
        assert_eq!(text("2025. A year"), "2025\\. A year");
        assert_eq!(text("a\n\n  b\tc"), "a b c");
        assert_eq!(text(" \n "), "");
    }

    #[test]
    fn only_http_and_https_urls_become_links() {
        assert_eq!(link("https://example.com/a b(c)").as_deref(), Some("<https://example.com/a%20b%28c%29>"));
        assert_eq!(link("HTTP://Example.COM").as_deref(), Some("<http://example.com/>"));
        assert_eq!(link("https://example.com/<x>\"").as_deref(), Some("<https://example.com/%3Cx%3E%22>"));
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "not a url",
            "//example.com/x",
            "",
        ] {
            assert_eq!(link(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_file_name_stays_one_code_span() {
        assert_eq!(code("a`b`\nc.txt"), "`a'b' c.txt`");
        let markdown = format!("x {}", code("<img src=x>.html"));
        let codes: Vec<String> = Parser::new_ext(&markdown, all_extensions())
            .filter_map(|e| match e {
                Event::Code(c) => Some(c.to_string()),
                Event::Html(_) | Event::InlineHtml(_) => Some("html".into()),
                _ => None,
            })
            .collect();
        assert_eq!(codes, ["<img src=x>.html"]);
    }

    proptest! {
        /// Whatever the string, the rendered Markdown shows exactly its words and nothing else.
        #[test]
        fn any_string_renders_as_itself(s in "([ -~\\n\\t\u{a0}é“”—]|[a_*]{1,3}){0,40}") {
            for context in ["{}", "- {}", "## {}"] {
                let markdown = context.replace("{}", &text(&s));
                let (shown, markup) = rendered(&markdown);
                prop_assert!(markup.is_empty(), "{:?} in {:?} gave {:?}", s, context, markup);
                prop_assert_eq!(shown, folded(&s));
            }
        }

        #[test]
        fn a_link_is_one_autolink_to_an_http_url(s in "(https?|javascript|data)://[ -~]{0,30}") {
            if let Some(l) = link(&s) {
                let events: Vec<Event> = Parser::new_ext(&l, all_extensions()).collect();
                let dest = events.iter().find_map(|e| match e {
                    Event::Start(Tag::Link { dest_url, .. }) => Some(dest_url.to_string()),
                    _ => None,
                });
                let is_http = |d: &str| d.starts_with("http://") || d.starts_with("https://");
                prop_assert!(dest.as_deref().is_some_and(is_http), "{:?} gave {:?}", l, events);
            }
        }
    }
}
