//! `briefd eval`: scores a stage against a labelled set, printing figures to quote.
//!
//! One module per set; each reads the set's files as `shared/eval/README.md` describes them.
//!
//! NOT WIRED YET: these files are not in `lib.rs`, so they are not compiled. To finish: add
//! `pub mod eval;` to lib.rs, `porter-stemmer`, `serde`, `serde_json` and `summarize` to briefd's
//! dependencies, and an `Eval` subcommand in main.rs calling `eval::summaries::run` (the
//! summarize branch's history has the ~25-line main.rs change). They were written but could not
//! be compiled before the session ended (candle rebuilds for briefd's feature set).

pub mod rouge;
pub mod summaries;
