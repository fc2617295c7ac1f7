//! Lambda: functions run as Lambda runs them.
//!
//! | file | owns |
//! |---|---|
//! | `runtime_api.rs` | the Runtime API one process polls |
//! | `process.rs` | a process with Lambda's environment; its pipes; its peak memory |
//! | `function.rs` | a function: its environments, the invocations waiting, faults, counters |
//! | `environment.rs` | one execution environment's life: spawn, init, invoke, timeout, restart |
//! | `platform.rs` | `START`, `END`, `REPORT`, `INIT_REPORT` lines |
//! | `metrics.rs` | the `AWS/Lambda` metrics |
//! | `segments.rs` | the `AWS::Lambda` and `AWS::Lambda::Function` segments |
//! | `binaries.rs` | the function binaries, from cargo or a folder |

mod binaries;
mod environment;
mod function;
mod metrics;
mod platform;
mod process;
mod runtime_api;
mod segments;

pub use binaries::{BuildError, cargo_build, prebuilt};
pub use function::{
    Counters, EnvironmentInfo, EnvironmentState, FunctionHost, Functions, Invocation, Observers,
    Outcome, ShuttingDown, TraceContext, VERSION, invoked_arn,
};
pub use metrics::NAMESPACE;
pub use process::{LambdaEnvironment, log_stream_name, read_lines};
pub use runtime_api::{RuntimeAnswer, RuntimeApi, RuntimeEvent};
