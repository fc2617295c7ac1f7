//! Live mode: the deployed functions' tags, read through the Lambda API, with each
//! `live` alias resolved to its version, so names print as the talk writes them
//! (`add-comments-3`).
//!
//! The stack's functions are found by the `aws:cloudformation:stack-name` tag that
//! CloudFormation puts on every resource it creates; their logical ids by
//! `aws:cloudformation:logical-id`.

use std::collections::BTreeMap;

use local_cloud::cloudformation::talk_name;

/// One deployed function of the stack.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LiveFunction {
    /// Its name in the tags (`add-comments`).
    pub name: String,
    /// Its deployed function name.
    pub function_name: String,
    /// The version the `live` alias points to, if it has one.
    pub live_version: Option<String>,
    /// Its `Upstream` tag.
    pub upstream: String,
    /// Its `Downstream` tag.
    pub downstream: String,
}

impl LiveFunction {
    /// The talk's `name-version`, or the name when no alias is live.
    pub fn versioned_name(&self) -> String {
        match &self.live_version {
            Some(version) => format!("{}-{version}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The Lambda API failed: what was being done, and why in one line (missing
/// credentials say what to set).
#[derive(Debug, thiserror::Error)]
#[error("the Lambda API failed while {doing}: {cause}")]
pub struct LiveError {
    doing: String,
    cause: String,
}

fn failed<E: std::error::Error + Send + Sync + 'static>(
    doing: impl Into<String>,
) -> impl FnOnce(E) -> LiveError {
    let doing = doing.into();
    move |source| LiveError {
        doing,
        cause: crate::aws::error_line(&source),
    }
}

/// The functions of stack `stack`, by name.
///
/// # Errors
/// [`LiveError`] when a Lambda API call fails.
pub async fn stack_functions(
    lambda: &aws_sdk_lambda::Client,
    stack: &str,
) -> Result<BTreeMap<String, LiveFunction>, LiveError> {
    let mut found = BTreeMap::new();
    let mut pages = lambda.list_functions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(failed("listing functions"))?;
        for function in page.functions() {
            let (Some(arn), Some(function_name)) =
                (function.function_arn(), function.function_name())
            else {
                continue;
            };
            let tags = lambda
                .list_tags()
                .resource(arn)
                .send()
                .await
                .map_err(failed(format!("reading the tags of {function_name}")))?
                .tags
                .unwrap_or_default();
            if tags
                .get("aws:cloudformation:stack-name")
                .map(String::as_str)
                != Some(stack)
            {
                continue;
            }
            let name = tags
                .get("aws:cloudformation:logical-id")
                .map_or_else(|| function_name.to_owned(), |id| talk_name(id));
            let live_version = lambda
                .get_alias()
                .function_name(function_name)
                .name("live")
                .send()
                .await
                .ok()
                .and_then(|alias| alias.function_version);
            found.insert(
                name.clone(),
                LiveFunction {
                    name,
                    function_name: function_name.to_owned(),
                    live_version,
                    upstream: tags.get("Upstream").cloned().unwrap_or_default(),
                    downstream: tags.get("Downstream").cloned().unwrap_or_default(),
                },
            );
        }
    }
    Ok(found)
}
