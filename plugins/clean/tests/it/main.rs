//! Data-driven checks of the cleaner on files in `test_data/`.

use std::path::Path;

use clean::{Clean, Options};

fn clean_file(name: &str) -> clean::Extracted {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Clean::new(Options::default()).clean_bytes(&bytes, name).expect("cleans").1
}

#[test]
fn seed_wire_story_has_title_date_and_outlet() {
    let x = clean_file("text/seed_ap_wire.txt");
    assert_eq!(x.title.as_deref(), Some("Russia Warns Against U.S.-Korea-Japan Alliance"));
    assert_eq!(x.published.as_deref(), Some("2025-07-13"));
    assert_eq!(x.outlet.as_deref(), Some("AP"));
    assert!(x.text.starts_with("SEOUL, South Korea (AP) —"), "{}", &x.text[..80]);
    assert!(!x.text.contains("Related Post"));
    assert!(x.text.ends_with("evolving role as an ally."));
}

#[test]
fn seed_rewrite_loses_its_boilerplate() {
    let x = clean_file("text/seed_boilerplate_rewrite.txt");
    assert_eq!(
        x.title.as_deref(),
        Some("Russia Condemns Potential U.S.-South Korea-Japan Security Alliance Against North Korea")
    );
    for junk in [
        "Home »",
        "You may also like",
        "Leave a Comment",
        "Akismet",
        "Adblock Detected",
        "disabling your AdBlocker",
        "U.S.Policy: The U",
    ] {
        assert!(!x.text.contains(junk), "still has {junk:?}");
    }
    assert!(!x.text.starts_with("by"), "{}", &x.text[..60]);
    assert!(x.text.contains("Pyongyang, North Korea – In a notable display of solidarity"));
    assert!(
        x.text.contains("The talks, held amidst escalating global tensions, underscored"),
        "spacing repaired"
    );
    assert!(x.text.contains("international scrutiny. Choe, in turn"), "spacing repaired");
}

fn clean_items(name: &str) -> Result<Vec<Result<clean::Extracted, String>>, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Clean::new(Options::default()).clean_items(&bytes, name).map(|(_, items)| items)
}

#[test]
fn a_json_list_gives_one_article_per_item() {
    let items: Vec<_> =
        clean_items("json/list_of_three.json").unwrap().into_iter().map(|r| r.unwrap()).collect();
    let outlets: Vec<_> = items.iter().map(|x| x.outlet.as_deref().unwrap_or("")).collect();
    assert_eq!(outlets, ["Port Daily", "Mountain Wire", "City Herald"]);
    assert_eq!(items[1].title.as_deref(), Some("Alpine pass reopens after rockfall"));
    assert_eq!(items[1].url.as_deref(), Some("https://mountainwire.example/gotthard"));
    assert_eq!(items[2].author.as_deref(), Some("Sam Okafor, Lee Park"));
    assert!(items[0].text.starts_with("Dock workers in Rotterdam"));
}

#[test]
fn a_json_feed_gives_one_article_per_item() {
    let items: Vec<_> =
        clean_items("json/feed_of_two.json").unwrap().into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].outlet.as_deref(), Some("Coastal Times"), "the feed's title is the outlet");
    assert_eq!(items[0].author.as_deref(), Some("Mia Tanaka"));
    assert_eq!(items[0].published.as_deref(), Some("2025-07-13T08:00:00Z"));
    assert_eq!(items[1].language.as_deref(), Some("en"));
    assert_eq!(
        items[1].text,
        "More than two hundred volunteers replanted marram grass along four kilometres of dunes on Sunday.\n\n\
         The grass holds the sand in place during winter storms."
    );
}

#[test]
fn a_json_file_of_another_shape_fails_naming_the_file_and_the_shapes() {
    let err = clean_items("json/wrong_shape.json").unwrap().remove(0).unwrap_err();
    assert!(err.starts_with("json/wrong_shape.json: the JSON object has no article text"), "{err}");
    assert!(err.contains("a list of article objects, or a JSON Feed"), "{err}");
}

