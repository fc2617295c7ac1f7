//! `feedback-ops load`: a load and chaos generator with exact accounting, for the local
//! stack or a deployed API.
//!
//! C clients post N comments, each with its own `Idempotency-Key`, its own
//! `X-Correlation-Id` and a unique text that carries a marker (`load <run> <n>:`); a 5xx,
//! a `429` or a connection error is retried with the same key, with capped exponential
//! back-off and jitter ([`Backoff`]), as a well-behaved client does. With `--chaos`, on
//! the local stack, a seeded schedule ([`chaos`]) injects `push-to-db` failures, kills
//! function processes with `SIGKILL` and makes the backend fail, and removes every fault
//! at the end. Then the pipeline drains, and every comment is accounted for
//! ([`account`]): stored exactly once, dead-lettered, or lost; and duplicated when its
//! marker is on more than one stored item.
//!
//! This module holds the pure parts, each with its unit tests: percentiles, the
//! accounting, the rate limiter, the back-off schedule, the markers and the URL checks.
//! [`client`] speaks HTTP, [`chaos`] runs the schedule, [`report`] draws the progress
//! line and the table, and [`cli`] is the command.

pub mod chaos;
pub mod cli;
pub mod client;
pub mod report;

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::time::Duration;

use serde::Serialize;

/// The p50, p90 and p99 of a set of durations, in milliseconds (`None` without samples).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// The median.
    pub p50: Option<f64>,
    /// The 90th percentile.
    pub p90: Option<f64>,
    /// The 99th percentile.
    pub p99: Option<f64>,
    /// How many values they were taken from.
    pub samples: usize,
}

impl Percentiles {
    /// The percentiles of `values` (milliseconds, in any order), each rounded to 0.1 ms.
    pub fn of(values: &[f64]) -> Self {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let at = |p| percentile(&sorted, p).map(|v| (v * 10.0).round() / 10.0);
        Self {
            p50: at(50.0),
            p90: at(90.0),
            p99: at(99.0),
            samples: sorted.len(),
        }
    }
}

/// The `p`th percentile (0 < `p` ≤ 100) of `sorted` (ascending) by the nearest-rank
/// method: the smallest value that at least `p` % of the values do not exceed. `None`
/// for no values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    // ceil(p/100 × n), from 1 to n: the rank of the value to answer.
    let n = sorted.len();
    let wanted = (p.clamp(0.0, 100.0) / 100.0 * as_f64(n)).ceil();
    let rank = (1..=n).find(|&rank| as_f64(rank) >= wanted).unwrap_or(n);
    sorted.get(rank - 1).copied()
}

/// `n` as a float; counts here are far below 2^52, where the conversion is exact.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn as_f64(n: usize) -> f64 {
    n as f64
}

/// How the API finally answered one comment's post.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// A 2xx: the comment is queued.
    Accepted,
    /// A 4xx other than `429`: refused for good.
    Rejected,
    /// No 2xx or 4xx after every attempt (5xx answers, connection errors).
    Failed,
}

/// Where every comment of a run ended up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Accounting {
    /// Comments posted.
    pub comments: usize,
    /// Answered with a 2xx.
    pub accepted: usize,
    /// Answered with a final 4xx.
    pub rejected: usize,
    /// Never answered with a 2xx or a 4xx, after every attempt.
    pub failed: usize,
    /// Accepted and stored (counted once however many copies there are).
    pub stored: usize,
    /// Accepted, not stored, and in the dead-letter queue.
    pub dead_lettered: usize,
    /// Accepted, and neither stored nor dead-lettered.
    pub lost: usize,
    /// Comments (accepted or not) whose marker is on more than one stored item.
    pub duplicates: usize,
    /// Comments never acknowledged (failed or rejected) that were stored all the same:
    /// not an error, since the client could not know.
    pub stored_unacknowledged: usize,
}

impl Accounting {
    /// Nothing lost, duplicated, rejected or left unanswered.
    pub fn ok(&self) -> bool {
        self.lost == 0 && self.duplicates == 0 && self.rejected == 0 && self.failed == 0
    }
}

