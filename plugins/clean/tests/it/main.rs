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
    for junk in ["Home »", "You may also like", "Leave a Comment", "Akismet", "Adblock Detected", "disabling your AdBlocker", "U.S.Policy: The U"] {
        assert!(!x.text.contains(junk), "still has {junk:?}");
    }
    assert!(!x.text.starts_with("by"), "{}", &x.text[..60]);
    assert!(x.text.contains("Pyongyang, North Korea – In a notable display of solidarity"));
    assert!(x.text.contains("The talks, held amidst escalating global tensions, underscored"), "spacing repaired");
    assert!(x.text.contains("international scrutiny. Choe, in turn"), "spacing repaired");
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
            let _ = Clean::new(Options::default()).clean_bytes(&bytes, "x.json");
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
