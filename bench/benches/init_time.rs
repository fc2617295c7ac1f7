//! Init time: from process start to the first Runtime API poll, which is where Lambda
//! ends the init phase. A real function (`add-comments`: the ops kit, the AWS SDK
//! config and two clients) and the same echo with and without the ops kit, release
//! builds, plus `add-comments` built with the `demo` profile that `make demo` runs,
//! alternated run by run so a busy moment of the machine hits all four: the demo's
//! figures against the release build's, like for like.

#![allow(clippy::print_stderr, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

mod common;

use common::init_time;
use feedback_tests::build_binaries;

const RUNS: usize = 25;

#[tokio::main]
async fn main() {
    eprintln!("building release binaries (the first build takes minutes)…");
    let binaries = build_binaries(&[
        "--release",
        "--bins",
        "-p",
        "feedback-bench",
        "-p",
        "add-comments",
    ]);
    let mut binaries = binaries;
    let demo = build_binaries(&["--profile", "demo", "--bins", "-p", "add-comments"]);
    binaries.insert(
        "add-comments (demo)".to_owned(),
        demo["add-comments"].clone(),
    );
    let candidates = [
        "bare-echo",
        "kit-echo",
        "add-comments",
        "add-comments (demo)",
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(RUNS); candidates.len()];
    for _ in 0..RUNS {
        for (index, name) in candidates.iter().enumerate() {
            samples[index]
                .push(init_time(&binaries[*name], name.trim_end_matches(" (demo)")).await);
        }
    }
    eprintln!("init time (process start → first poll of the Runtime API), {RUNS} runs each:");
    let baseline = median(&mut samples[0].clone());
    for (name, runs) in candidates.iter().zip(samples.iter_mut()) {
        let middle = median(runs);
        let p90 = runs[runs.len() * 9 / 10];
        eprintln!(
            "  {name:<20} median {:>7.2} ms   p90 {:>7.2} ms   {:.2}× bare-echo",
            ms(middle),
            ms(p90),
            ms(middle) / ms(baseline)
        );
    }
}

fn median(runs: &mut [Duration]) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
