//! SQS as Lambda's event source mapping uses it: pollers that receive batches with the
//! template's batch size and batching window, invoke the function through its alias,
//! delete what succeeded and leave the reported failures to come back after the
//! visibility timeout (and, past `maxReceiveCount`, to move to the dead-letter queue).
//! The queue itself is the backend's.
//!
//! | file | owns |
//! |---|---|
//! | `event.rs` | the SQS event, partial batch responses |
//! | `mapping.rs` | polling, batching, deleting, the queue's trace segment |
//! | `metrics.rs` | the `AWS/SQS` metrics: queue depth, age of the oldest message |

mod event;
mod mapping;
pub mod metrics;

pub use event::{event, failures, message_ids, record};
pub use mapping::{Mapping, delete, poll, receive_batch};
