//! `feedback-ops load`: the command. Checks the URL, starts the clients (threads on one
//! shared HTTP agent), the chaos schedule and the stored-latency watchers, waits for the
//! posting to end, removes the faults, waits for the pipeline to drain, accounts for
//! every comment and prints the report.
//!
//! **How stored comments are found.** `GET /comments` is read page by page (100 a
//! page, newest first, by id) from the newest down to the first item older than the
//! run's start less a minute: comment ids are `UUIDv7`s, so that is every comment the
//! run can have made, whatever else the table holds, in `run / 100` requests. Each
//! item whose text carries the run's marker counts for its comment; two items (two
//! ids) with one marker are a duplicate.
//!
//! **How post → stored is measured.** A tenth of the accepted comments (20 to 200),
//! spread evenly over the run, are followed by polling `GET /status/{id}` (404 until
//! stored, then 200 with `stored_at`) from two watcher threads, each comment every
//! quarter of its age (100 ms to 5 s): some five polls for a comment stored in half a
//! second, some thirty for one stored after 90 s. The latency runs from the first
//! attempt of its post to its `stored_at`, kept within what the polls saw (after the
//! last 404 was asked, before the 200 came back), so a clock skew between this machine
//! and the API cannot move it outside the observed bracket; on the local stack (one
//! clock) it is exact. The cost is bounded by the sample, not by the run.
//!
//! **How the drain is judged.** On the local stack the comments queue's depth is read
//! (its URL from `GET /ops/api/stack`, through the backend's SQS API); the comments are
//! listed once it is empty. A comment that is not stored is looked for in the
//! dead-letter queue (`GET /ops/api/dlq`, by the correlation id it was posted with).
//! Elsewhere the listing is repeated every 2 s. Either way until every accepted comment
//! is found, the queue stayed empty three looks in a row, or `--drain-timeout` passes.

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use super::chaos::{Chaos, ChaosEvent};
use super::client::{Api, NewComment, Posted, Stored, retryable};
use super::report::{self, Console, Progress, Report};
use super::{Answer, Backoff, Percentiles, TokenBucket};

/// The local stack's default address.
const LOCAL_URL: &str = "http://127.0.0.1:3000";
/// Threads that poll `GET /status/{id}` for the sampled comments.
const WATCHERS: usize = 2;
/// How far before the run's start the listing looks (clock skew between this machine
/// and the API's).
const FLOOR_MARGIN_MS: u64 = 60_000;

/// `feedback-ops load`'s arguments.
#[derive(clap::Args)]
pub struct LoadArgs {
    /// How many comments to post.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    comments: u32,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    clients: u16,
    /// At most this many posts a second over all clients (retries included); without
    /// it, as fast as the clients go.
    #[arg(long, value_parser = positive)]
    rate: Option<f64>,
    /// The API: the local stack, or a deployed stage (https://…/prod).
    #[arg(long, default_value = LOCAL_URL)]
    url: String,
    /// Inject faults while the load runs (the local stack only): push-to-db failures,
    /// killed function processes, a failing backend. All removed at the end.
    #[arg(long)]
    chaos: bool,
    /// The chaos schedule's seed: the same seed, the same schedule (default: random,
    /// and printed).
    #[arg(long, requires = "chaos")]
    seed: Option<u64>,
    /// Seconds between chaos steps, on average (the first two come sooner, so that a
    /// short run sees a fault and a kill).
    #[arg(long, default_value_t = 2.0, value_parser = positive)]
    chaos_interval: f64,
    /// Seconds to wait for the pipeline to drain after the last post.
    #[arg(long, default_value_t = 120)]
    drain_timeout: u64,
    /// One JSON object on stdout instead of the table, and no progress on stderr.
    #[arg(long)]
    json: bool,
}

fn positive(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        _ => Err(format!("{raw:?} is not a positive number")),
    }
}

