//! The X-Ray trace header: `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`.
//!
//! Parsing, printing and the id rules are [`ops_wire::trace`]'s. The kit keeps its own
//! [`TraceHeader`] for one reason: its `parse` returns `Option`, because a header the
//! kit cannot read means "untraced", never an error, and callers chain it that way.

use std::fmt;

use ops_wire::trace::{self as wire, SegmentId, TraceId};

/// A parsed `X-Amzn-Trace-Id` / `_X_AMZN_TRACE_ID` / SQS `AWSTraceHeader` value: the
/// fields of [`ops_wire::trace::TraceHeader`], into which it converts both ways.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceHeader {
    /// The trace.
    pub root: TraceId,
    /// The id of the segment or subsegment this work is a child of.
    pub parent: Option<SegmentId>,
    /// The sampling decision; `None` when the caller left it to us.
    pub sampled: Option<bool>,
}

impl TraceHeader {
    /// Parses a header as [`ops_wire::trace::TraceHeader::parse`] does; fields other
    /// than `Root`, `Parent` and `Sampled` (such as `Lineage`) are ignored. Returns
    /// `None` without exactly one well-formed `Root`.
    pub fn parse(raw: &str) -> Option<Self> {
        wire::TraceHeader::parse(raw).ok().map(Self::from)
    }

    /// A new trace, sampled, for work that starts without one.
    pub fn new_root() -> Self {
        wire::TraceHeader::new_root().into()
    }

    /// The same trace with another parent: how a call is made a child of a subsegment.
    #[must_use]
    pub fn with_parent(&self, parent: &SegmentId) -> Self {
        Self {
            parent: Some(parent.clone()),
            ..self.clone()
        }
    }

    /// Whether segments should be sent for this trace.
    pub fn is_sampled(&self) -> bool {
        self.sampled == Some(true)
    }
}

impl From<wire::TraceHeader> for TraceHeader {
    fn from(header: wire::TraceHeader) -> Self {
        let wire::TraceHeader {
            root,
            parent,
            sampled,
        } = header;
        Self {
            root,
            parent,
            sampled,
        }
    }
}

impl From<TraceHeader> for wire::TraceHeader {
    fn from(header: TraceHeader) -> Self {
        let TraceHeader {
            root,
            parent,
            sampled,
        } = header;
        Self {
            root,
            parent,
            sampled,
        }
    }
}

/// As [`ops_wire::trace::TraceHeader`] prints it.
impl fmt::Display for TraceHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        wire::TraceHeader::from(self.clone()).fmt(f)
    }
}

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
    fn lambdas_header_parses_and_prints_back() {
        let raw = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        let header = TraceHeader::parse(raw).unwrap();
        assert_eq!(header.root.as_str(), "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(
            header.parent.as_ref().map(SegmentId::as_str),
            Some("53995c3f42cd8ad8")
        );
        assert!(header.is_sampled());
        assert_eq!(header.to_string(), raw);
    }

    #[test]
    fn lineage_is_ignored_and_unsampled_is_kept() {
        let header = TraceHeader::parse(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0;Lineage=a87bd80c:1|68fd508a:5",
        )
        .unwrap();
        assert_eq!(header.sampled, Some(false));
        assert!(!header.is_sampled());
    }

    #[test]
    fn a_header_without_a_valid_root_is_none() {
        for bad in [
            "",
            "Parent=53995c3f42cd8ad8",
            "Root=2-5759e988-bd862e3fe1be46a994272793",
            "Root=1-xyz-abc",
            "garbage",
        ] {
            assert_eq!(TraceHeader::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn new_ids_have_the_documented_shapes() {
        assert!(is_trace_id(&new_trace_id()));
        assert!(is_segment_id(&new_segment_id()));
        assert_ne!(new_segment_id(), new_segment_id());
        assert!(!is_trace_id("1-5759e988-bd862e3fe1be46a99427279"));
        assert!(!is_segment_id("53995c3f42cd8ad8 "));
    }

    #[test]
    fn with_parent_keeps_the_trace_and_the_decision() {
        let parent = SegmentId::parse("0123456789abcdef").unwrap();
        let header = TraceHeader::new_root().with_parent(&parent);
        assert!(header.is_sampled());
        assert_eq!(header.parent, Some(parent));
    }

    #[test]
    fn the_kits_header_and_the_wire_header_convert_without_loss() {
        let raw = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8";
        let wire = wire::TraceHeader::parse(raw).unwrap();
        let kit = TraceHeader::from(wire.clone());
        assert_eq!(kit.to_string(), wire.to_string());
        assert_eq!(wire::TraceHeader::from(kit), wire);
    }
}
