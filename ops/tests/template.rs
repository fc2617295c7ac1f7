//! `template.yaml` against the code: the functions, the variables they read, the API
//! routes of `events/`, the queue and table settings the code relies on, and the
//! dependency tags against the wiring.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use feedback_ops::deps::wiring;
use local_cloud::cloudformation::{Template, talk_name};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The template as JSON, in CloudFormation's long form.
fn template() -> Value {
    Template::load(&root().join("template.yaml"))
        .unwrap()
        .document()
        .clone()
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
/// hook's `version_variable: "X"`), plus the ops kit's `OPS_KIT_METRICS_NAMESPACE`.
fn variables_read(krate: &str) -> BTreeSet<String> {
    let mut read = BTreeSet::from(["OPS_KIT_METRICS_NAMESPACE".to_owned()]);
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
        // The service name is optional for the ops kit (it defaults to the crate's name).
        set.remove("OPS_KIT_SERVICE_NAME");
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

#[test]
fn the_dependency_tags_match_the_wiring() {
    let template = Template::load(&root().join("template.yaml")).unwrap();
    let declared = wiring::declared(&template).unwrap();
    let drift = wiring::drift(&declared, &wiring::actual(&template));
    assert!(drift.is_empty(), "{drift:#?}");
}

#[test]
fn the_queue_feeds_push_to_db_and_dead_letters_after_ten_receives() {
    let template = template();
    let queue = &template["Resources"]["CommentsQueue"]["Properties"];
    // Ten receives with push-to-db's backoff: about 20 minutes of retries.
    assert_eq!(queue["RedrivePolicy"]["maxReceiveCount"], 10);
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

/// The statement of `function`'s policy with this `Sid`.
fn statement<'t>(template: &'t Value, function: &str, sid: &str) -> &'t Value {
    template["Resources"][function]["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["Statement"].as_array().unwrap())
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("{function} has no statement {sid}"))
}

#[test]
fn push_to_db_may_send_only_to_the_dlq_and_delay_only_the_queues_messages() {
    let template = template();
    let push = &template["Resources"]["PushToDbFunction"]["Properties"];
    let variables = &push["Environment"]["Variables"];
    assert_eq!(variables["QUEUE_URL"]["Ref"], "CommentsQueue");
    assert_eq!(variables["DLQ_URL"]["Ref"], "CommentsDlq");
    let send = statement(&template, "PushToDbFunction", "DeadLetterPoison");
    assert_eq!(send["Action"], "sqs:SendMessage");
    assert_eq!(send["Resource"]["Fn::GetAtt"][0], "CommentsDlq");
    let delay = statement(&template, "PushToDbFunction", "DelayRetries");
    assert_eq!(delay["Action"], "sqs:ChangeMessageVisibility");
    assert_eq!(delay["Resource"]["Fn::GetAtt"][0], "CommentsQueue");
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

#[test]
fn every_alarm_notifies_a_topic_under_a_key_cloudwatch_may_use() {
    let template = template();
    let resources = template["Resources"].as_object().unwrap();
    let alarms: Vec<&Value> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::CloudWatch::Alarm")
        .collect();
    assert!(!alarms.is_empty());
    for alarm in alarms {
        for action in alarm["Properties"]["AlarmActions"].as_array().unwrap() {
            let topic = action["Ref"].as_str().unwrap();
            let key = &resources[topic]["Properties"]["KmsMasterKeyId"];
            // Not the AWS-managed alias/aws/sns: its policy cannot grant CloudWatch.
            let key = key["Ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{topic} is not under the stack's own key: {key}"));
            let grants = resources[key]["Properties"]["KeyPolicy"]["Statement"]
                .as_array()
                .unwrap();
            let cloudwatch = grants
                .iter()
                .find(|s| s["Principal"]["Service"] == "cloudwatch.amazonaws.com")
                .unwrap_or_else(|| panic!("{key} does not let CloudWatch use it"));
            let actions = cloudwatch["Action"].to_string();
            assert!(
                actions.contains("kms:Decrypt") && actions.contains("kms:GenerateDataKey"),
                "{actions}"
            );
            assert!(
                cloudwatch["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
                    .as_str()
                    .unwrap()
                    .contains(":alarm:${AWS::StackName}-"),
                "only this stack's alarms"
            );
        }
    }
}
