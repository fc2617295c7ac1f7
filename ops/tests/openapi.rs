//! `openapi.yaml` against the template and the code: the same routes as the template's
//! API, every answer the sample events in `events/` document listed for its route, the
//! problem types of `docs/problems.md` with their statuses, and request headers a
//! browser on another origin may send. (The template cannot include the spec as its
//! API's definition without losing SAM's routes; see the comment at the top of
//! openapi.yaml. This test is what keeps the two together instead.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use local_cloud::cloudformation::Template;
use serde_json::Value;

/// The HTTP methods a path item may hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// openapi.yaml as JSON (its YAML anchors resolved).
fn spec() -> Value {
    serde_norway::from_str(&read("openapi.yaml")).expect("openapi.yaml is YAML")
}

fn template() -> Value {
    Template::load(&root().join("template.yaml"))
        .unwrap()
        .document()
        .clone()
}

/// Follows a local `$ref` (`#/components/responses/X`) to what it names.
fn resolve<'s>(spec: &'s Value, node: &'s Value) -> &'s Value {
    match node["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("only local references: {reference}"));
            resolve(
                spec,
                spec.pointer(pointer)
                    .unwrap_or_else(|| panic!("{reference} points at nothing")),
            )
        }
        None => node,
    }
}

/// Every operation of the spec: (METHOD, path) to the operation object.
fn operations(spec: &Value) -> BTreeMap<(String, String), &Value> {
    let mut operations = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                operations.insert((method.to_ascii_uppercase(), path.clone()), operation);
            }
        }
    }
    operations
}

/// The template's API routes: the `Api` events of its functions, as (METHOD, path).
fn template_routes(template: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (id, resource) in template["Resources"].as_object().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let events = resource["Properties"]["Events"].as_object();
        for event in events.into_iter().flat_map(|e| e.values()) {
            if event["Type"] != "Api" {
                continue;
            }
            let properties = &event["Properties"];
            assert_eq!(
                properties["RestApiId"]["Ref"], "FeedbackApi",
                "{id}: every route is on FeedbackApi, the API the spec describes"
            );
            routes.insert((
                properties["Method"].as_str().unwrap().to_ascii_uppercase(),
                properties["Path"].as_str().unwrap().to_owned(),
            ));
        }
    }
    routes
}

#[test]
fn the_spec_has_exactly_the_templates_routes() {
    let spec = spec();
    assert_eq!(
        spec["openapi"], "3.0.3",
        "see the comment atop openapi.yaml"
    );
    let in_spec: BTreeSet<(String, String)> = operations(&spec).into_keys().collect();
    let in_template = template_routes(&template());
    assert!(!in_template.is_empty());
    assert_eq!(
        in_spec, in_template,
        "openapi.yaml's operations against template.yaml's Api events"
    );
    // The template's API is SAM's, built from those events: had it taken its
    // definition from a file, this test would compare the wrong things.
    let api = &template()["Resources"]["FeedbackApi"]["Properties"];
    assert!(api.get("DefinitionBody").is_none() && api.get("DefinitionUri").is_none());
}

/// `StatusCode::PAYLOAD_TOO_LARGE` → 413: the constant names are the reason phrases.
fn status_named(name: &str) -> u16 {
    (100..=599)
        .filter_map(|code| StatusCode::from_u16(code).ok())
        .find(|status| {
            status.canonical_reason().is_some_and(|reason| {
                reason
                    .to_ascii_uppercase()
                    .replace([' ', '-'], "_")
                    .replace('\'', "")
                    == name
            })
        })
        .unwrap_or_else(|| panic!("no status is named {name}"))
        .as_u16()
}

/// The answers `tests/integration/events.rs` documents (and checks) for each sample
/// event: file name (`status/get-status.json`) to HTTP status.
fn documented_answers() -> BTreeMap<String, u16> {
    let source = read("tests/integration/events.rs");
    let marker = "Expect::Http(StatusCode::";
    let mut answers = BTreeMap::new();
    for (at, _) in source.match_indices(marker) {
        let before = &source[..at];
        let close = before.rfind('"').expect("a file name before each answer");
        let open = before[..close].rfind('"').unwrap();
        let rest = &source[at + marker.len()..];
        let name = &rest[..rest.find(')').unwrap()];
        answers.insert(before[open + 1..close].to_owned(), status_named(name));
    }
    answers
}

