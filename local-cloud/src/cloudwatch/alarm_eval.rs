//! CloudWatch alarm evaluation: one single-metric `AWS::CloudWatch::Alarm`, read from its
//! resolved template `Properties` ([`AlarmSpec`]), and evaluated over its metric's data
//! points ([`evaluate`]) as CloudWatch does: the statistic of each complete period, M out
//! of N breaching periods, and missing periods treated as `TreatMissingData` says.
//!
//! Metric math (`Metrics`) and anomaly detection alarms are refused, not approximated.
//! This is pure logic: where the points come from and when to evaluate is the caller's.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// How far back an alarm may look, as CloudWatch limits it: `Period` × `EvaluationPeriods`
/// is at most seven days, and one day for periods under an hour.
const MAX_EVALUATION_RANGE_SECS: u64 = 7 * 24 * 60 * 60;
/// The limit for periods under an hour.
const MAX_SHORT_PERIOD_EVALUATION_RANGE_SECS: u64 = 24 * 60 * 60;

/// The statistic an alarm computes for each period.
#[derive(Clone, Debug, PartialEq)]
pub enum Statistic {
    /// The sum of the period's values.
    Sum,
    /// The mean of the period's values.
    Average,
    /// The smallest value.
    Minimum,
    /// The largest value.
    Maximum,
    /// How many values the period has.
    SampleCount,
    /// A percentile from 0 to 100 (`ExtendedStatistic` `p99` is `Percentile(99.0)`), by
    /// nearest rank: the smallest value that at least that percentage of values are at most.
    Percentile(f64),
}

impl fmt::Display for Statistic {
    /// As the template writes it: `Sum`, `SampleCount`, `p99`, `p95.5`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sum => formatter.write_str("Sum"),
            Self::Average => formatter.write_str("Average"),
            Self::Minimum => formatter.write_str("Minimum"),
            Self::Maximum => formatter.write_str("Maximum"),
            Self::SampleCount => formatter.write_str("SampleCount"),
            Self::Percentile(percent) => write!(formatter, "p{percent}"),
        }
    }
}

impl Serialize for Statistic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// How a period's statistic is compared with the threshold (`ComparisonOperator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Comparison {
    /// Breaching when the statistic is above the threshold.
    GreaterThanThreshold,
    /// Breaching when the statistic is at or above the threshold.
    GreaterThanOrEqualToThreshold,
    /// Breaching when the statistic is below the threshold.
    LessThanThreshold,
    /// Breaching when the statistic is at or below the threshold.
    LessThanOrEqualToThreshold,
}

impl Comparison {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "GreaterThanThreshold" => Self::GreaterThanThreshold,
            "GreaterThanOrEqualToThreshold" => Self::GreaterThanOrEqualToThreshold,
            "LessThanThreshold" => Self::LessThanThreshold,
            "LessThanOrEqualToThreshold" => Self::LessThanOrEqualToThreshold,
            _ => return None,
        })
    }

    fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::GreaterThanThreshold => value > threshold,
            Self::GreaterThanOrEqualToThreshold => value >= threshold,
            Self::LessThanThreshold => value < threshold,
            Self::LessThanOrEqualToThreshold => value <= threshold,
        }
    }

    /// The comparison in words, as CloudWatch's state reasons write it.
    fn words(self) -> &'static str {
        match self {
            Self::GreaterThanThreshold => "greater than",
            Self::GreaterThanOrEqualToThreshold => "greater than or equal to",
            Self::LessThanThreshold => "less than",
            Self::LessThanOrEqualToThreshold => "less than or equal to",
        }
    }
}

/// How periods without data count (`TreatMissingData`); serialized as the template
/// writes it (`notBreaching`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MissingData {
    /// A missing period counts as breaching.
    Breaching,
    /// A missing period counts as not breaching.
    NotBreaching,
    /// Missing periods are skipped; when they leave the outcome open, the state is kept.
    Ignore,
    /// CloudWatch's default: only present periods count, and with none the state is
    /// `INSUFFICIENT_DATA`.
    #[default]
    Missing,
}

impl MissingData {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "breaching" => Self::Breaching,
            "notBreaching" => Self::NotBreaching,
            "ignore" => Self::Ignore,
            "missing" => Self::Missing,
            _ => return None,
        })
    }
}

/// An alarm's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    /// `OK`: the metric is within the threshold.
    Ok,
    /// `ALARM`: enough periods breached the threshold.
    Alarm,
    /// `INSUFFICIENT_DATA`: too little data to tell.
    InsufficientData,
}

impl fmt::Display for AlarmState {
    /// As CloudWatch writes it: `OK`, `ALARM`, `INSUFFICIENT_DATA`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Ok => "OK",
            Self::Alarm => "ALARM",
            Self::InsufficientData => "INSUFFICIENT_DATA",
        })
    }
}

/// What one single-metric alarm watches, and when it fires.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlarmSpec {
    /// The metric's namespace (`AWS/Lambda`).
    pub namespace: String,
    /// The metric's name (`Errors`).
    pub metric_name: String,
    /// The metric's dimensions, name to value: the alarm watches exactly this series.
    pub dimensions: BTreeMap<String, String>,
    /// The statistic computed for each period.
    pub statistic: Statistic,
    /// The period length, in seconds.
    pub period_secs: u64,
    /// N: how many of the latest complete periods are evaluated.
    pub evaluation_periods: usize,
    /// M: how many of the N periods must breach for `ALARM`; defaults to N.
    pub datapoints_to_alarm: usize,
    /// The value the statistic is compared with.
    pub threshold: f64,
    /// How the statistic is compared with the threshold.
    pub comparison: Comparison,
    /// How periods without data count.
    pub missing_data: MissingData,
}

/// Why template properties are not an alarm this module can evaluate: which property is
/// missing or invalid, or which unsupported feature is used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid CloudWatch alarm: {0}")]
pub struct AlarmSpecError(pub String);

