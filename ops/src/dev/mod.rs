//! `feedback-ops dev`: the whole application on loopback, as it runs in AWS. The local
//! cloud (the `local-cloud` crate) emulates the services; this module wires them from the
//! template and serves them, with the ops API and the web files, on one port.
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | the wiring: build, backend, functions, event sources, server, shutdown |
//! | `api.rs` | the ops HTTP API under `/ops/api/` |
//! | `deployments.rs` | `POST /ops/api/deployments`: build, publish, and a CodeDeploy deployment through the preference |
//! | `service_map.rs` | the service map from traces, beside the declared graph |
//! | `web.rs` | the page and the console from `web/` |
//! | `guard.rs` | loopback host names only (no DNS rebinding) |
//! | `terminal.rs` | progress lines, the banner, the log tail |

pub mod api;
mod dead_letters;
pub mod deployments;
pub mod guard;
pub mod service_map;
pub mod terminal;
pub mod web;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{Method, Request, StatusCode};
use axum::response::Response;
use local_cloud::apigateway::Gateway;
use local_cloud::backend::{self, BackendError, FaultProxy, Moto};
use local_cloud::cloudformation::{ModelError, Physical, StackModel, Template, TemplateError};
use local_cloud::cloudwatch::{Alarms, CloudWatch, MetricFilter};
use local_cloud::codedeploy::Deployments;
use local_cloud::lambda::{
    self, BuildError, CodeStore, Function, FunctionSetup, Functions, Observers,
};
use local_cloud::sqs;
use local_cloud::xray::TraceStore;
use serde::Serialize;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use terminal::say;

/// Why the stack could not start: one line that says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// A taken port, a function that does not start.
    #[error("{0}")]
    Setup(String),
    /// The template cannot be read or parsed.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// An intrinsic the local cloud cannot resolve.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// moto is missing or does not start, or the endpoint refuses a resource.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The binaries could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
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
    /// Build with this cargo profile instead.
    pub profile: Option<String>,
    /// Overrides every queue's visibility timeout (seconds).
    pub visibility_timeout: Option<u32>,
    /// Print only the banner and errors, not every log line.
    pub quiet: bool,
    /// How many times faster than the template alarm periods and deployment schedules
    /// run (1: real time).
    pub time_scale: u32,
    /// Template parameters that replace their defaults.
    pub parameter_overrides: Vec<(String, String)>,
}

/// A queue of the stack, as `GET /ops/api/stack` describes it.
#[derive(Clone, Debug, Serialize)]
pub struct QueueInfo {
    name: String,
    url: String,
    visibility_timeout: u32,
    redrive: Option<Redrive>,
}

/// A queue's redrive policy.
#[derive(Clone, Debug, Serialize)]
pub struct Redrive {
    to: String,
    max_receive_count: u32,
}

/// What `GET /ops/api/stack` answers.
#[derive(Clone, Debug, Serialize)]
pub struct StackInfo {
    stack_name: String,
    region: String,
    endpoint: String,
    url: String,
    stage: String,
    api: String,
    tables: Vec<String>,
    queues: Vec<QueueInfo>,
    functions: Vec<String>,
    moto_pid: Option<u32>,
    not_hosted: Vec<String>,
    started_ms: u64,
    /// The cargo profile the function binaries were built with, from the folder they
    /// are in (`debug`, `demo`, `release`): a debug build's init times are several times
    /// what the functions need.
    build_profile: String,
}

