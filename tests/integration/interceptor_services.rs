//! The ops kit's AWS SDK interceptor on real calls to moto, one client per service:
//! each call's subsegment names its resource with the X-Ray SDKs' `aws` members, read
//! from the operation's input, and its `DependencyLatency` data point the resource's
//! short name, or the service's name for an operation the kit does not know.

use std::sync::{Arc, Mutex, OnceLock};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use feedback_tests::{REGION, moto, sdk_config};
use metrics::{Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, SharedString, Unit};
use ops_kit::metrics::DEPENDENCY_LATENCY;
use ops_kit::xray::{
    AwsCallInterceptor, SegmentDocument, SegmentId, SegmentSink, TraceHeader, TraceScope, in_scope,
    install_sink,
};
use serde_json::{Value, json};

/// Every subsegment this test binary sends, kept in memory.
#[derive(Default)]
struct Collected(Mutex<Vec<SegmentDocument>>);

impl SegmentSink for Collected {
    fn send(&self, subsegment: &SegmentDocument) {
        self.0.lock().unwrap().push(subsegment.clone());
    }
}

/// The process's sink: this module is the only one in the binary that installs one.
fn collected() -> &'static Collected {
    static SINK: OnceLock<Arc<Collected>> = OnceLock::new();
    SINK.get_or_init(|| {
        let sink = Arc::new(Collected::default());
        assert!(
            install_sink(sink.clone()),
            "another test installed an X-Ray sink"
        );
        sink
    })
}

/// The `dependency` of each `DependencyLatency` data point, in the order recorded.
#[derive(Default)]
struct Latencies(Arc<Mutex<Vec<String>>>);

struct DataPoints {
    dependency: String,
    into: Arc<Mutex<Vec<String>>>,
}

impl HistogramFn for DataPoints {
    fn record(&self, _milliseconds: f64) {
        self.into.lock().unwrap().push(self.dependency.clone());
    }
}

impl metrics::Recorder for Latencies {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        if key.name() != DEPENDENCY_LATENCY {
            return Histogram::noop();
        }
        let dependency = key
            .labels()
            .find(|label| label.key() == "dependency")
            .map(|label| label.value().to_owned())
            .expect("DependencyLatency has a dependency");
        Histogram::from_arc(Arc::new(DataPoints {
            dependency,
            into: Arc::clone(&self.0),
        }))
    }
}

/// The subsegment of `operation` in `trace`.
fn subsegment<'d>(documents: &'d [SegmentDocument], operation: &str) -> &'d SegmentDocument {
    let found: Vec<_> = documents
        .iter()
        .filter(|d| {
            d.aws
                .as_ref()
                .is_some_and(|aws| aws["operation"] == operation)
        })
        .collect();
    assert_eq!(found.len(), 1, "one {operation} subsegment: {documents:#?}");
    found[0]
}

// The test's runtime is tokio's single-threaded one, so the local recorder sees every
// data point the calls record, and no other test's.
#[tokio::test]
#[allow(clippy::too_many_lines)]
async fn each_service_names_its_resource_in_the_subsegment_and_the_latency_metric() {
    let sink = collected();
    let latencies = Latencies::default();
    let _recorder = metrics::set_default_local_recorder(&latencies);
    let config = sdk_config(&moto().endpoint).await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();

    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config)
            .interceptor(AwsCallInterceptor)
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&config)
            .interceptor(AwsCallInterceptor)
            .build(),
    );
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&config)
            .interceptor(AwsCallInterceptor)
            .build(),
    );
    // moto serves buckets on its path, not as subdomains of the endpoint.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .interceptor(AwsCallInterceptor)
            .build(),
    );

    // Set-up, outside any trace: data points, no subsegments.
    let table = format!("interceptor-{suffix}");
    dynamodb
        .create_table()
        .table_name(&table)
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let queue = format!("interceptor-{suffix}");
    let queue_url = sqs
        .create_queue()
        .queue_name(&queue)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let topic = format!("interceptor-{suffix}");
    let topic_arn = sns
        .create_topic()
        .name(&topic)
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let bucket = format!("interceptor-{suffix}");
    s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(REGION))
                .build(),
        )
        .send()
        .await
        .unwrap();

    // The calls, in a sampled trace.
    let header = TraceHeader::new_root().with_parent(SegmentId::generate());
    let calls = async {
        dynamodb
            .put_item()
            .table_name(&table)
            .item("id", aws_sdk_dynamodb::types::AttributeValue::S("1".into()))
            .send()
            .await
            .unwrap();
        sqs.send_message()
            .queue_url(&queue_url)
            .message_body("hello")
            .send()
            .await
            .unwrap();
        sns.publish()
            .topic_arn(&topic_arn)
            .message("hello")
            .send()
            .await
            .unwrap();
        s3.put_object()
            .bucket(&bucket)
            .key("comments/1.json")
            .body(ByteStream::from_static(b"{}"))
            .send()
            .await
            .unwrap();
    };
    in_scope(TraceScope::new(Some(header.clone())), Box::pin(calls)).await;

    let documents: Vec<SegmentDocument> = sink
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|d| d.trace_id == header.root)
        .cloned()
        .collect();
    assert_eq!(
        documents.len(),
        4,
        "one subsegment per traced call, none for the set-up: {documents:#?}"
    );
    for (operation, service, field, value) in [
        ("PutItem", "DynamoDB", "table_name", table.as_str()),
        ("SendMessage", "SQS", "queue_url", queue_url.as_str()),
        ("Publish", "SNS", "topic_arn", topic_arn.as_str()),
        ("PutObject", "S3", "bucket_name", bucket.as_str()),
    ] {
        let document = subsegment(&documents, operation);
        assert_eq!(document.name, service);
        assert_eq!(document.namespace.as_deref(), Some("aws"));
        assert_eq!(document.parent_id, header.parent);
        assert!(!document.error && !document.fault, "{document:#?}");
        assert_eq!(document.http, Some(json!({"response": {"status": 200}})));
        let aws = document.aws.as_ref().unwrap();
        assert_eq!(aws[field], Value::from(value), "{operation}: {aws}");
        assert_eq!(aws["retries"], 0);
        let members: Vec<&String> = aws.as_object().unwrap().keys().collect();
        assert!(
            members
                .iter()
                .all(|m| { ["operation", "retries", "request_id", field].contains(&m.as_str()) }),
            "{operation} names one resource: {aws}"
        );
    }

    let recorded = latencies.0.lock().unwrap().clone();
    assert_eq!(
        recorded,
        [
            // CreateTable, CreateQueue and CreateTopic are not among the operations the
            // kit reads: the service's name. CreateBucket is.
            "DynamoDB",
            "SQS",
            "SNS",
            bucket.as_str(),
            // The traced calls.
            table.as_str(),
            queue.as_str(),
            topic.as_str(),
            bucket.as_str(),
        ],
        "the dependency of each call, in order"
    );
}
