//! `feedback-ops`: the operations CLI. `feedback-ops deps --help` for the dependency
//! graph.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use feedback_ops::deps::export::{self, Format};
use feedback_ops::deps::graph::Graph;
use feedback_ops::deps::live;
use feedback_ops::deps::wiring::{self, Drift};
use local_cloud::cloudformation::Template;

#[derive(Parser)]
#[command(
    name = "feedback-ops",
    version,
    about = "Operations for online-feedback"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The local stack: the real function binaries as Lambda runs them, API Gateway, the
    /// SQS event source and an X-Ray daemon, on loopback, against moto.
    #[command(after_help = DEV_EXAMPLES)]
    Dev(DevArgs),
    /// The dependency graph (the talk's OC1): from the Upstream/Downstream tags and from
    /// the template's real wiring.
    #[command(after_help = DEPS_EXAMPLES)]
    Deps(DepsArgs),
    /// Releases (the talk's OC3): deploy a function's current code or a configuration
    /// change to a running local stack, through its deployment preference.
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// The dead-letter queue: what waits there and why, and moving it back.
    #[command(subcommand, after_help = DLQ_EXAMPLES)]
    Dlq(feedback_ops::dlq::cli::DlqCommand),
    /// Load and chaos with exact accounting: N comments from C clients (retried with
    /// their Idempotency-Key), optionally with faults and killed processes, then every
    /// comment accounted for: stored exactly once, dead-lettered or lost. Exit 0 when
    /// none was lost, duplicated or rejected, 1 otherwise.
    #[command(after_help = LOAD_EXAMPLES)]
    Load(feedback_ops::load::cli::LoadArgs),
}

const LOAD_EXAMPLES: &str = "\
Examples:
  feedback-ops load --comments 2000 --clients 8               the local stack (make demo)
  feedback-ops load --comments 2000 --clients 8 --chaos       with faults and kill -9s; all removed at the end
  feedback-ops load --comments 500 --chaos --seed 42 --json   the same schedule again, as one JSON object
  feedback-ops load --comments 10000 --clients 16 --rate 200  at most 200 posts a second
  feedback-ops load --url https://abc123.execute-api.eu-west-1.amazonaws.com/prod --comments 100";

const DLQ_EXAMPLES: &str = "\
Examples:
  feedback-ops dlq list                                  the local stack's (make demo)
  feedback-ops dlq redrive                               move them back; exit 0 when all moved
  feedback-ops dlq list --stack online-feedback-prod --json
  feedback-ops dlq redrive --stack online-feedback-prod --region eu-west-1";

const RELEASE_EXAMPLES: &str = "\
Examples:
  feedback-ops release deploy push-to-db                    the current build, the template's rollout
  feedback-ops release deploy status --config Canary10Percent5Minutes --env LOG_MARK=2
  feedback-ops release deploy add-comments --fault error-rate=0.3   a bad version: watch it roll back
  (run the stack with --time-scale 30 to see a 5-minute canary in 10 s)
  feedback-ops release prune --stack online-feedback-prod --dry-run   what n-3 would delete
  feedback-ops release prune --function my-fn --keep 5 --endpoint http://127.0.0.1:3000
  feedback-ops release rollback online-feedback-prod-StatusFunction-AbC123   live back one version
  feedback-ops release classify --base v1.2.0       which functions the change releases, and how
  sam deploy --parameter-overrides $(feedback-ops release classify --sam-parameters)";

#[derive(Subcommand)]
enum ReleaseCommand {
    /// Build, publish and deploy one function; prints each event and exits 0 only if
    /// the deployment succeeded (1 if it failed or was rolled back).
    #[command(after_help = RELEASE_EXAMPLES)]
    Deploy(DeployArgs),
    /// Delete the versions nothing needs: keeps what an alias references (canaries
    /// included), the N before live, the newest, and $LATEST; on AWS or any
    /// Lambda-compatible API. Exits 1 if the API refused a deletion.
    #[command(after_help = RELEASE_EXAMPLES)]
    Prune(PruneArgs),
    /// Point live back at the previous version (or --to a retained one), removing any
    /// canary weight; on AWS or any Lambda-compatible API.
    #[command(after_help = RELEASE_EXAMPLES)]
    Rollback(RollbackArgs),
    /// Which functions a change releases, and how: each change's class (code,
    /// configuration, interface, permissions, data, observability), its risk, the
    /// rollout for it, and what each function's failure would break.
    #[command(after_help = RELEASE_EXAMPLES)]
    Classify(ClassifyArgs),
}