/// What the server's handlers share.
pub struct Shared {
    /// The stack.
    pub model: StackModel,
    /// The hosted functions, by name.
    pub functions: Arc<Functions>,
    /// API Gateway.
    pub gateway: Gateway,
    /// Logs and metrics.
    pub cloudwatch: CloudWatch,
    /// The template's alarms.
    pub alarms: Alarms,
    /// Deployments, and the hook reports they wait for.
    pub deployments: Deployments,
    /// The deployments' hook functions, by logical id.
    pub hooks: Functions,
    /// Where a deployment's new code comes from.
    pub code: deployments::CodeSource,
    /// Held while a deployment is prepared: one build and publish at a time.
    pub preparing: tokio::sync::Mutex<()>,
    /// How many times faster than the template alarms and deployments run.
    pub time_scale: u32,
    /// Traces.
    pub traces: TraceStore,
    /// Facts for `/ops/api/stack`.
    pub stack: StackInfo,
    /// The graph the dependency tags declare.
    pub declared: crate::deps::graph::Graph,
    /// The page's and the console's files (`web/`).
    pub web_dir: PathBuf,
    /// SQS (moto), for the dead-letter queue's listing and redrive.
    pub sqs: aws_sdk_sqs::Client,
    /// The queue with a redrive policy and its dead-letter queue, when the template has one.
    pub dlq: Option<crate::dlq::Queues>,
    /// The proxy between the functions and the backend, and its faults.
    pub backend_faults: FaultProxy,
}

/// Runs the stack until Ctrl-C (or SIGTERM), then stops every process it started.
///
/// # Errors
/// [`DevError`] when it cannot start.
pub async fn run(options: DevOptions) -> Result<(), DevError> {
    let started = Instant::now();
    let listener = bind(options.port).await?;
    let address = listener
        .local_addr()
        .map_err(|e| DevError::Setup(e.to_string()))?;
    let (template, mut model, project) = read_stack(&options)?;

    let (binaries, profile) = binaries(&options, &project)?;
    let (moto, endpoint) = start_backend(&options, &project)?;
    let config = backend::sdk_config(&endpoint, &model.region).await;
    let (physical, provisioned) = backend::provision(&model, &config).await?;
    model.resolve_functions(&template, &physical)?;
    for line in &provisioned {
        say(line);
    }

    let observers = Observers::default();
    if !options.quiet {
        observers.cloudwatch.logs.follow(Arc::new(terminal::echo));
    }
    let shutdown = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let alarms = start_cloudwatch(
        &model, &physical, &config, &observers, &options, &shutdown, &mut tasks,
    );
    let proxy = start_fault_proxy(&endpoint, &shutdown).await?;
    let functions = match start_functions(
        &model,
        &binaries,
        proxy.url(),
        &observers,
        &options,
        &shutdown,
    )
    .await
    {
        Ok(started) => Arc::new(started),
        Err((error, started)) => {
            stop(&shutdown, tasks, &started).await;
            return Err(error);
        }
    };
    start_pollers(
        &model, &physical, &config, &functions, &observers, &options, &shutdown, &mut tasks,
    )?;

    let url = format!("http://{address}");
    let hooks = hook_functions(&model, &binaries, proxy.url(), &url, &observers, &shutdown);
    // Everything whose processes must be gone before the stack says it stopped.
    let mut stoppable = (*functions).clone();
    stoppable.extend(hooks.iter().map(|(k, v)| (k.clone(), Arc::clone(v))));
    let declared = crate::deps::wiring::declared(&template)
        .map(|d| d.graph)
        .unwrap_or_default();
    let stack = stack_info(
        &profile,
        &model,
        &physical,
        &endpoint,
        &url,
        &functions,
        moto.as_ref(),
    );
    let dlq = dead_letter_queues(&model.queues, &physical);
    let shared = Arc::new(Shared {
        gateway: Gateway::new(
            model.api.clone(),
            &functions,
            observers.traces.clone(),
            observers.cloudwatch.clone(),
        ),
        stack,
        model,
        functions: Arc::clone(&functions),
        cloudwatch: observers.cloudwatch,
        alarms,
        deployments: Deployments::default(),
        hooks,
        code: code_source(&options, &project),
        preparing: tokio::sync::Mutex::new(()),
        time_scale: options.time_scale,
        traces: observers.traces,
        declared,
        web_dir: project.join("web"),
        sqs: aws_sdk_sqs::Client::new(&config),
        dlq,
        backend_faults: proxy,
    });
    tasks.spawn(serve(listener, shared, shutdown.clone()));
    terminal::banner(&url, &profile, started.elapsed());

    shutdown_signal().await;
    say(if moto.is_some() {
        "stopping every function process and moto"
    } else {
        "stopping every function process"
    });
    stop(&shutdown, tasks, &stoppable).await;
    drop(moto);
    Ok(())
}

