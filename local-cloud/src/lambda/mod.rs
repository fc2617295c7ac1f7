//! Lambda: functions run as Lambda runs them.
//!
//! | file | owns |
//! |---|---|
//! | `runtime_api.rs` | the Runtime API one process polls |
//! | `process.rs` | a process with Lambda's environment; its pipes; its peak memory |
//! | `versions.rs` | a function: `$LATEST`, published versions, aliases and their weights, routing |
//! | `code.rs` | a version's code: the binary, its `CodeSha256`, the store that keeps it |
//! | `api.rs` | the Lambda API (`/2015-03-31/…`), wire-compatible with AWS's |
//! | `host.rs` | one version running: its environments, the invocations waiting, faults, counters |
//! | `environment.rs` | one execution environment's life: spawn, init, invoke, timeout, restart |
//! | `platform.rs` | `START`, `END`, `REPORT`, `INIT_REPORT` lines |
//! | `metrics.rs` | the `AWS/Lambda` metrics |
//! | `segments.rs` | the `AWS::Lambda` and `AWS::Lambda::Function` segments |
//! | `binaries.rs` | the function binaries, from cargo or a folder |

pub mod api;
mod binaries;
mod code;
mod environment;
mod host;
mod metrics;
mod platform;
mod process;
mod runtime_api;
mod segments;
mod versions;

pub use binaries::{BuildError, cargo_build, prebuilt};
pub use code::{Code, CodeStore};
pub use host::{
    Counters, EnvironmentInfo, EnvironmentState, FunctionHost, HostConfig, Invocation, Observers,
    Outcome, ShuttingDown, TraceContext, invoked_arn,
};
pub use metrics::NAMESPACE;
pub use process::{LambdaEnvironment, log_stream_name, read_lines};
pub use runtime_api::{RuntimeAnswer, RuntimeApi, RuntimeEvent};
pub use versions::{
    Alias, AliasUpdate, Configuration, ConfigurationUpdate, Function, FunctionSetup, Functions,
    LATEST, LambdaError, Version, find_function,
};
