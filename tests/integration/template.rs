//! `template.yaml` against the code: the functions, the variables they read, the API
//! routes of `events/`, and the dependency tags against the wiring.
//!
//! A resource's name in a tag is its logical id in kebab case, less a `Function`
//! suffix (`CommentsQueue` is `comments-queue`): the convention the template states.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use serde_norway::Value as Yaml;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The template as JSON, with CloudFormation's short tags in long form
/// (`!Ref X` → `{"Ref": "X"}`, `!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`).
fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    long_form(serde_norway::from_str(&text).unwrap())
}

fn long_form(yaml: Yaml) -> Value {
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => serde_json::to_value(n).unwrap(),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(long_form).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.as_str().unwrap().to_owned(), long_form(v)))
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let value = long_form(tagged.value);
            let key = if tag == "Ref" {
                "Ref".to_owned()
            } else {
                format!("Fn::{tag}")
            };
            let value = match (tag, value) {
                ("GetAtt", Value::String(dotted)) => {
                    let (resource, attribute) = dotted.split_once('.').unwrap();
                    serde_json::json!([resource, attribute])
                }
                (_, value) => value,
            };
            serde_json::json!({ key: value })
        }
    }
}

/// The function resources, by logical id.
fn functions(template: &Value) -> BTreeMap<String, Value> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(id, r)| (id.clone(), r.clone()))
        .collect()
}

fn crate_of(function: &Value) -> &str {
    function["Metadata"]["BuildProperties"]["Binary"]
        .as_str()
        .unwrap()
}

/// `AddCommentsFunction` → `add-comments`, `CommentsDlq` → `comments-dlq`.
fn talk_name(logical_id: &str) -> String {
    let id = logical_id.strip_suffix("Function").unwrap_or(logical_id);
    let mut name = String::new();
    for (i, c) in id.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('-');
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

#[test]
fn every_function_crate_has_exactly_one_function_resource_and_the_reverse() {
    let template = template();
    let mut in_template: Vec<String> = functions(&template)
        .values()
        .map(|f| crate_of(f).to_owned())
        .collect();
    in_template.sort();
    let mut crates: Vec<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    crates.sort();
    assert_eq!(in_template, crates);
    for (id, function) in functions(&template) {
        assert_eq!(
            talk_name(&id),
            crate_of(&function),
            "{id} is named after its crate"
        );
        assert_eq!(
            function["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{id}"
        );
    }
}

/// Environment variables a function's own code requires (`required_env("X")` and the
/// hook's `version_variable: "X"`), plus the ops kit's `METRICS_NAMESPACE`.
fn variables_read(krate: &str) -> BTreeSet<String> {
    let mut read = BTreeSet::from(["METRICS_NAMESPACE".to_owned()]);
    let src = root().join("functions").join(krate).join("src");
    for file in std::fs::read_dir(src).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        for marker in ["required_env(\"", "version_variable: \""] {
            for (at, _) in text.match_indices(marker) {
                let rest = &text[at + marker.len()..];
                read.insert(rest.split('"').next().unwrap().to_owned());
            }
        }
    }
    read
}

#[test]
fn every_variable_a_function_reads_is_set_by_the_template_and_nothing_else_is() {
    let template = template();
    let globals = template["Globals"]["Function"]["Environment"]["Variables"]
        .as_object()
        .unwrap();
    for (id, function) in functions(&template) {
        let mut set: BTreeSet<String> = globals.keys().cloned().collect();
        if let Some(own) = function["Properties"]["Environment"]["Variables"].as_object() {
            set.extend(own.keys().cloned());
        }
        // SERVICE_NAME is optional for the ops kit (it defaults to the crate's name).
        set.remove("SERVICE_NAME");
        assert_eq!(set, variables_read(crate_of(&function)), "{id}");
    }
}

#[test]
fn the_api_routes_are_the_routes_of_the_sample_events() {
    let template = template();
    for (id, function) in functions(&template) {
        let krate = crate_of(&function);
        let mut routes = BTreeSet::new();
        for event in function["Properties"]["Events"]
            .as_object()
            .into_iter()
            .flat_map(|e| e.values())
        {
            if event["Type"] == "Api" {
                let method = event["Properties"]["Method"]
                    .as_str()
                    .unwrap()
                    .to_ascii_uppercase();
                routes.insert((
                    method,
                    event["Properties"]["Path"].as_str().unwrap().to_owned(),
                ));
            }
        }
        let mut sampled = BTreeSet::new();
        if let Ok(files) = std::fs::read_dir(root().join("events").join(krate)) {
            for file in files {
                let event: Value =
                    serde_json::from_str(&std::fs::read_to_string(file.unwrap().path()).unwrap())
                        .unwrap();
                if let Some(method) = event["httpMethod"].as_str() {
                    sampled.insert((
                        method.to_owned(),
                        event["resource"].as_str().unwrap().to_owned(),
                    ));
                }
            }
        }
        assert_eq!(
            routes, sampled,
            "{id}: template routes against events/{krate}"
        );
    }
}

/// A tag in the talk's grammar as a set of `Kind:name`.
fn parse_tag(value: &str) -> BTreeSet<String> {
    value
        .split(';')
        .filter(|entry| !entry.is_empty())
        .flat_map(|entry| {
            let (kind, names) = entry
                .split_once(':')
                .unwrap_or_else(|| panic!("no kind in {entry:?}"));
            assert!(
                ["Fn", "SQS", "DDB", "API"].contains(&kind),
                "unknown kind {kind}"
            );
            names.split(',').map(move |name| format!("{kind}:{name}"))
        })
        .collect()
}

/// Every logical id a value refers to (`Ref`, `Fn::GetAtt`, `${X}` and `${X.Attr}` in
/// `Fn::Sub`).
fn references(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("Ref", Value::String(id)) => {
                        into.insert(id.split('.').next().unwrap().to_owned());
                    }
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        into.insert(parts[0].as_str().unwrap().to_owned());
                    }
                    ("Fn::Sub", Value::String(text)) => {
                        for piece in text.split("${").skip(1) {
                            let id = piece.split(['}', '.']).next().unwrap();
                            if !id.starts_with("AWS::") {
                                into.insert(id.to_owned());
                            }
                        }
                    }
                    _ => references(inner, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, into)),
        _ => {}
    }
}

