//! What `feedback-ops load` shows: a progress line on stderr while it runs
//! ([`Console`], [`Progress`]), then the [`Report`], as a table or one JSON object.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::chaos::ChaosEvent;
use super::{Accounting, Percentiles};

/// How stderr is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// A terminal: one line redrawn in place.
    Terminal,
    /// A pipe or a file: a plain line now and then.
    Lines,
    /// `--json`: progress and chaos lines off; warnings only.
    Quiet,
}

/// Stderr, shared by the progress line, the chaos lines and warnings, so that a line
/// never lands in the middle of the progress bar.
pub struct Console {
    mode: Mode,
    bar_drawn: Mutex<bool>,
}

impl Console {
    /// Stderr as it is: a terminal, or not; `quiet` (for `--json`) keeps progress and
    /// chaos lines off it.
    pub fn new(quiet: bool) -> Self {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Terminal
        } else {
            Mode::Lines
        };
        Self {
            mode,
            bar_drawn: Mutex::new(false),
        }
    }

    /// Whether progress is drawn in place (a terminal).
    pub fn is_terminal(&self) -> bool {
        self.mode == Mode::Terminal
    }

    /// Whether progress and chaos lines are shown at all.
    pub fn shows_progress(&self) -> bool {
        self.mode != Mode::Quiet
    }

    fn write(&self, text: &str, newline: bool) {
        let mut drawn = self
            .bar_drawn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut err = std::io::stderr().lock();
        if *drawn {
            let _ = write!(err, "\r\x1b[2K");
        }
        if newline {
            let _ = writeln!(err, "{text}");
            *drawn = false;
        } else {
            let _ = write!(err, "{text}");
            *drawn = true;
        }
        let _ = err.flush();
    }

    /// A line such as a chaos action; nothing with `--json`.
    pub fn line(&self, text: &str) {
        if self.mode != Mode::Quiet {
            self.write(text, true);
        }
    }

    /// A warning line, shown even with `--json` (stdout keeps only the JSON).
    pub fn warn(&self, text: &str) {
        self.write(&format!("warning: {text}"), true);
    }

    /// The progress: redrawn in place on a terminal, a plain line elsewhere.
    pub fn progress(&self, text: &str) {
        match self.mode {
            Mode::Terminal => self.write(text, false),
            Mode::Lines => self.write(text, true),
            Mode::Quiet => {}
        }
    }

    /// Clears a progress line drawn in place.
    pub fn clear(&self) {
        if self.mode == Mode::Terminal {
            let mut drawn = self
                .bar_drawn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if *drawn {
                let _ = write!(std::io::stderr(), "\r\x1b[2K");
                *drawn = false;
            }
        }
    }
}

/// The phase a run is in.
const POSTING: u8 = 0;
const DRAINING: u8 = 1;

/// The counters the progress line shows, updated by every thread of the run.
#[derive(Debug, Default)]
pub struct Progress {
    /// Comments of the run.
    pub total: usize,
    /// Posts with a final answer (or given up).
    pub done: AtomicUsize,
    /// Accepted so far.
    pub accepted: AtomicUsize,
    /// Rejected so far.
    pub rejected: AtomicUsize,
    /// Given up so far.
    pub failed: AtomicUsize,
    /// Attempts after the first, so far.
    pub retries: AtomicU64,
    /// The comments found stored at the last look (while draining); −1 before the first.
    pub stored: AtomicI64,
    /// The comments queue's depth at the last look; −1 when unknown.
    pub queue: AtomicI64,
    phase: AtomicU8,
    finished: AtomicBool,
}

impl Progress {
    /// Counters for a run of `total` comments.
    pub fn new(total: usize) -> Self {
        Self {
            total,
            queue: AtomicI64::new(-1),
            stored: AtomicI64::new(-1),
            ..Self::default()
        }
    }

    /// The posting is over: the line shows the drain from now on.
    pub fn draining(&self) {
        self.phase.store(DRAINING, Ordering::Relaxed);
    }

    /// The run is over: the progress thread stops.
    pub fn finish(&self) {
        self.finished.store(true, Ordering::Relaxed);
    }

    /// Whether the run is over.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Relaxed)
    }

    /// The progress line at `elapsed`.
    pub fn line(&self, elapsed: Duration) -> String {
        let done = self.done.load(Ordering::Relaxed);
        let accepted = self.accepted.load(Ordering::Relaxed);
        if self.phase.load(Ordering::Relaxed) == POSTING {
            format!(
                "posting  {} {done}/{}  accepted {accepted}  rejected {}  failed {}  retries {}  {:.1} s",
                bar(done, self.total, 20),
                self.total,
                self.rejected.load(Ordering::Relaxed),
                self.failed.load(Ordering::Relaxed),
                self.retries.load(Ordering::Relaxed),
                elapsed.as_secs_f64()
            )
        } else {
            let known = |value: i64| usize::try_from(value).ok();
            let queue = known(self.queue.load(Ordering::Relaxed));
            let queue_text = queue.map_or_else(|| "?".to_owned(), |depth| depth.to_string());
            // Listing is expensive, so the stored count comes once the queue is empty;
            // until then the bar follows the queue.
            match known(self.stored.load(Ordering::Relaxed)) {
                Some(stored) => format!(
                    "draining {} stored {stored}/{accepted}  queue {queue_text}  {:.1} s",
                    bar(stored, accepted, 20),
                    elapsed.as_secs_f64()
                ),
                None => format!(
                    "draining {} queue {queue_text}  (stored: counted once it is empty)  {:.1} s",
                    bar(
                        accepted.saturating_sub(queue.unwrap_or(accepted)),
                        accepted,
                        20
                    ),
                    elapsed.as_secs_f64()
                ),
            }
        }
    }
}

