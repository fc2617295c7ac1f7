//! Fault injection: make a function fail or slow down on purpose, to rehearse what
//! the alarms, dashboards and retries do when it happens for real.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `OPS_KIT_FAULT_ERROR_RATE` (or `FAULT_INJECTION_ERROR_RATE`) | share of invocations that fail, `0` to `1` | `0` |
//! | `OPS_KIT_FAULT_LATENCY_MS` (or `FAULT_INJECTION_LATENCY_MS`) | delay added to every invocation, at most `60000` | `0` |
//!
//! The settings and their rules are [`ops_wire::faults`]'s, shared with the local cloud
//! that sets them. Off unless set; logged at WARN at start when on, so an active fault
//! is never a mystery. A value that does not parse turns injection off and is logged
//! at ERROR: a typo in a chaos setting must not take a function down.

pub use ops_wire::faults::{
    ERROR_RATE_VAR, FaultInjection, LATENCY_VAR, LEGACY_ERROR_RATE_VAR, LEGACY_LATENCY_VAR,
};

/// The error an injected failure returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InjectedFault;

impl std::fmt::Display for InjectedFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "injected fault ({ERROR_RATE_VAR} or {LEGACY_ERROR_RATE_VAR} is set)"
        )
    }
}

impl std::error::Error for InjectedFault {}

/// Reads the settings from the environment (the prefixed names first, [`crate::env`]);
/// see the module docs for bad values.
pub(crate) fn from_env() -> FaultInjection {
    from_lookup(crate::env::var)
}

fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> FaultInjection {
    FaultInjection::from_lookup(lookup).unwrap_or_else(|error| {
        tracing::error!(
            error = &error as &dyn std::error::Error,
            key_activity = "fault-injection",
            "ignored; fault injection is off"
        );
        FaultInjection::default()
    })
}

/// Decides whether this invocation fails.
pub(crate) fn draw_failure(faults: &FaultInjection) -> bool {
    if faults.error_rate <= 0.0 {
        return false;
    }
    let (random, _) = uuid::Uuid::new_v4().as_u64_pair();
    #[allow(
        clippy::cast_precision_loss,
        reason = "a coin flip needs no more than 53 bits"
    )]
    let sample = (random >> 11) as f64 / (1_u64 << 53) as f64;
    sample < faults.error_rate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(error_rate: Option<&str>, latency_ms: Option<&str>) -> FaultInjection {
        from_lookup(|name| match name {
            ERROR_RATE_VAR => error_rate.map(str::to_owned),
            LATENCY_VAR => latency_ms.map(str::to_owned),
            _ => None,
        })
    }

    #[test]
    fn unset_means_off() {
        let faults = read(None, None);
        assert!(!faults.is_active());
        assert!(!draw_failure(&faults));
    }

    #[test]
    fn a_full_error_rate_always_fails_and_latency_is_read_in_ms() {
        let faults = read(Some("1"), Some("250"));
        assert!(faults.is_active());
        assert!((0..100).all(|_| draw_failure(&faults)));
        assert_eq!(faults.latency(), std::time::Duration::from_millis(250));
    }

    #[test]
    fn a_half_error_rate_fails_about_half_the_time() {
        let faults = read(Some("0.5"), None);
        let failures = (0..10_000).filter(|_| draw_failure(&faults)).count();
        assert!((4_000..6_000).contains(&failures), "{failures}");
    }

    #[test]
    fn a_bad_value_is_logged_at_error_with_the_variable_and_the_value() {
        #[derive(Clone, Default)]
        struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        use tracing_subscriber::layer::SubscriberExt as _;

        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::Registry::default()
            .with(crate::LogLayer::new("svc", move || writer.clone()));
        let faults = tracing::subscriber::with_default(subscriber, || read(Some("lots"), None));
        assert!(!faults.is_active());
        let line: serde_json::Value = serde_json::from_slice(&buffer.0.lock().unwrap()).unwrap();
        assert_eq!(line[ops_wire::log_fields::LEVEL], "ERROR");
        let error = line[ops_wire::log_fields::ERROR].as_str().unwrap();
        assert!(
            error.starts_with("OPS_KIT_FAULT_ERROR_RATE=lots"),
            "{error}"
        );
    }

    #[test]
    fn bad_values_turn_injection_off() {
        for (rate, latency) in [
            (Some("2"), None),
            (Some("lots"), None),
            (None, Some("-5")),
            (None, Some("60001")),
            (Some("0.5"), Some("soon")),
        ] {
            assert!(!read(rate, latency).is_active(), "{rate:?} {latency:?}");
        }
    }
}
