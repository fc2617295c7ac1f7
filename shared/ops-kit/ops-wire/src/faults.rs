//! Fault injection settings: make a function fail or slow down on purpose, to rehearse
//! what alarms, dashboards and retries do when it happens for real.
//!
//! The settings travel two ways, and both are contracts:
//!
//! | where | form | who writes | who reads |
//! |---|---|---|---|
//! | the function's environment | [`ERROR_RATE_VAR`], [`LATENCY_VAR`] | the template, or the local cloud when it starts a function | the ops kit, at init |
//! | the local cloud's API and console | `{"error_rate": 0.5, "latency_ms": 200}` | a person, the console | the local cloud |
//!
//! Both are checked by [`FaultInjection::validate`], so a setting one path accepts the
//! other accepts too.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Share of invocations that fail, `0` to `1`.
pub const ERROR_RATE_VAR: &str = "OPS_KIT_FAULT_ERROR_RATE";
/// Delay added to every invocation, in milliseconds.
pub const LATENCY_VAR: &str = "OPS_KIT_FAULT_LATENCY_MS";
/// The older name of [`ERROR_RATE_VAR`], still read by the kit (the prefixed one wins).
pub const LEGACY_ERROR_RATE_VAR: &str = "FAULT_INJECTION_ERROR_RATE";
/// The older name of [`LATENCY_VAR`], still read by the kit (the prefixed one wins).
pub const LEGACY_LATENCY_VAR: &str = "FAULT_INJECTION_LATENCY_MS";

/// Whether `name` is one of the fault settings, under either name: what to remove
/// before laying a new setting over a function's environment.
pub fn is_fault_var(name: &str) -> bool {
    [
        ERROR_RATE_VAR,
        LATENCY_VAR,
        LEGACY_ERROR_RATE_VAR,
        LEGACY_LATENCY_VAR,
    ]
    .contains(&name)
}
/// The longest accepted delay: a minute, longer than any function's timeout here, so
/// a timeout can be rehearsed without stalling a test run.
pub const MAX_LATENCY_MS: u64 = 60_000;

/// The faults to inject into every invocation. The default is none.
///
/// As JSON, both members are optional (absent means `0`) and no other member is
/// accepted, so a misspelt setting is an error rather than silently no fault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultInjection {
    /// Share of invocations that fail, 0 to 1.
    #[serde(default)]
    pub error_rate: f64,
    /// Delay added before the handler runs, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
}

/// A fault setting out of range or unreadable. `name` is the JSON member or the
/// environment variable, as the input named it; `value` is what it held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidFaultInjection {
    /// The error rate is not a number from 0 to 1.
    #[error(
        "{name}={value}: the error rate must be a number from 0 to 1 (0.25 fails a quarter of invocations)"
    )]
    ErrorRate {
        /// `error_rate` or [`ERROR_RATE_VAR`].
        name: &'static str,
        /// The value given.
        value: String,
    },
    /// The latency is not a whole number of milliseconds up to [`MAX_LATENCY_MS`].
    #[error(
        "{name}={value}: the latency must be a whole number of milliseconds from 0 to {MAX_LATENCY_MS}"
    )]
    LatencyMs {
        /// `latency_ms` or [`LATENCY_VAR`].
        name: &'static str,
        /// The value given.
        value: String,
    },
}