/// `[#####.....]`: `done` of `total` in `width` characters.
pub fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done.min(total) * width)
        .checked_div(total)
        .unwrap_or(width);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(width - filled))
}

/// Draws `progress` until it is finished: four times a second on a terminal, every five
/// seconds otherwise, nothing with `--json`.
pub fn draw(progress: &Progress, console: &Console, started: Instant) {
    if !console.shows_progress() {
        return;
    }
    let every = if console.is_terminal() {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(5)
    };
    let mut last = Instant::now();
    while !progress.is_finished() {
        if console.is_terminal() || last.elapsed() >= every {
            console.progress(&progress.line(started.elapsed()));
            last = Instant::now();
        }
        let pause = if console.is_terminal() {
            every
        } else {
            Duration::from_millis(100)
        };
        std::thread::sleep(pause);
    }
    console.clear();
}

/// The outcome of one run, as `--json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The run's id: its comments' texts say `load <run_id> <n>:`.
    pub run_id: String,
    /// The API.
    pub url: String,
    /// Concurrent clients.
    pub clients: usize,
    /// The cap on posts a second, if any.
    pub rate: Option<f64>,
    /// The chaos schedule's seed (with `--chaos`).
    pub seed: Option<u64>,
    /// Where every comment ended up.
    #[serde(flatten)]
    pub accounting: Accounting,
    /// Attempts after the first, over all comments.
    pub retries: u64,
    /// Accepted comments a second over the posting phase.
    pub accepted_per_s: f64,
    /// First attempt to final answer (retries included), of every answered post.
    pub post_ms: Percentiles,
    /// Post to stored, of the sampled comments (`GET /status/{id}` polled).
    pub stored_ms: Percentiles,
    /// Every chaos action taken, in order.
    pub chaos: Vec<ChaosEvent>,
    /// The posting phase, in seconds.
    pub posting_s: f64,
    /// The drain, in seconds.
    pub drain_s: f64,
    /// The whole run, in seconds.
    pub duration_s: f64,
    /// Whether the pipeline drained: every accepted comment was found, or the comments
    /// queue was empty; false when the drain timed out.
    pub drained: bool,
    /// Whether the dead-letter queue could be read (the local stack's ops API).
    pub dlq_checked: bool,
    /// Anything the run could not do as asked.
    pub warnings: Vec<String>,
}

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.1} ms"))
}

fn percentiles(p: &Percentiles) -> String {
    format!("p50 {}  p90 {}  p99 {}", ms(p.p50), ms(p.p90), ms(p.p99))
}

/// One row of the table: a name, a count (or nothing) and a note.
fn row(name: &str, value: &dyn std::fmt::Display, note: &str) -> String {
    format!("  {name:<16} {:>8}  {note}", value.to_string())
        .trim_end()
        .to_owned()
}

/// The report as a table for the terminal.
pub fn table(report: &Report) -> Vec<String> {
    let a = &report.accounting;
    let rate = report
        .rate
        .map(|r| format!(", at most {r}/s"))
        .unwrap_or_default();
    let seed = report
        .seed
        .map(|s| format!(", chaos (--seed {s})"))
        .unwrap_or_default();
    let mut lines = vec![format!(
        "load {} against {}: {} comments, {} clients{rate}{seed}",
        report.run_id, report.url, a.comments, report.clients
    )];
    let throughput = format!(
        "{:.1}/s over {:.1} s of posting",
        report.accepted_per_s, report.posting_s
    );
    let dlq = if report.dlq_checked {
        "accepted, not stored, in the DLQ"
    } else {
        "not checked: no ops API at this URL"
    };
    let counts: [(&str, &dyn std::fmt::Display, &str); 8] = [
        ("accepted", &a.accepted, &throughput),
        ("rejected", &a.rejected, "4xx answers"),
        ("failed", &a.failed, "no answer after every attempt"),
        ("retries", &report.retries, "same Idempotency-Key"),
        ("stored", &a.stored, "accepted and listed"),
        ("dead-lettered", &a.dead_lettered, dlq),
        (
            "lost",
            &a.lost,
            "accepted, neither stored nor dead-lettered",
        ),
        ("duplicates", &a.duplicates, "listed more than once"),
    ];
    lines.extend(
        counts
            .iter()
            .map(|(name, value, note)| row(name, *value, note)),
    );
    if a.stored_unacknowledged > 0 {
        let note = "never acknowledged, stored all the same";
        lines.push(row("stored unacked", &a.stored_unacknowledged, note));
    }
    let stored = format!(
        "{}  ({} sampled comments)",
        percentiles(&report.stored_ms),
        report.stored_ms.samples
    );
    let drain = format!(
        "{:.1} s{}; the run took {:.1} s",
        report.drain_s,
        if report.drained { "" } else { " (timed out)" },
        report.duration_s
    );
    lines.extend([
        row("post", &"", &percentiles(&report.post_ms)),
        row("post → stored", &"", &stored),
        row("chaos", &report.chaos.len(), &chaos_summary(&report.chaos)),
        row("drain", &"", &drain),
    ]);
    lines.extend(report.warnings.iter().map(|w| format!("  warning: {w}")));
    lines.push(verdict(report));
    lines
}