impl AlarmSpec {
    /// From resolved template properties: `Namespace`, `MetricName`, `Dimensions`
    /// (`[{Name, Value}]`), `Statistic` or `ExtendedStatistic` (`p99`, `p95.5`), `Period`,
    /// `EvaluationPeriods`, `DatapointsToAlarm`, `Threshold`, `ComparisonOperator`,
    /// `TreatMissingData`. Numbers may be JSON numbers or numeric strings; a `null`
    /// property is taken as absent. Other properties (actions, description) are not read.
    ///
    /// # Errors
    /// A required property missing, any property of the wrong type or value, and metric
    /// math (`Metrics`), which is not supported.
    pub fn from_properties(properties: &Value) -> Result<Self, AlarmSpecError> {
        let Some(properties) = properties.as_object() else {
            return Err(AlarmSpecError("Properties must be an object".to_owned()));
        };
        if property(properties, "Metrics").is_some() {
            return Err(AlarmSpecError(
                "Metrics: metric math alarms are not supported, only a single metric \
                 (Namespace, MetricName, Statistic)"
                    .to_owned(),
            ));
        }
        let period_secs = required(properties, "Period", positive_integer)?;
        let evaluation_periods = required(properties, "EvaluationPeriods", positive_integer)?;
        let datapoints_to_alarm = optional(properties, "DatapointsToAlarm", positive_integer)?
            .unwrap_or(evaluation_periods);
        if datapoints_to_alarm > evaluation_periods {
            return Err(AlarmSpecError(format!(
                "DatapointsToAlarm ({datapoints_to_alarm}) is more than EvaluationPeriods \
                 ({evaluation_periods})"
            )));
        }
        let max_range = if period_secs < 3600 {
            MAX_SHORT_PERIOD_EVALUATION_RANGE_SECS
        } else {
            MAX_EVALUATION_RANGE_SECS
        };
        if period_secs
            .checked_mul(evaluation_periods)
            .is_none_or(|range| range > max_range)
        {
            return Err(AlarmSpecError(format!(
                "Period × EvaluationPeriods ({period_secs} s × {evaluation_periods}) is more \
                 than CloudWatch evaluates ({max_range} s for this period)"
            )));
        }
        Ok(Self {
            namespace: required(properties, "Namespace", non_empty_string)?,
            metric_name: required(properties, "MetricName", non_empty_string)?,
            dimensions: dimensions(properties)?,
            statistic: statistic(properties)?,
            period_secs,
            evaluation_periods: to_usize(evaluation_periods, "EvaluationPeriods")?,
            datapoints_to_alarm: to_usize(datapoints_to_alarm, "DatapointsToAlarm")?,
            threshold: required(properties, "Threshold", number)?,
            comparison: required(properties, "ComparisonOperator", |value| {
                let name = non_empty_string(value)?;
                Comparison::from_name(&name).ok_or_else(|| {
                    format!(
                        "'{name}' is not supported (GreaterThanThreshold, \
                         GreaterThanOrEqualToThreshold, LessThanThreshold, \
                         LessThanOrEqualToThreshold)"
                    )
                })
            })?,
            missing_data: optional(properties, "TreatMissingData", |value| {
                let name = non_empty_string(value)?;
                MissingData::from_name(&name).ok_or_else(|| {
                    format!("'{name}' is not one of breaching, notBreaching, ignore, missing")
                })
            })?
            .unwrap_or_default(),
        })
    }
}

/// A property's value; `null` (a resolved `AWS::NoValue`) is absent.
fn property<'a>(properties: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    properties.get(name).filter(|value| !value.is_null())
}

/// An optional property read by `read`, whose error is prefixed with the property's name.
fn optional<T>(
    properties: &Map<String, Value>,
    name: &str,
    read: impl FnOnce(&Value) -> Result<T, String>,
) -> Result<Option<T>, AlarmSpecError> {
    property(properties, name)
        .map(|value| read(value).map_err(|why| AlarmSpecError(format!("{name}: {why}"))))
        .transpose()
}

/// A required property read by `read`.
fn required<T>(
    properties: &Map<String, Value>,
    name: &str,
    read: impl FnOnce(&Value) -> Result<T, String>,
) -> Result<T, AlarmSpecError> {
    optional(properties, name, read)?.ok_or_else(|| AlarmSpecError(format!("{name} is missing")))
}

fn non_empty_string(value: &Value) -> Result<String, String> {
    match value.as_str() {
        Some("") => Err("must not be empty".to_owned()),
        Some(text) => Ok(text.to_owned()),
        None => Err(format!("must be a string, found {value}")),
    }
}

/// A finite number, written as a JSON number or a numeric string.
fn number(value: &Value) -> Result<f64, String> {
    let parsed = match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    parsed
        .filter(|number| number.is_finite())
        .ok_or_else(|| format!("must be a number, found {value}"))
}

/// A whole number of at least 1, written as a JSON number or a numeric string.
fn positive_integer(value: &Value) -> Result<u64, String> {
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse::<u64>().ok(),
        _ => None,
    };
    match parsed {
        Some(0) => Err("must be at least 1".to_owned()),
        Some(number) => Ok(number),
        None => Err(format!("must be a whole number, found {value}")),
    }
}

fn to_usize(number: u64, name: &str) -> Result<usize, AlarmSpecError> {
    usize::try_from(number).map_err(|_| AlarmSpecError(format!("{name} is too large")))
}

fn dimensions(properties: &Map<String, Value>) -> Result<BTreeMap<String, String>, AlarmSpecError> {
    let Some(value) = property(properties, "Dimensions") else {
        return Ok(BTreeMap::new());
    };
    let invalid = |why: String| AlarmSpecError(format!("Dimensions: {why}"));
    let Some(items) = value.as_array() else {
        return Err(invalid(format!(
            "must be a list of {{Name, Value}}, found {value}"
        )));
    };
    let mut dimensions = BTreeMap::new();
    for item in items {
        let field = |key: &str| {
            item.get(key)
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| invalid(format!("each must have a string {key}, found {item}")))
        };
        let (name, value) = (field("Name")?, field("Value")?);
        if dimensions.insert(name.clone(), value).is_some() {
            return Err(invalid(format!("'{name}' is given twice")));
        }
    }
    Ok(dimensions)
}

fn statistic(properties: &Map<String, Value>) -> Result<Statistic, AlarmSpecError> {
    let simple = optional(properties, "Statistic", |value| {
        Ok(match non_empty_string(value)?.as_str() {
            "Sum" => Statistic::Sum,
            "Average" => Statistic::Average,
            "Minimum" => Statistic::Minimum,
            "Maximum" => Statistic::Maximum,
            "SampleCount" => Statistic::SampleCount,
            other => {
                return Err(format!(
                    "'{other}' is not one of SampleCount, Average, Sum, Minimum, Maximum"
                ));
            }
        })
    })?;
    let extended = optional(properties, "ExtendedStatistic", |value| {
        let name = non_empty_string(value)?;
        percentile(&name)
            .map(Statistic::Percentile)
            .ok_or_else(|| format!("'{name}' is not supported: only percentiles, p0 to p100"))
    })?;
    match (simple, extended) {
        (Some(_), Some(_)) => Err(AlarmSpecError(
            "Statistic and ExtendedStatistic are both given: give one".to_owned(),
        )),
        (Some(statistic), None) | (None, Some(statistic)) => Ok(statistic),
        (None, None) => Err(AlarmSpecError(
            "Statistic (or ExtendedStatistic) is missing".to_owned(),
        )),
    }
}

