//! Structured logs in the talk's format: one JSON object per line.
//!
//! ```text
//! {"timestamp":"2026-11-28T04:35:37.774Z","level":"INFO","service":"add-comments",
//!  "lambda_function_arn":"arn:aws:lambda:…:function:add-comments:live",
//!  "correlation_id":"…","lambda_request_id":"…","key_activity":"enqueue",
//!  "message":"comment accepted","cold_start":true,"function_version":"3",
//!  "xray_trace_id":"1-…","comment_id":"…"}
//! ```
//!
//! The talk's fields come first, in its order, on every line (`null` where none
//! applies), then the other fields of the event and
//! of the spans it is in (innermost wins). With `AWS_LAMBDA_LOG_FORMAT=Text` the same
//! fields are written as one readable line instead:
//! `2026-11-28T04:35:37.774Z INFO [add-comments] comment accepted correlation_id=… …`. Fields are values, never interpolated into
//! `message`, so Logs Insights can filter on them. The level and the RFC 3339
//! `timestamp` are what Lambda's JSON log-level filtering needs; `tracing-subscriber`'s
//! own JSON format would name the fields differently and nest them. The names and the
//! order are [`ops_wire::log_fields`]'s, which the local cloud's log view reads.

use std::fmt::Write as _;
use std::io::Write as _;

use ops_wire::log_fields::{LEADING, LEVEL, MESSAGE, SERVICE, TIMESTAMP};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber, span};
use tracing_subscriber::filter::{Filtered, LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

/// Spans whose fields would repeat ours under other names (the runtime's own
/// `requestId` and `xrayTraceId`).
const SKIPPED_SPAN_TARGETS: [&str; 1] = ["lambda_runtime"];

/// How to log: the service name, the level and the format, read from the environment
/// Lambda sets from the function's `LoggingConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// The `service` field of every line.
    pub service: String,
    /// The most verbose level written.
    pub level: LevelFilter,
    /// JSON objects (the default) or readable text.
    pub format: LogFormat,
}

/// The shape of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One JSON object per line: what CloudWatch Logs Insights and Lambda's log-level
    /// filtering read.
    #[default]
    Json,
    /// One readable line: for `LogFormat: Text` functions and local runs.
    Text,
}

impl LogConfig {
    /// The service is `OPS_KIT_SERVICE_NAME` (or `SERVICE_NAME`), else `service`.
    ///
    /// The level is `AWS_LAMBDA_LOG_LEVEL` (set by the function's `LoggingConfig`), else
    /// `OPS_KIT_LOG_LEVEL`, else `LOG_LEVEL`, else INFO. An unknown level falls back to
    /// INFO rather than failing the cold start: a typo in a log level must not take the
    /// function down.
    pub fn from_env(service: impl Into<String>) -> Self {
        let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .ok()
            .or_else(|| crate::env::var(crate::env::LOG_LEVEL))
            .and_then(|raw| parse_level(&raw))
            .unwrap_or(LevelFilter::INFO);
        let format = match std::env::var("AWS_LAMBDA_LOG_FORMAT") {
            Ok(raw) if raw.eq_ignore_ascii_case("text") => LogFormat::Text,
            _ => LogFormat::Json,
        };
        Self {
            service: crate::env::var(crate::env::SERVICE_NAME).unwrap_or_else(|| service.into()),
            level,
            format,
        }
    }
}

/// Lambda's level names (`FATAL` included) to a filter.
fn parse_level(raw: &str) -> Option<LevelFilter> {
    match raw.trim().to_ascii_uppercase().as_str() {
        "TRACE" => Some(LevelFilter::TRACE),
        "DEBUG" => Some(LevelFilter::DEBUG),
        "INFO" => Some(LevelFilter::INFO),
        "WARN" | "WARNING" => Some(LevelFilter::WARN),
        "ERROR" | "FATAL" => Some(LevelFilter::ERROR),
        "OFF" => Some(LevelFilter::OFF),
        _ => None,
    }
}

/// Installs the JSON log layer as the global subscriber, writing to stdout.
///
/// The AWS SDK and its HTTP stack log only warnings and errors unless the level is
/// TRACE: their debug output is large and would bury the function's own lines.
///
/// # Errors
/// Fails if a global subscriber is already installed.
pub fn init_logging(config: &LogConfig) -> Result<(), tracing_subscriber::util::TryInitError> {
    Registry::default().with(log_layer(config)).try_init()
}

