//! CodeDeploy's predefined Lambda deployment configurations: how much of the alias's
//! traffic the new version gets, and for how long, before the next step.

use std::time::Duration;

/// One step of a traffic shift: the new version's share, then a wait while the alarms
/// are watched.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// The new version's weight, 0 to 1.
    pub weight: f64,
    /// How long the step lasts (in template time; divided by the time scale).
    pub wait: Duration,
}

/// A deployment configuration: the steps before all of the traffic moves.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentConfig {
    /// Its name, as the template writes it (`Canary10Percent5Minutes`).
    pub name: String,
    /// The steps before 100 %; none for `AllAtOnce`.
    pub steps: Vec<Step>,
}

/// Every predefined configuration, by the name SAM's `DeploymentPreference.Type` takes.
pub const PREDEFINED: [&str; 9] = [
    "AllAtOnce",
    "Canary10Percent5Minutes",
    "Canary10Percent10Minutes",
    "Canary10Percent15Minutes",
    "Canary10Percent30Minutes",
    "Linear10PercentEvery1Minute",
    "Linear10PercentEvery2Minutes",
    "Linear10PercentEvery3Minutes",
    "Linear10PercentEvery10Minutes",
];

impl DeploymentConfig {
    /// The configuration `name` names: SAM's short form (`Canary10Percent5Minutes`) or
    /// CodeDeploy's (`CodeDeployDefault.LambdaCanary10Percent5Minutes`). `None` for a
    /// name that is neither.
    pub fn named(name: &str) -> Option<Self> {
        let short = name
            .strip_prefix("CodeDeployDefault.Lambda")
            .unwrap_or(name);
        let steps = if short == "AllAtOnce" {
            Vec::new()
        } else if let Some(rest) = short.strip_prefix("Canary") {
            let (percent, minutes) = rest.split_once("Percent")?;
            let minutes = minutes.strip_suffix("Minutes")?;
            vec![Step {
                weight: percent_weight(percent)?,
                wait: minutes_duration(minutes)?,
            }]
        } else if let Some(rest) = short.strip_prefix("Linear") {
            let (percent, every) = rest.split_once("PercentEvery")?;
            let minutes = every
                .strip_suffix("Minutes")
                .or_else(|| every.strip_suffix("Minute"))?;
            let weight = percent_weight(percent)?;
            let wait = minutes_duration(minutes)?;
            let count = (1.0 / weight).ceil();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 1 to 100
            let count = count as usize;
            (1..count)
                .map(|i| {
                    #[allow(clippy::cast_precision_loss)] // at most 100 steps
                    let share = weight * i as f64;
                    Step {
                        weight: share,
                        wait,
                    }
                })
                .chain(std::iter::once(Step { weight: 1.0, wait }))
                .filter(|step| step.weight < 1.0 - 1e-9)
                .collect()
        } else {
            return None;
        };
        Some(Self {
            name: short.to_owned(),
            steps,
        })
    }
}

fn percent_weight(percent: &str) -> Option<f64> {
    let percent: u32 = percent.parse().ok()?;
    (1..=99)
        .contains(&percent)
        .then(|| f64::from(percent) / 100.0)
}

fn minutes_duration(minutes: &str) -> Option<Duration> {
    let minutes: u64 = minutes.parse().ok().filter(|m| *m > 0)?;
    Some(Duration::from_secs(minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_predefined_configuration_has_its_steps() {
        for name in PREDEFINED {
            assert!(DeploymentConfig::named(name).is_some(), "{name}");
            let long = format!("CodeDeployDefault.Lambda{name}");
            assert_eq!(DeploymentConfig::named(&long).unwrap().name, name);
        }
        assert!(
            DeploymentConfig::named("AllAtOnce")
                .unwrap()
                .steps
                .is_empty()
        );
        let canary = DeploymentConfig::named("Canary10Percent5Minutes").unwrap();
        assert_eq!(
            canary.steps,
            [Step {
                weight: 0.1,
                wait: Duration::from_mins(5)
            }]
        );
        let long =
            DeploymentConfig::named("CodeDeployDefault.LambdaCanary10Percent30Minutes").unwrap();
        assert_eq!(long.name, "Canary10Percent30Minutes");
        let linear = DeploymentConfig::named("Linear10PercentEvery1Minute").unwrap();
        assert_eq!(linear.steps.len(), 9);
        assert!((linear.steps[8].weight - 0.9).abs() < 1e-9);
        assert!(
            linear
                .steps
                .iter()
                .all(|s| s.wait == Duration::from_mins(1))
        );
    }

    #[test]
    fn anything_else_is_not_a_configuration() {
        for name in [
            "",
            "Canary",
            "Canary0Percent5Minutes",
            "Canary100Percent5Minutes",
            "Canary10Percent0Minutes",
            "Linear10PercentEveryMinute",
            "BlueGreen",
            "Canary10Percent5Hours",
        ] {
            assert!(DeploymentConfig::named(name).is_none(), "{name}");
        }
    }
}
