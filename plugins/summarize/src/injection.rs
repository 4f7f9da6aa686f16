//! Instructions hidden in an article: the filter lives in `text::injection`, shared with the
//! keypoints and clean stages (defence in depth, issue 20); this re-export keeps summarize's
//! paths (`summarize::injection::find`) as they were.

pub use text::injection::{find, is_instruction, strip, Injections};