/// CloudWatch beyond what the functions write: the template's metric filters on their
/// log groups, its alarms evaluated, and the queues' depth sampled.
fn start_cloudwatch(
    model: &StackModel,
    physical: &Physical,
    config: &aws_config::SdkConfig,
    observers: &Observers,
    options: &DevOptions,
    shutdown: &CancellationToken,
    tasks: &mut JoinSet<()>,
) -> Alarms {
    for resource in &model.metric_filters {
        match MetricFilter::new(resource) {
            Ok(filter) => observers.cloudwatch.add_metric_filter(filter),
            Err(error) => say(&format!(
                "{}: not applied locally: {error}",
                resource.logical_id
            )),
        }
    }
    let alarms = Alarms::new(
        &model.alarms,
        observers.cloudwatch.metrics.clone(),
        f64::from(options.time_scale),
    );
    tasks.spawn(alarms.clone().run(shutdown.clone()));
    tasks.spawn(sqs::metrics::sample(
        aws_sdk_sqs::Client::new(config),
        model
            .queues
            .iter()
            .map(|q| {
                (
                    q.name.clone(),
                    physical.reference(&q.logical_id).unwrap_or_default(),
                )
            })
            .collect(),
        observers.cloudwatch.metrics.clone(),
        sample_interval(options.time_scale),
        shutdown.clone(),
    ));
    alarms
}

/// How often the queues' depth is sampled: every 10 s of template time (an alarm's
/// shortest period is 60 s), at least every 100 ms.
fn sample_interval(time_scale: u32) -> Duration {
    (Duration::from_secs(10) / time_scale.max(1)).max(Duration::from_millis(100))
}

/// Where a deployment's new code comes from: cargo with the arguments the stack was
/// built with, or the `--bin-dir` folder read again.
fn code_source(options: &DevOptions, project: &Path) -> deployments::CodeSource {
    match &options.bin_dir {
        Some(dir) => deployments::CodeSource::Folder(dir.clone()),
        None => deployments::CodeSource::Cargo {
            project: project.to_path_buf(),
            args: build_args(options),
        },
    }
}

/// The `cargo build` arguments for the function binaries.
fn build_args(options: &DevOptions) -> Vec<String> {
    let mut args = vec!["--workspace".to_owned(), "--bins".to_owned()];
    if let Some(profile) = &options.profile {
        args.extend(["--profile".to_owned(), profile.clone()]);
    } else if options.release {
        args.push("--release".to_owned());
    }
    args
}

/// The functions deployments run as hooks (`DeploymentPreference.Hooks`), by logical
/// id: not invoked by anything else, so run only when a deployment calls them, with the
/// stack's URL as their Lambda and CodeDeploy endpoints.
fn hook_functions(
    model: &StackModel,
    binaries: &HashMap<String, PathBuf>,
    endpoint: &str,
    url: &str,
    observers: &Observers,
    shutdown: &CancellationToken,
) -> Functions {
    let mut base_env = backend::function_env(endpoint, &model.region);
    base_env.extend([
        ("AWS_ENDPOINT_URL_LAMBDA".to_owned(), url.to_owned()),
        ("AWS_ENDPOINT_URL_CODEDEPLOY".to_owned(), url.to_owned()),
    ]);
    let code_store = CodeStore::new().ok().map(Arc::new);
    let mut hooks = Functions::new();
    for logical_id in model
        .functions
        .iter()
        .filter_map(|f| f.deployment.as_ref())
        .flat_map(|p| p.pre_traffic.iter().chain(&p.post_traffic))
    {
        if hooks.contains_key(logical_id) {
            continue;
        }
        let Some(spec) = model.function_by_logical_id(logical_id) else {
            continue;
        };
        let (Some(binary), Some(code_store)) = (binaries.get(&spec.binary), &code_store) else {
            say(&format!(
                "{}: no binary {}; deployments run without this hook",
                spec.name, spec.binary
            ));
            continue;
        };
        say(&format!(
            "{}: runs as the deployments' hook (POST /ops/api/deployments, feedback-ops release deploy)",
            spec.name
        ));
        hooks.insert(
            logical_id.clone(),
            Function::new(FunctionSetup {
                spec: spec.clone(),
                binary: binary.clone(),
                region: model.region.clone(),
                base_env: base_env.clone(),
                observers: observers.clone(),
                concurrency: 1,
                stopping: shutdown.child_token(),
                code_store: Arc::clone(code_store),
            }),
        );
    }
    for name in &model.not_hosted {
        if !hooks.values().any(|hook| &hook.spec.name == name) {
            say(&format!(
                "{name}: not run locally (nothing invokes it without AWS)"
            ));
        }
    }
    hooks
}

