//! Provisioning: the stack model's tables (keys, indexes, TTL) and queues (visibility,
//! retention, redrive to the dead-letter queue) created in the backend. A table that
//! already exists is reused, so a stack can be started again on the same endpoint.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value;

use super::BackendError;
use crate::cloudformation::{ACCOUNT, Physical, StackModel};

/// Creates (or finds) the model's tables and queues; returns what `Ref` and `GetAtt`
/// resolve to, with each queue's URL, and a line per resource for the banner.
///
/// # Errors
/// When the endpoint refuses a create call.
pub async fn provision(
    model: &StackModel,
    config: &aws_config::SdkConfig,
) -> Result<(Physical, Vec<String>), BackendError> {
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
                model.region, ACCOUNT, table.name
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
                .ok_or_else(|| BackendError::Provision {
                    resource: queue.name.clone(),
                    detail: format!("no queue {target} to redrive to"),
                })?;
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
            .map_err(|e| BackendError::Provision {
                resource: format!("queue {}", queue.name),
                detail: aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
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
) -> Result<bool, BackendError> {
    let setup = |what: &str| BackendError::Provision {
        resource: format!("table {name}"),
        detail: what.to_owned(),
    };
    let key_schema = |value: &Value| -> Result<Vec<KeySchemaElement>, BackendError> {
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