/// Runs `feedback-ops load`: exit 0 when nothing was lost, duplicated, rejected or left
/// unanswered, 1 otherwise, 130 after Ctrl-C (every fault removed).
///
/// # Errors
/// One line for a bad `--url`, `--chaos` off the local stack, an API that does not
/// answer, or a listing that keeps failing.
pub fn run(args: &LoadArgs) -> Result<ExitCode> {
    let url = args.url.trim_end_matches('/').to_owned();
    if super::url_host(&url).is_none() {
        bail!("--url {url}: expected http://HOST[:PORT][/STAGE] or https://…");
    }
    if args.chaos && !super::is_loopback(&url) {
        bail!(
            "--chaos needs the local stack, and {url} is not on this machine: run it against `make demo` (http://127.0.0.1:3000), or drop --chaos"
        );
    }
    let clients = usize::from(args.clients);
    let api = Api::new(&url, clients + WATCHERS + 2);
    probe(&api)?;
    let ops = api.ops_stack();
    if args.chaos && ops.is_none() {
        bail!(
            "--chaos needs the local stack's ops API, and {url}/ops/api/stack does not answer: is it `feedback-ops dev`?"
        );
    }
    let console = Arc::new(Console::new(args.json));
    let interrupted = Arc::new(AtomicBool::new(false));
    watch_ctrl_c(Arc::clone(&interrupted));
    let seed = args
        .chaos
        .then(|| args.seed.unwrap_or_else(|| fastrand::u64(..)));
    let run = Run::new(api, args, interrupted);
    console.line(&format!(
        "load {}: {} comments from {clients} clients to {url}{}",
        run.id,
        run.total,
        seed.map(|s| format!("; chaos --seed {s}"))
            .unwrap_or_default()
    ));
    let chaos = seed.map(|seed| (seed, Duration::from_secs_f64(args.chaos_interval)));
    let drain_timeout = Duration::from_secs(args.drain_timeout);
    let Some(finished) = run.execute(clients, chaos, &console, ops.as_ref(), drain_timeout)? else {
        console.warn(&format!(
            "interrupted: {} comments posted, every injected fault removed; no accounting",
            run.progress.done.load(Ordering::Relaxed)
        ));
        return Ok(ExitCode::from(130));
    };
    let report = run.report(finished, clients, args.rate, seed);
    print(&report, args.json)?;
    Ok(if report.accounting.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print(report: &Report, json: bool) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string(report)?)?;
    } else {
        for line in report::table(report) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// One request before the load: is there an API at the URL?
fn probe(api: &Api) -> Result<()> {
    let url = api.url();
    match api.call("GET", "/comments?limit=1", None, &[]) {
        Err(error) => bail!(
            "{url}: no API answers ({error}): start the local stack with `make demo`, or pass --url"
        ),
        Ok(reply) if reply.status == 200 && reply.body["items"].is_array() => Ok(()),
        // Up but failing: the load's retries will tell.
        Ok(reply) if retryable(reply.status) => Ok(()),
        Ok(reply) => bail!(
            "{url}/comments answered HTTP {} without a page of comments: is --url the API's base URL (with the stage for a deployed one, …/prod)?",
            reply.status
        ),
    }
}

/// The first Ctrl-C sets `interrupted` (the run stops posting and removes its faults);
/// a second one exits at once.
fn watch_ctrl_c(interrupted: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                interrupted.store(true, Ordering::SeqCst);
            }
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        });
    });
}

/// A lock that a panicked holder does not poison for the others.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// A sampled comment waiting to be seen stored.
struct Sample {
    id: String,
    /// When its post's first attempt started.
    sent: Instant,
    /// The same by the wall clock.
    sent_wall: SystemTime,
    /// When its last "not stored yet" was asked, since `sent`.
    not_before: Duration,
    /// When to ask next.
    due: Instant,
}

