//! The segments Lambda's service records for a traced invocation: the `AWS::Lambda`
//! service segment (a child of the caller) and the `AWS::Lambda::Function` segment the
//! function's own subsegments hang from (its id is the `Parent` of the trace header the
//! function gets).

use ops_wire::segment::SegmentDocument;
use serde_json::json;

/// One invocation, as the segments describe it.
#[derive(Clone, Debug)]
pub(super) struct InvocationTrace<'a> {
    /// The trace's root id.
    pub root: &'a str,
    /// The caller's segment, if any.
    pub parent: Option<&'a str>,
    /// The id the function segment takes.
    pub function_segment: &'a str,
    /// The physical function name.
    pub function_name: &'a str,
    /// The name the console shows (`add-comments`).
    pub function: &'a str,
    /// The ARN the caller invoked.
    pub invoked_arn: &'a str,
    /// The version that ran.
    pub version: &'a str,
    /// The request id.
    pub request_id: &'a str,
    /// Start and end, seconds since the epoch.
    pub start: f64,
    /// The end.
    pub end: f64,
    /// An invocation error.
    pub is_error: bool,
    /// The first invocation of its process.
    pub cold_start: bool,
}

/// The service segment and the function segment; `None` for a document the segment
/// type refuses (a root that is not a trace id), which is then not recorded.
pub(super) fn facade(trace: &InvocationTrace<'_>) -> Option<[SegmentDocument; 2]> {
    let service_segment = ops_wire::trace::SegmentId::generate().to_string();
    let mut service = json!({
        "trace_id": trace.root,
        "id": service_segment,
        "name": trace.function_name,
        "origin": "AWS::Lambda",
        "start_time": trace.start,
        "end_time": trace.end,
        "aws": {"request_id": trace.request_id, "resource_arn": trace.invoked_arn},
    });
    if let Some(parent) = trace.parent {
        service["parent_id"] = json!(parent);
    }
    let function = json!({
        "trace_id": trace.root,
        "id": trace.function_segment,
        "parent_id": service_segment,
        "name": trace.function_name,
        "origin": "AWS::Lambda::Function",
        "start_time": trace.start,
        "end_time": trace.end,
        "fault": trace.is_error,
        "aws": {
            "function": trace.function,
            "function_arn": trace.invoked_arn,
            "function_version": trace.version,
            "request_id": trace.request_id,
            "cold_start": trace.cold_start,
        },
    });
    Some([
        serde_json::from_value(service).ok()?,
        serde_json::from_value(function).ok()?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_function_segment_hangs_from_the_service_segment_under_the_caller() {
        let [service, function] = facade(&InvocationTrace {
            root: "1-5e1b4151-5ac6c58f5b5dbd0e1ddc2a2b",
            parent: Some("cccccccccccccccc"),
            function_segment: "ffffffffffffffff",
            function_name: "stack-f",
            function: "f",
            invoked_arn: "arn:aws:lambda:r:1:function:stack-f:live",
            version: "2",
            request_id: "r",
            start: 1.0,
            end: 2.0,
            is_error: true,
            cold_start: false,
        })
        .unwrap();
        assert_eq!(
            service
                .parent_id
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("cccccccccccccccc")
        );
        assert_eq!(
            function.parent_id.as_ref().map(ToString::to_string),
            Some(service.id.to_string())
        );
        assert_eq!(function.id.to_string(), "ffffffffffffffff");
        assert!(function.fault && !service.fault);
        assert_eq!(function.aws.as_ref().unwrap()["function_version"], "2");
    }
}
