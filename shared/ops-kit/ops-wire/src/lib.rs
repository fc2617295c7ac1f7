//! # ops-wire
//!
//! The formats the ops kit writes and the local cloud reads, defined once. Both sides
//! name the same types and constants, so renaming a field breaks the build instead of
//! silently emptying a console panel.
//!
//! | module | format | written by | read by |
//! |---|---|---|---|
//! | [`trace`] | the X-Ray trace header `Root=…;Parent=…;Sampled=…`, trace and segment ids | API Gateway, the Lambda runtime API, the ops kit on outgoing calls and SQS messages | the ops kit, per invocation and per queued record |
//! | [`segment`] | X-Ray segment documents in the daemon's UDP datagram | the ops kit (one subsegment per AWS call and key activity), the local cloud's Lambda and API Gateway | the X-Ray daemon, the local cloud's X-Ray |
//! | [`emf`] | CloudWatch Embedded Metric Format log lines | the ops kit's metrics flush | CloudWatch Logs, the local cloud's CloudWatch |
//! | [`log_fields`] | the field names of JSON log lines | the ops kit's log layer | Logs Insights queries, the local cloud's log view |
//! | [`faults`] | fault injection settings, as environment variables and as JSON | the template, the local cloud, its console | the ops kit at init, the local cloud's API |
//! | [`queue`] | the SQS message attributes: correlation id, a dead-letter's reason | `add-comments`, `push-to-db` | `push-to-db`, `feedback-ops dlq` |
//!
//! The crate depends on `serde`, `serde_json`, `thiserror` and `uuid` only: no Lambda runtime,
//! async runtime or AWS SDK, so the emulator can use it without them.
//!
//! ```
//! use ops_wire::segment::{SegmentDocument, decode_datagram, encode_datagram};
//! use ops_wire::trace::{SegmentId, TraceHeader};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let header = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")?;
//! let mut document =
//!     SegmentDocument::new(header.root.clone(), SegmentId::generate(), "enqueue", 1.5);
//! document.end_time = Some(2.5);
//! let datagram = encode_datagram(&document);
//! assert_eq!(decode_datagram(datagram.as_bytes())?, document);
//! # Ok(())
//! # }
//! ```

pub mod emf;
pub mod faults;
pub mod log_fields;
pub mod queue;
pub mod segment;
pub mod trace;