/// Accounts for every comment: `answers[n]` is how comment `n`'s post ended, `copies`
/// how many distinct stored items carry comment `n`'s marker (absent: none), `dead` the
/// comments whose message is in the dead-letter queue.
///
/// An accepted comment is stored (once, however many copies), else dead-lettered if it
/// is in the DLQ, else lost: `stored + dead_lettered + lost == accepted`.
pub fn account<S: BuildHasher, T: BuildHasher>(
    answers: &[Answer],
    copies: &HashMap<usize, usize, S>,
    dead: &HashSet<usize, T>,
) -> Accounting {
    let mut accounting = Accounting {
        comments: answers.len(),
        ..Accounting::default()
    };
    for (n, answer) in answers.iter().enumerate() {
        let stored = copies.get(&n).copied().unwrap_or(0);
        if stored > 1 {
            accounting.duplicates += 1;
        }
        match answer {
            Answer::Accepted => {
                accounting.accepted += 1;
                if stored > 0 {
                    accounting.stored += 1;
                } else if dead.contains(&n) {
                    accounting.dead_lettered += 1;
                } else {
                    accounting.lost += 1;
                }
            }
            Answer::Rejected | Answer::Failed => {
                if *answer == Answer::Rejected {
                    accounting.rejected += 1;
                } else {
                    accounting.failed += 1;
                }
                if stored > 0 {
                    accounting.stored_unacknowledged += 1;
                }
            }
        }
    }
    accounting
}

/// A token bucket: at most `rate` takes a second on average, `burst` at once. A take
/// reserves its token, so callers that wait queue up rather than race.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Duration,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens (at least 1) refilled at `rate` a second.
    pub fn new(rate: f64, burst: f64) -> Self {
        let burst = burst.max(1.0);
        Self {
            rate: rate.max(f64::MIN_POSITIVE),
            burst,
            tokens: burst,
            last: Duration::ZERO,
        }
    }

    /// Takes a token at `now` (time since any fixed start, never going back): how long
    /// to wait before using it (zero when one was there).
    pub fn take(&mut self, now: Duration) -> Duration {
        let now = now.max(self.last);
        let refill = now.saturating_sub(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

/// Capped exponential back-off with jitter for a bounded number of attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling after the first failed attempt.
    pub base: Duration,
    /// The largest ceiling.
    pub cap: Duration,
    /// Attempts in all, the first included.
    pub attempts: u32,
}

impl Backoff {
    /// What the load clients use: 100 ms doubling to 5 s, 8 attempts (at most about
    /// 11 s of pauses for one comment).
    pub const CLIENT: Self = Self {
        base: Duration::from_millis(100),
        cap: Duration::from_secs(5),
        attempts: 8,
    };

    /// The pause after failed attempt `attempt` (1 for the first): "equal jitter", half
    /// the ceiling `min(cap, base × 2^(attempt−1))` plus `unit` (from 0 to 1, random)
    /// times the other half, so clients that failed together do not retry together and
    /// no pause collapses to nothing.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let ceiling = self
            .base
            .checked_mul(1 << doublings)
            .unwrap_or(self.cap)
            .min(self.cap);
        ceiling / 2 + (ceiling / 2).mul_f64(unit.clamp(0.0, 1.0))
    }
}

/// The text of comment `n` of run `run`: its marker, then words, well under the API's
/// 2000 characters.
pub fn comment_text(run: &str, n: usize) -> String {
    format!("load {run} {n}: a comment posted by feedback-ops load")
}

/// The comment number in a stored text of run `run`, if the text is one of its comments.
pub fn parse_marker(run: &str, text: &str) -> Option<usize> {
    let rest = text
        .strip_prefix("load ")?
        .strip_prefix(run)?
        .strip_prefix(' ')?;
    let digits = rest.split(':').next()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 12 {
        return None;
    }
    if !rest[digits.len()..].starts_with(':') {
        return None;
    }
    digits.parse().ok()
}

/// The `X-Correlation-Id` comment `n` of run `run` is posted with.
pub fn correlation_id(run: &str, n: usize) -> String {
    format!("load-{run}-{n}")
}

/// The milliseconds since the epoch in a UUIDv7 (its first 48 bits), as the API
/// writes ids (`01a22139-7f1e-7c3a-…`); `None` for anything else.
pub fn uuid7_ms(id: &str) -> Option<u64> {
    let bytes = id.as_bytes();
    if bytes.len() != 36 || bytes.get(8) != Some(&b'-') || bytes.get(14) != Some(&b'7') {
        return None;
    }
    let hex = format!("{}{}", id.get(..8)?, id.get(9..13)?);
    u64::from_str_radix(&hex, 16).ok()
}

