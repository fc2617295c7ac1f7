//! The X-Ray trace header: `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`.
//!
//! The type, its parsing and printing and the id rules are [`ops_wire::trace`]'s, so the
//! kit and the local cloud read and write one format. A header the kit cannot read
//! means "untraced", never an error: callers turn the parse error into `None`.

pub use ops_wire::trace::TraceHeader;
use ops_wire::trace::{SegmentId, TraceId};

/// Whether `value` is a trace id: `1-{8 hex}-{24 hex}`.
pub fn is_trace_id(value: &str) -> bool {
    TraceId::parse(value).is_ok()
}

/// Whether `value` is a segment id: 16 hex digits.
pub fn is_segment_id(value: &str) -> bool {
    SegmentId::parse(value).is_ok()
}

/// A new random 64-bit segment id as 16 hex digits.
pub fn new_segment_id() -> String {
    SegmentId::generate().into()
}

/// A new trace id for a trace that starts now.
pub fn new_trace_id() -> String {
    TraceId::generate().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_pass_their_own_checks_and_other_text_does_not() {
        assert!(is_trace_id(&new_trace_id()));
        assert!(is_segment_id(&new_segment_id()));
        assert!(!is_trace_id("1-xyz-abc"));
        assert!(!is_segment_id(&new_trace_id()));
    }
}
