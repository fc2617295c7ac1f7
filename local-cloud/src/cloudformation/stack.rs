//! The stack model: what the local cloud provisions and runs, read from `template.yaml`
//! for a stack name — the tables, the queues and their redrive policy, the API, and the
//! functions with their environment, routes and event sources. Physical names derive
//! from the stack name (`<stack>-<LogicalId>`), so two stacks never share a resource.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::intrinsics::{ModelError, Physical, Resolver};
use super::{ACCOUNT, Template, references, talk_name};

/// A DynamoDB table to create.
#[derive(Clone, Debug)]
pub struct TableSpec {
    /// The logical id.
    pub logical_id: String,
    /// The physical name.
    pub name: String,
    /// The resolved `Properties`.
    pub properties: Value,
}

/// An SQS queue to create.
#[derive(Clone, Debug)]
pub struct QueueSpec {
    /// The logical id.
    pub logical_id: String,
    /// The physical name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// `VisibilityTimeout`, seconds.
    pub visibility_timeout: u32,
    /// `MessageRetentionPeriod`, seconds.
    pub retention: Option<u32>,
    /// The redrive policy: the dead-letter queue's logical id and `maxReceiveCount`.
    pub redrive: Option<(String, u32)>,
}

/// An API route of a function (an `Api` event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Upper-case method, or `ANY`.
    pub method: String,
    /// The resource path with `{name}` parameters, such as `/status/{id}`.
    pub path: String,
}

/// An SQS event source of a function.
#[derive(Clone, Debug)]
pub struct SqsSource {
    /// The queue's logical id.
    pub queue: String,
    /// `BatchSize`.
    pub batch_size: u32,
    /// `MaximumBatchingWindowInSeconds`.
    pub batching_window_secs: u32,
    /// Whether `FunctionResponseTypes` has `ReportBatchItemFailures`.
    pub report_batch_item_failures: bool,
}

/// A function to host.
#[derive(Clone, Debug)]
pub struct FunctionSpec {
    /// The logical id, such as `AddCommentsFunction`.
    pub logical_id: String,
    /// The name in the dependency tags and the console, such as `add-comments`.
    pub name: String,
    /// The physical function name.
    pub function_name: String,
    /// The cargo binary (`Metadata.BuildProperties.Binary`).
    pub binary: String,
    /// `MemorySize`, MB.
    pub memory_mb: u32,
    /// `Timeout`, seconds.
    pub timeout_secs: u32,
    /// The log group (`LoggingConfig.LogGroup`, or `/aws/lambda/<name>`).
    pub log_group: String,
    /// `LoggingConfig.LogFormat`.
    pub log_format: String,
    /// `LoggingConfig.ApplicationLogLevel`, if set.
    pub log_level: Option<String>,
    /// The environment the template sets (Globals merged with the function's own).
    pub environment: BTreeMap<String, String>,
    /// The function's tags: the template's, and those CloudFormation and SAM add
    /// (`aws:cloudformation:stack-name`, `aws:cloudformation:logical-id`,
    /// `lambda:createdBy`).
    pub tags: BTreeMap<String, String>,
    /// The alias `AutoPublishAlias` creates, if any.
    pub alias: Option<String>,
    /// How new versions go live, when CodeDeploy deploys them.
    pub deployment: Option<DeploymentPreference>,
    /// API routes.
    pub routes: Vec<Route>,
    /// SQS event sources.
    pub sqs_sources: Vec<SqsSource>,
}

/// How a function's new versions go live (`DeploymentPreference`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeploymentPreference {
    /// The CodeDeploy configuration (`Canary10Percent5Minutes`, `AllAtOnce`, …).
    pub config: String,
    /// The alarms that stop and roll back a deployment, by logical id.
    pub alarms: Vec<String>,
    /// The `PreTraffic` hook function, by logical id.
    pub pre_traffic: Option<String>,
    /// The `PostTraffic` hook function, by logical id.
    pub post_traffic: Option<String>,
}

