//! The backend: a moto server (or any AWS-compatible endpoint) with the template's table
//! and queues created in it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value;

use super::DevError;
use super::model::{Physical, StackModel};

/// A moto server this process started; killed when dropped.
pub struct Moto {
    /// Its endpoint, `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Its process id.
    pub pid: Option<u32>,
    _child: tokio::process::Child,
}

/// Where `moto_server` is expected: the project's virtual environment.
pub fn moto_path(project: &Path) -> PathBuf {
    project.join(".venv/bin/moto_server")
}

/// Starts moto on a free loopback port and waits until it answers.
///
/// # Errors
/// When moto is not installed or does not come up within 30 s.
pub async fn start_moto(project: &Path) -> Result<Moto, DevError> {
    let binary = moto_path(project);
    if !binary.exists() {
        return Err(DevError::Setup(format!(
            "moto is not installed at {}: run `make demo` (it installs it), or pass --endpoint URL",
            binary.display()
        )));
    }
    let port = free_port()?;
    let child = tokio::process::Command::new(&binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| DevError::Setup(format!("cannot start {}: {e}", binary.display())))?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        if Instant::now() > deadline {
            return Err(DevError::Setup(format!(
                "moto did not listen on {endpoint} within 30 s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(Moto {
        endpoint,
        pid: child.id(),
        _child: child,
    })
}

/// A free loopback TCP port (bound, read, released).
///
/// # Errors
/// When no port can be bound.
pub fn free_port() -> Result<u16, DevError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| DevError::Setup(format!("no free loopback port: {e}")))
}

/// The SDK configuration for the local endpoint: test credentials, the stack's region.
pub async fn sdk_config(endpoint: &str, region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "local",
        ))
        .load()
        .await
}

/// Creates (or finds) the model's tables and queues; returns what `Ref` and `GetAtt`
/// resolve to, with each queue's URL, and a line per resource for the banner.
///
/// # Errors
/// When the endpoint refuses a create call.
pub async fn provision(
    model: &StackModel,
    config: &aws_config::SdkConfig,
) -> Result<(Physical, Vec<String>), DevError> {
    let dynamodb = aws_sdk_dynamodb::Client::new(config);
    let sqs = aws_sdk_sqs::Client::new(config);
    let mut physical = Physical::default();
    let mut lines = Vec::new();
    for table in &model.tables {
        let created = create_table(&dynamodb, &table.name, &table.properties).await?;
        physical.set(
            &table.logical_id,
            table.name.clone(),
            format!(
                "arn:aws:dynamodb:{}:{}:table/{}",
                model.region,
                super::model::ACCOUNT,
                table.name
            ),
        );
        lines.push(format!(
            "table {} ({})",
            table.name,
            if created { "created" } else { "exists" }
        ));
    }
    for queue in &model.queues {
        let mut create = sqs.create_queue().queue_name(&queue.name).attributes(
            QueueAttributeName::VisibilityTimeout,
            queue.visibility_timeout.to_string(),
        );
        if let Some(retention) = queue.retention {
            create = create.attributes(
                QueueAttributeName::MessageRetentionPeriod,
                retention.to_string(),
            );
        }
        if let Some((target, count)) = &queue.redrive {
            let target = model
                .queues
                .iter()
                .find(|q| &q.logical_id == target)
                .ok_or_else(|| DevError::Setup(format!("{}: no queue {target}", queue.name)))?;
            create = create.attributes(
                QueueAttributeName::RedrivePolicy,
                serde_json::json!({
                    "deadLetterTargetArn": target.arn,
                    "maxReceiveCount": count,
                })
                .to_string(),
            );
        }
        let url = create
            .send()
            .await
            .map_err(|e| {
                DevError::Setup(format!(
                    "cannot create queue {}: {}",
                    queue.name,
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                ))
            })?
            .queue_url
            .unwrap_or_default();
        physical.set(&queue.logical_id, url.clone(), queue.arn.clone());
        let redrive = queue
            .redrive
            .as_ref()
            .map(|(target, count)| format!(", to {target} after {count} receives"))
            .unwrap_or_default();
        lines.push(format!(
            "queue {url} (visibility {} s{redrive})",
            queue.visibility_timeout
        ));
    }
    Ok((physical, lines))
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    properties: &Value,
) -> Result<bool, DevError> {
    let setup = |what: &str| DevError::Setup(format!("table {name}: {what}"));
    let key_schema = |value: &Value| -> Result<Vec<KeySchemaElement>, DevError> {
        value
            .as_array()
            .into_iter()
            .flatten()
            .map(|key| {
                KeySchemaElement::builder()
                    .attribute_name(key["AttributeName"].as_str().unwrap_or_default())
                    .key_type(KeyType::from(key["KeyType"].as_str().unwrap_or_default()))
                    .build()
                    .map_err(|e| setup(&e.to_string()))
            })
            .collect()
    };
    let mut create = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::from(
            properties["BillingMode"]
                .as_str()
                .unwrap_or("PAY_PER_REQUEST"),
        ))
        .set_key_schema(Some(key_schema(&properties["KeySchema"])?));
    for attribute in properties["AttributeDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute["AttributeName"].as_str().unwrap_or_default())
                .attribute_type(ScalarAttributeType::from(
                    attribute["AttributeType"].as_str().unwrap_or_default(),
                ))
                .build()
                .map_err(|e| setup(&e.to_string()))?,
        );
    }
    for index in properties["GlobalSecondaryIndexes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index["IndexName"].as_str().unwrap_or_default())
                .set_key_schema(Some(key_schema(&index["KeySchema"])?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(
                            index["Projection"]["ProjectionType"]
                                .as_str()
                                .unwrap_or("ALL"),
                        ))
                        .build(),
                )
                .build()
                .map_err(|e| setup(&e.to_string()))?,
        );
    }
    match create.send().await {
        Ok(_) => {}
        Err(error)
            if error
                .as_service_error()
                .is_some_and(aws_sdk_dynamodb::operation::create_table::CreateTableError::is_resource_in_use_exception) =>
        {
            return Ok(false);
        }
        Err(error) => {
            return Err(setup(
                &aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string(),
            ));
        }
    }
    let ttl = &properties["TimeToLiveSpecification"];
    if ttl["Enabled"] == true {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(ttl["AttributeName"].as_str().unwrap_or_default())
                    .enabled(true)
                    .build()
                    .map_err(|e| setup(&e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| setup(&aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()))?;
    }
    Ok(true)
}
