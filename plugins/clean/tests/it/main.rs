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
}
