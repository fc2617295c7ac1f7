//! The environment variables the kit reads, all under one prefix, [`PREFIX`].
//!
//! | variable | older name, still read | meaning |
//! |---|---|---|
//! | [`SERVICE_NAME`] | `SERVICE_NAME` | the `service` log field and metric dimension; default: the name given to [`crate::init`] or [`crate::builder`] |
//! | [`METRICS_NAMESPACE`] | `METRICS_NAMESPACE` | the CloudWatch namespace; required while metrics are on, unless set in code |
//! | [`METRICS_DISABLED`] | | `true`: no metrics recorder, no EMF lines |
//! | [`TRACE_DISABLED`] | | `true`: no X-Ray subsegments |
//! | [`LOG_LEVEL`] | `LOG_LEVEL` | the most verbose level logged; Lambda's `AWS_LAMBDA_LOG_LEVEL` wins over both |
//! | [`FAULT_ERROR_RATE`] | `FAULT_INJECTION_ERROR_RATE` | share of invocations failed on purpose, `0` to `1` |
//! | [`FAULT_LATENCY_MS`] | `FAULT_INJECTION_LATENCY_MS` | latency added to every invocation |
//!
//! Where both names are set the prefixed one wins. A blank value counts as unset. Lambda
//! sets the others the kit reads: `AWS_LAMBDA_LOG_LEVEL` and `AWS_LAMBDA_LOG_FORMAT`
//! (from the function's `LoggingConfig`), `AWS_LAMBDA_FUNCTION_VERSION` and, with
//! active tracing, `AWS_XRAY_DAEMON_ADDRESS`.

use ops_wire::faults::{LEGACY_ERROR_RATE_VAR, LEGACY_LATENCY_VAR};

/// The prefix of every variable the kit defines.
pub const PREFIX: &str = "OPS_KIT_";
/// The service name.
pub const SERVICE_NAME: &str = "OPS_KIT_SERVICE_NAME";
/// The CloudWatch metrics namespace.
pub const METRICS_NAMESPACE: &str = "OPS_KIT_METRICS_NAMESPACE";
/// `true` turns metrics off.
pub const METRICS_DISABLED: &str = "OPS_KIT_METRICS_DISABLED";
/// `true` turns X-Ray subsegments off.
pub const TRACE_DISABLED: &str = "OPS_KIT_TRACE_DISABLED";
/// The log level.
pub const LOG_LEVEL: &str = "OPS_KIT_LOG_LEVEL";
/// The fault-injection error rate (the local cloud sets it too).
pub const FAULT_ERROR_RATE: &str = ops_wire::faults::ERROR_RATE_VAR;
/// The fault-injection latency, in milliseconds (the local cloud sets it too).
pub const FAULT_LATENCY_MS: &str = ops_wire::faults::LATENCY_VAR;

/// Each variable with the older name still read after it.
pub(crate) const OLDER_NAMES: [(&str, &str); 5] = [
    (SERVICE_NAME, "SERVICE_NAME"),
    (METRICS_NAMESPACE, "METRICS_NAMESPACE"),
    (LOG_LEVEL, "LOG_LEVEL"),
    (FAULT_ERROR_RATE, LEGACY_ERROR_RATE_VAR),
    (FAULT_LATENCY_MS, LEGACY_LATENCY_VAR),
];

/// The value of `name`, else of its older name; blank counts as unset.
pub(crate) fn var(name: &str) -> Option<String> {
    lookup(name, |variable| std::env::var(variable).ok())
}

/// [`var`] over any source of variables (tests pass a map).
pub(crate) fn lookup(name: &str, source: impl Fn(&str) -> Option<String>) -> Option<String> {
    let older = OLDER_NAMES
        .iter()
        .find(|(new, old)| *new == name || *old == name);
    let names = match older {
        Some((new, old)) => [*new, *old],
        None => [name, name],
    };
    names
        .into_iter()
        .find_map(|variable| source(variable).filter(|value| !value.trim().is_empty()))
}

/// Whether a `…_DISABLED` switch is on (`true`, `1`, `yes`, any case).
pub(crate) fn is_set(name: &str) -> bool {
    var(name).is_some_and(|value| {
        matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes"
        )
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_prefixed_name_wins_and_the_older_one_still_works() {
        let both = from(&[
            ("OPS_KIT_METRICS_NAMESPACE", "New"),
            ("METRICS_NAMESPACE", "Old"),
        ]);
        assert_eq!(lookup(METRICS_NAMESPACE, &both).as_deref(), Some("New"));
        let older = from(&[("METRICS_NAMESPACE", "Old")]);
        assert_eq!(lookup(METRICS_NAMESPACE, &older).as_deref(), Some("Old"));
        // Asked by the older name, the prefixed one still wins.
        assert_eq!(lookup("METRICS_NAMESPACE", &both).as_deref(), Some("New"));
        assert_eq!(
            lookup(FAULT_ERROR_RATE, from(&[(LEGACY_ERROR_RATE_VAR, "0.5")])).as_deref(),
            Some("0.5")
        );
    }

    #[test]
    fn a_blank_value_counts_as_unset() {
        let blank = from(&[("OPS_KIT_SERVICE_NAME", "  "), ("SERVICE_NAME", "orders")]);
        assert_eq!(lookup(SERVICE_NAME, blank).as_deref(), Some("orders"));
        assert_eq!(lookup(TRACE_DISABLED, from(&[])), None);
    }

    #[test]
    fn every_variable_has_the_prefix() {
        for name in [
            SERVICE_NAME,
            METRICS_NAMESPACE,
            METRICS_DISABLED,
            TRACE_DISABLED,
            LOG_LEVEL,
            FAULT_ERROR_RATE,
            FAULT_LATENCY_MS,
        ] {
            assert!(name.starts_with(PREFIX), "{name}");
        }
    }
}