#[test]
fn the_stage_splits_a_list_and_refuses_to_return_it_as_one() {
    use stage_api::{Article, EmptyContext, Outcome, Stage};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/json/list_of_three.json");
    let article = Article {
        file_name: "list.json".into(),
        raw: Some(std::fs::read(path).unwrap()),
        ..Default::default()
    };
    let stage = Clean::new(Options::default());
    let outcomes = stage.process_items(article.clone(), &EmptyContext);
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes.iter().all(|o| matches!(o, Outcome::Continue(a) if a.raw.is_none())));
    let Outcome::Fail { message } = stage.process(article, &EmptyContext) else {
        panic!("one outcome for three")
    };
    assert!(message.contains("holds 3 articles"), "{message}");
}

#[test]
fn an_rss_feed_gives_one_article_per_item_whatever_its_extension() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/feeds/harbour_gazette.rss");
    let bytes = std::fs::read(path).unwrap();
    let (format, items) = Clean::new(Options::default()).clean_items(&bytes, "news.txt").unwrap();
    assert_eq!(format, stage_api::Format::Html, "feed items are HTML content");
    let items: Vec<_> = items.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|x| x.outlet.as_deref() == Some("Harbour Gazette")));
    assert!(items.iter().all(|x| x.metadata.get("feed_format").map(String::as_str) == Some("RSS")));
    assert_eq!(items[0].title.as_deref(), Some("Ferry strike halts crossings to the islands"));
    assert_eq!(items[0].author.as_deref(), Some("Nadia Petrova"));
    assert_eq!(items[0].published.as_deref(), Some("2025-07-13T07:30:00Z"));
    assert_eq!(items[0].language.as_deref(), Some("en"));
    assert_eq!(items[0].metadata.get("item_id").map(String::as_str), Some("hg-1001"));
    let first = &items[0].text;
    assert!(first.starts_with("Ferry crews walked out at dawn on Sunday"), "content:encoded wins: {first}");
    assert!(items[0].text.contains("had broken down over night-shift pay"), "{}", items[0].text);
    assert_eq!(
        items[1].text,
        "The city council voted on Saturday to build a covered fish market hall beside the old quay.\n\n\
         Construction is due to start in the spring and cost about twelve million euros."
    );
    assert_eq!(items[1].author.as_deref(), Some("Tom Okafor"));
    let hostile = "<img src=x onerror=alert(1)> Tall ships *return* for the regatta";
    assert_eq!(items[2].title.as_deref(), Some(hostile));
    assert!(!items[2].text.contains("alert"), "script content is not text: {}", items[2].text);
}

/// A feed of `items` (file names under `test_data/repeats/`), built from its files.
pub fn repeating_feed(items: &[&str]) -> Vec<u8> {
    let part = |name: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/repeats").join(name);
        std::fs::read_to_string(path).unwrap()
    };
    let body: String = items.iter().map(|name| part(name)).collect();
    format!("{}{body}{}", part("feed_head.xml"), part("feed_tail.xml")).into_bytes()
}

/// Issue 20: a feed repeating one item 1,000 times is one article, and another item between
/// the repeats is kept, in its place.
#[test]
fn a_feed_repeating_one_item_is_one_article() {
    let mut items = vec!["feed_item.xml"; 1000];
    items.insert(500, "feed_other_item.xml");
    let bytes = repeating_feed(&items);
    let (_, items) = Clean::new(Options::default()).clean_items(&bytes, "echo.rss").unwrap();
    let titles: Vec<String> = items.into_iter().map(|r| r.unwrap().title.unwrap_or_default()).collect();
    assert_eq!(titles, ["Lighthouse keepers return to Skerry Point", "Harbour ferry adds a night crossing"]);
}

