//! Reprints: the same text under other page furniture is a reprint of the source it copies, not
//! another outlet. Through the real binary: an article, its repost with one line of furniture
//! changed, and an independent rewrite are one story of two sources, the repost listed under the
//! article it copies, in the Markdown and in the JSON.

use std::time::Duration;

use crate::support::{self, Env};

fn reprint_file(name: &str) -> Vec<u8> {
    let path = support::test_data(&format!("reprint/{name}"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn a_near_copy_is_a_reprint_of_its_source_and_not_another_source() {
    let env = Env::new();
    let mut daemon = env.start();
    // One at a time, so which is the original and which the copy does not depend on timing.
    for (i, name) in ["a_original.txt", "b_repost.txt", "c_rewrite.txt"].into_iter().enumerate() {
        env.drop_file(name, &reprint_file(name));
        env.wait_until(&format!("{name} archived"), Duration::from_secs(30), || {
            env.archived().len() == i + 1
        });
    }
    let md = env.wait_for_briefing(|md| md.contains("c_rewrite.txt"), Duration::from_secs(20));
    daemon.stop_gracefully();

    assert_eq!(md.matches("\n## ").count(), 1, "one story:\n{md}");
    assert!(md.contains("**2 sources**") && md.contains("1 story · 2 sources"), "{md}");
    let lines: Vec<&str> = md.lines().filter(|l| l.contains(".txt`")).collect();
    assert_eq!(lines.len(), 3, "every file is listed:\n{md}");
    assert!(lines[0].starts_with("- ") && lines[0].contains("`a_original.txt`"), "{md}");
    assert!(lines[1].starts_with("  - reprinted by ") && lines[1].contains("`b_repost.txt`"), "{md}");
    assert!(lines[2].starts_with("- ") && lines[2].contains("`c_rewrite.txt`"), "{md}");

    let json_path = env.briefings().join(format!("{}.json", support::today_utc()));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let story = &json["stories"][0];
    assert_eq!(story["n_sources"], 2, "{story}");
    let sources = story["sources"].as_array().expect("sources");
    let by_file =
        |f: &str| sources.iter().find(|s| s["file"] == f).unwrap_or_else(|| panic!("{f} in {story}"));
    let original = by_file("a_original.txt");
    assert_eq!(by_file("b_repost.txt")["reprint_of"], original["article_id"], "{story}");
    assert!(original.get("reprint_of").is_none() && by_file("c_rewrite.txt").get("reprint_of").is_none());

    let explained = env.briefd(&["explain", "b_repost.txt"]);
    assert!(explained.contains("near-copy") || explained.contains("same normalised text"), "{explained}");
}
