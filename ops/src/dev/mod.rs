//! `feedback-ops dev`: the whole application on loopback, as it runs in AWS.
//!
//! | part | module |
//! |---|---|
//! | what to run, from `template.yaml` | [`model`] |
//! | moto (or `--endpoint`), the table and queues | [`backend`] |
//! | the function processes, Runtime API, `REPORT` lines | [`host`] |
//! | API Gateway, the ops API and the web pages on one port | [`server`] |
//! | the SQS event source mapping | [`event_source`] |
//! | logs, X-Ray segments, EMF metrics | [`telemetry`] |
//! | the service map from traces | [`service_map`] |

pub mod backend;
pub mod event_source;
pub mod host;
pub mod model;
pub mod server;
pub mod service_map;
pub mod telemetry;

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::template::Template;
use host::FunctionHost;
use model::StackModel;
use telemetry::{LogEntry, Telemetry};

/// Why the stack could not start: one line that says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// A missing tool, a taken port, an endpoint that refuses.
    #[error("{0}")]
    Setup(String),
    /// The template cannot be read or resolved.
    #[error(transparent)]
    Template(#[from] crate::template::TemplateError),
    /// An intrinsic the local stack cannot resolve.
    #[error(transparent)]
    Model(#[from] model::ModelError),
}

/// How to run the stack.
#[derive(Clone, Debug)]
pub struct DevOptions {
    /// The SAM template.
    pub template: PathBuf,
    /// The port for the API, the page and the console (0: any free port).
    pub port: u16,
    /// An AWS-compatible endpoint to use instead of starting moto.
    pub endpoint: Option<String>,
    /// The stack name physical names derive from.
    pub stack_name: String,
    /// The region.
    pub region: String,
    /// Execution environments per function.
    pub concurrency: usize,
    /// Where prebuilt binaries are (skips the build).
    pub bin_dir: Option<PathBuf>,
    /// Build with `--release`.
    pub release: bool,
    /// Overrides every queue's visibility timeout (seconds).
    pub visibility_timeout: Option<u32>,
    /// Print only the banner and errors, not every log line.
    pub quiet: bool,
}

/// Runs the stack until Ctrl-C (or SIGTERM).
///
/// # Errors
/// [`DevError`] when it cannot start.
pub async fn run(options: DevOptions) -> Result<(), DevError> {
    let started = Instant::now();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|e| {
            DevError::Setup(format!(
                "port {} is taken ({e}): stop what uses it, or pass --port N (make demo PORT=N)",
                options.port
            ))
        })?;
    let address = listener
        .local_addr()
        .map_err(|e| DevError::Setup(e.to_string()))?;
    let template = Template::load(&options.template)?;
    let mut model = StackModel::read(&template, &options.stack_name, &options.region)?;
    if let Some(seconds) = options.visibility_timeout {
        for queue in &mut model.queues {
            queue.visibility_timeout = seconds;
        }
    }
    let project = options
        .template
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();

    let binaries = match &options.bin_dir {
        Some(dir) => prebuilt(dir),
        None => build(&project, options.release)?,
    };

    let (moto, endpoint) = if let Some(endpoint) = &options.endpoint {
        (None, endpoint.clone())
    } else {
        say(&format!(
            "starting moto from {}",
            backend::moto_path(&project).display()
        ));
        let moto = backend::start_moto(&project).await?;
        let endpoint = moto.endpoint.clone();
        (Some(moto), endpoint)
    };
    let config = backend::sdk_config(&endpoint, &model.region).await;
    let (physical, provisioned) = backend::provision(&model, &config).await?;
    model.resolve_functions(&template, &physical)?;
    for line in &provisioned {
        say(line);
    }

    let telemetry = Telemetry::default();
    if !options.quiet {
        telemetry.echo_to_stdout();
    }
    let functions = start_functions(&model, &binaries, &endpoint, &telemetry, &options).await?;
    start_pollers(&model, &physical, &config, &functions, &telemetry, &options)?;

    let declared = crate::deps::wiring::declared(&template)
        .map(|d| d.graph)
        .unwrap_or_default();
    let url = format!("http://{address}");
    let stack = stack_info(
        &model,
        &physical,
        &endpoint,
        &url,
        &functions,
        moto.as_ref(),
    );
    let shared = Arc::new(server::Shared {
        stack,
        model,
        functions: functions.clone(),
        telemetry,
        declared,
        web_dir: project.join("web"),
    });
    let app = server::router(shared).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    banner(&url, started.elapsed());

    shutdown_signal().await;
    say(if moto.is_some() {
        "stopping every function process and moto"
    } else {
        "stopping every function process"
    });
    for function in functions.values() {
        function.stop();
    }
    server.abort();
    // The supervisors drop their processes (kill on drop) as they return.
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(moto);
    Ok(())
}

