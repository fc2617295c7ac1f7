//! X-Ray: the daemon that receives the functions' segments over UDP, the store that
//! assembles them (and the segments the local cloud records for the services it plays)
//! into traces, and the views the console reads.
//!
//! | file | owns |
//! |---|---|
//! | `daemon.rs` | the UDP listener and the datagram format |
//! | `store.rs` | traces by id, bounded |
//! | `view.rs` | trace summaries, filters and waterfall spans |

mod daemon;
mod store;
mod view;

pub use daemon::{Received, XrayDaemon};
pub use store::{MAX_SEGMENTS_PER_TRACE, Segment, SegmentSource, TraceStore};
pub use view::{Span, TraceFilter, TraceStatus, TraceSummary, spans, summarize};
