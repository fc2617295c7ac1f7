//! Per-invocation cost of the ops kit: the same handler, bare and inside `OpsLayer`
//! with JSON logs and EMF metrics installed, in one process, one run.
//!
//! The handler does what a real one does for telemetry: one INFO line and one counter.
//! Bare, with no subscriber and no recorder, those are no-ops; with the kit they are
//! formatted and written. Write stdout somewhere cheap (`make bench` sends it to
//! /dev/null); the results are on stderr.

#![allow(clippy::print_stderr, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use lambda_runtime::tower::{Layer as _, Service, ServiceExt as _};
use lambda_runtime::{Context, Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

const INVOCATIONS: u32 = 20_000;
const ROUNDS: usize = 7;

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    tracing::info!(key_activity = "echo", "echoed");
    metrics::counter!("Echoes").increment(1);
    Ok(event.payload)
}

fn event(n: u32) -> LambdaEvent<Value> {
    let mut context = Context::default();
    context.request_id = format!("req-{n}");
    context.invoked_function_arn =
        "arn:aws:lambda:eu-west-1:123456789012:function:bench:live".into();
    context.xray_trace_id =
        Some("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".into());
    LambdaEvent::new(json!({"text": "hello"}), context)
}

/// Median time per invocation over `ROUNDS` rounds of `INVOCATIONS`.
async fn measure<S>(service: &mut S) -> Duration
where
    S: Service<LambdaEvent<Value>, Response = Value>,
    S::Error: std::fmt::Debug,
{
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for n in 0..INVOCATIONS {
            service.ready().await.unwrap().call(event(n)).await.unwrap();
        }
        rounds.push(started.elapsed() / INVOCATIONS);
    }
    rounds.sort();
    rounds[ROUNDS / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut bare = service_fn(handler);
    let bare_time = measure(&mut bare).await;

    // From here on the subscriber and recorder are global: the bare handler goes first.
    require_namespace();
    let ops = ops_kit::init("bench")?;
    let mut kit = ops.layer().layer(service_fn(handler));
    let kit_time = measure(&mut kit).await;

    eprintln!("per-invocation cost, median of {ROUNDS} rounds of {INVOCATIONS} invocations:");
    eprintln!("  bare handler           {:>8.2} µs", micros(bare_time));
    eprintln!("  handler + ops kit      {:>8.2} µs", micros(kit_time));
    eprintln!(
        "  ops kit adds           {:>8.2} µs per invocation ({:.1}× the bare handler)",
        micros(kit_time) - micros(bare_time),
        micros(kit_time) / micros(bare_time)
    );
    Ok(())
}

/// `ops_kit::init` needs a metrics namespace; the Makefile sets one, and the bench
/// fails with the variable's name otherwise.
fn require_namespace() {
    if ["OPS_KIT_METRICS_NAMESPACE", "METRICS_NAMESPACE"]
        .iter()
        .all(|name| std::env::var_os(name).is_none())
    {
        eprintln!("set OPS_KIT_METRICS_NAMESPACE (make bench does)");
        std::process::exit(2);
    }
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
