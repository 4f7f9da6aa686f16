//! Page furniture among an extractor's paragraphs: share bars, "related" lists, captions,
//! newsletter boxes and other lines that sit near the article but are not part of it.
//!
//! An extractor returns text, not the elements it took the text from, so [`Page::read`] parses
//! the page once more and lays its body text out as one run of words (the benchmark's `\w+`
//! words), each word knowing the element it sits in and whether it is link text. Each
//! extracted paragraph is then found in that run ([`Page::locate`]), and its place in the page
//! says what it is:
//!
//! - **outside the article**: the *article container* is the deepest element holding at least
//!   [`Filter::container_share`] of the extracted words that could be located; a paragraph outside
//!   it was picked up elsewhere on the page (the trafilatura port recovers "wild" text
//!   outside its main frame, which is where much of its lost precision comes from);
//! - **link text**: at least [`Filter::max_link_share`] of its words are inside links (menus,
//!   "read more", lists of related headlines);
//! - **marked**: an element between the paragraph and the article container has a class or id
//!   from a vocabulary of furniture names (share, social, related, newsletter, comment, caption,
//!   byline, advert, footer, ...) or is a furniture element (`nav`, `aside`, `footer`, `header`,
//!   `form`, `figcaption`, `button`);
//! - **a trailing heading**: headings after the last body paragraph introduce what follows the
//!   article ("More from ...", "Comments").
//!
//! Each test is general: none names a site. The idea of scoring blocks by link density and by a
//! vocabulary of furniture classes is Python trafilatura's (`htmlprocessing.link_density_test`,
//! `xpaths.OVERALL_DISCARD_XPATH` and its `favor_precision` branches, Apache-2.0, by Adrien
//! Barbaresi); here it runs on the located paragraphs of an extractor's output rather than inside
//! the extractor. Whether each test is worth its recall is decided by site-fold
//! cross-validation (`daemon/eval`, `site_folds`), not here: [`Filter::NONE`] switches them all off.

use std::collections::HashMap;
use std::sync::OnceLock;

use dom_query::{Document, NodeRef};
use regex::Regex;

/// Which furniture tests drop an extracted paragraph; a paragraph is dropped when any enabled
/// test finds it furniture, and only when it has at most [`Filter::max_words`] words.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Filter {
    /// The article container holds at least this share of the located words; paragraphs outside
    /// it are dropped. Zero (or anything not above one half) switches the test off.
    pub container_share: f64,
    /// Paragraphs with at least this share of their words in links are dropped; above one
    /// switches the test off.
    pub max_link_share: f64,
    /// Drop paragraphs inside a marked element (furniture class, id or element).
    pub marked: bool,
    /// Drop headings that follow the last paragraph kept.
    pub trailing_headings: bool,
    /// Only paragraphs of at most this many words are tested; longer ones are kept whatever their
    /// place, as furniture is short.
    pub max_words: usize,
    /// When the tests would drop more than this share of the text's words, the page is not what
    /// the tests assume (the extractor took a listing, or the page's markup is odd) and the text
    /// is kept whole.
    pub max_dropped_share: f64,
}

impl Default for Filter {
    fn default() -> Self {
        Filter::NONE
    }
}

impl Filter {
    /// The filter that keeps every paragraph.
    pub const NONE: Filter = Filter {
        container_share: 0.0,
        max_link_share: f64::INFINITY,
        marked: false,
        trailing_headings: false,
        max_words: 0,
        max_dropped_share: 0.0,
    };

    /// What site-fold cross-validation chose on the dev pages (`briefd eval extraction`): every
    /// test on, paragraphs of up to 40 words tested, the container holding 85 % of the words, 80 %
    /// link words, at most 60 % of the text dropped. All five folds chose it from 210 filters
    /// (and 202 unfiltered methods) on their training sites; `docs/benchmarks.md` has the
    /// held-out figures.
    pub const SHIPPED: Filter = Filter {
        container_share: 0.85,
        max_link_share: 0.8,
        marked: true,
        trailing_headings: true,
        max_words: 40,
        max_dropped_share: 0.6,
    };

    /// Whether the filter can drop anything.
    pub fn is_none(&self) -> bool {
        self.max_words == 0
            || (self.container_share <= 0.5
                && self.max_link_share > 1.0
                && !self.marked
                && !self.trailing_headings)
    }
}