/// What [`log_layer`] returns: the kit's layer on stdout, behind its level filter.
pub type StdoutLogLayer<S> = Filtered<LogLayer<fn() -> std::io::Stdout>, Targets, S>;

/// The kit's log layer, writing to stdout with the level and the SDK filter of
/// [`init_logging`], to add to a subscriber of your own beside your other layers:
///
/// ```no_run
/// use tracing_subscriber::layer::SubscriberExt as _;
/// use tracing_subscriber::util::SubscriberInitExt as _;
///
/// let config = ops_kit::LogConfig::from_env("orders");
/// tracing_subscriber::registry()
///     .with(ops_kit::log_layer(&config))
///     // .with(your_own_layer)
///     .init();
/// ```
///
/// Build the kit with `ops_kit::builder(…).logs(false)` then, so it installs no
/// subscriber of its own.
pub fn log_layer<S>(config: &LogConfig) -> StdoutLogLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    LogLayer::new(
        config.service.clone(),
        std::io::stdout as fn() -> std::io::Stdout,
    )
    .with_format(config.format)
    .with_filter(log_filter(config.level))
}

/// The function's level for its own events; warnings and errors only (unless the level
/// is TRACE) from the AWS SDK — every `aws_sdk_*` client, whichever services the
/// function calls — and its HTTP and TLS stack. Targets match by prefix.
fn log_filter(level: LevelFilter) -> Targets {
    let dependencies = if level == LevelFilter::TRACE {
        LevelFilter::TRACE
    } else {
        LevelFilter::WARN.min(level)
    };
    [
        "aws_config",
        "aws_runtime",
        "aws_sdk_",
        "aws_sigv4",
        "aws_smithy_",
        "hyper",
        "h2",
        "rustls",
    ]
    .into_iter()
    .fold(Targets::new().with_default(level), |filter, target| {
        filter.with_target(target, dependencies)
    })
}

/// A `tracing` layer that writes each event as one line in the talk's format.
pub struct LogLayer<W> {
    service: String,
    make_writer: W,
    format: LogFormat,
}

impl<W> LogLayer<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    /// A layer that writes JSON lines for `service` to `make_writer` (stdout in a
    /// function, a buffer in a test).
    pub fn new(service: impl Into<String>, make_writer: W) -> Self {
        Self {
            service: service.into(),
            make_writer,
            format: LogFormat::Json,
        }
    }

    /// The same layer writing `format`.
    #[must_use]
    pub fn with_format(mut self, format: LogFormat) -> Self {
        self.format = format;
        self
    }
}

/// The recorded fields of one span, kept in its extensions.
struct SpanFields(Map<String, Value>);

impl<S, W> Layer<S> for LogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = FieldVisitor::default();
        attrs.record(&mut fields);
        span.extensions_mut().insert(SpanFields(fields.0));
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            let mut visitor = FieldVisitor(std::mem::take(fields));
            values.record(&mut visitor);
            *fields = visitor.0;
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        // Outermost span first, so inner spans and then the event itself overwrite.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if SKIPPED_SPAN_TARGETS
                    .iter()
                    .any(|t| span.metadata().target().starts_with(t))
                {
                    continue;
                }
                if let Some(SpanFields(span_fields)) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        let mut visitor = FieldVisitor(fields);
        event.record(&mut visitor);
        let mut fields = visitor.0;

        fields.insert(TIMESTAMP.into(), Value::String(now_rfc3339()));
        fields.insert(
            LEVEL.into(),
            Value::String(level_name(*event.metadata().level()).into()),
        );
        fields.insert(SERVICE.into(), Value::String(self.service.clone()));

        let line = match self.format {
            LogFormat::Json => render_line(&mut fields),
            LogFormat::Text => render_text(&mut fields),
        };
        // One write per line, so lines from concurrent tasks never interleave. A log
        // line that cannot be written is dropped: logging must not fail a request.
        let mut writer = self.make_writer.make_writer();
        let _ = writer.write_all(line.as_bytes());
    }
}

