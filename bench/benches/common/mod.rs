//! What the init and deployable-size benchmarks share: how one init is timed, and the
//! configuration a function reads at init.

use std::path::Path;
use std::time::Duration;

use feedback_tests::FunctionProcess;

/// The configuration the functions read at init. The endpoints lead nowhere: no call
/// leaves the machine during init.
pub(crate) const INIT_ENV: [(&str, &str); 4] = [
    ("OPS_KIT_METRICS_NAMESPACE", "OnlineFeedback"),
    ("CORS_ALLOW_ORIGIN", "*"),
    ("TABLE_NAME", "comments"),
    (
        "QUEUE_URL",
        "http://127.0.0.1:9/000000000000/comments-queue",
    ),
];

/// Starts `binary` as `function` on a Runtime API and returns its init time: from
/// process start to its first poll, where Lambda ends the init phase.
///
/// # Panics
/// When the process does not poll within 30 s.
pub(crate) async fn init_time(binary: &Path, function: &str) -> Duration {
    let mut process =
        FunctionProcess::start_binary(binary, function, "http://127.0.0.1:9", &INIT_ENV).await;
    let polled = process.first_poll(Duration::from_secs(30)).await;
    polled - process.spawned_at
}
