//! Stop words: the English words a stage looks past. There are four lists, not one, because each
//! stage asks a different question of them and each list was tuned with that stage's eval:
//!
//! - [`PROSE_MARKERS`] (`clean`): their share of a line tells running prose from menus and
//!   link lists (jusText's stopword density), so frequent words of news prose count ("told",
//!   "last", "first", "still", "may"); `clean`'s density bounds were set with this list on the
//!   extraction set.
//! - [`NON_TOPICAL`] (`dedupe`): words that say nothing about which story a text tells, left out
//!   of TF-IDF terms and entity names. Weekdays are kept as terms: the day an event happened
//!   helps to tell two events of one kind apart.
//! - [`NEWS_FILLER`] (`summarize`): words a model's summary may use without the article
//!   backing them and that are never names: function words plus reporting words ("said",
//!   "according", "summary"), titles ("Mr"), weekdays, small numbers and the vaguest nouns
//!   ("people", "time").
//! - [`FUNCTION_WORDS`] (`keypoints`): grammar only ("although", "whether", "upon"), left out of
//!   the terms two outlets' sentences are matched on and of their names (a capitalised one
//!   opening a sentence, "He", "The", would otherwise count as a name); reporting words stay
//!   terms.
//!
//! One list for all (their union, 183 words) was measured and changes what the stages do: the
//! plain-text extraction F1 falls from 0.756 to 0.744 (`briefd eval extraction`), same-story
//! pairwise F1 from 0.862 to 0.861 (`briefd eval same-story`), and `briefd eval agreement`
//! finds more false agreements (3.26 % of points against 2.69 %). So they stay apart, together.

/// A sorted list of lower-case words.
#[derive(Debug, Clone, Copy)]
pub struct StopWords(&'static [&'static str]);

impl StopWords {
    /// Whether `word` (lower-case) is on the list.
    pub fn contains(&self, word: &str) -> bool {
        self.0.binary_search(&word).is_ok()
    }

    /// The words, sorted.
    pub fn words(&self) -> &'static [&'static str] {
        self.0
    }
}

/// Words whose share marks a line as prose (jusText's stopword density).
pub const PROSE_MARKERS: StopWords = StopWords(&[
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as",
    "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can",
    "could", "did", "do", "does", "doing", "down", "during", "each", "few", "first", "for", "from",
    "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself",
    "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "last", "many", "may", "me",
    "might", "more", "most", "much", "must", "my", "myself", "new", "no", "nor", "not", "now", "of", "off",
    "on", "once", "one", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "said",
    "same", "she", "should", "since", "so", "some", "still", "such", "than", "that", "the", "their",
    "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "though", "through",
    "to", "told", "too", "two", "under", "until", "up", "us", "very", "was", "we", "were", "what", "when",
    "where", "which", "while", "who", "whom", "why", "will", "with", "would", "year", "years", "you", "your",
    "yours", "yourself", "yourselves",
]);

/// Words that say nothing about which story a text tells.
pub const NON_TOPICAL: StopWords = StopWords(&[
    "about", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "because", "been", "before", "being", "between", "both", "but", "by", "can", "could", "did", "do",
    "does", "during", "each", "few", "for", "from", "had", "has", "have", "he", "her", "here", "hers", "him",
    "his", "how", "if", "in", "into", "is", "it", "its", "just", "me", "more", "most", "my", "no", "not",
    "now", "of", "on", "once", "one", "only", "or", "other", "our", "out", "over", "said", "same", "says",
    "she", "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your",
]);

/// Function words and news filler: what a summary may say that the article need not back.
pub const NEWS_FILLER: StopWords = StopWords(&[
    "a", "about", "above", "according", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "article", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "could", "did", "do", "does", "doing", "down", "dr", "during", "each", "few", "for",
    "friday", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
    "him", "himself", "his", "how", "however", "i", "if", "in", "including", "into", "is", "it", "its",
    "itself", "just", "many", "me", "monday", "more", "most", "mr", "mrs", "ms", "much", "my", "myself",
    "new", "news", "no", "nor", "not", "now", "of", "off", "on", "once", "one", "only", "or", "other", "our",
    "ours", "out", "over", "own", "people", "report", "reported", "reports", "said", "same", "saturday",
    "says", "she", "should", "so", "some", "such", "summary", "sunday", "than", "that", "the", "their",
    "theirs", "them", "then", "there", "these", "they", "this", "those", "three", "through", "thursday",
    "time", "to", "too", "tuesday", "two", "under", "until", "up", "very", "was", "we", "wednesday", "were",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "year",
    "years", "you", "your", "yours",
]);

/// Grammatical words that say nothing of a fact.
pub const FUNCTION_WORDS: StopWords = StopWords(&[
    "a", "about", "above", "after", "again", "against", "all", "also", "although", "among", "an", "and",
    "another", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between",
    "both", "but", "by", "can", "could", "did", "do", "does", "down", "during", "each", "either", "even",
    "ever", "every", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers",
    "him", "his", "how", "however", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "many",
    "may", "more", "most", "much", "must", "my", "no", "nor", "not", "of", "on", "once", "only", "or",
    "other", "our", "ours", "over", "same", "she", "should", "since", "so", "some", "such", "than", "that",
    "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "though", "through",
    "thus", "to", "too", "under", "until", "upon", "very", "was", "we", "were", "what", "when", "where",
    "whether", "which", "while", "who", "whom", "whose", "why", "will", "with", "within", "without", "would",
    "yet", "you", "your",
]);

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [(&str, StopWords); 4] = [
        ("PROSE_MARKERS", PROSE_MARKERS),
        ("NON_TOPICAL", NON_TOPICAL),
        ("NEWS_FILLER", NEWS_FILLER),
        ("FUNCTION_WORDS", FUNCTION_WORDS),
    ];

    /// Lookup is a binary search, which misses words on an unsorted list.
    #[test]
    fn lists_are_sorted_lower_case_and_without_repeats() {
        for (name, list) in ALL {
            assert!(list.words().windows(2).all(|w| w[0] < w[1]), "{name} is not strictly sorted");
            assert!(list.words().iter().all(|w| *w == w.to_lowercase()), "{name} has a capital");
            assert!(list.words().iter().all(|w| list.contains(w)), "{name} misses one of its words");
        }
    }

    #[test]
    fn each_list_answers_its_own_question() {
        assert!(PROSE_MARKERS.contains("told") && !NON_TOPICAL.contains("told"));
        assert!(NEWS_FILLER.contains("monday") && !NON_TOPICAL.contains("monday"));
        assert!(FUNCTION_WORDS.contains("whether") && !FUNCTION_WORDS.contains("said"));
        assert!(!NEWS_FILLER.contains("The"), "lookups expect lower case");
    }
}
