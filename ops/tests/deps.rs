//! `feedback-ops deps` on the real template and on mutated copies of it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use feedback_ops::deps::export;
use feedback_ops::deps::wiring;
use local_cloud::cloudformation::Template;

fn template_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")
}

fn template_text() -> String {
    std::fs::read_to_string(template_path()).unwrap()
}

/// Runs `feedback-ops deps ARGS` on a template; returns (exit code, stdout, stderr).
fn deps_on(template: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_feedback-ops"))
        .arg("deps")
        .arg("--template")
        .arg(template)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn deps(args: &[&str]) -> (i32, String, String) {
    deps_on(&template_path(), args)
}

/// A copy of the template with `edits` applied (each `(from, to)` must match once),
/// removed when the path returned is dropped.
fn mutated(name: &str, edits: &[(&str, &str)]) -> tempfile::TempPath {
    let mut text = template_text();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once");
        text = text.replace(from, to);
    }
    written(name, &text)
}

/// `text` in a temporary `.yaml` file named after `name`.
fn written(name: &str, text: &str) -> tempfile::TempPath {
    let file = tempfile::Builder::new()
        .prefix(&format!("feedback-ops-{name}-"))
        .suffix(".yaml")
        .tempfile()
        .unwrap();
    std::fs::write(file.path(), text).unwrap();
    file.into_temp_path()
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let (code, out, err) = deps(&with_json);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn the_talks_question_what_add_comments_depends_on() {
    let answer = json(&["of", "add-comments"]);
    let names: Vec<&str> = answer["depends_on"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["comments-queue", "comments-table"]);
    let (code, out, _) = deps(&["of", "add-comments"]);
    assert_eq!(code, 0);
    assert!(out.contains("SQS  comments-queue"), "{out}");
}

#[test]
fn what_depends_on_the_table() {
    let answer = json(&["on", "comments-table"]);
    let names: Vec<&str> = answer["dependents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["add-comments", "get-all-comments", "push-to-db", "status"]
    );
}

#[test]
fn impact_of_the_table_and_the_queue_is_transitive_with_paths() {
    let table = json(&["impact", "comments-table"]);
    let breaks: BTreeMap<String, Vec<String>> = table["breaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["node"].as_str().unwrap().to_owned(),
                serde_json::from_value(i["path"].clone()).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        breaks.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "add-comments",
            "comments-queue",
            "feedback-api",
            "get-all-comments",
            "pre-traffic-hook",
            "push-to-db",
            "status"
        ]
    );
    assert_eq!(
        breaks["comments-queue"],
        ["comments-table", "push-to-db", "comments-queue"]
    );
    assert_eq!(
        breaks["feedback-api"].len(),
        3,
        "one function between the table and the API"
    );

    let queue = json(&["impact", "comments-queue"]);
    let names: BTreeSet<&str> = queue["breaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["node"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["add-comments", "feedback-api", "pre-traffic-hook", "status"])
    );
    // Its consumer is not broken but starved, and said so.
    let starved: BTreeSet<&str> = queue["starves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["node"].as_str().unwrap())
        .collect();
    assert!(starved.contains("push-to-db"), "{queue}");
    assert!(starved.is_disjoint(&names));
}

#[test]
fn an_unknown_node_is_an_error_that_lists_the_nodes() {
    let (code, _, err) = deps(&["of", "nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no node named \"nope\"") && err.contains("comments-queue"),
        "{err}"
    );
}

#[test]
fn show_lists_every_node_in_an_aligned_table() {
    let (code, out, _) = deps(&["show"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("NODE"));
    assert_eq!(lines.len(), 1 + 9, "{out}");
    assert!(
        !out.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn check_passes_on_the_real_template() {
    let (code, out, err) = deps(&["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("ok:"), "{out}");
}

#[test]
fn check_reports_a_removed_tag_entry_as_missing() {
    let path = mutated(
        "removed",
        &[(
            "Downstream: SQS:comments-queue;DDB:comments-table",
            "Downstream: SQS:comments-queue",
        )],
    );
    let (code, out, _) = deps_on(&path, &["check"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("missing: add-comments → comments-table is wired (env TABLE_NAME, policy)"),
        "{out}"
    );
}

#[test]
fn check_reports_a_renamed_queue_as_unknown_and_missing() {
    let text = template_text();
    let renamed = text.replace("CommentsQueue", "MessagesQueue");
    let path = written("renamed", &renamed);
    let (code, out, _) = deps_on(&path, &["check"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("unknown: add-comments tag Downstream names SQS:comments-queue"),
        "{out}"
    );
    assert!(
        out.contains("missing: add-comments → messages-queue"),
        "{out}"
    );
}

#[test]
fn check_reports_an_extra_policy_as_a_missing_tag() {
    let path = mutated(
        "policy",
        &[(
            "              Action: dynamodb:Query\n",
            "              Action: [dynamodb:Query, sqs:SendMessage]\n              Resource: !GetAtt CommentsQueue.Arn\n            - Effect: Allow\n              Action: dynamodb:Query\n",
        )],
    );
    let (code, out, _) = deps_on(&path, &["check"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("missing: get-all-comments → comments-queue is wired (policy)"),
        "{out}"
    );
}

#[test]
fn check_reports_a_tag_the_wiring_does_not_have_as_extra() {
    let path = mutated(
        "extra",
        &[(
            "        Downstream: DDB:comments-table\n\n  StatusFunction",
            "        Downstream: DDB:comments-table;SQS:comments-dlq\n\n  StatusFunction",
        )],
    );
    let (code, out, _) = deps_on(&path, &["check"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("extra: get-all-comments → comments-dlq is in the tags but not wired"),
        "{out}"
    );
}

#[test]
fn a_malformed_tag_names_the_function_the_tag_and_the_position() {
    let path = mutated(
        "kind",
        &[(
            "Downstream: SQS:comments-queue;DDB:comments-table",
            "Downstream: Queue:comments-queue;DDB:comments-table",
        )],
    );
    let (code, _, err) = deps_on(&path, &["check"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("add-comments: tag Downstream = \"Queue:comments-queue;DDB:comments-table\": at character 1: unknown kind \"Queue\""),
        "{err}"
    );
}

fn graph() -> feedback_ops::deps::graph::Graph {
    wiring::declared(&Template::load(&template_path()).unwrap())
        .unwrap()
        .graph
}

#[test]
fn the_dot_export_is_a_well_formed_digraph_with_every_node_and_edge() {
    let graph = graph();
    let dot = export::dot(&graph);
    assert!(dot.starts_with("digraph dependencies {") && dot.trim_end().ends_with('}'));
    let nodes = dot
        .lines()
        .filter(|l| l.contains("[label=") && !l.contains("->"))
        .count();
    let edges = dot.lines().filter(|l| l.contains(" -> ")).count();
    assert_eq!(
        (nodes, edges),
        (graph.nodes().count(), graph.edges().count())
    );
    assert_eq!(dot.matches('"').count() % 2, 0, "quotes balance");
    // Graphviz itself, where it is installed.
    if let Ok(mut child) = Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
    {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(dot.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "dot rejected:\n{dot}");
    }
}

#[test]
fn the_mermaid_export_is_a_graph_whose_edges_name_defined_nodes() {
    let graph = graph();
    let mermaid = export::mermaid(&graph);
    let mut lines = mermaid.lines();
    assert_eq!(lines.next(), Some("graph LR"));
    let mut defined = BTreeSet::new();
    let mut edges = 0;
    for line in lines {
        let line = line.trim();
        if let Some((from, to)) = line.split_once(" -->|depends| ") {
            assert!(defined.contains(from) && defined.contains(to), "{line}");
            edges += 1;
        } else {
            let id: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(!id.is_empty() && line.len() > id.len(), "{line}");
            defined.insert(id);
        }
    }
    assert_eq!(
        (defined.len(), edges),
        (graph.nodes().count(), graph.edges().count())
    );
}

#[test]
fn the_neptune_csv_has_the_bulk_load_headers_and_referential_integrity() {
    let (vertices, edges) = export::neptune_csv(&graph());
    let mut vertex_lines = vertices.lines();
    assert_eq!(vertex_lines.next(), Some("~id,~label,name:String"));
    let ids: BTreeSet<&str> = vertex_lines.map(|l| l.split(',').next().unwrap()).collect();
    let mut edge_lines = edges.lines();
    assert_eq!(edge_lines.next(), Some("~id,~from,~to,~label"));
    let mut edge_ids = BTreeSet::new();
    for line in edge_lines {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 4, "{line}");
        assert!(ids.contains(fields[1]) && ids.contains(fields[2]), "{line}");
        assert_eq!(fields[3], "depends");
        assert!(edge_ids.insert(fields[0]), "duplicate edge id {line}");
    }
}

/// Runs the export's Gremlin script on a tiny in-memory graph (the steps it uses:
/// `addV().property('name')` and `V().has('name').as().V().has('name').addE().from()`)
/// and answers the talk's query the way the Gremlin console prints it.
#[test]
fn the_gremlin_script_answers_the_talks_query_as_the_talk_shows() {
    let script = export::gremlin(&graph());
    let mut vertices: BTreeMap<String, String> = BTreeMap::new();
    let mut edges: Vec<(String, String)> = Vec::new();
    let quoted = |text: &str| -> Vec<String> {
        text.split('\'')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    for line in script.lines().filter(|l| !l.starts_with("//")) {
        if line.starts_with("g.addV(") {
            let q = quoted(line);
            assert_eq!(q.len(), 3, "label, 'name', value: {line}");
            vertices.insert(q[2].clone(), q[0].clone());
        } else if line.contains(".addE('depends')") {
            let q = quoted(line);
            edges.push((q[1].clone(), q[4].clone()));
        } else {
            assert_eq!(line, "g.V().drop().iterate()");
        }
    }
    for (from, to) in &edges {
        assert!(vertices.contains_key(from) && vertices.contains_key(to));
    }
    let answer: Vec<String> = edges
        .iter()
        .filter(|(from, _)| from == "add-comments")
        .map(|(_, to)| format!("==>{{name=[{to}]}}"))
        .collect();
    assert!(
        answer.contains(&"==>{name=[comments-queue]}".to_owned()),
        "{answer:?}"
    );
}

#[test]
fn neptune_csv_export_writes_two_files() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("neptune");
    let (code, out, err) = deps(&[
        "export",
        "--format",
        "neptune-csv",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("vertices.csv") && out.contains("edges.csv"));
    assert!(
        std::fs::read_to_string(dir.join("edges.csv"))
            .unwrap()
            .starts_with("~id,~from,~to,~label")
    );
}

#[test]
fn a_template_that_cannot_be_read_or_parsed_is_one_line_with_its_reason_once() {
    let (code, _, err) = deps_on(Path::new("/nonexistent/template.yaml"), &["show"]);
    assert_eq!(code, 2);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(
        err.contains("cannot read /nonexistent/template.yaml"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let broken = written("broken", "Resources: [unclosed");
    let (code, _, err) = deps_on(&broken, &["show"]);
    assert_eq!(code, 2);
    assert!(err.contains("is not valid YAML"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