/// The talk's fields first, in order, each one present (`null` where none applies, so a
/// Logs Insights query never meets a missing field), then the rest alphabetically; one
/// line.
fn render_line(fields: &mut Map<String, Value>) -> String {
    let mut line = String::with_capacity(512);
    line.push('{');
    let mut first = true;
    let mut push = |line: &mut String, key: &str, value: &Value| {
        if !first {
            line.push(',');
        }
        first = false;
        let _ = write!(line, "{}:{}", Value::String(key.to_owned()), value);
    };
    for key in LEADING {
        let value = fields.remove(key).unwrap_or(Value::Null);
        push(&mut line, key, &value);
    }
    for (key, value) in fields.iter() {
        push(&mut line, key, value);
    }
    line.push_str("}\n");
    line
}

/// `timestamp LEVEL [service] message key=value …`, the talk's fields first.
fn render_text(fields: &mut Map<String, Value>) -> String {
    let mut take = |key: &str| match fields.remove(key) {
        Some(Value::String(text)) => text,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let mut line = format!(
        "{} {} [{}] {}",
        take(TIMESTAMP),
        take(LEVEL),
        take(SERVICE),
        take(MESSAGE)
    );
    for key in LEADING {
        if let Some(value) = fields.remove(key) {
            push_pair(&mut line, key, &value);
        }
    }
    for (key, value) in fields.iter() {
        push_pair(&mut line, key, value);
    }
    line.push('\n');
    line
}

/// ` key=value`, with the value quoted when it has spaces or quotes in it.
fn push_pair(line: &mut String, key: &str, value: &Value) {
    let _ = match value {
        Value::String(text) if !text.is_empty() && !text.contains([' ', '"', '=', '\n']) => {
            write!(line, " {key}={text}")
        }
        other => write!(line, " {key}={other}"),
    };
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => "INFO",
        Level::WARN => "WARN",
        Level::ERROR => "ERROR",
    }
}

fn now_rfc3339() -> String {
    let now = OffsetDateTime::now_utc();
    // Milliseconds, as Lambda's own JSON lines have them.
    let now = now
        .replace_nanosecond(u32::from(now.millisecond()) * 1_000_000)
        .unwrap_or(now);
    now.format(&Rfc3339).unwrap_or_default()
}

/// Collects field values as JSON: numbers and booleans stay typed, errors keep their
/// whole `source()` chain, everything else is its `Display` or `Debug` text.
#[derive(Default)]
struct FieldVisitor(Map<String, Value>);