/// The template, the stack model from it (with the `--visibility-timeout` override),
/// and the project folder it is in.
fn read_stack(options: &DevOptions) -> Result<(Template, StackModel, PathBuf), DevError> {
    let mut template = Template::load(&options.template)?;
    template
        .override_parameters(&options.parameter_overrides)
        .map_err(DevError::Setup)?;
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
    Ok((template, model, project))
}

/// The function binaries and the cargo profile they were built with: prebuilt in
/// `--bin-dir`, or built now with cargo's progress on the terminal.
fn binaries(
    options: &DevOptions,
    project: &Path,
) -> Result<(HashMap<String, PathBuf>, String), DevError> {
    let binaries = if let Some(dir) = &options.bin_dir {
        lambda::prebuilt(dir)
    } else {
        say("building the function binaries (the first build takes a few minutes)");
        let args = build_args(options);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        lambda::cargo_build(project, &args)?
    };
    let profile = build_profile(&binaries);
    say(&format!(
        "function binaries: cargo profile {profile}{}",
        if profile == "debug" {
            " (unoptimised: init times are several times a release build's; make demo builds the demo profile)"
        } else {
            ""
        }
    ));
    Ok((binaries, profile))
}

/// The cargo profile of the binaries: the name of the folder they were built into
/// (`target/debug`, `target/demo`, …), or `unknown`.
fn build_profile(binaries: &HashMap<String, PathBuf>) -> String {
    binaries
        .values()
        .find_map(|binary| binary.parent()?.file_name()?.to_str())
        .unwrap_or("unknown")
        .to_owned()
}

/// moto from the project's virtual environment, or the `--endpoint` given; the
/// endpoint the functions and the SDK use.
fn start_backend(options: &DevOptions, project: &Path) -> Result<(Option<Moto>, String), DevError> {
    if let Some(endpoint) = &options.endpoint {
        return Ok((None, endpoint.clone()));
    }
    let server = backend::moto_path(project);
    say(&format!("starting moto from {}", server.display()));
    let moto = Moto::start(&server)?;
    let endpoint = moto.endpoint.clone();
    Ok((Some(moto), endpoint))
}