#[derive(clap::Args)]
struct ClassifyArgs {
    /// Where the change starts (default: the merge base of HEAD with main).
    #[arg(long)]
    base: Option<String>,
    /// Where it ends.
    #[arg(long, default_value = "HEAD")]
    head: String,
    /// The classification as JSON.
    #[arg(long, conflicts_with = "sam_parameters")]
    json: bool,
    /// Only the parameter override `sam deploy --parameter-overrides` takes for the
    /// rollout, as `DeploymentType=…`.
    #[arg(long)]
    sam_parameters: bool,
}

/// Where the Lambda API is.
#[derive(clap::Args)]
struct LambdaTarget {
    /// A Lambda-compatible endpoint (moto, the local stack) instead of AWS.
    #[arg(long)]
    endpoint: Option<String>,
    /// The region (default: the AWS configuration's).
    #[arg(long)]
    region: Option<String>,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["stack", "function"])))]
struct PruneArgs {
    /// How many versions before live to keep (what a rollback can go back to).
    #[arg(long, default_value_t = 3)]
    keep: usize,
    /// Every function tagged aws:cloudformation:stack-name = NAME.
    #[arg(long)]
    stack: Option<String>,
    /// A function name or ARN (repeatable).
    #[arg(long)]
    function: Vec<String>,
    /// Print the plan; delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// The plan and the outcome as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: LambdaTarget,
}

#[derive(clap::Args)]
struct RollbackArgs {
    /// The function name or ARN.
    function: String,
    /// The version to go back to (default: the newest older than live's).
    #[arg(long)]
    to: Option<String>,
    #[command(flatten)]
    target: LambdaTarget,
}

#[derive(clap::Args)]
struct DeployArgs {
    /// The function: add-comments, push-to-db, get-all-comments or status.
    function: String,
    /// A CodeDeploy configuration name: a canary, linear or all-at-once one (see the
    /// examples); default: the template's for the stack's environment.
    #[arg(long)]
    config: Option<String>,
    /// NAME=VALUE: a variable laid over the live version's (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE")]
    environment: Vec<String>,
    /// error-rate=R or latency-ms=N: fault injection baked into the new version
    /// (repeatable).
    #[arg(long = "fault", value_name = "FAULT=VALUE")]
    faults: Vec<String>,
    /// The running stack.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
}

const DEV_EXAMPLES: &str = "\
Examples:
  feedback-ops dev                            build, start moto, serve http://127.0.0.1:3000
  feedback-ops dev --port 8080 --concurrency 4
  feedback-ops dev --endpoint http://127.0.0.1:5000   an AWS-compatible endpoint already running
  feedback-ops dev --visibility-timeout 5     failed messages come back after 5 s, not 90 s
  feedback-ops dev --time-scale 30            alarm periods (and deployments) 30 times faster
  feedback-ops dev --parameter-overrides StageCanaryPercent=10   a stage canary for 10 % of requests";