impl FaultInjection {
    /// Reads the settings through `lookup` (`|name| std::env::var(name).ok()` for the
    /// environment). An unset or blank variable means `0`; surrounding whitespace is
    /// ignored.
    ///
    /// # Errors
    /// [`InvalidFaultInjection`] for the first variable that does not parse or is out
    /// of range. The ops kit then injects nothing and logs the error: a typo in a chaos
    /// setting must not take a function down.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, InvalidFaultInjection> {
        let read = |name: &str| {
            lookup(name)
                .map(|raw| raw.trim().to_owned())
                .filter(|raw| !raw.is_empty())
        };
        let error_rate = match read(ERROR_RATE_VAR) {
            None => 0.0,
            Some(raw) => match raw.parse::<f64>() {
                Ok(rate) if is_rate(rate) => rate,
                _ => {
                    return Err(InvalidFaultInjection::ErrorRate {
                        name: ERROR_RATE_VAR,
                        value: raw,
                    });
                }
            },
        };
        let latency_ms = match read(LATENCY_VAR) {
            None => 0,
            Some(raw) => match raw.parse::<u64>() {
                Ok(ms) if ms <= MAX_LATENCY_MS => ms,
                _ => {
                    return Err(InvalidFaultInjection::LatencyMs {
                        name: LATENCY_VAR,
                        value: raw,
                    });
                }
            },
        };
        Ok(Self {
            error_rate,
            latency_ms,
        })
    }

    /// Checks the ranges: `error_rate` finite and from 0 to 1, `latency_ms` at most
    /// [`MAX_LATENCY_MS`].
    ///
    /// # Errors
    /// [`InvalidFaultInjection`] naming the first setting out of range, by its JSON
    /// member name.
    pub fn validate(&self) -> Result<(), InvalidFaultInjection> {
        if !is_rate(self.error_rate) {
            return Err(InvalidFaultInjection::ErrorRate {
                name: "error_rate",
                value: self.error_rate.to_string(),
            });
        }
        if self.latency_ms > MAX_LATENCY_MS {
            return Err(InvalidFaultInjection::LatencyMs {
                name: "latency_ms",
                value: self.latency_ms.to_string(),
            });
        }
        Ok(())
    }

    /// The environment that gives a function these settings: only the settings that
    /// are not zero, so a function without faults has no fault variables at all.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        let mut vars = Vec::new();
        if self.error_rate != 0.0 {
            vars.push((ERROR_RATE_VAR, self.error_rate.to_string()));
        }
        if self.latency_ms != 0 {
            vars.push((LATENCY_VAR, self.latency_ms.to_string()));
        }
        vars
    }

    /// Whether any fault is injected.
    pub fn is_active(&self) -> bool {
        self.error_rate > 0.0 || self.latency_ms > 0
    }

    /// The delay to add, as a duration.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }
}