/// A CloudWatch alarm of the template (`AWS::CloudWatch::Alarm`).
#[derive(Clone, Debug)]
pub struct AlarmResource {
    /// The logical id: the alarm's name in the ops API.
    pub logical_id: String,
    /// `AlarmDescription`.
    pub description: String,
    /// The properties that say what it watches and when it fires, resolved
    /// (`AlarmActions` name topics that exist only in AWS and are left out).
    pub properties: Value,
}

/// A metric filter of the template (`AWS::Logs::MetricFilter`).
#[derive(Clone, Debug)]
pub struct MetricFilterResource {
    /// The logical id.
    pub logical_id: String,
    /// The log group it reads.
    pub log_group: String,
    /// `FilterPattern`.
    pub pattern: String,
    /// `MetricTransformations`, resolved.
    pub transformations: Value,
}

/// The API (an `AWS::Serverless::Api`).
#[derive(Clone, Debug)]
pub struct ApiSpec {
    /// The node name, such as `feedback-api`.
    pub name: String,
    /// The stage name.
    pub stage: String,
    /// The REST API's name, CloudWatch's `ApiName` (`Name`, else the stack name, as SAM
    /// names it).
    pub rest_api_name: String,
    /// The stage's canary (`CanarySetting.PercentTraffic`): the share of requests, 0 to
    /// 100, the canary deployment serves.
    pub canary_percent: f64,
    /// The access log (`AccessLogSetting`): its log group and its `Format`.
    pub access_log: Option<(String, String)>,
}

/// Everything the local stack provisions and runs.
#[derive(Clone, Debug)]
pub struct StackModel {
    /// The stack name physical names derive from.
    pub stack_name: String,
    /// The region in ARNs and the functions' `AWS_REGION`.
    pub region: String,
    /// Tables.
    pub tables: Vec<TableSpec>,
    /// Queues, dead-letter queues first.
    pub queues: Vec<QueueSpec>,
    /// Functions with a route or an event source (the others, such as the CodeDeploy
    /// hook, have nothing to invoke them locally).
    pub functions: Vec<FunctionSpec>,
    /// Functions the template has that nothing invokes locally.
    pub not_hosted: Vec<String>,
    /// Every function of the template, hosted or not, by logical id (the hooks a
    /// deployment runs are among them).
    pub all_functions: Vec<FunctionSpec>,
    /// The alarms.
    pub alarms: Vec<AlarmResource>,
    /// The metric filters.
    pub metric_filters: Vec<MetricFilterResource>,
    /// The API.
    pub api: ApiSpec,
}