/// Starts every function's environments and waits for their init.
async fn start_functions(
    model: &StackModel,
    binaries: &HashMap<String, PathBuf>,
    endpoint: &str,
    telemetry: &Telemetry,
    options: &DevOptions,
) -> Result<BTreeMap<String, Arc<FunctionHost>>, DevError> {
    let base_env: Vec<(String, String)> = [
        ("AWS_REGION", model.region.as_str()),
        ("AWS_DEFAULT_REGION", model.region.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_ENDPOINT_URL", endpoint),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let mut functions = BTreeMap::new();
    for spec in &model.functions {
        let binary = binaries.get(&spec.binary).cloned().ok_or_else(|| {
            DevError::Setup(format!(
                "no binary {} for {}: build it with `cargo build --bins`, or check --bin-dir",
                spec.binary, spec.name
            ))
        })?;
        let host = FunctionHost::new(
            spec.clone(),
            &model.region,
            binary,
            base_env.clone(),
            telemetry.clone(),
            options.concurrency.max(1),
        );
        host.start();
        functions.insert(spec.name.clone(), host);
    }
    wait_until_ready(&functions).await?;
    for function in functions.values() {
        let (_, _, inits) = function.counters();
        let inits: Vec<String> = inits.iter().map(|ms| format!("{ms:.1} ms")).collect();
        say(&format!(
            "{} version {} (alias {}): {} environment(s), init {}",
            function.spec.name,
            host::VERSION,
            function.spec.alias.as_deref().unwrap_or("-"),
            inits.len(),
            inits.join(", ")
        ));
    }
    for name in &model.not_hosted {
        say(&format!(
            "{name}: not run locally (nothing invokes it without AWS)"
        ));
    }
    Ok(functions)
}

/// Starts the SQS event source mappings: `concurrency` pollers per mapping.
fn start_pollers(
    model: &StackModel,
    physical: &model::Physical,
    config: &aws_config::SdkConfig,
    functions: &BTreeMap<String, Arc<FunctionHost>>,
    telemetry: &Telemetry,
    options: &DevOptions,
) -> Result<(), DevError> {
    let sqs = aws_sdk_sqs::Client::new(config);
    for function in functions.values() {
        for source in &function.spec.sqs_sources {
            let queue = model
                .queues
                .iter()
                .find(|q| q.logical_id == source.queue)
                .ok_or_else(|| DevError::Setup(format!("no queue {}", source.queue)))?;
            let mapping = event_source::Mapping {
                queue_url: physical_ref(physical, &queue.logical_id),
                queue_arn: queue.arn.clone(),
                queue_name: queue.name.clone(),
                region: model.region.clone(),
                source: source.clone(),
            };
            for _ in 0..options.concurrency.max(1) {
                tokio::spawn(event_source::poll(
                    sqs.clone(),
                    mapping.clone(),
                    Arc::clone(function),
                    telemetry.clone(),
                ));
            }
        }
    }

    Ok(())
}

/// What `GET /ops/api/stack` answers.
fn stack_info(
    model: &StackModel,
    physical: &model::Physical,
    endpoint: &str,
    url: &str,
    functions: &BTreeMap<String, Arc<FunctionHost>>,
    moto: Option<&backend::Moto>,
) -> Value {
    json!({
        "stack_name": model.stack_name,
        "region": model.region,
        "endpoint": endpoint,
        "url": url,
        "stage": model.api.stage,
        "api": model.api.name,
        "tables": model.tables.iter().map(|t| &t.name).collect::<Vec<_>>(),
        "queues": model.queues.iter().map(|q| json!({
            "name": q.name,
            "url": physical_ref(physical, &q.logical_id),
            "visibility_timeout": q.visibility_timeout,
            "redrive": q.redrive.as_ref().map(|(to, count)| json!({"to": to, "max_receive_count": count})),
        })).collect::<Vec<_>>(),
        "functions": functions.keys().collect::<Vec<_>>(),
        "moto_pid": moto.and_then(|m| m.pid),
        "not_hosted": model.not_hosted,
        "started_ms": telemetry::now_ms(),
    })
}

fn physical_ref(physical: &model::Physical, logical_id: &str) -> String {
    physical.reference(logical_id).unwrap_or_default()
}

fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "==> {line}");
}