/// Issue 20: a title that reads as an instruction to an assistant is not the headline; the
/// first sentence of the text stands in for it, and the article says so.
#[test]
fn an_instruction_is_never_the_title() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/injection/system_title.md");
    let (_, items) =
        Clean::new(Options::default()).clean_items(&std::fs::read(path).unwrap(), "a.md").unwrap();
    let article = items.into_iter().next().unwrap().unwrap();
    let title = article.title.unwrap_or_default();
    assert!(title.starts_with("The council of Kestrel Bay approved"), "{title}");
    assert!(!title.contains("pineapple") && !article.text.contains("pineapple"), "{title}");
    assert!(article.metadata.contains_key("title_replaced"));
}

#[test]
fn atom_and_rss_1_feeds_give_one_article_per_entry() {
    let atom = clean_items("feeds/valley_courier.atom").unwrap();
    let atom: Vec<_> = atom.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(atom.len(), 2);
    assert_eq!(atom[0].title.as_deref(), Some("Flood barrier holds as river peaks"));
    assert_eq!(atom[0].url.as_deref(), Some("https://valleycourier.example/news/flood-barrier"));
    assert_eq!(atom[0].published.as_deref(), Some("2025-07-13T06:00:00Z"));
    assert_eq!(
        atom[0].text,
        "The new flood barrier held overnight as the river reached its highest level in twenty years, \
         the water agency said on Sunday.\n\nAbout four hundred homes behind the barrier stayed dry."
    );
    assert_eq!(atom[1].author.as_deref(), Some("Courier Desk"), "the feed's author stands in");
    assert_eq!(atom[1].published.as_deref(), Some("2025-07-12T17:45:00Z"), "the update date stands in");
    assert!(atom[1].text.starts_with("Fruit growers in the upper valley"), "the summary stands in");
    let rdf = clean_items("feeds/mountain_post.rdf").unwrap();
    let rdf: Vec<_> = rdf.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(rdf.len(), 2);
    assert_eq!(rdf[0].outlet.as_deref(), Some("Mountain Post"));
    assert_eq!(rdf[0].author.as_deref(), Some("Marco Bianchi"));
    assert_eq!(rdf[1].url.as_deref(), Some("https://mountainpost.example/hut-rebuilt"));
    assert!(rdf[1].text.starts_with("Volunteers finished rebuilding"));
}

#[test]
fn a_page_names_its_outlet_and_loses_its_title_tail() {
    let page = r#"<!DOCTYPE html><html><head>
        <title>Harbour cranes double the night shift | Port Ledger</title>
        <meta property="og:site_name" content="https://www.portledger.example">
        <meta property="og:url" content="https://www.portledger.example/cranes"></head>
        <body><article><p>The harbour authority said on Monday that the new container cranes would double the
        number of ships handled each night, and that the first of them would arrive in the autumn.</p>
        <p>Residents asked the council for a hearing on the noise the cranes would make at night.</p>
        </article></body></html>"#;
    let (_, x) = Clean::new(Options::default()).clean_bytes(page.as_bytes(), "0123abcd.html").unwrap();
    assert_eq!(x.outlet.as_deref(), Some("portledger.example"), "a URL site name gives way to the host");
    assert_eq!(x.title.as_deref(), Some("Harbour cranes double the night shift"));
}

mod properties {
    use clean::{text, Clean, Options};
    use proptest::prelude::*;