impl Visit for FieldVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let mut chain = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            let _ = write!(chain, ": {cause}");
            source = cause.source();
        }
        self.0.insert(field.name().into(), Value::from(chain));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::from(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer that keeps every line, for assertions.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Capture {
        fn lines(&self) -> Vec<Value> {
            let bytes = self.0.lock().unwrap().clone();
            String::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect()
        }
    }

    fn capture<F: FnOnce()>(f: F) -> (Vec<Value>, String) {
        let sink = Capture::default();
        let writer = sink.clone();
        let subscriber = Registry::default().with(LogLayer::new("svc", move || writer.clone()));
        tracing::subscriber::with_default(subscriber, f);
        let raw = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        (sink.lines(), raw)
    }

    #[test]
    fn an_event_in_an_invocation_span_has_the_talks_fields_in_the_talks_order() {
        let (lines, raw) = capture(|| {
            let span = tracing::info_span!(
                "invocation",
                lambda_request_id = "req-1",
                lambda_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:f:live",
                correlation_id = tracing::field::Empty,
                cold_start = true,
            );
            let _entered = span.enter();
            span.record("correlation_id", "corr-1");
            tracing::info!(
                key_activity = "enqueue",
                attempt = 2_u64,
                "comment accepted"
            );
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["service"], "svc");
        assert_eq!(line["lambda_request_id"], "req-1");
        assert_eq!(line["correlation_id"], "corr-1");
        assert_eq!(line["key_activity"], "enqueue");
        assert_eq!(line["message"], "comment accepted");
        assert_eq!(line["cold_start"], true);
        assert_eq!(line["attempt"], 2);
        let timestamp = line["timestamp"].as_str().unwrap();
        assert!(
            OffsetDateTime::parse(timestamp, &Rfc3339).is_ok(),
            "{timestamp}"
        );

        let order: Vec<usize> = [
            "\"timestamp\"",
            "\"level\"",
            "\"service\"",
            "\"lambda_function_arn\"",
            "\"correlation_id\"",
            "\"lambda_request_id\"",
            "\"key_activity\"",
            "\"message\"",
        ]
        .iter()
        .map(|key| raw.find(key).unwrap())
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{raw}");
    }

    #[test]
    fn every_line_carries_every_leading_field_null_where_none_applies() {
        let (lines, raw) = capture(|| {
            // A batch line: in an invocation, but for no single request.
            let span = tracing::info_span!(
                "invocation",
                lambda_request_id = "req-1",
                correlation_id = tracing::field::Empty,
            );
            let _entered = span.enter();
            tracing::info!(records = 3_u64, "batch processed");
        });
        let line = lines[0].as_object().unwrap();
        for key in LEADING {
            assert!(line.contains_key(key), "{key} missing: {raw}");
        }
        assert_eq!(line["correlation_id"], Value::Null);
        assert_eq!(line["xray_trace_id"], Value::Null);
        assert_eq!(line["lambda_request_id"], "req-1");
        assert_eq!(line["records"], 3);
    }

    #[test]
    fn fields_that_code_writes_by_identifier_carry_the_wire_names() {
        // Handlers write `key_activity = …` and `error = …` as identifiers, not through
        // the constants: renaming a constant alone would split the two.
        let (lines, _) = capture(|| {
            let error = std::io::Error::other("boom");
            tracing::warn!(
                key_activity = "store",
                error = &error as &dyn std::error::Error,
                "retrying"
            );
        });
        let line = &lines[0];
        assert_eq!(line[ops_wire::log_fields::KEY_ACTIVITY], "store");
        assert_eq!(line[ops_wire::log_fields::ERROR], "boom");
        assert_eq!(line[ops_wire::log_fields::MESSAGE], "retrying");
    }

    #[test]
    fn an_error_field_keeps_its_whole_source_chain() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("write failed")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let (lines, _) = capture(|| {
            let error = Outer(std::io::Error::other("disk full"));
            tracing::error!(error = &error as &dyn std::error::Error, "store failed");
        });
        assert_eq!(lines[0]["error"], "write failed: disk full");
        assert_eq!(lines[0]["level"], "ERROR");
    }

    #[test]
    fn the_text_format_is_one_readable_line_with_the_same_fields() {
        let sink = Capture::default();
        let writer = sink.clone();
        let layer = LogLayer::new("svc", move || writer.clone()).with_format(LogFormat::Text);
        tracing::subscriber::with_default(Registry::default().with(layer), || {
            tracing::warn!(correlation_id = "c-1", detail = "two words", "queue slow");
        });
        let line = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let (timestamp, rest) = line.split_once(' ').unwrap();
        assert!(OffsetDateTime::parse(timestamp, &Rfc3339).is_ok(), "{line}");
        assert_eq!(
            rest,
            "WARN [svc] queue slow correlation_id=c-1 detail=\"two words\"\n"
        );
    }

    #[test]
    fn every_aws_sdk_client_is_quiet_below_warn_and_the_function_is_not() {
        let filter = log_filter(LevelFilter::INFO);
        for target in [
            "aws_sdk_s3::client",
            "aws_sdk_eventbridge",
            "aws_smithy_runtime::client::orchestrator",
            "hyper_util::client",
        ] {
            assert!(!filter.would_enable(target, &Level::INFO), "{target}");
            assert!(filter.would_enable(target, &Level::WARN), "{target}");
        }
        assert!(filter.would_enable("push_to_db", &Level::INFO));
        assert!(log_filter(LevelFilter::TRACE).would_enable("aws_sdk_s3", &Level::TRACE));
    }

    #[test]
    fn lambda_level_names_parse_and_unknown_ones_do_not() {
        assert_eq!(parse_level("fatal"), Some(LevelFilter::ERROR));
        assert_eq!(parse_level(" Debug "), Some(LevelFilter::DEBUG));
        assert_eq!(parse_level("WARN"), Some(LevelFilter::WARN));
        assert_eq!(parse_level("loud"), None);
    }
}