#[derive(clap::Args)]
struct DevArgs {
    /// The SAM template the stack is provisioned from.
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,
    /// The port for the API and the ops API (0: any free port).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Use this AWS-compatible endpoint instead of starting moto.
    #[arg(long)]
    endpoint: Option<String>,
    /// The stack name the table, queue and function names derive from.
    #[arg(long, default_value = "online-feedback-local")]
    stack_name: String,
    /// The region in ARNs and the functions' `AWS_REGION`.
    #[arg(long, default_value = "eu-west-1")]
    region: String,
    /// Execution environments per function.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=32))]
    concurrency: u16,
    /// Run the binaries in this directory instead of building them.
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Build with --release.
    #[arg(long, conflicts_with = "bin_dir")]
    release: bool,
    /// Build with this cargo profile (`make demo` uses `demo`: optimised like the
    /// deployed binaries, without their slow fat LTO).
    #[arg(long, conflicts_with_all = ["bin_dir", "release"])]
    profile: Option<String>,
    /// Override every queue's visibility timeout, in seconds (the template says 90): how
    /// soon a failed message is received again.
    #[arg(long)]
    visibility_timeout: Option<u32>,
    /// Print only the banner and errors, not every function's log lines.
    #[arg(long)]
    quiet: bool,
    /// Run alarm periods and deployment schedules N times faster than the template
    /// says (30: a 60 s alarm period in 2 s, a 5-minute canary in 10 s).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3600))]
    time_scale: u32,
    /// NAME=VALUE: template parameters, as `sam deploy --parameter-overrides` takes them
    /// (StageCanaryPercent=10 gives the API stage a canary).
    #[arg(long, value_name = "NAME=VALUE", num_args = 1..)]
    parameter_overrides: Vec<String>,
}