/// `p99` → 99, `p95.5` → 95.5; `None` for anything else, or beyond 0 to 100.
fn percentile(name: &str) -> Option<f64> {
    let digits = name.strip_prefix('p')?;
    let well_formed = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|&c| c == '.').count() <= 1;
    digits
        .parse::<f64>()
        .ok()
        .filter(|percent| well_formed && (0.0..=100.0).contains(percent))
}

/// An alarm's state after one evaluation, with why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    /// The new state.
    pub state: AlarmState,
    /// Why, in the words of CloudWatch's state reasons (times are the periods' starts).
    pub reason: String,
    /// The statistic of each evaluated period, oldest first; `None` where it had no data.
    pub datapoints: Vec<Option<f64>>,
}

/// Evaluates `spec` at `now_ms` over `points` (`(timestamp_ms, value)`, in any order, all of
/// the alarm's exact series; values that are not finite are skipped, as CloudWatch refuses
/// them). `period_ms` is the period length to use (the caller passes
/// `spec.period_secs * 1000` divided by a time scale, so tests and demos can run faster);
/// 0 is taken as 1.
///
/// The last `evaluation_periods` complete periods, aligned to multiples of `period_ms`,
/// are evaluated (the current, incomplete period is not; periods before the epoch have no
/// data), with the statistic per period. With M = `datapoints_to_alarm` (at least 1):
/// - present periods breach or not by the comparison; missing ones per `missing_data`:
///   `Breaching` / `NotBreaching` count them as such, `Missing` leaves them out;
/// - the state is `ALARM` when at least M counted periods breach, `OK` otherwise;
/// - with every period missing, `Missing` gives `INSUFFICIENT_DATA`, `NotBreaching` `OK`,
///   `Breaching` `ALARM`, and `Ignore` keeps `previous`;
/// - `Ignore` with some periods missing is `ALARM` when the present ones already reach M,
///   `OK` when even counting every missing one as breaching could not, and otherwise keeps
///   `previous`.
pub fn evaluate(
    spec: &AlarmSpec,
    points: &[(u64, f64)],
    now_ms: u64,
    period_ms: u64,
    previous: AlarmState,
) -> Evaluation {
    let period_ms = period_ms.max(1);
    let periods = spec.evaluation_periods.max(1);
    let current_start = now_ms - now_ms % period_ms;
    // Each evaluated period's start, oldest first; `None` for a period before the epoch.
    let starts: Vec<Option<u64>> = (1..=periods)
        .rev()
        .map(|back| {
            u64::try_from(back)
                .ok()
                .and_then(|back| back.checked_mul(period_ms))
                .and_then(|span| current_start.checked_sub(span))
        })
        .collect();
    let mut values = vec![Vec::new(); periods];
    for &(timestamp_ms, value) in points {
        if !value.is_finite() || timestamp_ms >= current_start {
            continue;
        }
        // 1 for the last complete period, 2 for the one before, ...
        let back = (current_start - timestamp_ms - 1) / period_ms + 1;
        if let Some(index) = usize::try_from(back)
            .ok()
            .and_then(|back| periods.checked_sub(back))
            && let Some(period) = values.get_mut(index)
        {
            period.push(value);
        }
    }
    let datapoints: Vec<Option<f64>> = values
        .iter()
        .map(|period| compute(&spec.statistic, period))
        .collect();
    let (state, reason) = decide(spec, &datapoints, &starts, previous);
    Evaluation {
        state,
        reason,
        datapoints,
    }
}

/// The statistic of one period's values; `None` for a period without any.
fn compute(statistic: &Statistic, values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let count = count_as_f64(values.len());
    match statistic {
        Statistic::Sum => Some(values.iter().sum()),
        Statistic::Average => Some(values.iter().sum::<f64>() / count),
        Statistic::Minimum => Some(values.iter().copied().fold(f64::INFINITY, f64::min)),
        Statistic::Maximum => Some(values.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        Statistic::SampleCount => Some(count),
        Statistic::Percentile(percent) => {
            let mut sorted = values.to_vec();
            sorted.sort_by(f64::total_cmp);
            // Nearest rank: ceil(p/100 × n), from 1; the tolerance keeps an exact rank
            // (99 of 100 for p99) from rounding up on a binary fraction.
            let exact = percent.clamp(0.0, 100.0) * count / 100.0;
            let rank = (exact - 1e-9).ceil().clamp(1.0, count);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 1..=n, whole
            let rank = rank as usize;
            sorted.get(rank.saturating_sub(1)).copied()
        }
    }
}

#[allow(clippy::cast_precision_loss)] // exact below 2^53 values, far more than a period has
fn count_as_f64(count: usize) -> f64 {
    count as f64
}

/// The state and its reason, from the periods' statistics (oldest first) and starts.
fn decide(
    spec: &AlarmSpec,
    datapoints: &[Option<f64>],
    starts: &[Option<u64>],
    previous: AlarmState,
) -> (AlarmState, String) {
    let tally = Tally::new(spec, datapoints, starts);
    if tally.present.is_empty() {
        return all_missing(spec.missing_data, tally.periods, previous);
    }
    let breaching = tally.breaching();
    if spec.missing_data == MissingData::Ignore
        && breaching < tally.needed
        && breaching + tally.missing >= tally.needed
    {
        // The missing periods could go either way: nothing is decided.
        return (previous, tally.unchanged_reason(previous));
    }
    let counted_breaching = breaching
        + if spec.missing_data == MissingData::Breaching {
            tally.missing
        } else {
            0
        };
    if counted_breaching >= tally.needed {
        (AlarmState::Alarm, tally.alarm_reason(counted_breaching))
    } else {
        (AlarmState::Ok, tally.ok_reason())
    }
}

/// The state and its reason when no evaluated period has data.
fn all_missing(
    missing_data: MissingData,
    periods: usize,
    previous: AlarmState,
) -> (AlarmState, String) {
    let periods_text = format!("{periods} {}", plural(periods, "period"));
    let datapoints_text = format!("{periods} {}", plural(periods, "datapoint"));
    let treated = |state: AlarmState, treated_as: &str| {
        let reason = format!(
            "Threshold Crossed: no datapoints were received for {periods_text} and \
             {periods} missing {} {} treated as [{treated_as}].",
            plural(periods, "datapoint"),
            was(periods)
        );
        (state, reason)
    };
    match missing_data {
        MissingData::Missing => (
            AlarmState::InsufficientData,
            format!(
                "Insufficient Data: {datapoints_text} {} unknown: no data in the last \
                 {periods_text}.",
                was(periods)
            ),
        ),
        MissingData::Breaching => treated(AlarmState::Alarm, "Breaching"),
        MissingData::NotBreaching => treated(AlarmState::Ok, "NonBreaching"),
        MissingData::Ignore => (
            previous,
            format!(
                "Unchanged: no datapoints were received for {periods_text} and missing data \
                 is ignored, so the state stays {previous}."
            ),
        ),
    }
}

/// The evaluated periods, counted: what a state's reason is written from.
struct Tally<'a> {
    spec: &'a AlarmSpec,
    /// N, at least 1.
    periods: usize,
    /// M, at least 1.
    needed: usize,
    /// The present datapoints: value, period start, and whether it breaches.
    present: Vec<(f64, Option<u64>, bool)>,
    missing: usize,
}

