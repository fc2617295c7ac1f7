//! `feedback-ops dlq list|redrive`: against the local stack through its ops API
//! (`--url`, the default), or against AWS or moto (`--stack NAME [--endpoint URL]`),
//! where the queues are found in the environment of the stack's functions
//! (`QUEUE_URL`, `DLQ_URL`).

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use serde::de::DeserializeOwned;

use super::{Listing, Queues, Redrive};

/// The local stack's default address.
const LOCAL_URL: &str = "http://127.0.0.1:3000";

/// `feedback-ops dlq …`.
#[derive(clap::Subcommand)]
pub enum DlqCommand {
    /// What waits in the dead-letter queue: ids, correlation ids, receive counts and
    /// why — never the comment text. Peeks: every message is visible again after.
    List(ListArgs),
    /// Moves every message back to the comments queue (exit 0 when all moved, 1 when
    /// some could not be).
    Redrive(Target),
}

/// Where the queues are.
#[derive(clap::Args)]
pub struct Target {
    /// The local stack (`feedback-ops dev`); the default without --stack.
    #[arg(long, conflicts_with = "stack")]
    url: Option<String>,
    /// A deployed stack: its functions' `QUEUE_URL` and `DLQ_URL` name the queues.
    #[arg(long)]
    stack: Option<String>,
    /// With --stack: an AWS-compatible endpoint (moto) instead of AWS.
    #[arg(long, requires = "stack")]
    endpoint: Option<String>,
    /// With --stack: the region (default: the AWS configuration's).
    #[arg(long, requires = "stack")]
    region: Option<String>,
    /// One JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// `dlq list`'s arguments.
#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    target: Target,
    /// Show at most this many messages.
    #[arg(long, default_value_t = 100)]
    limit: usize,
}

/// Runs one `dlq` command.
///
/// # Errors
/// One line when the stack or the queues cannot be reached.
pub fn run(command: &DlqCommand) -> Result<ExitCode> {
    match command {
        DlqCommand::List(args) => list(args),
        DlqCommand::Redrive(target) => redrive(target),
    }
}

fn list(args: &ListArgs) -> Result<ExitCode> {
    let target = &args.target;
    let (queues, listing) = if let Some(stack) = &target.stack {
        on_aws(target, stack, |sqs, queues| async move {
            let listing = super::list(&sqs, &queues.dlq_url, args.limit).await?;
            Ok((queues, listing))
        })?
    } else {
        let answer: serde_json::Value = local(&local_url(target), "GET", "/ops/api/dlq")?;
        (
            serde_json::from_value(answer.clone())?,
            serde_json::from_value(answer)?,
        )
    };
    let mut out = std::io::stdout().lock();
    if target.json {
        let mut answer = serde_json::to_value(&listing)?;
        answer["queue_url"] = queues.queue_url.into();
        answer["dlq_url"] = queues.dlq_url.into();
        writeln!(out, "{answer}")?;
        return Ok(ExitCode::SUCCESS);
    }
    for line in listing_lines(&queues, &listing) {
        writeln!(out, "{line}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The listing as a table.
pub fn listing_lines(queues: &Queues, listing: &Listing) -> Vec<String> {
    let mut lines = vec![format!(
        "{}: {} message{}{}",
        queues.dlq_url,
        listing.depth,
        if listing.depth == 1 { "" } else { "s" },
        if listing.messages.len() < usize::try_from(listing.depth).unwrap_or(usize::MAX) {
            format!(" ({} shown)", listing.messages.len())
        } else {
            String::new()
        }
    )];
    if listing.messages.is_empty() {
        return lines;
    }
    lines.push(format!(
        "  {:<36}  {:<36}  {:>8}  why",
        "message id", "correlation id", "receives"
    ));
    for message in &listing.messages {
        let why = message
            .failure_reason
            .as_deref()
            .map(|r| format!("poison: {r}"))
            .or_else(|| {
                message
                    .logged_failure
                    .as_deref()
                    .map(|r| format!("retries ran out; first logged: {r}"))
            })
            .unwrap_or_else(|| {
                "retries ran out (maxReceiveCount); see push-to-db's logs for its message id"
                    .to_owned()
            });
        lines.push(format!(
            "  {:<36}  {:<36}  {:>8}  {why}",
            message.message_id,
            message.correlation_id.as_deref().unwrap_or("-"),
            message
                .receive_count
                .map_or_else(|| "-".to_owned(), |c| c.to_string()),
        ));
    }
    lines
}

fn redrive(target: &Target) -> Result<ExitCode> {
    let report: Redrive = match &target.stack {
        Some(stack) => on_aws(target, stack, |sqs, queues| async move {
            super::redrive(&sqs, &queues).await
        })?,
        None => local(&local_url(target), "POST", "/ops/api/dlq/redrive")?,
    };
    let mut out = std::io::stdout().lock();
    if target.json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else {
        writeln!(
            out,
            "moved {} message{} back to the comments queue ({})",
            report.moved,
            if report.moved == 1 { "" } else { "s" },
            report.method
        )?;
        if let Some(note) = &report.note {
            writeln!(out, "  {note}")?;
        }
        for (id, why) in &report.failed {
            writeln!(out, "  not moved: {id}: {why}")?;
        }
    }
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn local_url(target: &Target) -> String {
    target
        .url
        .as_deref()
        .unwrap_or(LOCAL_URL)
        .trim_end_matches('/')
        .to_owned()
}

/// One ops API call to the local stack.
fn local<T: DeserializeOwned>(url: &str, method: &str, path: &str) -> Result<T> {
    let agent = crate::release::deploy::agent();
    let address = format!("{url}{path}");
    let response = if method == "POST" {
        agent.post(&address).send_empty()
    } else {
        agent.get(&address).call()
    };
    let mut response = response.map_err(|e| {
        anyhow::anyhow!(
            "{url}: no local stack answers ({e}): start it with `make demo`, or pass --url"
        )
    })?;
    let status = response.status().as_u16();
    let body: serde_json::Value = response
        .body_mut()
        .read_json()
        .with_context(|| format!("{address}: the answer is not JSON: is {url} the local stack?"))?;
    if status >= 300 {
        bail!(
            "{address}: {}",
            body["detail"]
                .as_str()
                .map_or_else(|| format!("HTTP {status}"), str::to_owned)
        );
    }
    Ok(serde_json::from_value(body)?)
}

/// Runs `work` with an SQS client and the queues of `stack` on AWS (or `--endpoint`).
fn on_aws<T, F, Fut>(target: &Target, stack: &str, work: F) -> Result<T>
where
    F: FnOnce(aws_sdk_sqs::Client, Queues) -> Fut,
    Fut: std::future::Future<Output = Result<T, super::DlqError>>,
{
    let (endpoint, region) = (target.endpoint.as_deref(), target.region.as_deref());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let config = crate::aws::sdk_config(endpoint, region).await;
            let lambda = aws_sdk_lambda::Client::new(&config);
            let queues = super::stack_queues(&lambda, stack).await?;
            Ok(work(aws_sdk_sqs::Client::new(&config), queues).await?)
        })
}