/// The host of an `http://` or `https://` URL, without port or brackets.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// Whether `url` names this machine (`localhost`, `127.0.0.0/8`, `::1`): only there can
/// `--chaos` reach the stack's ops API and its processes.
pub fn is_loopback(url: &str) -> bool {
    match url_host(url) {
        Some(host) if host.eq_ignore_ascii_case("localhost") => true,
        Some(host) => host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// How long after a "not stored yet" to ask again about a comment posted `age` ago: a
/// quarter of its age, from 100 ms to 5 s, so the polls per comment grow with the log
/// of its latency.
pub fn poll_interval(age: Duration) -> Duration {
    (age / 4).clamp(Duration::from_millis(100), Duration::from_secs(5))
}

/// How many comments of a run of `comments` are followed to their storage: a tenth,
/// from 20 to 200 (all of them in a run of 20 or fewer).
pub fn latency_samples(comments: usize) -> usize {
    (comments / 10).clamp(20, 200)
}

/// Every how many comments one is followed to its storage: at most about `samples`
/// comments of `comments` are, spread evenly over the run.
pub fn sample_stride(comments: usize, samples: usize) -> usize {
    comments.div_ceil(samples.max(1)).max(1)
}

/// A comment's post → stored latency, in ms from its first attempt: `claimed` is what
/// the item's `stored_at` says (the API's clock less this machine's time of the post),
/// kept within what the polls saw: after `after` (when the last "not stored yet" was
/// asked) and before `before` (when "stored" came back). With the two clocks in step,
/// the latency is exact; a skew between them cannot move it outside the observed
/// bracket, and without `stored_at` the bracket's end is taken.
pub fn stored_latency(claimed: Option<f64>, after: f64, before: f64) -> f64 {
    let after = after.min(before);
    claimed.map_or(before, |claimed| claimed.clamp(after, before))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(50.0));
        assert_eq!(percentile(&values, 90.0), Some(90.0));
        assert_eq!(percentile(&values, 99.0), Some(99.0));
        assert_eq!(percentile(&values, 100.0), Some(100.0));
        assert_eq!(percentile(&[7.0], 50.0), Some(7.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
        // Ten values: the p99 is the largest, the p90 the ninth, the p50 the fifth.
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 99.0), Some(10.0));
        assert_eq!(percentile(&ten, 90.0), Some(9.0));
        assert_eq!(percentile(&ten, 50.0), Some(5.0));
    }

    #[test]
    fn percentiles_of_unsorted_values_are_rounded_and_counted() {
        let p = Percentiles::of(&[3.04, 1.0, 2.0, f64::NAN]);
        assert_eq!(p.samples, 3);
        assert_eq!(p.p50, Some(2.0));
        assert_eq!(p.p99, Some(3.0));
        let none = Percentiles::of(&[]);
        assert_eq!(
            (none.p50, none.p90, none.p99, none.samples),
            (None, None, None, 0)
        );
    }

    #[test]
    fn accounting_sorts_every_comment_into_one_place() {
        use Answer::{Accepted, Failed, Rejected};
        // 0 stored, 1 stored twice, 2 dead-lettered, 3 lost, 4 rejected, 5 failed but
        // stored, 6 failed, 7 stored and also in the DLQ (stored wins).
        let answers = [
            Accepted, Accepted, Accepted, Accepted, Rejected, Failed, Failed, Accepted,
        ];
        let copies: HashMap<usize, usize> = [(0, 1), (1, 2), (5, 1), (7, 1)].into();
        let dead: HashSet<usize> = [2, 7].into();
        let accounting = account(&answers, &copies, &dead);
        assert_eq!(
            accounting,
            Accounting {
                comments: 8,
                accepted: 5,
                rejected: 1,
                failed: 2,
                stored: 3,
                dead_lettered: 1,
                lost: 1,
                duplicates: 1,
                stored_unacknowledged: 1,
            }
        );
        assert_eq!(
            accounting.stored + accounting.dead_lettered + accounting.lost,
            accounting.accepted
        );
        assert!(!accounting.ok());
    }

    #[test]
    fn a_clean_run_is_ok_and_each_flaw_is_not() {
        let answers = [Answer::Accepted; 3];
        let all: HashMap<usize, usize> = [(0, 1), (1, 1), (2, 1)].into();
        let clean = account(&answers, &all, &HashSet::new());
        assert!(clean.ok());
        assert_eq!((clean.stored, clean.lost, clean.duplicates), (3, 0, 0));
        let dead = account(&answers, &[(0, 1), (1, 1)].into(), &[2].into());
        assert!(dead.ok(), "a dead-lettered comment is not lost");
        assert!(!account(&answers, &[(0, 1), (1, 1)].into(), &HashSet::new()).ok());
        assert!(!account(&answers, &[(0, 1), (1, 1), (2, 3)].into(), &HashSet::new()).ok());
        assert!(!account(&[Answer::Rejected], &HashMap::new(), &HashSet::new()).ok());
        assert!(!account(&[Answer::Failed], &HashMap::new(), &HashSet::new()).ok());
    }

    #[test]
    fn the_token_bucket_spaces_takes_at_the_rate() {
        let mut bucket = TokenBucket::new(4.0, 1.0);
        let waits: Vec<u128> = (0..5)
            .map(|_| bucket.take(Duration::ZERO).as_millis())
            .collect();
        assert_eq!(waits, [0, 250, 500, 750, 1000]);
        // Later the reservations are paid off and one token is back, no more.
        assert_eq!(bucket.take(Duration::from_secs(3)), Duration::ZERO);
        assert_eq!(bucket.take(Duration::from_secs(3)).as_millis(), 250);
        // Time never runs backwards for it.
        assert!(bucket.take(Duration::ZERO) > Duration::ZERO);
    }

    #[test]
    fn the_token_bucket_holds_the_rate_over_time_and_allows_its_burst() {
        let mut bucket = TokenBucket::new(50.0, 5.0);
        let mut now = Duration::ZERO;
        let mut taken = 0;
        while now < Duration::from_secs(10) {
            now += bucket.take(now);
            taken += 1;
        }
        // 5 at once, then 50 a second for 10 s.
        assert!((500..=506).contains(&taken), "{taken}");
        let mut fresh = TokenBucket::new(50.0, 5.0);
        let free = (0..10)
            .filter(|_| fresh.take(Duration::ZERO).is_zero())
            .count();
        assert_eq!(free, 5);
    }

    #[test]
    fn back_off_doubles_to_its_cap_with_jitter_in_the_upper_half() {
        let backoff = Backoff::CLIENT;
        assert_eq!(backoff.delay(1, 0.0), Duration::from_millis(50));
        assert_eq!(backoff.delay(1, 1.0), Duration::from_millis(100));
        assert_eq!(backoff.delay(2, 0.0), Duration::from_millis(100));
        assert_eq!(backoff.delay(4, 1.0), Duration::from_millis(800));
        for attempt in 1..=40_u32 {
            let ceiling = Duration::from_millis(100)
                .saturating_mul(1 << attempt.min(20).saturating_sub(1))
                .min(backoff.cap);
            for unit in [0.0, 0.3, 0.99, 1.0] {
                let delay = backoff.delay(attempt, unit);
                assert!(delay >= ceiling / 2 && delay <= ceiling, "{attempt} {unit}");
            }
        }
        assert_eq!(backoff.delay(9, 1.0), Duration::from_secs(5));
        assert_eq!(backoff.delay(u32::MAX, 0.0), Duration::from_millis(2500));
        // The whole schedule of one comment: seven pauses between eight attempts.
        let longest: Duration = (1..backoff.attempts).map(|a| backoff.delay(a, 1.0)).sum();
        assert_eq!(
            longest,
            Duration::from_millis(100 + 200 + 400 + 800 + 1600 + 3200 + 5000)
        );
    }

    #[test]
    fn markers_round_trip_and_nothing_else_parses() {
        let text = comment_text("1a2b3c4d", 417);
        assert!(text.chars().count() < 2000);
        assert_eq!(parse_marker("1a2b3c4d", &text), Some(417));
        assert_eq!(
            parse_marker("1a2b3c4d", &comment_text("1a2b3c4d", 0)),
            Some(0)
        );
        assert_eq!(parse_marker("ffffffff", &text), None, "another run's");
        assert_eq!(parse_marker("1a2b3c4d", "load 1a2b3c4d 12"), None);
        assert_eq!(parse_marker("1a2b3c4d", "load 1a2b3c4d x1: hi"), None);
        assert_eq!(parse_marker("1a2b3c4d", "load 1a2b3c4d : hi"), None);
        assert_eq!(parse_marker("1a2b3c4d", "Great talk!"), None);
        assert_eq!(correlation_id("1a2b3c4d", 9), "load-1a2b3c4d-9");
    }

    #[test]
    fn the_time_of_a_uuid7_is_read_and_anything_else_is_not() {
        assert_eq!(
            uuid7_ms("019ac4d2-7f1e-7c3a-9b2d-4e5f60718293"),
            Some(0x019a_c4d2_7f1e)
        );
        assert_eq!(
            uuid7_ms("0b5f1c9e-6d0e-4a43-9c1e-8d8f7f0b2a11"),
            None,
            "a v4"
        );
        assert_eq!(uuid7_ms("not an id"), None);
        assert_eq!(uuid7_ms("019ac4d27f1e7c3a9b2d4e5f60718293"), None);
    }

    #[test]
    fn only_loopback_urls_are_local() {
        for url in [
            "http://127.0.0.1:3000",
            "http://127.0.0.1:3000/",
            "http://localhost:3999/dev",
            "http://LOCALHOST",
            "http://127.1.2.3:80",
            "http://[::1]:3000",
            "http://user@127.0.0.1:3000",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
            "http://192.0.2.1:3000",
            "http://localhost.example.com",
            "http://127.0.0.1.example.com",
            "http://[2001:db8::1]:3000",
            "ftp://127.0.0.1",
            "127.0.0.1:3000",
            "http://",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
        assert_eq!(url_host("https://h.example/prod?x=1"), Some("h.example"));
    }

    #[test]
    fn polls_for_a_stored_comment_slow_down_with_its_age() {
        assert_eq!(poll_interval(Duration::ZERO), Duration::from_millis(100));
        assert_eq!(
            poll_interval(Duration::from_secs(2)),
            Duration::from_millis(500)
        );
        assert_eq!(
            poll_interval(Duration::from_mins(10)),
            Duration::from_secs(5)
        );
        // A comment stored after 90 s is asked about some 30 times, not 900.
        let mut age = Duration::from_millis(100);
        let mut polls = 0;
        while age < Duration::from_secs(90) {
            age += poll_interval(age);
            polls += 1;
        }
        assert!((20..=40).contains(&polls), "{polls}");
    }

    #[test]
    fn the_stored_latency_is_stored_at_kept_within_the_polls() {
        // Clocks in step: stored_at is inside the bracket and taken as it is.
        assert!((stored_latency(Some(130.0), 100.0, 200.0) - 130.0).abs() < 1e-9);
        // A clock ahead or behind cannot leave the bracket.
        assert!((stored_latency(Some(900.0), 100.0, 200.0) - 200.0).abs() < 1e-9);
        assert!((stored_latency(Some(-50.0), 100.0, 200.0) - 100.0).abs() < 1e-9);
        // No stored_at: the first time it was seen stored.
        assert!((stored_latency(None, 100.0, 200.0) - 200.0).abs() < 1e-9);
        // Stored at the first poll: after 0.
        assert!((stored_latency(Some(20.0), 0.0, 35.0) - 20.0).abs() < 1e-9);
    }

    #[test]
    fn a_tenth_of_the_run_is_sampled_within_bounds() {
        assert_eq!(latency_samples(5), 20);
        assert_eq!(latency_samples(500), 50);
        assert_eq!(latency_samples(2000), 200);
        assert_eq!(latency_samples(100_000), 200);
    }

    #[test]
    fn samples_are_spread_over_the_run() {
        assert_eq!(sample_stride(500, 200), 3);
        assert_eq!(sample_stride(100, 200), 1);
        assert_eq!(sample_stride(10_000, 200), 50);
        assert_eq!(sample_stride(0, 200), 1);
        assert_eq!(sample_stride(5, 0), 5);
    }
}
