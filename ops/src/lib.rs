//! # feedback-ops
//!
//! The operations CLI of online-feedback (`feedback-ops`). It depends on no function
//! crate and not on `lambda_runtime`: it reads the template (through the local cloud's
//! CloudFormation reader) and talks to AWS (or moto) through the SDK.
//!
//! | module | holds |
//! |---|---|
//! | [`aws`] | the SDK configuration and its errors in one line |
//! | [`deps`] | the dependency graph: tags, wiring, drift, queries, exports, live mode |
//! | [`dev`] | the local stack: the local cloud wired from the template, the ops API, the web files |
//! | [`dlq`] | the dead-letter queue: list it, redrive it |
//! | [`load`] | load and chaos with exact accounting: every comment stored once, dead-lettered or lost |
//! | [`release`] | releases: deploy locally, prune, rollback, classify |

pub mod aws;
pub mod deps;
pub mod dev;
pub mod dlq;
pub mod load;
pub mod release;