/// The kind a resource has in the tags, if it is a dependency at all.
fn kind_of(resource: &Value) -> Option<&'static str> {
    match resource["Type"].as_str()? {
        "AWS::SQS::Queue" => Some("SQS"),
        "AWS::DynamoDB::Table" => Some("DDB"),
        "AWS::Serverless::Function" => Some("Fn"),
        "AWS::Serverless::Api" => Some("API"),
        _ => None,
    }
}

#[test]
fn the_dependency_tags_match_the_wiring() {
    let template = template();
    let resources = template["Resources"].as_object().unwrap();
    let named = |ids: BTreeSet<String>| -> BTreeSet<String> {
        ids.into_iter()
            .filter_map(|id| {
                Some(format!(
                    "{}:{}",
                    kind_of(resources.get(&id)?)?,
                    talk_name(&id)
                ))
            })
            .collect()
    };
    for (id, function) in functions(&template) {
        let tags = &function["Properties"]["Tags"];
        let declared_up = parse_tag(tags["Upstream"].as_str().unwrap());
        let declared_down = parse_tag(tags["Downstream"].as_str().unwrap());

        // Upstream: what triggers the function (API routes, queues).
        let mut up = BTreeSet::new();
        references(&function["Properties"]["Events"], &mut up);
        // Downstream: what its code is pointed at and allowed to touch.
        let mut down = BTreeSet::new();
        references(&function["Properties"]["Environment"], &mut down);
        references(&function["Properties"]["Policies"], &mut down);

        assert_eq!(declared_up, named(up), "{id}: Upstream");
        assert_eq!(declared_down, named(down), "{id}: Downstream");
    }
}

#[test]
fn the_queue_feeds_push_to_db_and_dead_letters_after_three_receives() {
    let template = template();
    let queue = &template["Resources"]["CommentsQueue"]["Properties"];
    assert_eq!(queue["RedrivePolicy"]["maxReceiveCount"], 3);
    assert_eq!(
        queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0],
        "CommentsDlq"
    );
    let push = &template["Resources"]["PushToDbFunction"]["Properties"];
    let timeout = push["Timeout"]
        .as_u64()
        .or(template["Globals"]["Function"]["Timeout"].as_u64())
        .unwrap();
    let visibility = queue["VisibilityTimeout"].as_u64().unwrap();
    assert!(
        visibility >= 6 * timeout,
        "visibility {visibility} s < 6 × timeout {timeout} s"
    );
    let source = &push["Events"]["QueuedComments"]["Properties"];
    assert_eq!(source["Queue"]["Fn::GetAtt"][0], "CommentsQueue");
    assert_eq!(
        source["FunctionResponseTypes"],
        serde_json::json!(["ReportBatchItemFailures"])
    );
}

#[test]
fn the_table_has_the_keys_and_index_the_code_uses() {
    let template = template();
    let table = &template["Resources"]["CommentsTable"]["Properties"];
    assert_eq!(
        table["KeySchema"],
        serde_json::json!([{"AttributeName": "pk", "KeyType": "HASH"}])
    );
    let index = &table["GlobalSecondaryIndexes"][0];
    assert_eq!(index["IndexName"], feedback::FEED_INDEX);
    assert_eq!(
        index["KeySchema"],
        serde_json::json!([
            {"AttributeName": "feed", "KeyType": "HASH"},
            {"AttributeName": "id", "KeyType": "RANGE"}
        ])
    );
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        "expires_at"
    );
}