/// From 0 to 1; NaN is not.
fn is_rate(rate: f64) -> bool {
    (0.0..=1.0).contains(&rate)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn unset_or_blank_means_no_fault() {
        for vars in [&[][..], &[(ERROR_RATE_VAR, ""), (LATENCY_VAR, "  ")][..]] {
            let faults = FaultInjection::from_lookup(lookup(vars)).unwrap();
            assert_eq!(faults, FaultInjection::default());
            assert!(!faults.is_active());
            assert!(faults.env_vars().is_empty());
        }
    }

    #[test]
    fn settings_are_read_trimmed() {
        let faults = FaultInjection::from_lookup(lookup(&[
            (ERROR_RATE_VAR, " 0.25 "),
            (LATENCY_VAR, "250\n"),
        ]))
        .unwrap();
        assert_eq!(
            faults,
            FaultInjection {
                error_rate: 0.25,
                latency_ms: 250
            }
        );
        assert_eq!(faults.latency(), Duration::from_millis(250));
        assert!(faults.is_active());
    }

    #[test]
    fn bad_variables_are_errors_that_name_the_variable_and_the_value() {
        let cases = [
            (ERROR_RATE_VAR, "2", "OPS_KIT_FAULT_ERROR_RATE=2"),
            (ERROR_RATE_VAR, "lots", "OPS_KIT_FAULT_ERROR_RATE=lots"),
            (ERROR_RATE_VAR, "-0.1", "OPS_KIT_FAULT_ERROR_RATE=-0.1"),
            (ERROR_RATE_VAR, "NaN", "OPS_KIT_FAULT_ERROR_RATE=NaN"),
            (ERROR_RATE_VAR, "inf", "OPS_KIT_FAULT_ERROR_RATE=inf"),
            (LATENCY_VAR, "-5", "OPS_KIT_FAULT_LATENCY_MS=-5"),
            (LATENCY_VAR, "soon", "OPS_KIT_FAULT_LATENCY_MS=soon"),
            (LATENCY_VAR, "1.5", "OPS_KIT_FAULT_LATENCY_MS=1.5"),
            (LATENCY_VAR, "60001", "OPS_KIT_FAULT_LATENCY_MS=60001"),
            (
                LATENCY_VAR,
                "99999999999999999999999",
                "OPS_KIT_FAULT_LATENCY_MS=9999",
            ),
        ];
        for (name, value, shown) in cases {
            let error = FaultInjection::from_lookup(lookup(&[(name, value)])).unwrap_err();
            assert!(error.to_string().starts_with(shown), "{error}");
        }
    }

    #[test]
    fn one_bad_variable_turns_both_off() {
        let result =
            FaultInjection::from_lookup(lookup(&[(ERROR_RATE_VAR, "0.5"), (LATENCY_VAR, "soon")]));
        assert!(matches!(
            result,
            Err(InvalidFaultInjection::LatencyMs {
                name: LATENCY_VAR,
                ..
            })
        ));
    }

    #[test]
    fn the_json_contract_has_exactly_two_optional_members() {
        let parse = serde_json::from_str::<FaultInjection>;
        assert_eq!(
            parse(r#"{"error_rate": 1}"#).unwrap(),
            FaultInjection {
                error_rate: 1.0,
                latency_ms: 0
            }
        );
        assert_eq!(parse(r#"{"latency_ms": 3000}"#).unwrap().latency_ms, 3000);
        assert_eq!(parse("{}").unwrap(), FaultInjection::default());
        assert_eq!(
            serde_json::to_value(FaultInjection {
                error_rate: 0.5,
                latency_ms: 7
            })
            .unwrap(),
            serde_json::json!({"error_rate": 0.5, "latency_ms": 7})
        );
        for bad in [
            r#"{"latency": 3000}"#,
            r#"{"error_rate": "1"}"#,
            r#"{"latency_ms": -1}"#,
            r#"{"latency_ms": 1.5}"#,
            r#"{"error_rate": 1e400}"#,
            "null",
            "\"1\"",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validate_checks_the_ranges_by_json_name() {
        let valid = [(0.0, 0), (1.0, MAX_LATENCY_MS), (0.5, 100)];
        for (error_rate, latency_ms) in valid {
            assert_eq!(
                FaultInjection {
                    error_rate,
                    latency_ms
                }
                .validate(),
                Ok(())
            );
        }
        let invalid = [
            (1.5, 0, "error_rate=1.5"),
            (-0.5, 0, "error_rate=-0.5"),
            (f64::NAN, 0, "error_rate=NaN"),
            (f64::INFINITY, 0, "error_rate=inf"),
            (0.0, MAX_LATENCY_MS + 1, "latency_ms=60001"),
        ];
        for (error_rate, latency_ms, shown) in invalid {
            let error = FaultInjection {
                error_rate,
                latency_ms,
            }
            .validate()
            .unwrap_err();
            assert!(error.to_string().starts_with(shown), "{error}");
        }
    }

    #[test]
    fn env_vars_carry_only_what_is_set() {
        let rate_only = FaultInjection {
            error_rate: 1.0,
            latency_ms: 0,
        };
        assert_eq!(rate_only.env_vars(), [(ERROR_RATE_VAR, "1".to_owned())]);
        let latency_only = FaultInjection {
            error_rate: 0.0,
            latency_ms: 11_000,
        };
        assert_eq!(latency_only.env_vars(), [(LATENCY_VAR, "11000".to_owned())]);
    }

    proptest! {
        #[test]
        fn valid_settings_survive_the_environment(
            error_rate in 0.0..=1.0_f64,
            latency_ms in 0..=MAX_LATENCY_MS,
        ) {
            let faults = FaultInjection { error_rate, latency_ms };
            prop_assert_eq!(faults.validate(), Ok(()));
            let env: HashMap<&str, String> = faults.env_vars().into_iter().collect();
            let back = FaultInjection::from_lookup(|name| env.get(name).cloned()).unwrap();
            prop_assert_eq!(back, faults);
        }
    }
}