/// The paragraphs of `text` (separated by blank lines) that `filter` keeps, read against the
/// page they came from, joined by blank lines; `text` itself when nothing is dropped.
pub fn filter(page: &Page, text: &str, filter: &Filter) -> String {
    if filter.is_none() {
        return text.to_string();
    }
    let paragraphs: Vec<&str> = text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect();
    let located: Vec<Option<Place>> = paragraphs.iter().map(|p| page.locate(p)).collect();
    // The marked test needs a container too, to know where the article's own wrappers begin;
    // without the outside test it takes the element holding nearly all the text.
    let test_outside = filter.container_share > 0.5;
    let share = if test_outside { filter.container_share } else { MARKED_CONTAINER_SHARE };
    let container = page.container(&located, share);
    let words: Vec<usize> = paragraphs.iter().map(|p| words(p).len()).collect();
    let mut keep: Vec<bool> = located
        .iter()
        .zip(&words)
        .map(|(place, &n)| {
            let Some(place) = place else { return true };
            if n > filter.max_words {
                return true;
            }
            let outside = test_outside && container.is_some_and(|c| !page.is_within(place.element, c));
            let links = place.link_share() >= filter.max_link_share;
            let marked = filter.marked && page.marked_between(place.element, container);
            !(outside || links || marked)
        })
        .collect();
    if filter.trailing_headings {
        for i in (0..paragraphs.len()).rev() {
            if !keep[i] {
                continue;
            }
            let heading = located[i].as_ref().is_some_and(|p| page.in_heading(p.element));
            if !heading || words[i] > filter.max_words {
                break;
            }
            keep[i] = false;
        }
    }
    let total: usize = words.iter().sum();
    let dropped: usize = words.iter().zip(&keep).filter(|(_, &k)| !k).map(|(n, _)| n).sum();
    if dropped == 0 || dropped as f64 > filter.max_dropped_share * total as f64 {
        return text.to_string();
    }
    paragraphs.iter().zip(&keep).filter(|(_, &k)| k).map(|(p, _)| *p).collect::<Vec<_>>().join("\n\n")
}

/// A page's body text as one run of words, each tied to its element.
pub struct Page {
    /// Every word of the body in document order, each followed by one space, after one space.
    joined: String,
    /// Byte offset of each word in `joined`.
    starts: Vec<usize>,
    /// The innermost element of each word and whether it is link text.
    words: Vec<Word>,
    elements: Vec<Element>,
}

#[derive(Debug, Clone, Copy)]
struct Word {
    element: usize,
    in_link: bool,
}

#[derive(Debug, Clone)]
struct Element {
    parent: Option<usize>,
    depth: usize,
    /// Furniture by its class, id or element name.
    marked: bool,
    heading: bool,
}

/// Where an extracted paragraph sits in the page.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    /// The innermost element holding all its words.
    element: usize,
    words: usize,
    link_words: usize,
}

impl Place {
    fn link_share(&self) -> f64 {
        if self.words == 0 {
            0.0
        } else {
            self.link_words as f64 / self.words as f64
        }
    }
}

/// The share of the located words the container holds for the marked test when the outside test
/// is off.
const MARKED_CONTAINER_SHARE: f64 = 0.9;

/// Elements whose text is never shown.
const HIDDEN: &[&str] = &["script", "style", "noscript", "template", "head", "svg", "iframe"];

/// Elements that are page furniture whatever their class.
const FURNITURE: &[&str] = &["nav", "aside", "footer", "header", "form", "figcaption", "button", "select"];

/// Class and id words of page furniture. Matched against the lower-cased attribute; `\b`-like
/// edges are spelled out where a word would otherwise hit inside another ("ad" in "header",
/// "tag" in "stage").
fn furniture_names() -> &'static Regex {
    static NAMES: OnceLock<Regex> = OnceLock::new();
    NAMES.get_or_init(|| {
        Regex::new(
            r"(?x)
            share|social|sharing|sociable|
            related|recommend|popular|trending|more-(?:stories|news|from|on)|read-?more|
            newsletter|subscri|signup|sign-up|
            comment|disqus|
            caption|credit|
            byline|author|dateline|timestamp|
            (?:^|[\s_-])(?:ad|ads|advert|advertisement|sponsor(?:ed)?|promo)(?:$|[\s_-])|
            outbrain|taboola|
            footer|sidebar|widget|breadcrumb|menu|navbar|navigation|
            (?:^|[\s_-])tags?(?:$|[\s_-])|
            teaser|cookie|consent|
            (?:^|[\s_-])(?:hidden|hide|print-only|sr-only|visually-hidden)(?:$|[\s_-])
            ",
        )
        .expect("the furniture pattern is valid")
    })
}