impl<'a> Tally<'a> {
    fn new(spec: &'a AlarmSpec, datapoints: &[Option<f64>], starts: &[Option<u64>]) -> Self {
        let present: Vec<(f64, Option<u64>, bool)> = datapoints
            .iter()
            .zip(starts)
            .filter_map(|(value, start)| {
                value.map(|value| {
                    let breaches = spec.comparison.breaches(value, spec.threshold);
                    (value, *start, breaches)
                })
            })
            .collect();
        Self {
            spec,
            periods: datapoints.len(),
            needed: spec.datapoints_to_alarm.max(1),
            missing: datapoints.len() - present.len(),
            present,
        }
    }

    fn breaching(&self) -> usize {
        self.present.iter().filter(|(_, _, breach)| *breach).count()
    }

    fn not_breaching(&self) -> usize {
        self.present.len() - self.breaching()
    }

    /// The present datapoints that breach (or do not), with their periods' start times,
    /// as " [3.0 (2026-02-12T04:10:00Z), ...]"; empty when there are none.
    fn list(&self, breaching: bool) -> String {
        let items: Vec<String> = self
            .present
            .iter()
            .filter(|(_, _, breach)| *breach == breaching)
            .map(|(value, start, _)| {
                format!("{value:?} ({})", start.map_or_else(String::new, timestamp))
            })
            .collect();
        if items.is_empty() {
            String::new()
        } else {
            format!(" [{}]", items.join(", "))
        }
    }

    /// "greater than the threshold (0.0)"
    fn comparison(&self) -> String {
        format!(
            "{} the threshold ({:?})",
            self.spec.comparison.words(),
            self.spec.threshold
        )
    }

    /// How the missing datapoints counted, as a sentence to append; empty with none.
    fn missing_note(&self) -> String {
        let missing = self.missing;
        let how = match self.spec.missing_data {
            _ if missing == 0 => return String::new(),
            MissingData::Breaching => "treated as [Breaching]",
            MissingData::NotBreaching => "treated as [NonBreaching]",
            MissingData::Ignore | MissingData::Missing => "ignored",
        };
        format!(
            " {missing} missing {} {} {how}.",
            plural(missing, "datapoint"),
            was(missing)
        )
    }

    fn alarm_reason(&self, counted_breaching: usize) -> String {
        format!(
            "Threshold Crossed: {counted_breaching} out of the last {} {}{} {} {} \
             (minimum {} {} for OK -> ALARM transition).{}",
            self.periods,
            plural(self.periods, "datapoint"),
            self.list(true),
            was(counted_breaching),
            self.comparison(),
            self.needed,
            plural(self.needed, "datapoint"),
            self.missing_note(),
        )
    }

    fn ok_reason(&self) -> String {
        let every_period_counted = self.missing == 0
            || matches!(
                self.spec.missing_data,
                MissingData::Breaching | MissingData::NotBreaching
            );
        if every_period_counted {
            let counted_ok = self.not_breaching()
                + if self.spec.missing_data == MissingData::NotBreaching {
                    self.missing
                } else {
                    0
                };
            let to_ok = self.periods + 1 - self.needed.min(self.periods);
            format!(
                "Threshold Crossed: {counted_ok} out of the last {} {}{} {} not {} \
                 (minimum {to_ok} {} for ALARM -> OK transition).{}",
                self.periods,
                plural(self.periods, "datapoint"),
                self.list(false),
                was(counted_ok),
                self.comparison(),
                plural(to_ok, "datapoint"),
                self.missing_note(),
            )
        } else {
            let breaching = self.breaching();
            format!(
                "Threshold Crossed: {breaching} out of {} present {}{} {} {}, fewer than the \
                 minimum {} {} for OK -> ALARM transition.{}",
                self.present.len(),
                plural(self.present.len(), "datapoint"),
                self.list(true),
                was(breaching),
                self.comparison(),
                self.needed,
                plural(self.needed, "datapoint"),
                self.missing_note(),
            )
        }
    }

    fn unchanged_reason(&self, previous: AlarmState) -> String {
        let breaching = self.breaching();
        format!(
            "Unchanged: {breaching} out of {} present {}{} {} {} and {} missing {} {} \
             ignored: too few to decide against the minimum {} {} for OK -> ALARM \
             transition, so the state stays {previous}.",
            self.present.len(),
            plural(self.present.len(), "datapoint"),
            self.list(true),
            was(breaching),
            self.comparison(),
            self.missing,
            plural(self.missing, "datapoint"),
            was(self.missing),
            self.needed,
            plural(self.needed, "datapoint"),
        )
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        noun.to_owned()
    } else {
        format!("{noun}s")
    }
}

fn was(count: usize) -> &'static str {
    if count == 1 { "was" } else { "were" }
}

