//! X-Ray tracing without an X-Ray SDK: subsegments for AWS calls and key activities,
//! sent to the daemon address Lambda provides.
//!
//! - [`TraceHeader`]: the `Root=…;Parent=…;Sampled=…` header.
//! - [`SegmentDocument`]: what is sent, in the daemon's datagram. It, the ids and the
//!   header's grammar are [`ops_wire`]'s, shared with the local cloud that reads them.
//! - [`in_scope`], [`in_subsegment`], [`annotate`], [`current_header`]: the trace
//!   context of the work in progress, in a task-local.
//! - [`AwsCallInterceptor`]: one subsegment per AWS SDK call.
//! - [`SegmentSink`]: where subsegments go; [`UdpDaemonSink`] is the X-Ray daemon. An
//!   OpenTelemetry exporter could implement the trait instead.
//!
//! Nothing is recorded unless the trace is sampled (`Sampled=1`) and a sink is
//! installed, so an untraced function pays for a task-local lookup and no more.

mod context;
mod header;
mod interceptor;
mod resources;
mod segment;

pub use context::{TraceScope, annotate, current_header, current_scope, in_scope, in_subsegment};
pub use header::{TraceHeader, is_segment_id, is_trace_id, new_segment_id, new_trace_id};
pub use interceptor::AwsCallInterceptor;
pub use ops_wire::segment::{DAEMON_HEADER, SegmentDocument};
pub use ops_wire::trace::{SegmentId, TraceId};
pub use segment::{SegmentSink, UdpDaemonSink, install_sink};