/// The sampled comments and the latencies measured so far.
#[derive(Default)]
struct Watch {
    pending: Mutex<Vec<Sample>>,
    latencies: Mutex<Vec<f64>>,
    stop: AtomicBool,
}

impl Watch {
    /// The sample most overdue for a poll, if one is due.
    fn due(&self) -> Option<Sample> {
        let now = Instant::now();
        let mut pending = lock(&self.pending);
        let (index, _) = pending
            .iter()
            .enumerate()
            .filter(|(_, s)| s.due <= now)
            .min_by_key(|(_, s)| s.due)?;
        Some(pending.swap_remove(index))
    }
}

/// What the posting and the drain leave for the report.
struct Finished {
    posted: Vec<Posted>,
    copies: HashMap<usize, HashSet<String>>,
    dead: HashSet<usize>,
    drained: bool,
    dlq_checked: bool,
    chaos: Vec<ChaosEvent>,
    warnings: Vec<String>,
    posting: Duration,
    drain: Duration,
}

/// One run's shared state.
struct Run {
    api: Api,
    id: String,
    total: usize,
    stride: usize,
    started: Instant,
    floor_ms: u64,
    next: AtomicUsize,
    outcomes: Mutex<Vec<Option<Posted>>>,
    bucket: Option<Mutex<TokenBucket>>,
    progress: Progress,
    interrupted: Arc<AtomicBool>,
    gave_up: AtomicBool,
    failing: AtomicUsize,
    watch: Watch,
}

impl Run {
    fn new(api: Api, args: &LoadArgs, interrupted: Arc<AtomicBool>) -> Self {
        let total = usize::try_from(args.comments).unwrap_or(usize::MAX);
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self {
            api,
            id: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
            total,
            stride: super::sample_stride(total, super::latency_samples(total)),
            started: Instant::now(),
            floor_ms: now_ms.saturating_sub(FLOOR_MARGIN_MS),
            next: AtomicUsize::new(0),
            outcomes: Mutex::new(vec![None; total]),
            bucket: args
                .rate
                .map(|rate| Mutex::new(TokenBucket::new(rate, 1.0))),
            progress: Progress::new(total),
            interrupted,
            gave_up: AtomicBool::new(false),
            failing: AtomicUsize::new(0),
            watch: Watch::default(),
        }
    }

    fn stopping(&self) -> bool {
        self.interrupted.load(Ordering::Relaxed) || self.gave_up.load(Ordering::Relaxed)
    }

    /// Posts, drains and collects; `None` after Ctrl-C.
    fn execute(
        &self,
        clients: usize,
        chaos: Option<(u64, Duration)>,
        console: &Arc<Console>,
        ops: Option<&Value>,
        drain_timeout: Duration,
    ) -> Result<Option<Finished>> {
        std::thread::scope(|scope| {
            scope.spawn(|| report::draw(&self.progress, console, self.started));
            for _ in 0..WATCHERS {
                scope.spawn(|| self.watch_stored());
            }
            let chaos = chaos.map(|(seed, interval)| {
                Chaos::start(
                    self.api.clone(),
                    seed,
                    interval,
                    self.started,
                    Arc::clone(console),
                )
            });
            let posters: Vec<_> = (0..clients)
                .map(|_| scope.spawn(|| self.client()))
                .collect();
            for poster in posters {
                let _ = poster.join();
            }
            let posting = self.started.elapsed();
            let (events, mut warnings) = chaos.map(Chaos::finish).unwrap_or_default();
            let posted: Vec<Posted> = std::mem::take(&mut *lock(&self.outcomes))
                .into_iter()
                .map_while(|p| p)
                .collect();
            if self.gave_up.load(Ordering::Relaxed) {
                warnings.push(format!(
                    "the API stopped answering: posting stopped after {} comments",
                    posted.len()
                ));
            }
            self.progress.draining();
            let drained = if self.interrupted.load(Ordering::Relaxed) {
                Ok(None)
            } else {
                self.drain(&posted, ops, drain_timeout, &mut warnings)
            };
            // Whatever happened, the watchers and the progress line stop here.
            self.watch.stop.store(true, Ordering::Relaxed);
            self.progress.finish();
            Ok(drained?.map(|looked| Finished {
                posted,
                copies: looked.copies,
                dead: looked.dead,
                drained: looked.drained,
                dlq_checked: ops.is_some(),
                chaos: events,
                warnings,
                posting,
                drain: self.started.elapsed().saturating_sub(posting),
            }))
        })
    }

