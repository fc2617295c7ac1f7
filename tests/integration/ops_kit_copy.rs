//! The ops kit's promise (issue 15): copy `shared/ops-kit` into another repository,
//! next to a crate of any edition, and it builds as it is. This test does that: a new
//! workspace under `target/ops-kit-copy/` with the copied folder and an edition-2021
//! crate whose `main.rs` is the README's snippet and whose dependencies are the
//! README's `Cargo.toml` block, both unchanged. It builds with this
//! checkout's `Cargo.lock` (so the versions are the ones tested here) into a target
//! directory of its own, then runs the snippet's binary and the copy's examples through
//! the same checks as `ops_kit_examples.rs`.
//!
//! The first run compiles the AWS SDK: minutes. Later runs rebuild only the copied
//! crates.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::ops_kit_examples::{
    EXAMPLES, README, check_example, readme_block, readme_snippet, workspace_root,
};

#[tokio::test]
async fn a_copy_of_the_kit_builds_in_a_new_workspace_and_its_binaries_pass_the_example_checks() {
    let root = workspace_root();
    let copy = root.join("target/ops-kit-copy");
    eprintln!("ops-kit copy: a new workspace in {}", copy.display());
    if copy.exists() {
        std::fs::remove_dir_all(&copy).unwrap();
    }
    copy_dir(&root.join("shared/ops-kit"), &copy.join("ops-kit"));
    write(
        &copy.join("Cargo.toml"),
        "[workspace]\nmembers = [\"app\", \"ops-kit\"]\nresolver = \"2\"\n",
    );
    write(&copy.join("app/Cargo.toml"), &app_manifest());
    write(&copy.join("app/src/main.rs"), &readme_snippet());
    std::fs::copy(root.join("Cargo.lock"), copy.join("Cargo.lock")).unwrap();

    let target = root.join("target/ops-kit-copy-target");
    eprintln!(
        "ops-kit copy: cargo build --workspace --bins --examples into {} \
         (the first build compiles the AWS SDK: minutes)",
        target.display()
    );
    let started = Instant::now();
    build(&copy, &target);
    eprintln!(
        "ops-kit copy: built in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let debug = target.join("debug");
    eprintln!("ops-kit copy: the README's snippet as the app's main.rs");
    check_example(&debug.join("app"), &README).await;
    for example in &EXAMPLES {
        eprintln!("ops-kit copy: example {}", example.name);
        check_example(&debug.join("examples").join(example.name), example).await;
    }
}

/// The new crate's manifest: edition 2021, and the README's `[dependencies]` block as
/// a reader copies it (the kit by path, `../ops-kit`, as laid out here).
fn app_manifest() -> String {
    let block = readme_block("```toml");
    assert!(
        block.contains("[dependencies]") && block.contains("path = \"../ops-kit\""),
        "the README's Cargo.toml block names the copied kit by path:\n{block}"
    );
    format!(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n{block}"
    )
}

/// Builds the copy offline (every crate is in this checkout's lock and cargo's cache),
/// or, if a crate is missing from the cache, online.
fn build(workspace: &Path, target: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let attempt = |offline: bool| {
        let mut command = Command::new(&cargo);
        command
            .args(["build", "--workspace", "--bins", "--examples"])
            .current_dir(workspace)
            .env("CARGO_TARGET_DIR", target);
        if offline {
            command.arg("--offline");
        }
        command.status().unwrap().success()
    };
    if attempt(true) {
        return;
    }
    eprintln!("ops-kit copy: the offline build failed; trying again online");
    assert!(
        attempt(false),
        "the copy does not build: cargo's errors are above"
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Copies `from` into `to`, leaving out build output (`target`).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path: PathBuf = entry.path();
        let destination = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "target" {
                copy_dir(&path, &destination);
            }
        } else {
            std::fs::copy(&path, &destination).unwrap();
        }
    }
}
