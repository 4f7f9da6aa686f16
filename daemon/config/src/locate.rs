//! Where a key path (`stages[2].max_new_tokens`) is written in the file, for error messages.
//!
//! serde reports a position only for the first error of a direct parse, and none inside a
//! `stages` entry; the file is therefore read a second time, as block YAML (keys and `- `
//! items by indentation, which is how a config is written), to find the line and column of
//! any path. A path written in flow style (`{a: 1}`, `[x, y]`) is found down to the flow
//! value that holds it.

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

/// Reads a key path as the messages write it: `stages[2].max_new_tokens`, `inbox`, or
/// `stages[2] (plugin)` (the note after a space is ignored).
pub(crate) fn steps(key: &str) -> Vec<Step> {
    let key = key.split(' ').next().unwrap_or("");
    let mut out = Vec::new();
    for part in key.split('.').filter(|p| !p.is_empty()) {
        let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
        if !name.is_empty() {
            out.push(Step::Key(name.to_string()));
        }
        while let Some((index, after)) = rest.split_once(']') {
            if let Ok(i) = index.parse() {
                out.push(Step::Index(i));
            }
            rest = after.strip_prefix('[').unwrap_or("");
        }
    }
    out
}

/// A line of content: its 1-based number, the column its content starts at (0-based), and
/// the content.
#[derive(Clone, Copy)]
struct Line<'a> {
    number: usize,
    indent: usize,
    text: &'a str,
}

/// The 1-based line and column of `path` in `text`, as far down the path as the file goes
/// (the entry, when the key inside it is not written); `None` when not even its first step is
/// found.
pub(crate) fn locate(text: &str, path: &[Step]) -> Option<(usize, usize)> {
    let mut scope: Vec<Line<'_>> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let content = l.trim_start();
            (!content.is_empty() && !content.starts_with('#') && content != "---").then(|| Line {
                number: i + 1,
                indent: l.len() - content.len(),
                text: content,
            })
        })
        .collect();
    let mut found = None;
    for step in path {
        let Some(first) = scope.first().copied() else { break };
        let level = first.indent;
        let at = match step {
            Step::Key(key) => {
                scope.iter().position(|l| l.indent == level && key_of(l.text) == Some(key.as_str()))
            }
            Step::Index(i) => scope
                .iter()
                .enumerate()
                .filter(|(_, l)| l.indent == level && is_item(l.text))
                .nth(*i)
                .map(|(at, _)| at),
        };
        let Some(at) = at else { break };
        let line = scope[at];
        found = Some((line.number, line.indent + 1));
        // What the step holds: the rest of its own line (a value after `key:` or `- `), then the
        // lines indented deeper.
        let mut inner: Vec<Line<'_>> = Vec::new();
        match step {
            Step::Key(_) => {}
            Step::Index(_) => {
                let after = line.text[1..].trim_start();
                if !after.is_empty() {
                    inner.push(Line {
                        number: line.number,
                        indent: line.indent + (line.text.len() - after.len()),
                        text: after,
                    });
                }
            }
        }
        inner.extend(scope[at + 1..].iter().take_while(|l| {
            l.indent > level || (matches!(step, Step::Key(_)) && l.indent == level && is_item(l.text))
        }));
        scope = inner;
    }
    found
}

/// The key of a `key: value` or `key:` line.
fn key_of(text: &str) -> Option<&str> {
    let (key, _) = text.split_once(':')?;
    let key = key.trim().trim_matches(['"', '\'']);
    (!key.is_empty() && !key.contains(' ') && !is_item(text)).then_some(key)
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "# briefd\ninbox:\n  path: inbox\n  settle_millis: soon\n\nstages:\n  - kind: clean\n    min_words: 3\n  # the model\n  - kind: summarize\n    max_new_tokens: lots\n    model_path: x\nbriefing: {timezone: Mars}\n";

    #[test]
    fn key_paths_are_read_as_written() {
        assert_eq!(
            steps("stages[2].max_new_tokens"),
            [Step::Key("stages".into()), Step::Index(2), Step::Key("max_new_tokens".into())]
        );
        assert_eq!(steps("stages[2] (plugin)"), [Step::Key("stages".into()), Step::Index(2)]);
        assert_eq!(steps("inbox"), [Step::Key("inbox".into())]);
    }

    #[test]
    fn finds_keys_list_entries_and_keys_inside_entries() {
        let at = |key: &str| locate(CONFIG, &steps(key));
        assert_eq!(at("inbox"), Some((2, 1)));
        assert_eq!(at("inbox.settle_millis"), Some((4, 3)));
        assert_eq!(at("stages[0]"), Some((7, 3)));
        assert_eq!(at("stages[0].kind"), Some((7, 5)));
        assert_eq!(at("stages[1]"), Some((10, 3)));
        assert_eq!(at("stages[1].max_new_tokens"), Some((11, 5)));
        assert_eq!(at("stages[1].model_path"), Some((12, 5)));
        // Not written: the nearest step that is.
        assert_eq!(at("stages[1].threads"), Some((10, 3)));
        assert_eq!(at("briefing.timezone"), Some((13, 1)));
        assert_eq!(at("database"), None);
    }

    #[test]
    fn a_list_at_the_keys_own_indentation_is_its_value() {
        let text = "stages:\n- kind: clean\n- kind: dedupe\n  lead_words: x\ninbox:\n  path: i\n";
        assert_eq!(locate(text, &steps("stages[1].lead_words")), Some((4, 3)));
        assert_eq!(locate(text, &steps("inbox.path")), Some((6, 3)));
    }
}