    /// Waits before an attempt as the rate limit says.
    fn pace(&self) {
        if let Some(bucket) = &self.bucket {
            let wait = lock(bucket).take(self.started.elapsed());
            std::thread::sleep(wait);
        }
    }

    /// One client: takes the next comment and posts it, until none is left.
    fn client(&self) {
        let mut rng = fastrand::Rng::new();
        let pace = || self.pace();
        while !self.stopping() {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            if n >= self.total {
                return;
            }
            let comment = NewComment {
                text: super::comment_text(&self.id, n),
                rating: u8::try_from(n % 5 + 1).unwrap_or(5),
                key: uuid::Uuid::new_v4().to_string(),
                correlation_id: super::correlation_id(&self.id, n),
            };
            let posted = self.api.post_comment(
                &comment,
                &Backoff::CLIENT,
                &mut rng,
                &pace,
                &self.interrupted,
            );
            self.count(&posted);
            if let (Answer::Accepted, Some(id), true) =
                (posted.answer, &posted.id, n.is_multiple_of(self.stride))
            {
                lock(&self.watch.pending).push(Sample {
                    id: id.clone(),
                    sent: posted.sent,
                    sent_wall: posted.sent_wall,
                    not_before: Duration::ZERO,
                    due: Instant::now() + super::poll_interval(posted.sent.elapsed()),
                });
            }
            if let Some(slot) = lock(&self.outcomes).get_mut(n) {
                *slot = Some(posted);
            }
        }
    }