impl Page {
    /// Lays out the body text of `html` as words tied to their elements.
    pub fn read(html: &str) -> Page {
        let document = Document::from(html);
        let mut page =
            Page { joined: " ".to_string(), starts: Vec::new(), words: Vec::new(), elements: Vec::new() };
        let Some(body) = document.body() else { return page };
        // An explicit stack rather than recursion: pages reach here with nesting up to
        // `html::MAX_NESTING`, and the walk must not depend on the thread's stack size.
        let mut stack: Vec<(NodeRef, Option<usize>, bool)> = vec![(body, None, false)];
        while let Some((node, parent, in_link)) = stack.pop() {
            if node.is_text() {
                if let Some(element) = parent {
                    let text = node.text();
                    for word in words(&text) {
                        page.starts.push(page.joined.len());
                        page.joined.push_str(word);
                        page.joined.push(' ');
                        page.words.push(Word { element, in_link });
                    }
                }
                continue;
            }
            if !node.is_element() {
                continue;
            }
            let name = node.node_name().map(|n| n.to_ascii_lowercase()).unwrap_or_default();
            if HIDDEN.contains(&name.as_str()) {
                continue;
            }
            let attributes =
                format!("{} {}", node.attr("class").unwrap_or_default(), node.attr("id").unwrap_or_default())
                    .to_lowercase();
            let marked = FURNITURE.contains(&name.as_str())
                || node.attr("role").is_some_and(|r| r.contains("navigation") || r.contains("complementary"))
                || furniture_names().is_match(&attributes);
            let heading = matches!(name.as_str(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
            let depth = parent.map_or(0, |p| page.elements[p].depth + 1);
            page.elements.push(Element { parent, depth, marked, heading });
            let index = page.elements.len() - 1;
            let in_link = in_link || name == "a";
            let children: Vec<NodeRef> = node.children_it(false).collect();
            for child in children.into_iter().rev() {
                stack.push((child, Some(index), in_link));
            }
        }
        page
    }

    /// Where `paragraph`'s words first occur together in the page; `None` when they do not (the
    /// extractor joined text across elements in another order, or changed it).
    pub fn locate(&self, paragraph: &str) -> Option<Place> {
        let own = words(paragraph);
        if own.is_empty() {
            return None;
        }
        let needle = format!(" {} ", own.join(" "));
        let at = self.joined.find(&needle)? + 1;
        let first = self.starts.binary_search(&at).ok()?;
        let span = &self.words[first..first + own.len()];
        let element = span.iter().map(|w| w.element).reduce(|a, b| self.common_ancestor(a, b))?;
        let link_words = span.iter().filter(|w| w.in_link).count();
        Some(Place { element, words: own.len(), link_words })
    }

    /// The deepest element holding at least `share` (above one half) of the located paragraphs'
    /// words: the elements that do form one chain, so the deepest is well defined.
    fn container(&self, located: &[Option<Place>], share: f64) -> Option<usize> {
        let mut held: HashMap<usize, usize> = HashMap::new();
        let mut total = 0;
        for place in located.iter().flatten() {
            total += place.words;
            let mut at = Some(place.element);
            while let Some(e) = at {
                *held.entry(e).or_insert(0) += place.words;
                at = self.elements[e].parent;
            }
        }
        held.into_iter()
            .filter(|&(_, n)| n as f64 >= share * total as f64)
            .max_by_key(|&(e, _)| self.elements[e].depth)
            .map(|(e, _)| e)
    }

    fn common_ancestor(&self, mut a: usize, mut b: usize) -> usize {
        while self.elements[a].depth > self.elements[b].depth {
            a = self.elements[a].parent.unwrap_or(a);
        }
        while self.elements[b].depth > self.elements[a].depth {
            b = self.elements[b].parent.unwrap_or(b);
        }
        while a != b {
            match (self.elements[a].parent, self.elements[b].parent) {
                (Some(pa), Some(pb)) => {
                    a = pa;
                    b = pb;
                }
                _ => break,
            }
        }
        a
    }

    fn is_within(&self, element: usize, container: usize) -> bool {
        let mut at = Some(element);
        while let Some(e) = at {
            if e == container {
                return true;
            }
            at = self.elements[e].parent;
        }
        false
    }

    /// Whether an element from `element` up to (not including) the article container, or to the
    /// body when there is none, is marked as furniture. The container and what holds it are not
    /// asked: a page's whole article often sits in a wrapper whose class names the layout
    /// ("main-with-sidebar").
    fn marked_between(&self, element: usize, container: Option<usize>) -> bool {
        let stop = container.map(|c| self.common_ancestor(element, c));
        let mut at = Some(element);
        while let Some(e) = at {
            // The body (the root here) is never asked: its class often names the page's layout.
            if Some(e) == stop || self.elements[e].parent.is_none() {
                return false;
            }
            if self.elements[e].marked {
                return true;
            }
            at = self.elements[e].parent;
        }
        false
    }

    fn in_heading(&self, element: usize) -> bool {
        let mut at = Some(element);
        while let Some(e) = at {
            if self.elements[e].heading {
                return true;
            }
            at = self.elements[e].parent;
        }
        false
    }
}

/// Words as the benchmark metric counts them: runs of letters, digits and `_`.
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTML: &str = include_str!("../test_data/html/furniture.html");
    const EXTRACTED: &str = include_str!("../test_data/html/furniture.extracted.txt");

    const OUTSIDE: [&str; 2] = [
        "Weekend edition: all our weather coverage in one place",
        "Tide times for the week ahead are on our weather page every morning",
    ];
    const SHARE: &str = "Share this story";
    const CAPTION: &str = "The rebuilt sea wall at low tide";
    const LINKS: &str = "Two boats lost in the storm How the wall gave way";
    const HEADING: &str = "More from the coast";

    fn only(change: impl Fn(&mut Filter)) -> Filter {
        let mut filter = Filter { max_words: 40, max_dropped_share: 0.6, ..Filter::NONE };
        change(&mut filter);
        filter
    }

    fn kept(filter: &Filter) -> String {
        super::filter(&Page::read(HTML), EXTRACTED.trim(), filter)
    }

    fn without(dropped: &[&str]) -> String {
        let paragraphs = EXTRACTED.trim().split("\n\n").filter(|p| !dropped.contains(p));
        paragraphs.collect::<Vec<_>>().join("\n\n")
    }

    #[test]
    fn drops_paragraphs_outside_the_article_container() {
        for share in [0.7, 0.85] {
            assert_eq!(kept(&only(|f| f.container_share = share)), without(&OUTSIDE), "share {share}");
        }
    }

    #[test]
    fn drops_paragraphs_of_link_text() {
        assert_eq!(kept(&only(|f| f.max_link_share = 0.8)), without(&[LINKS]));
    }

    #[test]
    fn drops_paragraphs_in_marked_elements_below_the_container() {
        // The body's "with-sidebar" class marks every paragraph's ancestor, and is not asked.
        assert_eq!(kept(&only(|f| f.marked = true)), without(&[SHARE, CAPTION]));
    }

    #[test]
    fn drops_headings_after_the_last_paragraph_kept() {
        let filter = only(|f| {
            f.container_share = 0.7;
            f.trailing_headings = true;
        });
        let mut dropped = OUTSIDE.to_vec();
        dropped.push(HEADING);
        assert_eq!(kept(&filter), without(&dropped));
    }

    #[test]
    fn keeps_paragraphs_longer_than_max_words() {
        let filter = only(|f| {
            f.container_share = 0.7;
            f.max_words = 10;
        });
        assert_eq!(kept(&filter), without(&[OUTSIDE[0]]));
    }

    #[test]
    fn keeps_the_text_whole_when_too_much_would_go() {
        let filter = only(|f| {
            f.container_share = 0.7;
            f.max_dropped_share = 0.05;
        });
        assert_eq!(kept(&filter), EXTRACTED.trim());
    }

    #[test]
    fn keeps_what_it_cannot_find_and_everything_under_no_filter() {
        let text = format!("{}\n\nA line the page never had, about something else", EXTRACTED.trim());
        let all_on = Filter {
            container_share: 0.7,
            max_link_share: 0.8,
            marked: true,
            trailing_headings: true,
            max_words: 40,
            max_dropped_share: 0.6,
        };
        let page = Page::read(HTML);
        assert!(
            super::filter(&page, &text, &all_on).ends_with("A line the page never had, about something else")
        );
        assert_eq!(super::filter(&page, &text, &Filter::NONE), text);
    }

    #[test]
    fn a_page_without_a_body_keeps_everything() {
        let page = Page::read("");
        let filter = only(|f| f.marked = true);
        assert_eq!(super::filter(&page, EXTRACTED.trim(), &filter), EXTRACTED.trim());
    }
}
