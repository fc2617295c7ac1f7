//! Starting the kit: [`init`] with everything on, or [`builder`] to choose the parts.
//!
//! ```no_run
//! # fn main() -> Result<(), ops_kit::InitError> {
//! // Everything, configured from the environment (the namespace must be set there):
//! let ops = ops_kit::init("orders")?;
//! # Ok(())
//! # }
//! ```
//!
//! ```no_run
//! # fn main() -> Result<(), ops_kit::InitError> {
//! // The namespace in code, the app's own tracing subscriber, no fault injection:
//! let ops = ops_kit::builder("orders")
//!     .metrics_namespace("Shop")
//!     .logs(false)
//!     .tracing(true)
//!     .faults(false)
//!     .init()?;
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;

use crate::env;
use crate::faults::FaultInjection;
use crate::lambda::{InitError, Ops};
use crate::metrics::Metrics;
use crate::{LogConfig, init_logging};

/// Starts every part of the kit for a function: JSON logs, EMF metrics, X-Ray
/// subsegments (when Lambda provides a daemon address), and fault injection (when
/// configured). The same as `builder(default_service).init()`.
///
/// Reads the variables of [`crate::env`]: the metrics namespace is required.
///
/// # Errors
/// [`InitError`] when no metrics namespace is set or `init` already ran.
pub fn init(default_service: &str) -> Result<Ops, InitError> {
    builder(default_service).init()
}

/// A [`Builder`] with every part on; `default_service` names the service unless
/// `OPS_KIT_SERVICE_NAME` (or `SERVICE_NAME`) is set.
pub fn builder(default_service: impl Into<String>) -> Builder {
    Builder {
        service: default_service.into(),
        namespace: None,
        logs: true,
        metrics: true,
        tracing: true,
        faults: true,
    }
}

/// Which parts of the kit to start; each is optional. Made by [`builder`].
#[derive(Debug, Clone)]
#[must_use = "nothing starts until `init` is called"]
#[allow(
    clippy::struct_excessive_bools,
    reason = "each is one independent part of the kit, switched on or off"
)]
pub struct Builder {
    service: String,
    namespace: Option<String>,
    logs: bool,
    metrics: bool,
    tracing: bool,
    faults: bool,
}

impl Builder {
    /// The CloudWatch namespace of the metrics; set in code it wins over
    /// `OPS_KIT_METRICS_NAMESPACE`.
    pub fn metrics_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Whether the kit installs its log layer as the global `tracing` subscriber (on by
    /// default). Off, add [`crate::log_layer`] to your own subscriber instead.
    pub fn logs(mut self, on: bool) -> Self {
        self.logs = on;
        self
    }

    /// Whether the kit installs its EMF recorder as the `metrics` recorder (on by
    /// default; `OPS_KIT_METRICS_DISABLED=true` turns it off too).
    pub fn metrics(mut self, on: bool) -> Self {
        self.metrics = on;
        self
    }

    /// Whether AWS calls and key activities become X-Ray subsegments (on by default;
    /// `OPS_KIT_TRACE_DISABLED=true` turns it off too). They are sent only when Lambda
    /// gives a daemon address, that is with active tracing.
    pub fn tracing(mut self, on: bool) -> Self {
        self.tracing = on;
        self
    }

    /// Whether fault injection is read from the environment (on by default). Off, no
    /// setting can make this function fail on purpose.
    pub fn faults(mut self, on: bool) -> Self {
        self.faults = on;
        self
    }

    /// Starts the chosen parts.
    ///
    /// # Errors
    /// [`InitError`] when metrics are on with no namespace, or a part is already
    /// installed (the global subscriber or the metrics recorder).
    pub fn init(self) -> Result<Ops, InitError> {
        let service = env::var(env::SERVICE_NAME).unwrap_or(self.service);
        if self.logs {
            init_logging(&LogConfig::from_env(service.clone()))
                .map_err(|e| InitError::AlreadyInstalled(e.to_string()))?;
        }
        let metrics = if self.metrics && !env::is_set(env::METRICS_DISABLED) {
            let namespace = self
                .namespace
                .or_else(|| env::var(env::METRICS_NAMESPACE))
                .ok_or(InitError::NoMetricsNamespace)?;
            let version = std::env::var("AWS_LAMBDA_FUNCTION_VERSION")
                .unwrap_or_else(|_| "$LATEST".to_owned());
            Some(
                Metrics::install(&namespace, &service, &version)
                    .map_err(|e| InitError::AlreadyInstalled(e.to_string()))?,
            )
        } else {
            None
        };
        if self.tracing
            && !env::is_set(env::TRACE_DISABLED)
            && let Some(sink) = crate::xray::UdpDaemonSink::from_env()
        {
            crate::xray::install_sink(Arc::new(sink));
        }
        let faults = if self.faults {
            crate::faults::from_env()
        } else {
            FaultInjection::default()
        };
        if faults.is_active() {
            tracing::warn!(
                error_rate = faults.error_rate,
                latency_ms = faults.latency_ms,
                key_activity = "fault-injection",
                "fault injection is ON"
            );
        }
        Ok(Ops::new(metrics, faults))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_can_be_left_out() {
        // Installs nothing global, so it cannot disturb other tests; and with metrics
        // off no namespace is needed.
        let ops = builder("orders")
            .logs(false)
            .metrics(false)
            .tracing(false)
            .faults(false)
            .init()
            .unwrap();
        assert_eq!(
            format!("{:?}", ops.layer()),
            format!("{:?}", crate::OpsLayer::default())
        );
    }

    #[test]
    fn a_missing_namespace_says_every_way_to_set_one() {
        // `main` prints an error it returns with `Debug`: the same words.
        let message = format!("{:?}", InitError::NoMetricsNamespace);
        assert_eq!(message, InitError::NoMetricsNamespace.to_string());
        for way in [
            "OPS_KIT_METRICS_NAMESPACE",
            "METRICS_NAMESPACE",
            ".metrics_namespace(",
            ".metrics(false)",
        ] {
            assert!(message.contains(way), "{message}");
        }
    }

    #[test]
    fn init_is_the_builder_with_every_part_on() {
        let all_on = builder("orders");
        assert!(all_on.logs && all_on.metrics && all_on.tracing && all_on.faults);
        assert_eq!(all_on.namespace, None);
        let chosen = builder("orders").metrics_namespace("Shop").logs(false);
        assert_eq!(chosen.namespace.as_deref(), Some("Shop"));
        assert!(!chosen.logs && chosen.metrics);
    }
}
