//! One subsegment and one latency data point per AWS SDK call.
//!
//! Add [`AwsCallInterceptor`] to an SDK client's config and every call it makes, in a
//! sampled trace, becomes a subsegment (`namespace: aws`, the operation, the table,
//! queue, topic, bucket, … it names, the request id, the HTTP status,
//! error/throttle/fault, retries), and its latency a `DependencyLatency` data point
//! dimensioned by that resource's short name. The call's `X-Amzn-Trace-Id` names the
//! subsegment as parent, so whatever the call causes downstream nests under it.
//!
//! The resource is read from the operation's typed input, once, before the call is
//! serialized: no request body is read. The kit knows the inputs of the services whose
//! cargo feature is on (`dynamodb`, `sqs`, `sns`, `s3`, `eventbridge`, `lambda`; see
//! `resources.rs` for the operations and members); any other call's dependency is its
//! service's name (`DynamoDB`, `SQS`, …).

use std::time::{Instant, SystemTime};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use ops_wire::trace::SegmentId;
use serde_json::{Value, json};

use super::context::{current_annotations, current_scope};
use super::header::TraceHeader;
use super::resources::{self, Resource};
use super::segment::{emit, finished_subsegment};
use crate::metrics::DEPENDENCY_LATENCY;

/// The SDK interceptor. Stateless: add the same one to every client.
#[derive(Debug, Clone, Copy, Default)]
pub struct AwsCallInterceptor;

/// What one call has gathered so far, kept in the call's config bag.
#[derive(Debug, Clone)]
struct CallRecord {
    started: Instant,
    started_at: SystemTime,
    /// `Some` when the call is traced: its subsegment id and the trace it is in.
    traced: Option<(SegmentId, TraceHeader)>,
    attempts: u32,
    /// What the operation's input names, if the kit knows it.
    resource: Option<Resource>,
}

impl Storable for CallRecord {
    type Storer = StoreReplace<Self>;
}

impl Intercept for AwsCallInterceptor {
    fn name(&self) -> &'static str {
        "ops-kit AwsCallInterceptor"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let traced = current_scope()
            .filter(super::TraceScope::is_recording)
            .and_then(|scope| scope.header().cloned())
            .map(|header| (SegmentId::generate(), header));
        cfg.interceptor_state().store_put(CallRecord {
            started: Instant::now(),
            started_at: SystemTime::now(),
            traced,
            attempts: 0,
            resource: resources::of(context.input()),
        });
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(record) = cfg.get_mut::<CallRecord>() {
            record.attempts += 1;
        }
        Ok(())
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(CallRecord {
            traced: Some((id, header)),
            ..
        }) = cfg.load::<CallRecord>()
        {
            let outgoing = header.with_parent(id.clone()).to_string();
            context
                .request_mut()
                .headers_mut()
                .insert("x-amzn-trace-id", outgoing);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(record) = cfg.load::<CallRecord>().cloned() else {
            return Ok(());
        };
        let (service, operation) = cfg
            .load::<Metadata>()
            .map_or(("AWS", "Unknown"), |m| (m.service(), m.name()));
        let dependency = record
            .resource
            .as_ref()
            .map_or_else(|| service.to_owned(), |r| r.dependency.clone());
        let elapsed = record.started.elapsed().as_secs_f64() * 1000.0;
        metrics::histogram!(DEPENDENCY_LATENCY, "dependency" => dependency).record(elapsed);

        let Some((id, header)) = record.traced else {
            return Ok(());
        };
        let response = context.response();
        let status = response.map(|r| r.status().as_u16());
        let request_id = response.and_then(|r| {
            r.headers()
                .get("x-amzn-requestid")
                .or_else(|| r.headers().get("x-amz-request-id"))
        });
        let throttled = status == Some(429)
            || response.is_some_and(|r| {
                r.headers()
                    .get("x-amzn-errortype")
                    .is_some_and(|t| t.contains("Throttl"))
            });
        let mut aws = json!({
            "operation": operation,
            "retries": record.attempts.saturating_sub(1),
        });
        if let Some(request_id) = request_id {
            aws["request_id"] = Value::from(request_id);
        }
        for (field, value) in record.resource.map(|r| r.fields).unwrap_or_default() {
            aws[field] = value;
        }
        let mut subsegment = finished_subsegment(header, id, service, record.started_at);
        subsegment.namespace = Some("aws".to_owned());
        subsegment.error = status.is_some_and(|s| (400..500).contains(&s));
        subsegment.throttle = throttled;
        // No answer at all (a timeout, a refused connection) is a fault too.
        subsegment.fault = status.is_none_or(|s| s >= 500);
        subsegment.annotations = current_annotations();
        subsegment.aws = Some(aws);
        subsegment.http = status.map(|s| json!({"response": {"status": s}}));
        emit(&subsegment);
        Ok(())
    }
}
