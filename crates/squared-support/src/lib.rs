//! The hand-written items that generated server code names beside dropshot: query extractors
//! dropshot's own `Query` cannot be (`ArrayQuery` and the readers of arrays and objects written
//! into a query), `OptionalBody`, and the dispatcher for paths dropshot's router cannot hold
//! (`dispatch`).
//!
//! Every crate generated from a spec depends on this one (the workspace's `squared-api`
//! re-exports it, a crate made by `cargo xtask generate` names it in its `Cargo.toml`), so it
//! knows nothing of any one API: no storage, no authentication, no types of ours.

mod array_query;
mod dispatch;
mod optional_body;

pub use array_query::{
    ArrayQuery, ObjectKeys, ObjectText, RepeatedKeys, comma_separated, object_from_text, pipe_separated, repeated,
    space_separated,
};
pub use dispatch::{
    AnyPath, Dispatched, RawRequest, header_holds, match_segments, merged_document, path_from_segments, query_holds,
    reroute,
};
pub use optional_body::OptionalBody;
