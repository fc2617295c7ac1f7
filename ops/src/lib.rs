//! # feedback-ops
//!
//! The operations CLI of online-feedback (`feedback-ops`). It depends on no function
//! crate and not on `lambda_runtime`: it reads the template and talks to AWS (or moto)
//! through the SDK.
//!
//! | module | holds |
//! |---|---|
//! | [`template`] | `template.yaml` in CloudFormation's long form; references; resource names |
//! | [`deps`] | the dependency graph: tags, wiring, drift, queries, exports, live mode |
//! | [`dev`] | the local stack: moto, the Lambda host, API Gateway, the SQS event source, X-Ray, the ops API |

pub mod deps;
pub mod dev;
pub mod template;