/// A period's start as an RFC 3339 UTC time, or as milliseconds if out of range.
fn timestamp(ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|time| {
            time.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{ms} ms"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MINUTE: u64 = 60_000;
    /// A minute boundary (2026-02-02T04:40:00Z): the start of the current period in most tests.
    const NOW_PERIOD: u64 = 1_770_007_200_000;
    /// Half-way through the current period.
    const NOW: u64 = NOW_PERIOD + 30_000;

    /// The template's error alarm: Sum of Errors > 0 over 1 period of 60 s, missing data OK.
    fn errors_alarm() -> AlarmSpec {
        AlarmSpec::from_properties(&json!({
            "AlarmDescription": "errors",
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": "s-f"}],
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching"
        }))
        .unwrap()
    }

    /// N periods, M to alarm, breaching above 1, with `missing_data`.
    fn m_of_n(needed: usize, periods: usize, missing_data: MissingData) -> AlarmSpec {
        AlarmSpec {
            datapoints_to_alarm: needed,
            evaluation_periods: periods,
            threshold: 1.0,
            missing_data,
            ..errors_alarm()
        }
    }

    /// One point in each period given, oldest first (`None`: no point), ending with the
    /// last complete period.
    fn points(per_period: &[Option<f64>]) -> Vec<(u64, f64)> {
        let periods = per_period.len() as u64;
        per_period
            .iter()
            .zip(0..)
            .filter_map(|(value, i)| {
                value.map(|value| (NOW_PERIOD - (periods - i) * MINUTE + 5_000, value))
            })
            .collect()
    }

    fn state(spec: &AlarmSpec, per_period: &[Option<f64>], previous: AlarmState) -> AlarmState {
        let evaluation = evaluate(spec, &points(per_period), NOW, MINUTE, previous);
        assert_eq!(evaluation.datapoints, per_period, "{}", evaluation.reason);
        evaluation.state
    }

    #[test]
    fn the_error_alarm_fires_on_an_error_in_the_last_complete_period_only() {
        let spec = errors_alarm();
        let quiet = evaluate(&spec, &[], NOW, MINUTE, AlarmState::InsufficientData);
        assert_eq!(quiet.state, AlarmState::Ok);
        assert_eq!(quiet.datapoints, [None]);
        assert!(
            quiet.reason.contains("treated as [NonBreaching]"),
            "{}",
            quiet.reason
        );

        let error = [(NOW_PERIOD - 1_000, 1.0)];
        let fired = evaluate(&spec, &error, NOW, MINUTE, AlarmState::Ok);
        assert_eq!(fired.state, AlarmState::Alarm);
        assert_eq!(fired.datapoints, [Some(1.0)]);
        assert_eq!(
            fired.reason,
            "Threshold Crossed: 1 out of the last 1 datapoint [1.0 (2026-02-02T04:39:00Z)] was \
             greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)."
        );

        // The current period is not complete: not evaluated yet.
        let current = [(NOW_PERIOD + 1_000, 1.0), (NOW_PERIOD, 1.0)];
        let early = evaluate(&spec, &current, NOW, MINUTE, AlarmState::Ok);
        assert_eq!(early.state, AlarmState::Ok);
        assert_eq!(early.datapoints, [None]);
        // A period later, it is.
        let later = evaluate(&spec, &current, NOW + MINUTE, MINUTE, AlarmState::Ok);
        assert_eq!(
            (later.state, later.datapoints),
            (AlarmState::Alarm, vec![Some(2.0)])
        );

        // Two periods ago is out of the window again.
        let old = [
            (NOW_PERIOD - MINUTE - 1, 1.0),
            (NOW_PERIOD - 2 * MINUTE, 3.0),
        ];
        let recovered = evaluate(&spec, &old, NOW, MINUTE, AlarmState::Alarm);
        assert_eq!(recovered.state, AlarmState::Ok);
        assert_eq!(recovered.datapoints, [None]);
        // The first millisecond of the last complete period is in it.
        let edge = evaluate(
            &spec,
            &[(NOW_PERIOD - MINUTE, 1.0)],
            NOW,
            MINUTE,
            AlarmState::Ok,
        );
        assert_eq!(edge.state, AlarmState::Alarm);

        // A zero is not above the threshold: OK, with the datapoint.
        let zero = evaluate(
            &spec,
            &[(NOW_PERIOD - 1, 0.0)],
            NOW,
            MINUTE,
            AlarmState::Alarm,
        );
        assert_eq!(
            (zero.state, zero.datapoints),
            (AlarmState::Ok, vec![Some(0.0)])
        );
        assert!(
            zero.reason.contains("1 out of the last 1 datapoint [0.0"),
            "{}",
            zero.reason
        );
        assert!(
            zero.reason
                .contains("was not greater than the threshold (0.0)")
        );
    }

    #[test]
    fn a_scaled_period_is_aligned_to_its_own_length() {
        // The caller divides 60 s by a time scale of 60: one-second periods.
        let spec = errors_alarm();
        let now = 10_500;
        let fired = evaluate(&spec, &[(9_999, 1.0)], now, 1_000, AlarmState::Ok);
        assert_eq!(fired.state, AlarmState::Alarm);
        let early = evaluate(&spec, &[(10_000, 1.0)], now, 1_000, AlarmState::Ok);
        assert_eq!(early.state, AlarmState::Ok);
        // A period of zero is taken as 1 ms, not a division by zero.
        let tiny = evaluate(&spec, &[(99, 1.0)], 100, 0, AlarmState::Ok);
        assert_eq!(tiny.state, AlarmState::Alarm);
    }

    #[test]
    fn periods_before_the_epoch_have_no_data() {
        let spec = m_of_n(3, 3, MissingData::Missing);
        let evaluation = evaluate(&spec, &[(0, 5.0)], 90_000, MINUTE, AlarmState::Ok);
        assert_eq!(evaluation.datapoints, [None, None, Some(5.0)]);
        assert_eq!(evaluation.state, AlarmState::Ok);
    }

    #[test]
    fn statistics_per_period() {
        let values: Vec<(u64, f64)> = (1..=100)
            .rev()
            .map(|v| {
                (
                    NOW_PERIOD - MINUTE + v,
                    f64::from(u32::try_from(v).unwrap()),
                )
            })
            .collect();
        let compute = |statistic: Statistic| {
            let spec = AlarmSpec {
                statistic,
                ..errors_alarm()
            };
            evaluate(&spec, &values, NOW, MINUTE, AlarmState::Ok).datapoints[0]
        };
        assert_eq!(compute(Statistic::Percentile(99.0)), Some(99.0));
        assert_eq!(compute(Statistic::Percentile(95.5)), Some(96.0));
        assert_eq!(compute(Statistic::Percentile(50.0)), Some(50.0));
        assert_eq!(compute(Statistic::Percentile(100.0)), Some(100.0));
        assert_eq!(compute(Statistic::Percentile(0.0)), Some(1.0));
        assert_eq!(compute(Statistic::Percentile(7.0)), Some(7.0));
        assert_eq!(compute(Statistic::Percentile(99.9)), Some(100.0));
        assert_eq!(compute(Statistic::SampleCount), Some(100.0));
        assert_eq!(compute(Statistic::Sum), Some(5050.0));
        assert_eq!(compute(Statistic::Average), Some(50.5));
        assert_eq!(compute(Statistic::Minimum), Some(1.0));
        assert_eq!(compute(Statistic::Maximum), Some(100.0));

        // Few values: p99 of 3 is the largest, p50 of 4 the second.
        let few = [
            (NOW_PERIOD - 10, 3.0),
            (NOW_PERIOD - 20, 1.0),
            (NOW_PERIOD - 30, 2.0),
        ];
        let spec = AlarmSpec {
            statistic: Statistic::Percentile(99.0),
            ..errors_alarm()
        };
        assert_eq!(
            evaluate(&spec, &few, NOW, MINUTE, AlarmState::Ok).datapoints,
            [Some(3.0)]
        );
        let four = [
            (NOW_PERIOD - 1, 4.0),
            (NOW_PERIOD - 2, 1.0),
            (NOW_PERIOD - 3, 3.0),
            (NOW_PERIOD - 4, 2.0),
        ];
        let spec = AlarmSpec {
            statistic: Statistic::Percentile(50.0),
            ..errors_alarm()
        };
        assert_eq!(
            evaluate(&spec, &four, NOW, MINUTE, AlarmState::Ok).datapoints,
            [Some(2.0)]
        );
    }

    #[test]
    fn sample_count_counts_values_and_skips_non_finite_ones() {
        let spec = AlarmSpec {
            statistic: Statistic::SampleCount,
            threshold: 2.0,
            comparison: Comparison::GreaterThanOrEqualToThreshold,
            ..errors_alarm()
        };
        let two = [
            (NOW_PERIOD - 1, 0.0),
            (NOW_PERIOD - 2, 0.0),
            (NOW_PERIOD - 3, f64::NAN),
        ];
        let evaluation = evaluate(&spec, &two, NOW, MINUTE, AlarmState::Ok);
        assert_eq!(evaluation.datapoints, [Some(2.0)]);
        assert_eq!(evaluation.state, AlarmState::Alarm);
        assert!(
            evaluation
                .reason
                .contains("greater than or equal to the threshold (2.0)")
        );
        let one = evaluate(&spec, &two[..1], NOW, MINUTE, AlarmState::Alarm);
        assert_eq!(
            (one.state, one.datapoints),
            (AlarmState::Ok, vec![Some(1.0)])
        );
    }

    #[test]
    fn less_than_comparisons() {
        let spec = AlarmSpec {
            comparison: Comparison::LessThanThreshold,
            threshold: 1.0,
            ..errors_alarm()
        };
        assert_eq!(
            state(&spec, &[Some(0.5)], AlarmState::Ok),
            AlarmState::Alarm
        );
        assert_eq!(state(&spec, &[Some(1.0)], AlarmState::Ok), AlarmState::Ok);
        let spec = AlarmSpec {
            comparison: Comparison::LessThanOrEqualToThreshold,
            ..spec
        };
        assert_eq!(
            state(&spec, &[Some(1.0)], AlarmState::Ok),
            AlarmState::Alarm
        );
        assert_eq!(state(&spec, &[Some(1.5)], AlarmState::Ok), AlarmState::Ok);
    }

    #[test]
    fn two_out_of_three_datapoints() {
        let spec = m_of_n(2, 3, MissingData::Missing);
        let ok = AlarmState::Ok;
        assert_eq!(
            state(&spec, &[Some(5.0), Some(0.0), Some(5.0)], ok),
            AlarmState::Alarm
        );
        assert_eq!(
            state(&spec, &[Some(0.0), Some(5.0), Some(5.0)], ok),
            AlarmState::Alarm
        );
        assert_eq!(
            state(&spec, &[Some(5.0), Some(0.0), Some(0.0)], ok),
            AlarmState::Ok
        );
        assert_eq!(
            state(&spec, &[Some(0.0), Some(0.0), Some(5.0)], ok),
            AlarmState::Ok
        );
        assert_eq!(state(&spec, &[Some(5.0); 3], ok), AlarmState::Alarm);

        let evaluation = evaluate(
            &spec,
            &points(&[Some(5.0), Some(0.0), Some(7.0)]),
            NOW,
            MINUTE,
            ok,
        );
        assert!(
            evaluation.reason.starts_with(
                "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (2026-02-02T04:37:00Z), \
                 7.0 (2026-02-02T04:39:00Z)] were greater than the threshold (1.0) (minimum 2 \
                 datapoints"
            ),
            "{}",
            evaluation.reason
        );
        let evaluation = evaluate(
            &spec,
            &points(&[Some(5.0), Some(0.0), Some(0.0)]),
            NOW,
            MINUTE,
            ok,
        );
        assert!(
            evaluation.reason.contains(
                "2 out of the last 3 datapoints [0.0 (2026-02-02T04:38:00Z), 0.0 \
                 (2026-02-02T04:39:00Z)] were not greater than the threshold (1.0) (minimum 2 \
                 datapoints for ALARM -> OK transition)"
            ),
            "{}",
            evaluation.reason
        );
    }

    #[test]
    fn all_periods_missing_per_treat_missing_data() {
        let none = [None, None, None];
        let cases = [
            (
                MissingData::Missing,
                AlarmState::Alarm,
                AlarmState::InsufficientData,
            ),
            (MissingData::Breaching, AlarmState::Ok, AlarmState::Alarm),
            (MissingData::NotBreaching, AlarmState::Alarm, AlarmState::Ok),
            (MissingData::Ignore, AlarmState::Alarm, AlarmState::Alarm),
            (MissingData::Ignore, AlarmState::Ok, AlarmState::Ok),
            (
                MissingData::Ignore,
                AlarmState::InsufficientData,
                AlarmState::InsufficientData,
            ),
        ];
        for (missing_data, previous, expected) in cases {
            let spec = m_of_n(2, 3, missing_data);
            let evaluation = evaluate(&spec, &[], NOW, MINUTE, previous);
            assert_eq!(evaluation.datapoints, none);
            assert_eq!(
                evaluation.state, expected,
                "{missing_data:?} from {previous:?}"
            );
        }
        let spec = m_of_n(2, 3, MissingData::Missing);
        let evaluation = evaluate(&spec, &[], NOW, MINUTE, AlarmState::Ok);
        assert!(
            evaluation
                .reason
                .starts_with("Insufficient Data: 3 datapoints were unknown")
        );
        let spec = m_of_n(2, 3, MissingData::Breaching);
        let evaluation = evaluate(&spec, &[], NOW, MINUTE, AlarmState::Ok);
        assert!(
            evaluation
                .reason
                .contains("3 missing datapoints were treated as [Breaching]")
        );
        let spec = m_of_n(2, 3, MissingData::Ignore);
        let evaluation = evaluate(&spec, &[], NOW, MINUTE, AlarmState::Alarm);
        assert!(
            evaluation.reason.contains("so the state stays ALARM"),
            "{}",
            evaluation.reason
        );
    }

    #[test]
    fn some_periods_missing_per_treat_missing_data() {
        // One breaching present period, two missing, 2 out of 3 to alarm.
        let one_breach = [Some(5.0), None, None];
        let spec = m_of_n(2, 3, MissingData::Missing);
        assert_eq!(state(&spec, &one_breach, AlarmState::Alarm), AlarmState::Ok);
        assert_eq!(
            state(&spec, &[Some(5.0), None, Some(5.0)], AlarmState::Ok),
            AlarmState::Alarm
        );
        let spec = m_of_n(2, 3, MissingData::Breaching);
        assert_eq!(state(&spec, &one_breach, AlarmState::Ok), AlarmState::Alarm);
        assert_eq!(
            state(&spec, &[Some(0.0), Some(0.0), None], AlarmState::Ok),
            AlarmState::Ok
        );
        let spec = m_of_n(2, 3, MissingData::NotBreaching);
        assert_eq!(state(&spec, &one_breach, AlarmState::Alarm), AlarmState::Ok);
        assert_eq!(
            state(&spec, &[Some(5.0), None, Some(5.0)], AlarmState::Ok),
            AlarmState::Alarm
        );
        let spec = m_of_n(2, 3, MissingData::Ignore);
        // Open: the missing periods could go either way, so the state stays.
        assert_eq!(
            state(&spec, &one_breach, AlarmState::Alarm),
            AlarmState::Alarm
        );
        assert_eq!(state(&spec, &one_breach, AlarmState::Ok), AlarmState::Ok);
        // Decided either way by the present ones.
        assert_eq!(
            state(&spec, &[Some(5.0), None, Some(5.0)], AlarmState::Ok),
            AlarmState::Alarm
        );
        assert_eq!(
            state(&spec, &[Some(0.0), Some(0.0), None], AlarmState::Alarm),
            AlarmState::Ok
        );

        let spec = m_of_n(2, 3, MissingData::Missing);
        let evaluation = evaluate(&spec, &points(&one_breach), NOW, MINUTE, AlarmState::Ok);
        assert_eq!(
            evaluation.reason,
            "Threshold Crossed: 1 out of 1 present datapoint [5.0 (2026-02-02T04:37:00Z)] was \
             greater than the threshold (1.0), fewer than the minimum 2 datapoints for \
             OK -> ALARM transition. 2 missing datapoints were ignored."
        );
        let spec = m_of_n(2, 3, MissingData::Breaching);
        let evaluation = evaluate(&spec, &points(&one_breach), NOW, MINUTE, AlarmState::Ok);
        assert!(
            evaluation
                .reason
                .starts_with("Threshold Crossed: 3 out of the last 3 datapoints [5.0")
        );
        assert!(
            evaluation
                .reason
                .ends_with("2 missing datapoints were treated as [Breaching].")
        );
        // Breaching by missing periods alone: no empty list of breaching values.
        let evaluation = evaluate(
            &spec,
            &points(&[Some(0.0), None, None]),
            NOW,
            MINUTE,
            AlarmState::Ok,
        );
        assert_eq!(evaluation.state, AlarmState::Alarm);
        assert!(
            evaluation.reason.starts_with(
                "Threshold Crossed: 2 out of the last 3 datapoints were greater than the \
                 threshold (1.0) (minimum 2 datapoints"
            ),
            "{}",
            evaluation.reason
        );
        let spec = m_of_n(2, 3, MissingData::Ignore);
        let evaluation = evaluate(&spec, &points(&one_breach), NOW, MINUTE, AlarmState::Alarm);
        assert!(
            evaluation
                .reason
                .starts_with("Unchanged: 1 out of 1 present datapoint"),
            "{}",
            evaluation.reason
        );
    }

    #[test]
    fn points_in_any_order_and_outside_the_window_are_sorted_into_periods() {
        let spec = AlarmSpec {
            statistic: Statistic::Maximum,
            ..m_of_n(1, 3, MissingData::Missing)
        };
        let points = [
            (NOW_PERIOD - 1, 0.5),
            (NOW_PERIOD - 3 * MINUTE, 9.0),
            (NOW_PERIOD - 3 * MINUTE - 1, 99.0),
            (NOW_PERIOD + 10, 99.0),
            (NOW_PERIOD - MINUTE - 1, 0.25),
            (NOW_PERIOD - 2, 0.75),
        ];
        let evaluation = evaluate(&spec, &points, NOW, MINUTE, AlarmState::Ok);
        assert_eq!(evaluation.datapoints, [Some(9.0), Some(0.25), Some(0.75)]);
        assert_eq!(evaluation.state, AlarmState::Alarm);
    }

    #[test]
    fn the_templates_duration_alarm_is_read() {
        let properties = json!({"AlarmDescription":"x","Namespace":"AWS/Lambda","MetricName":"Duration",
            "Dimensions":[{"Name":"FunctionName","Value":"s-f"},{"Name":"Resource","Value":"s-f:live"}],
            "ExtendedStatistic":"p99","Period":300,"EvaluationPeriods":1,"Threshold":8000,
            "ComparisonOperator":"GreaterThanThreshold","TreatMissingData":"notBreaching",
            "AlarmActions":["arn"]});
        let spec = AlarmSpec::from_properties(&properties).unwrap();
        assert_eq!(
            spec,
            AlarmSpec {
                namespace: "AWS/Lambda".to_owned(),
                metric_name: "Duration".to_owned(),
                dimensions: BTreeMap::from([
                    ("FunctionName".to_owned(), "s-f".to_owned()),
                    ("Resource".to_owned(), "s-f:live".to_owned()),
                ]),
                statistic: Statistic::Percentile(99.0),
                period_secs: 300,
                evaluation_periods: 1,
                datapoints_to_alarm: 1,
                threshold: 8000.0,
                comparison: Comparison::GreaterThanThreshold,
                missing_data: MissingData::NotBreaching,
            }
        );
        let serialized = serde_json::to_value(&spec).unwrap();
        assert_eq!(serialized["statistic"], "p99");
        assert_eq!(serialized["comparison"], "GreaterThanThreshold");
        assert_eq!(serialized["missing_data"], "notBreaching");
        assert_eq!(serialized["dimensions"]["Resource"], "s-f:live");
    }

    #[test]
    fn numbers_may_be_strings_and_defaults_apply() {
        let spec = AlarmSpec::from_properties(&json!({
            "Namespace": "N", "MetricName": "M", "Statistic": "Average",
            "Period": "60", "EvaluationPeriods": "3", "DatapointsToAlarm": 2,
            "Threshold": "2.5", "ComparisonOperator": "LessThanOrEqualToThreshold",
            "Dimensions": null
        }))
        .unwrap();
        assert_eq!(
            spec,
            AlarmSpec {
                namespace: "N".to_owned(),
                metric_name: "M".to_owned(),
                dimensions: BTreeMap::new(),
                statistic: Statistic::Average,
                period_secs: 60,
                evaluation_periods: 3,
                datapoints_to_alarm: 2,
                threshold: 2.5,
                comparison: Comparison::LessThanOrEqualToThreshold,
                missing_data: MissingData::Missing,
            }
        );
        let p = AlarmSpec::from_properties(&json!({
            "Namespace": "N", "MetricName": "M", "ExtendedStatistic": "p95.5",
            "Period": 10, "EvaluationPeriods": 5, "Threshold": -1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "ignore"
        }))
        .unwrap();
        assert_eq!(p.statistic, Statistic::Percentile(95.5));
        assert_eq!(p.datapoints_to_alarm, 5);
        assert_eq!(p.missing_data, MissingData::Ignore);
    }

    /// The smallest valid properties: Sum > 0 over one minute.
    fn valid_properties() -> Value {
        json!({"Namespace": "N", "MetricName": "M", "Statistic": "Sum", "Period": 60,
            "EvaluationPeriods": 1, "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold"})
    }

    #[test]
    fn the_evaluation_range_is_limited_as_cloudwatch_limits_it() {
        let valid = valid_properties();
        let range = |period: u64, periods: u64| {
            let mut properties = valid.clone();
            properties["Period"] = json!(period);
            properties["EvaluationPeriods"] = json!(periods);
            AlarmSpec::from_properties(&properties)
                .map(|_| ())
                .map_err(|error| error.to_string())
        };
        assert_eq!(range(60, 1_440), Ok(()));
        let too_long = range(60, 1_441).unwrap_err();
        assert!(
            too_long.contains("Period × EvaluationPeriods (60 s × 1441) is more than CloudWatch evaluates (86400 s"),
            "{too_long}"
        );
        assert_eq!(range(3_600, 168), Ok(()));
        assert!(range(3_600, 169).unwrap_err().contains("(604800 s"));
        assert!(range(u64::MAX, 2).is_err());
    }

    #[test]
    fn invalid_properties_say_which_property() {
        let valid = valid_properties();
        assert!(AlarmSpec::from_properties(&valid).is_ok());
        let with = |key: &str, value: Value| {
            let mut properties = valid.clone();
            properties[key] = value;
            AlarmSpec::from_properties(&properties)
                .unwrap_err()
                .to_string()
        };
        let without = |key: &str| {
            let mut properties = valid.clone();
            properties.as_object_mut().unwrap().remove(key);
            AlarmSpec::from_properties(&properties)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            without("MetricName"),
            "invalid CloudWatch alarm: MetricName is missing"
        );
        assert!(without("Namespace").contains("Namespace is missing"));
        assert!(without("Period").contains("Period is missing"));
        assert!(without("Threshold").contains("Threshold is missing"));
        assert!(without("Statistic").contains("Statistic (or ExtendedStatistic) is missing"));
        assert!(without("ComparisonOperator").contains("ComparisonOperator is missing"));
        let bad_operator = with("ComparisonOperator", json!("GreaterThanUpperThreshold"));
        assert!(
            bad_operator
                .contains("ComparisonOperator: 'GreaterThanUpperThreshold' is not supported"),
            "{bad_operator}"
        );
        let math = with("Metrics", json!([{"Id": "m1", "Expression": "a+b"}]));
        assert!(
            math.contains("metric math alarms are not supported"),
            "{math}"
        );
        assert!(with("MetricName", json!(3)).contains("MetricName: must be a string"));
        assert!(with("MetricName", json!("")).contains("MetricName: must not be empty"));
        assert!(with("Period", json!(0)).contains("Period: must be at least 1"));
        assert!(with("Period", json!("sixty")).contains("Period: must be a whole number"));
        assert!(with("Period", json!(60.5)).contains("Period: must be a whole number"));
        assert!(
            with("EvaluationPeriods", json!(-1))
                .contains("EvaluationPeriods: must be a whole number")
        );
        assert!(with("Threshold", json!("high")).contains("Threshold: must be a number"));
        assert!(with("Statistic", json!("Median")).contains("Statistic: 'Median' is not one of"));
        assert!(with("ExtendedStatistic", json!("p99")).contains("both given"));
        assert!(
            with("DatapointsToAlarm", json!(2))
                .contains("DatapointsToAlarm (2) is more than EvaluationPeriods (1)")
        );
        assert!(
            with("TreatMissingData", json!("Breaching"))
                .contains("TreatMissingData: 'Breaching' is not one of")
        );
        assert!(with("Dimensions", json!({"Name": "a"})).contains("Dimensions: must be a list"));
        assert!(
            with("Dimensions", json!([{"Name": "a"}]))
                .contains("Dimensions: each must have a string Value")
        );
        assert!(
            with(
                "Dimensions",
                json!([{"Name": "a", "Value": "1"}, {"Name": "a", "Value": "2"}])
            )
            .contains("'a' is given twice")
        );
        assert!(
            AlarmSpec::from_properties(&json!("not an object"))
                .unwrap_err()
                .to_string()
                .contains("must be an object")
        );
        for statistic in ["p101", "p", "p-1", "tm99", "P99", "p9.9.9", "pinf"] {
            let mut properties = valid.clone();
            properties.as_object_mut().unwrap().remove("Statistic");
            properties["ExtendedStatistic"] = json!(statistic);
            let message = AlarmSpec::from_properties(&properties)
                .unwrap_err()
                .to_string();
            assert!(
                message.contains("ExtendedStatistic: '"),
                "{statistic}: {message}"
            );
        }
    }

    #[test]
    fn names_serialize_as_cloudwatch_writes_them() {
        fn json(value: impl Serialize) -> Value {
            serde_json::to_value(value).unwrap()
        }
        assert_eq!(json(AlarmState::Ok), "OK");
        assert_eq!(json(AlarmState::Alarm), "ALARM");
        assert_eq!(json(AlarmState::InsufficientData), "INSUFFICIENT_DATA");
        assert_eq!(json(Statistic::Sum), "Sum");
        assert_eq!(json(Statistic::SampleCount), "SampleCount");
        assert_eq!(json(Statistic::Percentile(99.0)), "p99");
        assert_eq!(json(Statistic::Percentile(95.5)), "p95.5");
        assert_eq!(json(MissingData::NotBreaching), "notBreaching");
        assert_eq!(json(MissingData::Missing), "missing");
        assert_eq!(
            AlarmState::InsufficientData.to_string(),
            "INSUFFICIENT_DATA"
        );
    }
}