#[test]
fn every_answer_a_sample_event_documents_is_in_the_spec_for_its_route() {
    let spec = spec();
    let operations = operations(&spec);
    let answers = documented_answers();
    let mut api_events = 0;
    for function in std::fs::read_dir(root().join("events")).unwrap() {
        let function = function.unwrap();
        for file in std::fs::read_dir(function.path()).unwrap() {
            let path = file.unwrap().path();
            let event: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let Some(method) = event["httpMethod"].as_str() else {
                continue; // an SQS batch
            };
            api_events += 1;
            let name = format!(
                "{}/{}",
                function.file_name().to_string_lossy(),
                path.file_name().unwrap().to_string_lossy()
            );
            let status = answers
                .get(&name)
                .unwrap_or_else(|| panic!("{name}: no documented answer in events.rs"));
            let route = (
                method.to_owned(),
                event["resource"].as_str().unwrap().to_owned(),
            );
            let operation = operations
                .get(&route)
                .unwrap_or_else(|| panic!("{name}: {route:?} is not in openapi.yaml"));
            assert!(
                operation["responses"].get(status.to_string()).is_some(),
                "{name}: {route:?} answers {status}, which openapi.yaml does not list"
            );
        }
    }
    assert!(api_events >= 15, "{api_events} API events");
}

/// `docs/problems.md`'s table: problem type (its anchor) to status.
fn documented_problem_types() -> BTreeMap<String, u16> {
    let mut types = BTreeMap::new();
    for line in read("docs/problems.md").lines() {
        let Some(rest) = line.strip_prefix("| <a id=\"") else {
            continue;
        };
        let anchor = &rest[..rest.find('"').unwrap()];
        let status = line.split('|').nth(2).unwrap().trim();
        types.insert(
            anchor.to_owned(),
            status.parse().unwrap_or_else(|_| panic!("{line}")),
        );
    }
    types
}

/// Every problem type the spec's answers name, with the statuses it answers under.
fn problem_types_in_spec(spec: &Value) -> BTreeMap<String, BTreeSet<u16>> {
    let mut types: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    for ((method, path), operation) in operations(spec) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            let response = resolve(spec, response);
            let Some(schema) = response["content"]["application/problem+json"].get("schema") else {
                continue;
            };
            let named = schema["allOf"][1]["properties"]["type"]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} {status}: which problem types?"));
            for uri in named {
                let uri = uri.as_str().unwrap();
                let anchor = uri
                    .strip_prefix(feedback::api::PROBLEM_TYPE_BASE)
                    .unwrap_or_else(|| panic!("{uri} is not under PROBLEM_TYPE_BASE"));
                types
                    .entry(anchor.to_owned())
                    .or_default()
                    .insert(status.parse().unwrap());
            }
        }
    }
    types
}

#[test]
fn the_problem_types_are_those_of_docs_problems_md_with_their_statuses() {
    let documented = documented_problem_types();
    assert!(documented.len() >= 9, "{documented:?}");
    let in_spec = problem_types_in_spec(&spec());
    assert_eq!(
        in_spec.keys().collect::<Vec<_>>(),
        documented.keys().collect::<Vec<_>>(),
        "the problem types of openapi.yaml against docs/problems.md"
    );
    for (anchor, statuses) in in_spec {
        assert_eq!(
            statuses,
            BTreeSet::from([documented[&anchor]]),
            "{anchor}: the status docs/problems.md gives it"
        );
    }
}

#[test]
fn a_page_on_another_origin_may_send_every_request_header_of_the_spec() {
    let spec = spec();
    let cors = &template()["Resources"]["FeedbackApi"]["Properties"]["Cors"];
    let allowed: BTreeSet<String> = cors["AllowHeaders"]
        .as_str()
        .unwrap()
        .trim_matches('\'')
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let mut sent = BTreeSet::from(["content-type".to_owned()]);
    for ((method, path), operation) in operations(&spec) {
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let parameter = resolve(&spec, parameter);
            if parameter["in"] == "header" {
                sent.insert(parameter["name"].as_str().unwrap().to_ascii_lowercase());
            }
        }
        let methods = cors["AllowMethods"].as_str().unwrap();
        assert!(
            methods.contains(&method),
            "{method} {path}: not in {methods}"
        );
    }
    assert_eq!(
        sent, allowed,
        "the spec's request headers against the template's Cors AllowHeaders"
    );
}