const DEPS_EXAMPLES: &str = "\
Examples:
  feedback-ops deps show                      every node, what it depends on, what depends on it
  feedback-ops deps of add-comments           what add-comments depends on (the talk's query)
  feedback-ops deps on comments-table         what depends on the table
  feedback-ops deps impact comments-table     what breaks, transitively, if the table fails
  feedback-ops deps check                     tags against wiring; exit 1 on drift
  feedback-ops deps export --format gremlin   a script for any TinkerPop server
  feedback-ops deps --from-stack online-feedback-dev --region eu-west-1
                                              the deployed tags, with each live version";

#[derive(clap::Args)]
struct DepsArgs {
    /// The SAM template.
    #[arg(long, global = true, default_value = "template.yaml")]
    template: PathBuf,
    /// JSON output, for scripts.
    #[arg(long, global = true)]
    json: bool,
    /// Answer from the template's real wiring instead of its tags.
    #[arg(long, global = true)]
    wiring: bool,
    /// Read the tags of a deployed stack's functions and compare them with the template.
    #[arg(long, value_name = "STACK")]
    from_stack: Option<String>,
    /// With --from-stack: an AWS-compatible endpoint, such as a moto server.
    #[arg(long, requires = "from_stack")]
    endpoint: Option<String>,
    /// With --from-stack: the region.
    #[arg(long, requires = "from_stack")]
    region: Option<String>,
    #[command(subcommand)]
    query: Option<Query>,
}

#[derive(Subcommand)]
enum Query {
    /// Every node with what it depends on and what depends on it.
    Show,
    /// What NAME depends on (one hop).
    Of {
        /// A node: add-comments, comments-queue, …
        name: String,
    },
    /// What depends on NAME (one hop).
    On {
        /// A node.
        name: String,
    },
    /// Everything that breaks, transitively, if NAME fails, each with its path.
    Impact {
        /// A node.
        name: String,
    },
    /// Declared (tags) against actual (wiring): missing, extra and unknown names.
    /// Exits 1 on drift.
    Check,
    /// The graph as DOT, Mermaid, JSON, a Gremlin script or Neptune CSV.
    Export {
        /// The format.
        #[arg(long, value_enum)]
        format: Format,
        /// For neptune-csv: the directory for vertices.csv and edges.csv.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Deps(args) => deps(args),
        Command::Dev(args) => dev(args),
        Command::Release(ReleaseCommand::Deploy(args)) => release_deploy(args),
        Command::Release(ReleaseCommand::Prune(args)) => release_prune(&args),
        Command::Release(ReleaseCommand::Rollback(args)) => release_rollback(&args),
        Command::Release(ReleaseCommand::Classify(args)) => release_classify(&args),
        Command::Dlq(command) => feedback_ops::dlq::cli::run(&command),
        Command::Load(args) => feedback_ops::load::cli::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn release_deploy(args: DeployArgs) -> Result<ExitCode> {
    let request = feedback_ops::release::ReleaseRequest {
        function: args.function,
        config: args.config,
        environment: args.environment,
        faults: args.faults,
    };
    let url = args.url.trim_end_matches('/');
    let mut out = std::io::stdout().lock();
    let deployment = feedback_ops::release::deploy(url, &request, |line| {
        let _ = writeln!(out, "{line}");
    })?;
    let status = deployment["status"].as_str().unwrap_or("?");
    writeln!(
        out,
        "deployment {}: {status} ({} → version {})",
        deployment["id"].as_str().unwrap_or("?"),
        deployment["from_version"].as_str().unwrap_or("?"),
        deployment["to_version"].as_str().unwrap_or("?")
    )?;
    Ok(if status == "Succeeded" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs one of the CLI's AWS calls on a single-threaded runtime.
fn block_on<T>(work: impl std::future::Future<Output = T>) -> Result<T> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(work))
}

fn release_prune(args: &PruneArgs) -> Result<ExitCode> {
    use feedback_ops::release::{codedeploy, codedeploy_client, lambda_client, prune};
    let (endpoint, region) = (
        args.target.endpoint.as_deref(),
        args.target.region.as_deref(),
    );
    let (report, in_progress, unread) = block_on(async {
        let lambda = lambda_client(endpoint, region).await;
        let functions = match &args.stack {
            Some(stack) => {
                let found: Vec<String> = live::stack_functions(&lambda, stack)
                    .await?
                    .into_values()
                    .map(|f| f.function_name)
                    .collect();
                if found.is_empty() {
                    bail!(
                        "no function carries the tag aws:cloudformation:stack-name = {stack}: is the stack deployed in this region?"
                    );
                }
                found
            }
            None => args.function.clone(),
        };
        // Where CodeDeploy cannot be read, the newest version still stands for a
        // deployment whose hook is running; the plan says so.
        let (in_progress, unread) =
            match codedeploy::in_progress(&codedeploy_client(endpoint, region).await).await {
                Ok(found) => (found, None),
                Err(e) => (Vec::new(), Some(e)),
            };
        let report =
            prune::prune(&lambda, &functions, &in_progress, args.keep, args.dry_run).await?;
        Ok((report, in_progress, unread))
    })??;
    if let Some(reason) = &unread {
        eprintln!(
            "warning: CodeDeploy could not be read ({reason}); versions of deployments in progress are protected only as the newest"
        );
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::json!({
                "dry_run": args.dry_run,
                "keep": args.keep,
                "functions": report,
                "deployments_in_progress": in_progress,
                "codedeploy_error": unread,
            })
        )?;
    } else {
        for line in prune::lines(&report, args.dry_run) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(if report.iter().any(|f| !f.refused.is_empty()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn release_classify(args: &ClassifyArgs) -> Result<ExitCode> {
    use feedback_ops::release::classify;
    let repo = std::env::current_dir()?;
    let base = match &args.base {
        Some(base) => base.clone(),
        None => classify::merge_base(&repo, "main", &args.head)?,
    };
    let answer = classify::classify(&repo, &base, &args.head)?;
    let mut out = std::io::stdout().lock();
    if args.sam_parameters {
        writeln!(out, "DeploymentType={}", answer.rollout)?;
    } else if args.json {
        writeln!(out, "{}", serde_json::to_string(&answer)?)?;
    } else {
        writeln!(out, "risk {:?}, rollout {}", answer.risk, answer.rollout)?;
        if answer.functions.is_empty() {
            writeln!(out, "no function needs a release")?;
        }
        for function in &answer.functions {
            writeln!(
                out,
                "{}: {:?} ({:?} risk, {}); if it fails: {}",
                function.name,
                function.classes,
                function.risk,
                function.rollout,
                if function.impact.is_empty() {
                    "nothing else".to_owned()
                } else {
                    function.impact.join(", ")
                }
            )?;
            for reason in &function.reasons {
                writeln!(out, "  {reason}")?;
            }
        }
        for resource in answer.resources.iter().filter(|r| r.warning.is_some()) {
            writeln!(
                out,
                "WARNING {}: {}",
                resource.logical_id,
                resource.warning.as_deref().unwrap_or_default()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn release_rollback(args: &RollbackArgs) -> Result<ExitCode> {
    use feedback_ops::release::{codedeploy_client, lambda_client, rollback};
    let (endpoint, region) = (
        args.target.endpoint.as_deref(),
        args.target.region.as_deref(),
    );
    let done = block_on(async {
        let lambda = lambda_client(endpoint, region).await;
        let codedeploy = codedeploy_client(endpoint, region).await;
        rollback::rollback(&lambda, &codedeploy, &args.function, args.to.as_deref()).await
    })??;
    if let Some(reason) = &done.codedeploy_error {
        eprintln!(
            "warning: CodeDeploy could not be read ({reason}); a deployment in progress, if any, was not stopped and may move live again"
        );
    }
    let mut out = std::io::stdout().lock();
    if let Some((id, status)) = &done.stopped {
        writeln!(out, "{}: deployment {id} stopped ({status})", args.function)?;
    }
    writeln!(out, "{}: live {} → {}", args.function, done.from, done.to)?;
    Ok(ExitCode::SUCCESS)
}

fn dev(args: DevArgs) -> Result<ExitCode> {
    let options = feedback_ops::dev::DevOptions {
        template: args.template,
        port: args.port,
        endpoint: args.endpoint,
        stack_name: args.stack_name,
        region: args.region,
        concurrency: usize::from(args.concurrency),
        bin_dir: args.bin_dir,
        release: args.release,
        profile: args.profile,
        visibility_timeout: args.visibility_timeout,
        quiet: args.quiet,
        time_scale: args.time_scale,
        parameter_overrides: args
            .parameter_overrides
            .iter()
            .map(|pair| {
                pair.split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .with_context(|| format!("--parameter-overrides {pair}: expected NAME=VALUE"))
            })
            .collect::<Result<_>>()?,
    };
    let runtime = tokio::runtime::Runtime::new().context("start the async runtime")?;
    runtime.block_on(feedback_ops::dev::run(options))?;
    Ok(ExitCode::SUCCESS)
}

/// Colour for a terminal, plain text for pipes and files.
struct Style {
    colour: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }
    fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
}

fn deps(args: DepsArgs) -> Result<ExitCode> {
    let template = Template::load(&args.template)?;
    let declared = wiring::declared(&template)?;
    let actual = wiring::actual(&template);
    let style = Style {
        colour: std::io::stdout().is_terminal() && !args.json,
    };
    if let Some(stack) = &args.from_stack {
        if args.query.is_some() {
            bail!("--from-stack reports on a deployed stack; use it without a query");
        }
        return live_report(&args, stack, &template, &style);
    }
    let Some(query) = args.query else {
        bail!("name a query (show, of, on, impact, check, export) or --from-stack; see --help");
    };
    let graph = if args.wiring {
        &actual
    } else {
        &declared.graph
    };
    let mut out = std::io::stdout().lock();
    match query {
        Query::Show => {
            if args.json {
                writeln!(out, "{}", export::json(graph))?;
            } else {
                show(&mut out, graph, &style)?;
            }
        }
        Query::Of { name } => one_hop(&mut out, graph, &name, true, args.json, &style)?,
        Query::On { name } => one_hop(&mut out, graph, &name, false, args.json, &style)?,
        Query::Impact { name } => impact(&mut out, graph, &name, args.json, &style)?,
        Query::Check => {
            let drift = wiring::drift(&declared, &actual);
            report_drift(&mut out, &drift, actual.edges().count(), args.json, &style)?;
            if !drift.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        Query::Export { format, out: dir } => match format {
            Format::Dot => write!(out, "{}", export::dot(graph))?,
            Format::Mermaid => write!(out, "{}", export::mermaid(graph))?,
            Format::Json => writeln!(out, "{}", export::json(graph))?,
            Format::Gremlin => write!(out, "{}", export::gremlin(graph))?,
            Format::NeptuneCsv => {
                let (vertices, edges) = export::neptune_csv(graph);
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                for (file, text) in [("vertices.csv", vertices), ("edges.csv", edges)] {
                    let path = dir.join(file);
                    std::fs::write(&path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    writeln!(out, "wrote {}", path.display())?;
                }
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn known(graph: &Graph, name: &str) -> Result<()> {
    if graph.kind(name).is_none() {
        let names: Vec<&str> = graph.nodes().map(|(n, _)| n).collect();
        bail!(
            "no node named {name:?}; the nodes are: {}",
            names.join(", ")
        );
    }
    Ok(())
}

fn show(out: &mut impl std::io::Write, graph: &Graph, style: &Style) -> Result<()> {
    let rows: Vec<(&str, &str, String, String)> = graph
        .nodes()
        .map(|(name, kind)| {
            let of = graph.depends_on(name).join(", ");
            let on = graph.dependents(name).join(", ");
            (
                name,
                kind.tag(),
                if of.is_empty() { "-".into() } else { of },
                on,
            )
        })
        .collect();
    let name_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(4);
    let of_width = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(10);
    let header = format!(
        "{:<name_width$}  KIND  {:<of_width$}  DEPENDED ON BY",
        "NODE", "DEPENDS ON"
    );
    writeln!(out, "{}", style.bold(&header))?;
    for (name, kind, of, on) in rows {
        writeln!(out, "{name:<name_width$}  {kind:<4}  {of:<of_width$}  {on}")?;
    }
    Ok(())
}

fn one_hop(
    out: &mut impl std::io::Write,
    graph: &Graph,
    name: &str,
    outward: bool,
    json: bool,
    style: &Style,
) -> Result<()> {
    known(graph, name)?;
    let found = if outward {
        graph.depends_on(name)
    } else {
        graph.dependents(name)
    };
    if json {
        let nodes: Vec<_> = found
            .iter()
            .map(|n| serde_json::json!({"name": n, "kind": graph.kind(n)}))
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::json!({"node": name, if outward { "depends_on" } else { "dependents" }: nodes})
        )?;
        return Ok(());
    }
    let heading = if outward {
        format!("{name} depends on:")
    } else {
        format!("depends on {name}:")
    };
    writeln!(out, "{}", style.bold(&heading))?;
    if found.is_empty() {
        writeln!(out, "  (nothing)")?;
    }
    for node in found {
        writeln!(
            out,
            "  {:<4} {node}",
            graph.kind(node).map_or("?", |k| k.tag())
        )?;
    }
    Ok(())
}

fn impact(
    out: &mut impl std::io::Write,
    graph: &Graph,
    name: &str,
    json: bool,
    style: &Style,
) -> Result<()> {
    known(graph, name)?;
    let impacts = graph.impact(name);
    let starved = graph.starved(name);
    if json {
        writeln!(
            out,
            "{}",
            serde_json::json!({"failed": name, "breaks": impacts, "starves": starved})
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{}",
        style.bold(&format!("if {name} fails, {} break:", impacts.len()))
    )?;
    let width = impacts.iter().map(|i| i.node.len()).max().unwrap_or(0);
    for impact in impacts {
        writeln!(
            out,
            "  {:<width$}  via {}",
            style.red(&impact.node),
            impact.path.join(" ← ")
        )?;
    }
    if !starved.is_empty() {
        writeln!(
            out,
            "{}",
            style.bold(&format!(
                "and {} it feeds starve (no input, not broken):",
                starved.len()
            ))
        )?;
        let width = starved.iter().map(|i| i.node.len()).max().unwrap_or(0);
        for impact in starved {
            writeln!(
                out,
                "  {:<width$}  via {}",
                impact.node,
                impact.path.join(" → ")
            )?;
        }
    }
    Ok(())
}

fn report_drift(
    out: &mut impl std::io::Write,
    drift: &Drift,
    edges: usize,
    json: bool,
    style: &Style,
) -> Result<()> {
    if json {
        writeln!(
            out,
            "{}",
            serde_json::json!({"ok": drift.is_empty(), "drift": drift})
        )?;
        return Ok(());
    }
    if drift.is_empty() {
        writeln!(
            out,
            "{} the tags declare exactly the {edges} dependencies the wiring has",
            style.green("ok:")
        )?;
        return Ok(());
    }
    for (from, to, why) in &drift.missing {
        writeln!(
            out,
            "{} {from} → {to} is wired ({}) but not in the tags",
            style.red("missing:"),
            why.join(", ")
        )?;
    }
    for (from, to) in &drift.extra {
        writeln!(
            out,
            "{} {from} → {to} is in the tags but not wired",
            style.red("extra:")
        )?;
    }
    for unknown in &drift.unknown {
        writeln!(
            out,
            "{} {} tag {} names {}, which the template does not have",
            style.red("unknown:"),
            unknown.function,
            unknown.tag,
            unknown.entry
        )?;
    }
    Ok(())
}

fn live_report(
    args: &DepsArgs,
    stack: &str,
    template: &Template,
    style: &Style,
) -> Result<ExitCode> {
    let functions = block_on(async {
        let lambda =
            feedback_ops::release::lambda_client(args.endpoint.as_deref(), args.region.as_deref())
                .await;
        live::stack_functions(&lambda, stack).await
    })??;
    if functions.is_empty() {
        bail!(
            "no function carries the tag aws:cloudformation:stack-name = {stack}: is the stack deployed in this region?"
        );
    }
    // The deployed tags against the template's: a stack not updated since its tags
    // changed, or edited by hand, shows here.
    let mut mismatches = Vec::new();
    for (name, function) in &functions {
        for (tag, deployed) in [
            ("Upstream", &function.upstream),
            ("Downstream", &function.downstream),
        ] {
            let declared = template_tag(template, name, tag);
            if normalised(name, tag, deployed)? != normalised(name, tag, &declared)? {
                mismatches.push(format!(
                    "{name}: deployed {tag} {deployed:?}, template declares {declared:?}"
                ));
            }
        }
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::json!({"stack": stack, "functions": functions, "mismatches": mismatches})
        )?;
    } else {
        writeln!(
            out,
            "{}",
            style.bold(&format!(
                "{:<28}  {:<28}  {:<36}  {}",
                "FUNCTION (live version)", "DEPLOYED AS", "UPSTREAM", "DOWNSTREAM"
            ))
        )?;
        for function in functions.values() {
            writeln!(
                out,
                "{:<28}  {:<28}  {:<36}  {}",
                function.versioned_name(),
                function.function_name,
                function.upstream,
                function.downstream
            )?;
        }
        for mismatch in &mismatches {
            writeln!(out, "{} {mismatch}", style.red("differs:"))?;
        }
        if mismatches.is_empty() {
            writeln!(
                out,
                "{} the deployed tags match the template",
                style.green("ok:")
            )?;
        }
    }
    Ok(if mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The template's value of `tag` on the function named `name` (empty if none).
fn template_tag(template: &Template, name: &str, tag: &str) -> String {
    template
        .resources()
        .iter()
        .find(|(id, _)| local_cloud::cloudformation::talk_name(id) == name)
        .and_then(|(_, resource)| resource["Properties"]["Tags"][tag].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// A tag's entries without versions, sorted: `Fn:status-2;SQS:q` and `SQS:q;Fn:status`
/// declare the same dependencies.
fn normalised(name: &str, tag: &str, value: &str) -> Result<Vec<String>> {
    let mut entries: Vec<String> = feedback_ops::deps::tags::parse_tag(name, tag, value)?
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e.kind,
                feedback_ops::deps::tags::split_version(&e.name).0
            )
        })
        .collect();
    entries.sort();
    Ok(entries)
}
