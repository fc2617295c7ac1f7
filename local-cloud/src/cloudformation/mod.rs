//! CloudFormation: `template.yaml` read in its long form, intrinsic functions resolved
//! for a stack name and region, and the stack model the other services are built from.
//! The same reader serves `feedback-ops deps`, so the dependency graph and the local
//! cloud can never read the template differently.
//!
//! | file | owns |
//! |---|---|
//! | `template.rs` | YAML short form → long form, references, resource names |
//! | `intrinsics.rs` | `Ref`, `GetAtt`, `Sub`, `If`, `Equals`, `Not`, `FindInMap` |
//! | `stack.rs` | the tables, queues, API and functions a stack has |

mod intrinsics;
mod stack;
mod template;

pub use intrinsics::{ModelError, Physical};
pub use stack::{
    AlarmResource, ApiSpec, DeploymentPreference, FunctionSpec, MetricFilterResource, QueueSpec,
    Route, SqsSource, StackModel, TableSpec,
};
pub use template::{Template, TemplateError, long_form, references, talk_name};

/// The account id the local cloud's ARNs carry (moto's default).
pub const ACCOUNT: &str = "123456789012";
