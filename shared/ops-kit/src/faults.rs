//! Fault injection: make a function fail or slow down on purpose, to rehearse what
//! the alarms, dashboards and retries do when it happens for real.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `FAULT_INJECTION_ERROR_RATE` | share of invocations that fail, `0` to `1` | `0` |
//! | `FAULT_INJECTION_LATENCY_MS` | delay added to every invocation | `0` |
//!
//! Off unless set; logged at WARN at start when on, so an active fault is never a
//! mystery. A value that does not parse turns injection off and is logged at ERROR:
//! a typo in a chaos setting must not take a function down.

use std::time::Duration;

/// The error-rate variable.
pub const ERROR_RATE_VAR: &str = "FAULT_INJECTION_ERROR_RATE";
/// The latency variable.
pub const LATENCY_VAR: &str = "FAULT_INJECTION_LATENCY_MS";

/// The faults to inject into every invocation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FaultInjection {
    /// Share of invocations that fail, 0 to 1.
    pub error_rate: f64,
    /// Delay added before the handler runs.
    pub latency: Duration,
}

/// The error an injected failure returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InjectedFault;

impl std::fmt::Display for InjectedFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "injected fault ({ERROR_RATE_VAR} is set)")
    }
}

impl std::error::Error for InjectedFault {}

impl FaultInjection {
    /// Reads the variables; see the module docs for what happens to bad values.
    pub fn from_env() -> Self {
        Self::from_values(
            std::env::var(ERROR_RATE_VAR).ok().as_deref(),
            std::env::var(LATENCY_VAR).ok().as_deref(),
        )
    }

    fn from_values(error_rate: Option<&str>, latency_ms: Option<&str>) -> Self {
        let error_rate = match error_rate.map(str::trim).filter(|v| !v.is_empty()) {
            None => 0.0,
            Some(raw) => match raw.parse::<f64>() {
                Ok(rate) if (0.0..=1.0).contains(&rate) => rate,
                _ => {
                    tracing::error!(
                        variable = ERROR_RATE_VAR,
                        value = raw,
                        "ignored: not a number from 0 to 1; fault injection is off"
                    );
                    return Self::default();
                }
            },
        };
        let latency = match latency_ms.map(str::trim).filter(|v| !v.is_empty()) {
            None => Duration::ZERO,
            Some(raw) => match raw.parse::<u64>() {
                Ok(ms) if ms <= 900_000 => Duration::from_millis(ms),
                _ => {
                    tracing::error!(
                        variable = LATENCY_VAR,
                        value = raw,
                        "ignored: not milliseconds from 0 to 900000; fault injection is off"
                    );
                    return Self::default();
                }
            },
        };
        Self {
            error_rate,
            latency,
        }
    }

    /// Whether any fault is injected.
    pub fn is_active(&self) -> bool {
        self.error_rate > 0.0 || !self.latency.is_zero()
    }

    /// Decides whether this invocation fails.
    pub fn draw_failure(&self) -> bool {
        if self.error_rate <= 0.0 {
            return false;
        }
        let (random, _) = uuid::Uuid::new_v4().as_u64_pair();
        #[allow(
            clippy::cast_precision_loss,
            reason = "a coin flip needs no more than 53 bits"
        )]
        let sample = (random >> 11) as f64 / (1_u64 << 53) as f64;
        sample < self.error_rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_means_off() {
        let faults = FaultInjection::from_values(None, None);
        assert!(!faults.is_active());
        assert!(!faults.draw_failure());
    }

    #[test]
    fn a_full_error_rate_always_fails_and_latency_is_read_in_ms() {
        let faults = FaultInjection::from_values(Some("1"), Some("250"));
        assert!(faults.is_active());
        assert!((0..100).all(|_| faults.draw_failure()));
        assert_eq!(faults.latency, Duration::from_millis(250));
    }

    #[test]
    fn a_half_error_rate_fails_about_half_the_time() {
        let faults = FaultInjection::from_values(Some("0.5"), None);
        let failures = (0..10_000).filter(|_| faults.draw_failure()).count();
        assert!((4_000..6_000).contains(&failures), "{failures}");
    }

    #[test]
    fn bad_values_turn_injection_off() {
        for (rate, latency) in [
            (Some("2"), None),
            (Some("lots"), None),
            (None, Some("-5")),
            (Some("0.5"), Some("soon")),
        ] {
            assert!(
                !FaultInjection::from_values(rate, latency).is_active(),
                "{rate:?} {latency:?}"
            );
        }
    }
}
