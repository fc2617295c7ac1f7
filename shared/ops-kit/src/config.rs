//! Reading a function's configuration from the environment, once, at init.

/// A required environment variable is missing or empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "environment variable {} is not set; the function's template must set it",
            self.variable
        )
    }
}

impl std::error::Error for ConfigError {}

/// The value of a required environment variable.
///
/// # Errors
/// [`ConfigError`] naming the variable when it is unset, empty or not UTF-8.
pub fn required_env(variable: &'static str) -> Result<String, ConfigError> {
    match std::env::var(variable) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError { variable }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named_in_the_error() {
        let error = required_env("OPS_KIT_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(error.variable, "OPS_KIT_TEST_SURELY_UNSET");
        assert!(error.to_string().contains("OPS_KIT_TEST_SURELY_UNSET"));
    }

    #[test]
    fn a_set_variable_is_read() {
        // PATH is set in every environment the tests run in.
        assert!(required_env("PATH").is_ok());
    }
}