impl StackModel {
    /// Reads what to provision and run from `template`, for a stack named
    /// `stack_name` in `region`. Queue URLs are not known until the queues exist:
    /// [`StackModel::resolve_functions`] fills in the environment afterwards.
    ///
    /// # Errors
    /// [`ModelError`] names what cannot be resolved.
    pub fn read(template: &Template, stack_name: &str, region: &str) -> Result<Self, ModelError> {
        let mut physical = Physical::default();
        for (id, resource) in template.resources() {
            let kind = resource["Type"].as_str().unwrap_or_default();
            let name = format!("{stack_name}-{id}");
            match kind {
                "AWS::DynamoDB::Table" => {
                    let arn = format!("arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}");
                    physical.set(id, name, arn);
                }
                "AWS::SQS::Queue" => {
                    let arn = format!("arn:aws:sqs:{region}:{ACCOUNT}:{name}");
                    physical.set(id, name, arn);
                }
                _ => {}
            }
        }
        let resolver = Resolver {
            template,
            stack_name,
            region,
            physical: &physical,
        };
        let mut tables = Vec::new();
        let mut queues = Vec::new();
        let mut api = ApiSpec {
            name: "api".to_owned(),
            stage: "Prod".to_owned(),
            rest_api_name: stack_name.to_owned(),
            canary_percent: 0.0,
            access_log: None,
        };
        for (id, resource) in template.resources() {
            match resource["Type"].as_str().unwrap_or_default() {
                "AWS::DynamoDB::Table" => tables.push(TableSpec {
                    logical_id: id.clone(),
                    name: physical.refs[id].clone(),
                    properties: resolver.resolve(&resource["Properties"])?,
                }),
                "AWS::SQS::Queue" => {
                    let properties = resolver.resolve(&resource["Properties"])?;
                    let number = |v: &Value| {
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                            .and_then(|n| u32::try_from(n).ok())
                    };
                    let redrive = &resource["Properties"]["RedrivePolicy"];
                    let redrive = if redrive.is_null() {
                        None
                    } else {
                        let target = references(&redrive["deadLetterTargetArn"])
                            .into_iter()
                            .next()
                            .ok_or_else(|| {
                                ModelError(format!("{id}: a RedrivePolicy without a target queue"))
                            })?;
                        let count = number(&properties["RedrivePolicy"]["maxReceiveCount"])
                            .ok_or_else(|| {
                                ModelError(format!("{id}: a RedrivePolicy without maxReceiveCount"))
                            })?;
                        Some((target, count))
                    };
                    queues.push(QueueSpec {
                        logical_id: id.clone(),
                        name: physical.refs[id].clone(),
                        arn: physical.arns[id].clone(),
                        visibility_timeout: number(&properties["VisibilityTimeout"]).unwrap_or(30),
                        retention: number(&properties["MessageRetentionPeriod"]),
                        redrive,
                    });
                }
                "AWS::Serverless::Api" => {
                    api = api_spec(template, &resolver, id, resource, stack_name)?;
                }
                _ => {}
            }
        }
        // Dead-letter queues first: a redrive policy names an existing queue.
        queues.sort_by_key(|queue| queue.redrive.is_some());
        Ok(Self {
            stack_name: stack_name.to_owned(),
            region: region.to_owned(),
            tables,
            queues,
            functions: Vec::new(),
            not_hosted: Vec::new(),
            all_functions: Vec::new(),
            alarms: Vec::new(),
            metric_filters: Vec::new(),
            api,
        })
    }