    fn count(&self, posted: &Posted) {
        let progress = &self.progress;
        progress.retries.fetch_add(
            u64::from(posted.attempts.saturating_sub(1)),
            Ordering::Relaxed,
        );
        let counter = match posted.answer {
            Answer::Accepted => &progress.accepted,
            Answer::Rejected => &progress.rejected,
            Answer::Failed => &progress.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        progress.done.fetch_add(1, Ordering::Relaxed);
        // Many comments in a row with no answer at all: the API is gone; stop rather
        // than spend every comment's whole back-off on it.
        if posted.answer == Answer::Failed {
            let in_a_row = self.failing.fetch_add(1, Ordering::Relaxed) + 1;
            if in_a_row >= 16 {
                self.gave_up.store(true, Ordering::Relaxed);
            }
        } else {
            self.failing.store(0, Ordering::Relaxed);
        }
    }

    /// One watcher: polls `GET /status/{id}` for the sampled comments that are due.
    fn watch_stored(&self) {
        while !self.watch.stop.load(Ordering::Relaxed) {
            let Some(mut sample) = self.watch.due() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            let asked = sample.sent.elapsed();
            match self.api.stored(&sample.id) {
                Stored::Yes(stored_at) => {
                    let claimed = stored_at.map(|at| match at.duration_since(sample.sent_wall) {
                        Ok(later) => millis(later),
                        Err(earlier) => -millis(earlier.duration()),
                    });
                    let latency = super::stored_latency(
                        claimed,
                        millis(sample.not_before),
                        millis(sample.sent.elapsed()),
                    );
                    lock(&self.watch.latencies).push(latency);
                }
                answer => {
                    if answer == Stored::No {
                        sample.not_before = asked;
                    }
                    sample.due = Instant::now() + super::poll_interval(sample.sent.elapsed());
                    lock(&self.watch.pending).push(sample);
                }
            }
        }
    }

    /// Waits for the pipeline to drain and looks for every accepted comment: the
    /// copies of each stored one, the dead-lettered ones, and whether it drained.
    /// `None` after Ctrl-C.
    fn drain(
        &self,
        posted: &[Posted],
        ops: Option<&Value>,
        timeout: Duration,
        warnings: &mut Vec<String>,
    ) -> Result<Option<Looked>> {
        let queue = ops.and_then(QueueDepth::of);
        let deadline = Instant::now() + timeout;
        let mut empty_looks = 0;
        loop {
            if self.interrupted.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let depth = queue.as_ref().and_then(QueueDepth::read);
            self.progress.queue.store(
                depth.map_or(-1, |d| i64::try_from(d).unwrap_or(i64::MAX)),
                Ordering::Relaxed,
            );
            let timed_out = Instant::now() >= deadline;
            if depth.is_none_or(|d| d == 0) || timed_out {
                let mut looked = self.look(posted, ops.is_some(), warnings)?;
                if depth == Some(0) {
                    empty_looks += 1;
                }
                // All found, or the queue stayed empty: nothing more will come.
                if looked.missing == 0 || empty_looks >= 3 || timed_out {
                    looked.drained = !timed_out;
                    return Ok(Some(looked));
                }
            }
            // The queue's depth is cheap to read; a listing is not.
            let pause = if depth.is_some() { 500 } else { 2000 };
            std::thread::sleep(Duration::from_millis(pause));
        }
    }

    /// Lists the stored comments and, when some accepted ones are not among them, the
    /// dead-letter queue: the copies, the dead-lettered, and how many are missing.
    fn look(&self, posted: &[Posted], dlq: bool, warnings: &mut Vec<String>) -> Result<Looked> {
        let copies = self
            .api
            .stored_markers(&self.id, self.floor_ms)
            .map_err(anyhow::Error::msg)
            .context("the stored comments could not be listed")?;
        let unstored: Vec<usize> = (0..posted.len())
            .filter(|n| posted[*n].answer == Answer::Accepted && !copies.contains_key(n))
            .collect();
        let stored = self
            .progress
            .accepted
            .load(Ordering::Relaxed)
            .saturating_sub(unstored.len());
        self.progress
            .stored
            .store(i64::try_from(stored).unwrap_or(i64::MAX), Ordering::Relaxed);
        let dead = if dlq && !unstored.is_empty() {
            self.dead_letters(posted, warnings)?
        } else {
            HashSet::new()
        };
        let missing = unstored.iter().filter(|n| !dead.contains(n)).count();
        Ok(Looked {
            copies,
            dead,
            missing,
            drained: false,
        })
    }

    /// The comments whose messages are in the dead-letter queue, by the correlation id
    /// each was posted with.
    fn dead_letters(
        &self,
        posted: &[Posted],
        warnings: &mut Vec<String>,
    ) -> Result<HashSet<usize>> {
        let depth = self.api.dlq(false).map_err(anyhow::Error::msg)?["depth"]
            .as_u64()
            .unwrap_or(0);
        if depth == 0 {
            return Ok(HashSet::new());
        }
        let listing = self.api.dlq(true).map_err(anyhow::Error::msg)?;
        let by_correlation: HashMap<&str, usize> = posted
            .iter()
            .enumerate()
            .map(|(n, p)| (p.correlation_id.as_str(), n))
            .collect();
        let messages = listing["messages"].as_array().cloned().unwrap_or_default();
        if u64::try_from(messages.len()).unwrap_or(u64::MAX) < depth {
            let warning = format!(
                "the DLQ holds {depth} messages and its listing shows {}: dead_lettered counts only those",
                messages.len()
            );
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
        Ok(messages
            .iter()
            .filter_map(|m| by_correlation.get(m["correlation_id"].as_str()?).copied())
            .collect())
    }

    fn report(
        &self,
        finished: Finished,
        clients: usize,
        rate: Option<f64>,
        seed: Option<u64>,
    ) -> Report {
        let answers: Vec<Answer> = finished.posted.iter().map(|p| p.answer).collect();
        let copies: HashMap<usize, usize> = finished
            .copies
            .iter()
            .map(|(n, ids)| (*n, ids.len()))
            .collect();
        let accounting = super::account(&answers, &copies, &finished.dead);
        let answered: Vec<f64> = finished
            .posted
            .iter()
            .filter(|p| p.answer != Answer::Failed)
            .map(|p| millis(p.latency))
            .collect();
        let posting_s = finished.posting.as_secs_f64();
        Report {
            run_id: self.id.clone(),
            url: self.api.url().to_owned(),
            clients,
            rate,
            seed,
            accounting,
            retries: finished
                .posted
                .iter()
                .map(|p| u64::from(p.attempts.saturating_sub(1)))
                .sum(),
            accepted_per_s: round2(super::as_f64(accounting.accepted) / posting_s.max(1e-3)),
            post_ms: Percentiles::of(&answered),
            stored_ms: Percentiles::of(&lock(&self.watch.latencies)),
            chaos: finished.chaos,
            posting_s: round2(posting_s),
            drain_s: round2(finished.drain.as_secs_f64()),
            duration_s: round2(self.started.elapsed().as_secs_f64()),
            drained: finished.drained,
            dlq_checked: finished.dlq_checked,
            warnings: finished.warnings,
        }
    }
}

/// What one look found.
struct Looked {
    /// For each stored comment, the ids of the items that carry its marker.
    copies: HashMap<usize, HashSet<String>>,
    /// The accepted comments, not stored, whose messages are in the DLQ.
    dead: HashSet<usize>,
    /// The accepted comments neither stored nor dead-lettered.
    missing: usize,
    /// Whether the pipeline drained (set by the drain, not the look).
    drained: bool,
}

/// The local stack's comments queue, read through the backend's SQS API.
struct QueueDepth {
    runtime: tokio::runtime::Runtime,
    sqs: aws_sdk_sqs::Client,
    url: String,
}

impl QueueDepth {
    /// From `GET /ops/api/stack`: the backend's endpoint and region, and the queue with
    /// a redrive policy.
    fn of(stack: &Value) -> Option<Self> {
        let endpoint = stack["endpoint"].as_str()?;
        let region = stack["region"].as_str()?;
        let url = stack["queues"]
            .as_array()?
            .iter()
            .find(|q| q["redrive"].is_object())?["url"]
            .as_str()?
            .to_owned();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        let config = runtime.block_on(local_cloud::backend::sdk_config(endpoint, region));
        Some(Self {
            runtime,
            sqs: aws_sdk_sqs::Client::new(&config),
            url,
        })
    }

    /// Messages waiting or in flight; `None` when the queue cannot be read.
    fn read(&self) -> Option<u64> {
        self.runtime
            .block_on(crate::dlq::depth(&self.sqs, &self.url))
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_intervals_must_be_positive_numbers() {
        assert_eq!(positive("2.5"), Ok(2.5));
        for bad in ["0", "-1", "x", "inf", "NaN", ""] {
            assert!(positive(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_watch_gives_the_most_overdue_sample_and_none_early() {
        let watch = Watch::default();
        let now = Instant::now();
        for (id, due) in [
            ("later", now + Duration::from_mins(1)),
            ("due", now),
            ("overdue", now.checked_sub(Duration::from_secs(1)).unwrap()),
        ] {
            lock(&watch.pending).push(Sample {
                id: id.into(),
                sent: now,
                sent_wall: SystemTime::now(),
                not_before: Duration::ZERO,
                due,
            });
        }
        assert_eq!(watch.due().unwrap().id, "overdue");
        assert_eq!(watch.due().unwrap().id, "due");
        assert!(watch.due().is_none());
        assert_eq!(lock(&watch.pending).len(), 1);
    }
}