fn chaos_summary(events: &[ChaosEvent]) -> String {
    if events.is_empty() {
        return "actions (none: run with --chaos)".to_owned();
    }
    let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count();
    let failed = events.iter().filter(|e| !e.ok).count();
    format!(
        "actions: {} push-to-db faults, {} kills, {} backend faults{}",
        count("fault_on"),
        count("kill"),
        count("backend_fault_on"),
        if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        }
    )
}

fn verdict(report: &Report) -> String {
    let a = &report.accounting;
    if a.ok() {
        return format!(
            "ok: every accepted comment accounted for ({} stored exactly once, {} dead-lettered), none lost or duplicated",
            a.stored, a.dead_lettered
        );
    }
    let mut problems = Vec::new();
    for (count, what) in [
        (a.lost, "lost"),
        (a.duplicates, "duplicated"),
        (a.rejected, "rejected"),
        (a.failed, "never accepted"),
    ] {
        if count > 0 {
            problems.push(format!("{count} {what}"));
        }
    }
    format!("FAILED: {}", problems.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(accounting: Accounting) -> Report {
        Report {
            run_id: "1a2b3c4d".into(),
            url: "http://127.0.0.1:3000".into(),
            clients: 8,
            rate: None,
            seed: Some(7),
            accounting,
            retries: 3,
            accepted_per_s: 250.0,
            post_ms: Percentiles::of(&[1.0, 2.0, 3.0]),
            stored_ms: Percentiles::default(),
            chaos: Vec::new(),
            posting_s: 2.0,
            drain_s: 1.0,
            duration_s: 3.5,
            drained: true,
            dlq_checked: true,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn the_json_has_the_contracts_fields() {
        let json = serde_json::to_value(report(Accounting {
            comments: 500,
            accepted: 500,
            stored: 500,
            ..Accounting::default()
        }))
        .unwrap();
        for field in [
            "comments",
            "accepted",
            "rejected",
            "stored",
            "dead_lettered",
            "lost",
            "duplicates",
            "retries",
        ] {
            assert!(json[field].is_u64(), "{field}: {json}");
        }
        assert!(json["accepted_per_s"].is_f64());
        assert!(json["duration_s"].is_f64());
        assert!(json["chaos"].is_array());
        assert_eq!(json["post_ms"]["p50"], 2.0);
        assert_eq!(json["post_ms"]["p99"], 3.0);
        assert!(json["stored_ms"]["p90"].is_null(), "no samples, no figure");
    }

    #[test]
    fn the_table_ends_with_the_verdict() {
        let clean = table(&report(Accounting {
            comments: 2,
            accepted: 2,
            stored: 2,
            ..Accounting::default()
        }));
        assert!(clean.last().unwrap().starts_with("ok:"), "{clean:#?}");
        assert!(clean.iter().any(|l| l.contains("p50 2.0 ms")), "{clean:#?}");
        let lossy = table(&report(Accounting {
            comments: 2,
            accepted: 2,
            stored: 1,
            lost: 1,
            ..Accounting::default()
        }));
        assert_eq!(lossy.last().unwrap(), "FAILED: 1 lost");
    }

    #[test]
    fn the_progress_line_follows_the_phase() {
        let progress = Progress::new(10);
        progress.done.store(5, Ordering::Relaxed);
        progress.accepted.store(5, Ordering::Relaxed);
        let line = progress.line(Duration::from_secs(1));
        assert!(
            line.starts_with("posting  [##########..........] 5/10"),
            "{line}"
        );
        progress.draining();
        let line = progress.line(Duration::from_secs(2));
        assert!(
            line.starts_with("draining [....................] queue ?  (stored: counted once"),
            "{line}"
        );
        progress.queue.store(1, Ordering::Relaxed);
        let line = progress.line(Duration::from_secs(2));
        assert!(
            line.starts_with("draining [################....] queue 1  (stored:"),
            "{line}"
        );
        progress.stored.store(5, Ordering::Relaxed);
        progress.queue.store(0, Ordering::Relaxed);
        let line = progress.line(Duration::from_secs(2));
        assert!(
            line.contains("stored 5/5") && line.contains("queue 0"),
            "{line}"
        );
        assert_eq!(bar(3, 0, 4), "[####]");
        assert_eq!(bar(9, 3, 3), "[###]");
    }
}