fn banner(url: &str, took: Duration) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\nready: {url}  (started in {:.1} s; Ctrl-C stops everything)\n\n  \
         curl -s -X POST {url}/comments -H 'content-type: application/json' -d '{{\"text\":\"Great talk!\",\"rating\":5}}'\n  \
         curl -s {url}/comments\n  \
         curl -s {url}/status\n\n  \
         ops API: {url}/ops/api/stack  …/functions  …/logs  …/traces  …/metrics  …/graph\n",
        took.as_secs_f64()
    );
    let _ = out.flush();
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match terminate.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = interrupt => {}
            () = terminated => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

async fn wait_until_ready(functions: &BTreeMap<String, Arc<FunctionHost>>) -> Result<(), DevError> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut all_ready = true;
        for function in functions.values() {
            let (ready, failures) = function.readiness();
            if let Some(failure) = failures.first() {
                return Err(DevError::Setup(format!(
                    "{} failed to start: {failure}",
                    function.spec.name
                )));
            }
            all_ready &= ready;
        }
        if all_ready {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(DevError::Setup(
                "the functions did not finish init within 20 s".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn prebuilt(dir: &Path) -> HashMap<String, PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_file())
        .filter_map(|entry| Some((entry.file_name().into_string().ok()?, entry.path())))
        .collect()
}

/// Builds every binary of the workspace with cargo, its progress on the terminal, and
/// returns them by name from cargo's own build messages.
fn build(project: &Path, release: bool) -> Result<HashMap<String, PathBuf>, DevError> {
    say("building the function binaries (the first build takes a few minutes)");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = std::process::Command::new(&cargo);
    command
        .args([
            "build",
            "--workspace",
            "--bins",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(project)
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped());
    if release {
        command.arg("--release");
    }
    let output = command.output().map_err(|e| {
        DevError::Setup(format!(
            "cannot run {cargo} ({e}): install Rust with rustup (https://rustup.rs)"
        ))
    })?;
    if !output.status.success() {
        return Err(DevError::Setup(
            "the build failed: fix the errors cargo printed above, then run it again".into(),
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter_map(|message| {
            Some((
                message["target"]["name"].as_str()?.to_owned(),
                PathBuf::from(message["executable"].as_str()?),
            ))
        })
        .collect())
}

/// One log line for the terminal: time, function, level, message.
pub fn echo_line(entry: &LogEntry) -> Option<String> {
    use std::fmt::Write as _;
    let time =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(entry.timestamp_ms) * 1_000_000)
            .ok()?
            .format(time::macros::format_description!(
                "[hour]:[minute]:[second].[subsecond digits:3]"
            ))
            .ok()?;
    let (level, message) = match &entry.json {
        Some(json) if json.get("_aws").is_some() => return None,
        Some(json) => {
            let mut message = json["message"].as_str().unwrap_or_default().to_owned();
            if let Some(id) = &entry.correlation_id {
                let _ = write!(message, "  correlation_id={id}");
            }
            if let Some(error) = json.get("error").and_then(Value::as_str) {
                let _ = write!(message, "  error={error}");
            }
            (entry.level.clone().unwrap_or_default(), message)
        }
        None => (
            entry.level.clone().unwrap_or_default(),
            entry.message.clone(),
        ),
    };
    Some(format!(
        "{time} {:<16} {level:<5} {message}",
        entry.function
    ))
}
