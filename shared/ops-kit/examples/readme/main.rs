//! The README's snippet ("Adding the ops kit to another function"), compiled and run.
//!
//! `snippet.rs` is the README's code block byte for byte, so what a reader copies is
//! what builds here; the repository's `tests/integration/ops_kit_examples.rs` fails
//! when the two differ, and runs this binary under a Lambda Runtime API. The block is
//! included rather than being the crate root because it has no crate doc (the kit's
//! lints ask for one) and is laid out for the page, not for rustfmt, which leaves
//! included files alone.
//!
//! Run it under any Lambda Runtime API, with what Lambda sets and the kit's one
//! required variable:
//!
//! ```text
//! AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 AWS_LAMBDA_FUNCTION_NAME=orders \
//! AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
//! METRICS_NAMESPACE=Examples cargo run -p ops-kit --example readme
//! ```
//!
//! It answers any JSON event with the event itself.

include!("snippet.rs");