/// Cancels every task and waits for each to end: the supervisors kill and reap their
/// processes before they return. Connections still open after a second are dropped.
async fn stop(shutdown: &CancellationToken, mut tasks: JoinSet<()>, functions: &Functions) {
    shutdown.cancel();
    let drained = async {
        while tasks.join_next().await.is_some() {}
        for function in functions.values() {
            function.stopped().await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(5), drained)
        .await
        .is_err()
    {
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}

/// The server: the ops API, then the web files, then API Gateway for anything else;
/// all of it for loopback host names only.
fn router(shared: Arc<Shared>) -> axum::Router {
    api::routes()
        .merge(lambda::api::router(Arc::clone(&shared.functions)))
        .fallback(web_or_gateway)
        .layer(axum::middleware::from_fn(guard::loopback_only))
        .with_state(shared)
}

async fn web_or_gateway(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response {
    if request.method() == Method::GET
        && let Some((file, content_type)) = web::file_for(request.uri().path())
    {
        if let Some(response) = web::serve(&shared.web_dir, &file, content_type).await {
            return response;
        }
        if matches!(file.as_str(), "index.html" | "ops.html") {
            return api::problem(
                StatusCode::NOT_FOUND,
                &format!(
                    "{} cannot be read: is --template in the project folder?",
                    shared.web_dir.join(&file).display()
                ),
            );
        }
    }
    if request.method() == Method::POST
        && request.uri().path() == "/"
        && local_cloud::codedeploy::api::is_codedeploy(request.headers())
    {
        let (parts, body) = request.into_parts();
        let Ok(body) = axum::body::to_bytes(body, 1024 * 1024).await else {
            return api::problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "a CodeDeploy request over 1 MB",
            );
        };
        return local_cloud::codedeploy::api::answer(&shared.deployments, &parts.headers, &body);
    }
    shared.gateway.handle(client, request).await
}

/// Creates every function as a deploy does: version 1 published from the build, the
/// template's alias on it, its environments started; then waits for their init. On an
/// error, the functions started so far come back with it, to be stopped.
async fn start_functions(
    model: &StackModel,
    binaries: &HashMap<String, PathBuf>,
    endpoint: &str,
    observers: &Observers,
    options: &DevOptions,
    shutdown: &CancellationToken,
) -> Result<Functions, (DevError, Functions)> {
    let mut functions = Functions::new();
    let code_store = match CodeStore::new() {
        Ok(store) => Arc::new(store),
        Err(error) => {
            let error = DevError::Setup(format!(
                "cannot create a folder for function versions: {error}"
            ));
            return Err((error, functions));
        }
    };
    let base_env = backend::function_env(endpoint, &model.region);
    for spec in &model.functions {
        let Some(binary) = binaries.get(&spec.binary).cloned() else {
            let error = DevError::Setup(format!(
                "no binary {} for {}: build it with `cargo build --bins`, or check --bin-dir",
                spec.binary, spec.name
            ));
            return Err((error, functions));
        };
        let function = Function::new(FunctionSetup {
            spec: spec.clone(),
            binary,
            region: model.region.clone(),
            base_env: base_env.clone(),
            observers: observers.clone(),
            concurrency: options.concurrency.max(1),
            stopping: shutdown.child_token(),
            code_store: Arc::clone(&code_store),
        });
        functions.insert(spec.name.clone(), Arc::clone(&function));
        if let Err(error) = first_version(&function).await {
            let error = DevError::Setup(format!("{}: {error}", spec.name));
            return Err((error, functions));
        }
    }
    if let Err(error) = wait_until_ready(&functions).await {
        return Err((error, functions));
    }
    for function in functions.values() {
        let inits: Vec<String> = function
            .counters()
            .init_durations_ms
            .iter()
            .map(|ms| format!("{ms:.1} ms"))
            .collect();
        let alias = function.spec.alias.as_deref();
        say(&format!(
            "{} version {} (alias {}): {} environment(s), init {}",
            function.spec.name,
            function
                .version(alias)
                .map_or_else(|_| lambda::LATEST.to_owned(), |v| v.version),
            alias.unwrap_or("-"),
            inits.len(),
            inits.join(", ")
        ));
    }
    Ok(functions)
}

/// Publishes version 1, points the template's alias at it and starts its
/// environments, as `AutoPublishAlias` leaves a first deploy.
async fn first_version(function: &Arc<Function>) -> Result<(), lambda::LambdaError> {
    let publishing = Arc::clone(function);
    let version = tokio::task::spawn_blocking(move || {
        publishing.publish(
            Some("the build the stack started with".to_owned()),
            None,
            None,
        )
    })
    .await
    .map_err(|e| lambda::LambdaError::Service(e.to_string()))??;
    if let Some(alias) = &function.spec.alias {
        function.create_alias(alias, &version.version)?;
    }
    function.host(&version.version)?;
    Ok(())
}

/// Serves the API, the page, the console and the ops API until `shutdown`.
async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) {
    let app = router(shared).into_make_service_with_connect_info::<SocketAddr>();
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await;
}

/// The proxy the functions reach moto through (the stack's own calls do not).
async fn start_fault_proxy(
    endpoint: &str,
    shutdown: &CancellationToken,
) -> Result<FaultProxy, DevError> {
    FaultProxy::start(endpoint, shutdown.clone())
        .await
        .map_err(|e| DevError::Setup(format!("the backend fault proxy: {e}")))
}

/// The stack's port on loopback, or what to do when it is taken.
async fn bind(port: u16) -> Result<tokio::net::TcpListener, DevError> {
    tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| {
            DevError::Setup(format!(
                "port {port} is taken ({e}): stop what uses it, or pass --port N (make demo PORT=N)"
            ))
        })
}

