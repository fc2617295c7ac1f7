//! # local-cloud
//!
//! The AWS services online-feedback uses, emulated on loopback from the same
//! `template.yaml` that deploys to AWS, so the local stack cannot drift from what ships.
//! `feedback-ops dev` wires them into the demo; the integration tests start the same
//! pieces, so every protocol here exists once.
//!
//! | module | AWS service | owns |
//! |---|---|---|
//! | [`cloudformation`] | CloudFormation | reading the template, resolving intrinsics, the stack model |
//! | [`backend`] | DynamoDB, SQS (through moto) | starting moto, provisioning tables and queues |
//! | [`lambda`] | Lambda | the Runtime API, execution environments, `REPORT` lines, `AWS/Lambda` metrics, versions and aliases, the Lambda API |
//! | [`apigateway`] | API Gateway (REST) | proxy events, answers, API Gateway's own errors, `AWS/ApiGateway` metrics |
//! | [`sqs`] | Lambda's SQS event source mapping | polling, partial batch responses, deleting, `AWS/SQS` metrics |
//! | [`xray`] | X-Ray | the daemon, trace assembly, summaries and spans |
//! | [`codedeploy`] | CodeDeploy (Lambda) | deployments: hooks, canary and linear traffic shifts, alarm rollbacks, n-3 |
//! | [`cloudwatch`] | CloudWatch Logs, metrics and alarms | log groups and streams, EMF, metric series, metric filters, alarms |
//! | [`clock`] | — | time as AWS writes it |
//!
//! The wire formats the functions write (trace headers, segment documents, EMF, log
//! fields, fault-injection settings) come from `ops-wire`, the crate the ops kit writes
//! them with: a renamed field breaks this crate's build, not the console.

pub mod apigateway;
pub mod backend;
pub mod clock;
pub mod cloudformation;
pub mod cloudwatch;
pub mod codedeploy;
pub mod lambda;
pub mod sqs;
#[cfg(test)]
mod test_support;
pub mod xray;
