//! The deployable-size study: the cargo profiles of the workspace `Cargo.toml` against
//! `speed` (opt-level 3, what the functions shipped with before the study): `size-sdk`
//! (the SDK crates for size), `size-s`, and `release` (opt-level "z", what they ship
//! with now), measured in one run:
//!
//! - **zip size** of every function built for arm64 by cargo-lambda, as `sam build` builds
//!   it, zipped as Lambda receives it (`tools/function-sizes.py`);
//! - **init**: process start to the first Runtime API poll of `add-comments` (built for
//!   this machine with the same profile), alternated profile by profile so a busy moment
//!   hits them all;
//! - **warm duration**: `add-comments` answering a `POST /comments` against moto (one
//!   `SendMessage`), after a warm-up, alternated the same way.
//!
//! Needs cargo-lambda on `PATH` (`make bench` puts the one `make build` installs there).
//! The first run builds every profile: tens of minutes on two cores.

#![allow(clippy::print_stderr, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::init_time;
use feedback_tests::{FunctionProcess, REGION, TestApp, build_binaries, moto};
use serde_json::Value;

/// The baseline first: every ratio is against it.
const PROFILES: [&str; 4] = ["speed", "size-sdk", "size-s", "release"];
const FUNCTIONS: [&str; 5] = [
    "add-comments",
    "get-all-comments",
    "pre-traffic-hook",
    "push-to-db",
    "status",
];
const INIT_RUNS: usize = 15;
const WARM_INVOCATIONS: usize = 40;

#[tokio::main]
async fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    if Command::new("cargo")
        .args(["lambda", "--version"])
        .output()
        .map_or(true, |out| !out.status.success())
    {
        eprintln!(
            "cargo-lambda is not on PATH: run `make bench` (it installs it with `make build`'s tools)"
        );
        std::process::exit(2);
    }

    let mut zips: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    let mut binaries: BTreeMap<&str, PathBuf> = BTreeMap::new();
    for profile in PROFILES {
        let started = Instant::now();
        eprintln!("[{profile}] building the functions for arm64 with cargo-lambda…");
        zips.insert(profile, arm64_zips(root, profile));
        eprintln!("[{profile}] building add-comments for this machine…");
        let built = build_binaries(&["--profile", profile, "--bins", "-p", "add-comments"]);
        binaries.insert(profile, built["add-comments"].clone());
        eprintln!(
            "[{profile}] built in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }

    eprintln!("measuring init, {INIT_RUNS} runs per profile…");
    let init = measure_init(&binaries).await;
    eprintln!("measuring warm duration, {WARM_INVOCATIONS} invocations per profile…");
    let warm = measure_warm(root, &binaries).await;

    eprintln!();
    eprintln!("deployable size and speed, against the speed profile (one run):");
    eprintln!(
        "  {:<10} {:>12} {:>12} {:>16} {:>16}",
        "profile", "largest zip", "sum of zips", "init (median)", "warm (median)"
    );
    let base_init = ms(init[PROFILES[0]]);
    let base_warm = ms(warm[PROFILES[0]]);
    for profile in PROFILES {
        let sizes = &zips[profile];
        let largest = sizes.values().max().copied().unwrap_or(0);
        let total: u64 = sizes.values().sum();
        eprintln!(
            "  {profile:<10} {:>9.2} MB {:>9.2} MB {:>8.2} ms {:>4.2}× {:>8.2} ms {:>4.2}×",
            mb(largest),
            mb(total),
            ms(init[profile]),
            ms(init[profile]) / base_init,
            ms(warm[profile]),
            ms(warm[profile]) / base_warm,
        );
    }
    eprintln!("  zipped per function (MB):");
    for function in FUNCTIONS {
        let row: Vec<String> = PROFILES
            .iter()
            .map(|p| format!("{p} {:.2}", mb(zips[p].get(function).copied().unwrap_or(0))))
            .collect();
        eprintln!("    {function:<18} {}", row.join("   "));
    }
}

/// Builds every function for arm64 with `profile` into its own folder and returns the
/// zipped size of each, in bytes.
fn arm64_zips(root: &Path, profile: &str) -> BTreeMap<String, u64> {
    let dir = root.join("target").join("deployables").join(profile);
    let mut build = Command::new("cargo");
    build
        .current_dir(root)
        .args([
            "lambda",
            "build",
            "--arm64",
            "--profile",
            profile,
            "--lambda-dir",
        ])
        .arg(&dir);
    for function in FUNCTIONS {
        build.args(["-p", function]);
    }
    let status = build.status().expect("run cargo lambda build");
    assert!(
        status.success(),
        "cargo lambda build --profile {profile} failed"
    );
    let output = Command::new("python3")
        .current_dir(root)
        .args(["tools/function-sizes.py", "--json"])
        .arg(&dir)
        .output()
        .expect("run tools/function-sizes.py");
    assert!(output.status.success(), "tools/function-sizes.py failed");
    let sizes: BTreeMap<String, Value> = serde_json::from_slice(&output.stdout).unwrap();
    sizes
        .into_iter()
        .map(|(name, size)| (name, size["zipped"].as_u64().unwrap()))
        .collect()
}

/// Median time from process start to first poll, per profile.
async fn measure_init(binaries: &BTreeMap<&str, PathBuf>) -> BTreeMap<&'static str, Duration> {
    let mut samples: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    for _ in 0..INIT_RUNS {
        for profile in PROFILES {
            samples
                .entry(profile)
                .or_default()
                .push(init_time(&binaries[profile], "add-comments").await);
        }
    }
    medians(samples)
}

/// Median invocation round trip of a warm `add-comments` posting one comment, per
/// profile, on one stack.
async fn measure_warm(
    root: &Path,
    binaries: &BTreeMap<&str, PathBuf>,
) -> BTreeMap<&'static str, Duration> {
    let app = TestApp::spawn().await;
    let event: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("events/add-comments/post-comment.json")).unwrap(),
    )
    .unwrap();
    let mut processes = Vec::new();
    for profile in PROFILES {
        let process = FunctionProcess::start_spec_binary(
            app.function("add-comments"),
            &binaries[profile],
            REGION,
            &moto().endpoint,
            &[],
        )
        .await;
        // Warm-up: the first call pays for the connection and the TLS-free handshake.
        for _ in 0..3 {
            process.invoke(event.clone()).await;
        }
        processes.push((profile, process));
    }
    let mut samples: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    for _ in 0..WARM_INVOCATIONS {
        for (profile, process) in &processes {
            let started = Instant::now();
            let (_, answer) = process.invoke(event.clone()).await;
            samples.entry(profile).or_default().push(started.elapsed());
            assert!(
                matches!(answer, feedback_tests::Answer::Response(_)),
                "{profile}: {answer:?}"
            );
        }
    }
    medians(samples)
}

fn medians(samples: BTreeMap<&'static str, Vec<Duration>>) -> BTreeMap<&'static str, Duration> {
    samples
        .into_iter()
        .map(|(profile, mut runs)| {
            runs.sort();
            (profile, runs[runs.len() / 2])
        })
        .collect()
}

#[allow(clippy::cast_precision_loss, reason = "megabytes for display")]
fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