/// The first queue with a redrive policy, and its dead-letter queue.
fn dead_letter_queues(
    queues: &[local_cloud::cloudformation::QueueSpec],
    physical: &Physical,
) -> Option<crate::dlq::Queues> {
    queues.iter().find_map(|queue| {
        let (dlq, _) = queue.redrive.as_ref()?;
        Some(crate::dlq::Queues {
            queue_url: physical.reference(&queue.logical_id)?,
            dlq_url: physical.reference(dlq)?,
        })
    })
}

/// Starts the SQS event source mappings: `concurrency` pollers per mapping.
#[allow(clippy::too_many_arguments)] // the wiring's inputs, each used once
fn start_pollers(
    model: &StackModel,
    physical: &Physical,
    config: &aws_config::SdkConfig,
    functions: &Functions,
    observers: &Observers,
    options: &DevOptions,
    shutdown: &CancellationToken,
    tasks: &mut JoinSet<()>,
) -> Result<(), DevError> {
    let client = aws_sdk_sqs::Client::new(config);
    for function in functions.values() {
        for source in &function.spec.sqs_sources {
            let queue = model
                .queues
                .iter()
                .find(|q| q.logical_id == source.queue)
                .ok_or_else(|| DevError::Setup(format!("no queue {}", source.queue)))?;
            let mapping = sqs::Mapping {
                queue_url: physical.reference(&queue.logical_id).unwrap_or_default(),
                queue_arn: queue.arn.clone(),
                queue_name: queue.name.clone(),
                region: model.region.clone(),
                source: source.clone(),
            };
            for _ in 0..options.concurrency.max(1) {
                tasks.spawn(sqs::poll(
                    client.clone(),
                    mapping.clone(),
                    Arc::clone(function),
                    observers.clone(),
                    shutdown.clone(),
                ));
            }
        }
    }
    Ok(())
}

fn stack_info(
    build_profile: &str,
    model: &StackModel,
    physical: &Physical,
    endpoint: &str,
    url: &str,
    functions: &Functions,
    moto: Option<&Moto>,
) -> StackInfo {
    StackInfo {
        stack_name: model.stack_name.clone(),
        region: model.region.clone(),
        endpoint: endpoint.to_owned(),
        url: url.to_owned(),
        stage: model.api.stage.clone(),
        api: model.api.name.clone(),
        tables: model.tables.iter().map(|t| t.name.clone()).collect(),
        queues: model
            .queues
            .iter()
            .map(|q| QueueInfo {
                name: q.name.clone(),
                url: physical.reference(&q.logical_id).unwrap_or_default(),
                visibility_timeout: q.visibility_timeout,
                redrive: q.redrive.as_ref().map(|(to, count)| Redrive {
                    to: to.clone(),
                    max_receive_count: *count,
                }),
            })
            .collect(),
        functions: functions.keys().cloned().collect(),
        moto_pid: moto.and_then(|m| m.pid),
        not_hosted: model.not_hosted.clone(),
        started_ms: local_cloud::clock::now_ms(),
        build_profile: build_profile.to_owned(),
    }
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

async fn wait_until_ready(functions: &Functions) -> Result<(), DevError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_profile_is_the_folder_cargo_built_into() {
        let built = HashMap::from([(
            "add-comments".to_owned(),
            PathBuf::from("/w/target/demo/add-comments"),
        )]);
        assert_eq!(build_profile(&built), "demo");
        assert_eq!(build_profile(&HashMap::new()), "unknown");
    }
}
