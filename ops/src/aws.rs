//! The AWS SDK for the CLI's commands: one configuration (the default chain, or an
//! AWS-compatible endpoint) and its errors in one line, a credential failure turned
//! into what to set. `release`, `dlq` and `deps`' live mode all use it.

use aws_credential_types::provider::error::CredentialsError;

/// The SDK configuration for AWS (the default credential chain and region) or, with
/// `endpoint`, an AWS-compatible endpoint.
pub async fn sdk_config(endpoint: Option<&str>, region: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    loader.load().await
}

/// What an SDK error says, in one line, with its cause (an unreachable endpoint, missing
/// credentials, the service's own message).
pub fn sdk_error<E: std::error::Error + 'static, R: std::fmt::Debug + 'static>(
    error: &aws_sdk_lambda::error::SdkError<E, R>,
) -> String {
    error_line(error)
}

/// Any error and its causes in one line. When the cause is the credential chain —
/// nothing configured, or a provider that failed (an instance metadata service that
/// refuses or times out, a broken profile) — the line says what to set instead of
/// repeating the chain's account of every provider it tried.
pub fn error_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(credentials) = current.downcast_ref::<CredentialsError>() {
            return no_credentials(credentials);
        }
        cause = current.source();
    }
    one_line(&aws_sdk_lambda::error::DisplayErrorContext(error).to_string())
}

const SET_CREDENTIALS: &str = "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values do for moto or the local stack; without --endpoint the tools talk to AWS)";

fn no_credentials(error: &CredentialsError) -> String {
    if matches!(error, CredentialsError::CredentialsNotLoaded(_)) {
        return format!("no AWS credentials: {SET_CREDENTIALS}");
    }
    // The provider's first reason is enough to recognise (IMDS refused, a profile
    // without a key); the rest of its chain is transport detail.
    let reason = match std::error::Error::source(error) {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    };
    let reason: String = one_line(&reason).chars().take(160).collect();
    format!("no usable AWS credentials ({reason}): {SET_CREDENTIALS}")
}

/// An SDK error's text as one line; the credential chain's long account of every
/// provider it tried becomes what to do.
pub fn one_line(message: &str) -> String {
    if message.contains("no credentials found in chain") {
        return format!("no AWS credentials: {SET_CREDENTIALS}");
    }
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use aws_sdk_lambda::error::{ConnectorError, SdkError};

    use super::*;

    #[test]
    fn an_sdk_error_is_one_line_and_missing_credentials_say_what_to_do() {
        let chain = "dispatch failure: other: the credential provider was not enabled: no credentials found in chain. Attempted:\n  Environment: not set\n  Profile: not enabled";
        assert!(one_line(chain).starts_with("no AWS credentials: set AWS_PROFILE"));
        assert_eq!(one_line("a\n  b\tc"), "a b c");
    }

    /// The SDK's own dispatch failure for a credential chain that failed with `error`.
    fn dispatch_failure(error: CredentialsError) -> SdkError<std::io::Error, ()> {
        SdkError::dispatch_failure(ConnectorError::other(Box::new(error), None))
    }

    #[test]
    fn a_credential_error_anywhere_in_the_chain_says_what_to_set() {
        let none = dispatch_failure(CredentialsError::not_loaded(
            "no providers in chain provided credentials",
        ));
        let line = error_line(&none);
        assert!(
            line.starts_with("no AWS credentials: set AWS_PROFILE"),
            "{line}"
        );

        let refused = dispatch_failure(CredentialsError::provider_error(
            "failed to load IMDS session token: service error: request forbidden\n  and much more",
        ));
        let line = error_line(&refused);
        assert!(
            line.starts_with("no usable AWS credentials (an error occurred while loading credentials: failed to load IMDS session token"),
            "{line}"
        );
        assert!(
            line.ends_with("without --endpoint the tools talk to AWS)"),
            "{line}"
        );
        assert!(!line.contains('\n'), "{line}");

        let other = std::io::Error::other("connection refused");
        let line = error_line(&other);
        assert!(
            line.starts_with("connection refused") && !line.contains("credentials"),
            "{line}"
        );
    }
}