    /// Reads the functions, now that `physical` knows every table's and queue's
    /// physical value (queue URLs included).
    ///
    /// # Errors
    /// [`ModelError`] names what cannot be resolved.
    pub fn resolve_functions(
        &mut self,
        template: &Template,
        physical: &Physical,
    ) -> Result<(), ModelError> {
        // Function and log group names depend only on the stack (`!Sub …${AWS::StackName}`),
        // so they resolve against the tables and queues alone.
        let named = {
            let resolver = Resolver {
                template,
                stack_name: &self.stack_name,
                region: &self.region,
                physical,
            };
            let mut named = Vec::new();
            for (id, resource) in template.resources() {
                let name_of = |key: &str| {
                    resolver
                        .resolve(&resource["Properties"][key])
                        .map(|name| name.as_str().map(str::to_owned))
                };
                let region = &self.region;
                match resource["Type"].as_str().unwrap_or_default() {
                    "AWS::Serverless::Function" => {
                        let name = name_of("FunctionName")?
                            .unwrap_or_else(|| format!("{}-{id}", self.stack_name));
                        let arn = format!("arn:aws:lambda:{region}:{ACCOUNT}:function:{name}");
                        named.push((id, name, arn));
                    }
                    "AWS::Serverless::Api" => {
                        let arn = format!("arn:aws:apigateway:{region}::/restapis/local");
                        named.push((id, "local".to_owned(), arn));
                    }
                    "AWS::Logs::LogGroup" => {
                        let name = name_of("LogGroupName")?.unwrap_or_default();
                        let arn = format!("arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}");
                        named.push((id, name, arn));
                    }
                    _ => {}
                }
            }
            named
        };
        let mut physical = physical.clone();
        for (id, name, arn) in named {
            physical.set(id, name, arn);
        }
        let resolver = Resolver {
            template,
            stack_name: &self.stack_name,
            region: &self.region,
            physical: &physical,
        };
        let globals = template.document()["Globals"]["Function"]
            .as_object()
            .map(|globals| {
                globals
                    .iter()
                    .filter(|(key, _)| HOSTED_PROPERTIES.contains(&key.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Map<String, Value>>()
            })
            .unwrap_or_default();
        let globals = resolver.resolve(&Value::Object(globals))?;
        for (id, resource) in template.resources() {
            if resource["Type"] != "AWS::Serverless::Function" {
                continue;
            }
            // Only what the local host uses: policies, alarms and deployment settings
            // name resources that exist only in AWS.
            let wanted: Map<String, Value> = HOSTED_PROPERTIES
                .iter()
                .filter_map(|key| {
                    resource["Properties"]
                        .get(*key)
                        .map(|v| ((*key).to_owned(), v.clone()))
                })
                .collect();
            let mut properties = resolver.resolve(&Value::Object(wanted))?;
            merge_globals(&mut properties, &globals);
            let mut function =
                function_spec(id, resource, &properties, &physical, &self.stack_name)?;
            function.deployment = deployment_preference(&resolver, resource)?;
            self.all_functions.push(function.clone());
            if function.routes.is_empty() && function.sqs_sources.is_empty() {
                self.not_hosted.push(function.name);
            } else {
                self.functions.push(function);
            }
        }
        (self.alarms, self.metric_filters) = read_alarms(template, &resolver)?;
        Ok(())
    }

    /// A function of the template by logical id, hosted or not.
    pub fn function_by_logical_id(&self, logical_id: &str) -> Option<&FunctionSpec> {
        self.all_functions
            .iter()
            .find(|f| f.logical_id == logical_id)
    }

    /// The function named `name` (its talk name).
    pub fn function(&self, name: &str) -> Option<&FunctionSpec> {
        self.functions.iter().find(|f| f.name == name)
    }
}

/// Reads the alarms and the metric filters (they name functions and log groups).
fn read_alarms(
    template: &Template,
    resolver: &Resolver<'_>,
) -> Result<(Vec<AlarmResource>, Vec<MetricFilterResource>), ModelError> {
    let mut alarms = Vec::new();
    let mut metric_filters = Vec::new();
    for (id, resource) in template.resources() {
        let properties = &resource["Properties"];
        match resource["Type"].as_str().unwrap_or_default() {
            "AWS::CloudWatch::Alarm" => {
                let watched: Map<String, Value> = properties
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(key, _)| {
                        !matches!(
                            key.as_str(),
                            "AlarmActions" | "OKActions" | "InsufficientDataActions"
                        )
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let alarm = resolver.resolve(&Value::Object(watched))?;
                alarms.push(AlarmResource {
                    logical_id: id.clone(),
                    description: alarm["AlarmDescription"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    properties: alarm,
                });
            }
            "AWS::Logs::MetricFilter" => {
                let log_group = resolver.resolve(&properties["LogGroupName"])?;
                metric_filters.push(MetricFilterResource {
                    logical_id: id.clone(),
                    log_group: log_group.as_str().unwrap_or_default().to_owned(),
                    pattern: resolver
                        .resolve(&properties["FilterPattern"])?
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    transformations: resolver.resolve(&properties["MetricTransformations"])?,
                });
            }
            _ => {}
        }
    }
    Ok((alarms, metric_filters))
}

/// The API and its stage: name, canary, access log.
fn api_spec(
    template: &Template,
    resolver: &Resolver<'_>,
    id: &str,
    resource: &Value,
    stack_name: &str,
) -> Result<ApiSpec, ModelError> {
    let stage = resolver.resolve(&resource["Properties"]["StageName"])?;
    let name = resolver.resolve(&resource["Properties"]["Name"])?;
    let canary = resolver.resolve(&resource["Properties"]["CanarySetting"])?;
    let access_log = &resource["Properties"]["AccessLogSetting"];
    let access_log = references(&access_log["DestinationArn"])
        .into_iter()
        .next()
        .zip(access_log["Format"].as_str())
        .and_then(|(group, format)| {
            let name = template.resource(&group)?["Properties"]["LogGroupName"].clone();
            let name = resolver.resolve(&name).ok()?;
            Some((name.as_str()?.to_owned(), format.to_owned()))
        });
    Ok(ApiSpec {
        name: talk_name(id),
        stage: stage.as_str().unwrap_or("Prod").to_owned(),
        rest_api_name: name.as_str().unwrap_or(stack_name).to_owned(),
        canary_percent: canary["PercentTraffic"]
            .as_f64()
            .or_else(|| {
                canary["PercentTraffic"]
                    .as_str()
                    .and_then(|p| p.parse().ok())
            })
            .unwrap_or(0.0),
        access_log,
    })
}

/// A function's `DeploymentPreference`: `None` without one or with `Enabled: false`.
fn deployment_preference(
    resolver: &Resolver<'_>,
    resource: &Value,
) -> Result<Option<DeploymentPreference>, ModelError> {
    let preference = &resource["Properties"]["DeploymentPreference"];
    if preference.is_null() || resolver.resolve(&preference["Enabled"])? == Value::Bool(false) {
        return Ok(None);
    }
    let config = resolver.resolve(&preference["Type"])?;
    let hook = |name: &str| references(&preference["Hooks"][name]).into_iter().next();
    Ok(Some(DeploymentPreference {
        config: config.as_str().unwrap_or("AllAtOnce").to_owned(),
        alarms: references(&preference["Alarms"]).into_iter().collect(),
        pre_traffic: hook("PreTraffic"),
        post_traffic: hook("PostTraffic"),
    }))
}

/// The function properties the local host reads.
const HOSTED_PROPERTIES: [&str; 8] = [
    "Environment",
    "Tags",
    "LoggingConfig",
    "MemorySize",
    "Timeout",
    "AutoPublishAlias",
    "FunctionName",
    "Events",
];

/// Globals apply where the function says nothing; environment variables and tags
/// merge (the function's own win).
fn merge_globals(properties: &mut Value, globals: &Value) {
    let (Some(properties), Some(globals)) = (properties.as_object_mut(), globals.as_object())
    else {
        return;
    };
    for (key, value) in globals {
        if key == "Tags" {
            let mut tags = value.as_object().cloned().unwrap_or_default();
            if let Some(own) = properties.get("Tags").and_then(Value::as_object) {
                tags.extend(own.clone());
            }
            properties.insert("Tags".into(), Value::Object(tags));
        } else if key == "Environment" {
            let mut variables = value["Variables"].as_object().cloned().unwrap_or_default();
            if let Some(own) = properties
                .get("Environment")
                .and_then(|e| e["Variables"].as_object())
            {
                variables.extend(own.clone());
            }
            properties.insert(
                "Environment".into(),
                serde_json::json!({ "Variables": variables }),
            );
        } else {
            properties
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
    }
}

fn function_spec(
    id: &str,
    resource: &Value,
    properties: &Value,
    physical: &Physical,
    stack_name: &str,
) -> Result<FunctionSpec, ModelError> {
    let binary = resource["Metadata"]["BuildProperties"]["Binary"]
        .as_str()
        .ok_or_else(|| ModelError(format!("{id}: no Metadata.BuildProperties.Binary")))?
        .to_owned();
    let number = |v: &Value, default: u32| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(default)
    };
    let function_name = physical.refs[id].clone();
    let logging = &properties["LoggingConfig"];
    let strings = |map: &Value| -> BTreeMap<String, String> {
        map.as_object()
            .map(|entries| {
                entries
                    .iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (k.clone(), v)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let environment = strings(&properties["Environment"]["Variables"]);
    let mut tags = strings(&properties["Tags"]);
    tags.extend([
        ("lambda:createdBy".to_owned(), "SAM".to_owned()),
        (
            "aws:cloudformation:stack-name".to_owned(),
            stack_name.to_owned(),
        ),
        ("aws:cloudformation:logical-id".to_owned(), id.to_owned()),
    ]);
    let mut routes = Vec::new();
    let mut sqs_sources = Vec::new();
    for (key, event) in resource["Properties"]["Events"]
        .as_object()
        .into_iter()
        .flat_map(|events| events.iter())
    {
        let event_properties = &properties["Events"][key]["Properties"];
        match event["Type"].as_str() {
            Some("Api") => routes.push(Route {
                method: event["Properties"]["Method"]
                    .as_str()
                    .unwrap_or("any")
                    .to_ascii_uppercase(),
                path: event["Properties"]["Path"]
                    .as_str()
                    .unwrap_or("/")
                    .to_owned(),
            }),
            Some("SQS") => {
                let queue = references(&event["Properties"]["Queue"])
                    .into_iter()
                    .next()
                    .ok_or_else(|| ModelError(format!("{id}: an SQS event without a queue")))?;
                sqs_sources.push(SqsSource {
                    queue,
                    batch_size: number(&event_properties["BatchSize"], 10),
                    batching_window_secs: number(
                        &event_properties["MaximumBatchingWindowInSeconds"],
                        0,
                    ),
                    report_batch_item_failures: event_properties["FunctionResponseTypes"]
                        .as_array()
                        .is_some_and(|types| types.iter().any(|t| t == "ReportBatchItemFailures")),
                });
            }
            _ => {}
        }
    }
    Ok(FunctionSpec {
        logical_id: id.to_owned(),
        name: talk_name(id),
        log_group: logging["LogGroup"]
            .as_str()
            .map_or_else(|| format!("/aws/lambda/{function_name}"), str::to_owned),
        function_name,
        binary,
        memory_mb: number(&properties["MemorySize"], 128),
        timeout_secs: number(&properties["Timeout"], 3),
        log_format: logging["LogFormat"].as_str().unwrap_or("Text").to_owned(),
        log_level: logging["ApplicationLogLevel"].as_str().map(str::to_owned),
        environment,
        tags,
        alias: properties["AutoPublishAlias"].as_str().map(str::to_owned),
        deployment: None,
        routes,
        sqs_sources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> StackModel {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
        let template = Template::load(std::path::Path::new(path)).unwrap();
        let mut model = StackModel::read(&template, "demo", "eu-west-1").unwrap();
        let mut physical = Physical::default();
        for table in &model.tables {
            physical.set(
                &table.logical_id,
                table.name.clone(),
                format!("arn:table/{}", table.name),
            );
        }
        for queue in &model.queues {
            physical.set(
                &queue.logical_id,
                format!("http://q/{}", queue.name),
                queue.arn.clone(),
            );
        }
        model.resolve_functions(&template, &physical).unwrap();
        model
    }

    #[test]
    fn a_parameter_override_reaches_the_stage_canary() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
        let mut template = Template::load(std::path::Path::new(path)).unwrap();
        template
            .override_parameters(&[("StageCanaryPercent".into(), "10".into())])
            .unwrap();
        let model = StackModel::read(&template, "demo", "eu-west-1").unwrap();
        assert!((model.api.canary_percent - 10.0).abs() < f64::EPSILON);
        let unknown = template
            .override_parameters(&[("Nope".into(), "1".into())])
            .unwrap_err();
        assert!(unknown.contains("StageCanaryPercent"), "{unknown}");
    }

    #[test]
    fn the_template_resolves_for_a_local_stack() {
        let model = model();
        assert_eq!(model.api.stage, "dev");
        assert!(
            model.api.canary_percent.abs() < f64::EPSILON,
            "StageCanaryPercent 0"
        );
        let (group, format) = model.api.access_log.as_ref().unwrap();
        assert_eq!(group, "/aws/apigateway/demo/access");
        assert!(format.contains("$context.isCanaryRequest"), "{format}");
        assert_eq!(model.tables[0].name, "demo-CommentsTable");
        // The dead-letter queue comes first, and the queue's redrive names it.
        assert_eq!(model.queues[0].logical_id, "CommentsDlq");
        assert_eq!(
            model.queues[1].redrive,
            Some(("CommentsDlq".to_owned(), 10))
        );
        assert_eq!(model.queues[1].visibility_timeout, 90);
        let add = model.function("add-comments").unwrap();
        assert_eq!(add.environment["QUEUE_URL"], "http://q/demo-CommentsQueue");
        assert_eq!(add.environment["TABLE_NAME"], "demo-CommentsTable");
        assert_eq!(
            add.environment["OPS_KIT_METRICS_NAMESPACE"],
            "OnlineFeedback"
        );
        assert_eq!(add.log_group, "/aws/lambda/demo/add-comments");
        assert_eq!(add.alias.as_deref(), Some("live"));
        assert_eq!(add.tags["Upstream"], "API:feedback-api");
        assert_eq!(add.tags["aws:cloudformation:stack-name"], "demo");
        assert_eq!(
            add.tags["aws:cloudformation:logical-id"],
            "AddCommentsFunction"
        );
        assert_eq!((add.memory_mb, add.timeout_secs), (256, 10));
        assert_eq!(
            add.routes,
            [Route {
                method: "POST".into(),
                path: "/comments".into()
            }]
        );
        let push = model.function("push-to-db").unwrap();
        assert_eq!(push.environment["QUEUE_URL"], "http://q/demo-CommentsQueue");
        assert_eq!(push.environment["DLQ_URL"], "http://q/demo-CommentsDlq");
        assert_eq!(push.sqs_sources[0].queue, "CommentsQueue");
        assert_eq!(push.sqs_sources[0].batch_size, 10);
        assert!(push.sqs_sources[0].report_batch_item_failures);
        assert_eq!(model.not_hosted, ["pre-traffic-hook"]);
        let preference = add.deployment.as_ref().unwrap();
        assert_eq!(preference.config, "AllAtOnce", "the dev environment's");
        assert_eq!(
            preference.alarms,
            ["AddCommentsErrorLinesAlarm", "AddCommentsErrorsAlarm"]
        );
        assert_eq!(
            preference.pre_traffic.as_deref(),
            Some("PreTrafficHookFunction")
        );
        assert!(
            model
                .function_by_logical_id("PreTrafficHookFunction")
                .unwrap()
                .deployment
                .is_none()
        );
        let dlq = model
            .alarms
            .iter()
            .find(|a| a.logical_id == "DeadLetterQueueAlarm")
            .unwrap();
        assert_eq!(dlq.properties["Dimensions"][0]["Value"], "demo-CommentsDlq");
        let errors = model
            .alarms
            .iter()
            .find(|a| a.logical_id == "AddCommentsErrorsAlarm")
            .unwrap();
        assert_eq!(
            errors.properties["Dimensions"][1]["Value"],
            "demo-AddCommentsFunction:live"
        );
        assert!(errors.properties.get("AlarmActions").is_none());
        let filter = model
            .metric_filters
            .iter()
            .find(|f| f.logical_id == "AddCommentsErrorLinesFilter")
            .unwrap();
        assert_eq!(filter.log_group, "/aws/lambda/demo/add-comments");
        assert_eq!(filter.pattern, r#"{ $.level = "ERROR" }"#);
    }
}