    /// Lines drawn from the kinds a saved page mixes: sentences, headings, boilerplate, dates.
    fn page() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            "[A-Z][a-z]{2,8}( [a-z]{2,8}){5,20}\\.",
            "[A-Z][a-z]{2,8}( [A-Z][a-z]{2,8}){1,6}",
            Just("Related Post".to_string()),
            Just("Home » News » Something Happened Today".to_string()),
            Just("13.07.2025 4,39 B 5 Mins Read".to_string()),
            Just("by".to_string()),
            "[a-z ]{0,30}",
            any::<String>(),
        ];
        prop::collection::vec(line, 0..12).prop_map(|lines| lines.join("\n\n"))
    }

    proptest! {
        #[test]
        fn the_cleaner_never_panics_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = Clean::new(Options::default()).clean_bytes(&bytes, "x.txt");
            let _ = Clean::new(Options::default()).clean_bytes(&bytes, "x.html");
            let _ = Clean::new(Options::default()).clean_items(&bytes, "x.json");
        }

        #[test]
        fn a_feed_of_any_text_never_panics(
            parts in prop::collection::vec(any::<String>(), 3),
            atom in any::<bool>(),
        ) {
            let [a, b, c] = [&parts[0], &parts[1], &parts[2]];
            let feed = if atom {
                format!("<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{a}</title><entry>\
                         <title>{b}</title><content type=\"html\">{c}</content></entry></feed>")
            } else {
                format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{a}</title><item>\
                         <title>{b}</title><description>{c}</description></item></channel></rss>")
            };
            let _ = Clean::new(Options::default()).clean_items(feed.as_bytes(), "x.xml");
        }

        #[test]
        fn cleaning_text_twice_changes_nothing(input in page()) {
            let once = text::extract(&input);
            let rendered = match &once.title {
                Some(t) => format!("{t}\n\n{}", once.text),
                None => once.text.clone(),
            };
            let twice = text::extract(&rendered);
            prop_assert_eq!(&twice.text, &once.text);
            prop_assert_eq!(&twice.title, &once.title);
        }
    }
}

/// Large and hostile pages: generated here (not stored), read in time and memory proportional to
/// their size. Times and peak memory are printed for docs/benchmarks.md (`-- --nocapture`), not asserted.
mod large_inputs {
    use std::time::Instant;

    use clean::html;

    /// The process's peak resident memory so far, in MiB (Linux).
    fn peak_rss_mib() -> f64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }

    #[test]
    fn a_50_mb_page_takes_the_linear_path() {
        let paragraph =
            "<p>The harbour authority said on Monday that the new cranes would double the number of \
                         containers handled each night.</p><script>var t = '<p>not text</p>';</script>\n";
        let mut page = String::from(
            "<html><head><title>Harbour cranes double the night shift</title></head><body><article>",
        );
        while page.len() < 50 * 1024 * 1024 {
            page.push_str(paragraph);
        }
        page.push_str("</article></body></html>");
        let before = peak_rss_mib();
        let started = Instant::now();
        let x = html::extract(&page).expect("text");
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(x.title.as_deref(), Some("Harbour cranes double the night shift"));
        assert!(x.text.starts_with("The harbour authority said"), "{}", &x.text[..80]);
        assert!(!x.text.contains("not text"), "script content is skipped");
        eprintln!(
            "50 MB HTML: {seconds:.1} s, peak RSS {:.0} MiB (before {before:.0} MiB), {} bytes of text",
            peak_rss_mib(),
            x.text.len()
        );
    }

    #[test]
    fn nesting_10_000_deep_takes_the_linear_path() {
        let n = 10_000;
        let page = format!(
            "<html><body>{}<p>The mayor opened the new bridge on Monday after years of delays.</p>{}</body></html>",
            "<div><span>".repeat(n),
            "</span></div>".repeat(n)
        );
        let started = Instant::now();
        let x = html::extract(&page).expect("text");
        eprintln!(
            "10,000-deep nesting: {:.3} s, peak RSS {:.0} MiB",
            started.elapsed().as_secs_f64(),
            peak_rss_mib()
        );
        assert_eq!(x.text, "The mayor opened the new bridge on Monday after years of delays.");
    }

    #[test]
    fn many_unclosed_tags_stay_linear() {
        // Each '<' without a '>' used to scan to the end of the page.
        let page = "<a".repeat(2_000_000);
        let started = Instant::now();
        // Every `<a` counts as an element opened and never closed, so the page reads as
        // 2,000,000 deep and is kept away from the tree builders; no tag ever ends, so no text.
        assert_eq!(html::max_nesting(&page), 2_000_000);
        assert_eq!(html::strip_tags(&page).trim(), "");
        eprintln!("2,000,000 unclosed tags: {:.2} s", started.elapsed().as_secs_f64());
    }
}
