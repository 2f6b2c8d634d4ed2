//! Logs as hclog JSON lines on stderr. go-plugin parses them and re-emits them through
//! Terraform's logger, so `TF_LOG`/`TF_LOG_PROVIDER` control what a user sees.
//!
//! No secret may reach a log at any level, whoever logs it, and that must not depend on a
//! dependency marking its fields sensitive: the AWS SDK logs whole response bodies at TRACE and
//! decoded outputs at DEBUG, hiding only what AWS's models mark sensitive (SSM's
//! `ActivationCode` is not). So, as terraform-plugin-log filters and masks
//! (`OmitLogWithMessageRegexes`, `MaskFieldValuesWithFieldKeys`):
//! - events of other crates (the SDK, hyper, h2, rustls, tonic) stop at WARN, whatever the
//!   level; only the provider's own crates, which log names and IDs, go further (the SDK's
//!   INFO prints credentials through their own redacting `Debug`, another marking we do not
//!   rely on);
//! - fields whose key names a secret are masked;
//! - every value the provider registers with [`mask`] (activation codes, private keys) is
//!   masked wherever it appears in a line, from whichever crate.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::RwLock;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// Reads the level like Terraform: TF_LOG_PROVIDER wins over TF_LOG; unset or unrecognised
/// means warnings and errors only. JSON (`TF_LOG=json`) means trace.
pub fn level_from_env(get: impl Fn(&str) -> Option<String>) -> Level {
    let raw = get("TF_LOG_PROVIDER")
        .filter(|s| !s.is_empty())
        .or_else(|| get("TF_LOG"))
        .unwrap_or_default();
    match raw.to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => Level::TRACE,
        "DEBUG" => Level::DEBUG,
        "INFO" => Level::INFO,
        "ERROR" => Level::ERROR,
        _ => Level::WARN,
    }
}

/// Installs the hclog layer as the global subscriber. `module` is what Terraform shows as the
/// log's source, by convention `provider.terraform-provider-<name>`; `own` lists the crates
/// (tracing targets, `::`-separated prefixes) whose DEBUG and TRACE events may be shown.
pub fn init(module: &'static str, own: &'static [&'static str]) {
    let level = level_from_env(|k| std::env::var(k).ok());
    let subscriber = tracing_subscriber::registry().with(HclogLayer { level, module, own });
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The most any other crate's events show: their DEBUG and TRACE carry payloads (the AWS SDK's
/// response bodies and outputs), their INFO credentials behind a redacting `Debug`.
pub const DEPENDENCY_CEILING: Level = Level::WARN;

pub struct HclogLayer {
    pub level: Level,
    pub module: &'static str,
    pub own: &'static [&'static str],
}

impl HclogLayer {
    /// Whether an event of `target` at `level` is written.
    pub fn shows(&self, target: &str, level: Level) -> bool {
        level <= self.level && (level <= DEPENDENCY_CEILING || self.is_own(target))
    }

    fn is_own(&self, target: &str) -> bool {
        let krate = target.split("::").next().unwrap_or_default();
        krate == "tfplugin6" || self.own.contains(&krate)
    }
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        self.shows(metadata.target(), *metadata.level())
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let line = format_event(event, self.module);
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(line.as_bytes());
    }
}

pub fn format_event(event: &Event<'_>, module: &str) -> String {
    let mut fields = JsonFields::default();
    event.record(&mut fields);
    let mut obj = serde_json::Map::new();
    obj.insert(
        "@level".into(),
        level_name(*event.metadata().level()).into(),
    );
    let message = masked(&fields.message.unwrap_or_default());
    obj.insert("@message".into(), message.into());
    obj.insert("@module".into(), module.into());
    obj.insert("@timestamp".into(), timestamp().into());
    for (k, v) in fields.fields {
        let v = match v {
            _ if names_a_secret(&k) => MASK.into(),
            serde_json::Value::String(s) => masked(&s).into(),
            other => other,
        };
        obj.insert(k, v);
    }
    let mut line = serde_json::Value::Object(obj).to_string();
    line.push('\n');
    line
}

const MASK: &str = "***";

/// Values registered as secrets; every log line is masked against them.
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Shorter values are not masked: they would mask ordinary words.
const SHORTEST_SECRET: usize = 8;

/// Registers a secret so that no log line shows it. A multi-line text (a PEM key) is
/// registered line by line too, since a `Debug` rendering escapes its line breaks.
pub fn mask(secret: &str) {
    let mut parts: Vec<&str> = vec![secret.trim()];
    parts.extend(
        secret
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----")),
    );
    let mut all = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for part in parts {
        if part.chars().count() >= SHORTEST_SECRET && !all.iter().any(|s| s == part) {
            all.push(part.to_string());
        }
    }
    // Longest first, so a line of a key is not masked before the key it is part of.
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered secret replaced by `***`.
pub fn masked(text: &str) -> String {
    let all = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for secret in all.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

/// Field keys whose values are secrets by their name, as terraform-plugin-log's
/// `MaskFieldValuesWithFieldKeys` is used for.
fn names_a_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "activation_code",
        "activationcode",
        "private_key",
        "privatekey",
        "secret",
        "session_token",
        "password",
        "authorization",
    ]
    .iter()
    .any(|s| key.contains(s))
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    let mut s = String::with_capacity(32);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.microsecond()
    );
    s
}

#[derive(Default)]
struct JsonFields {
    message: Option<String>,
    fields: Vec<(String, serde_json::Value)>,
}

impl Visit for JsonFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
}

impl JsonFields {
    fn put(&mut self, field: &Field, value: serde_json::Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.fields.push((field.name().to_string(), value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    const MODULE: &str = "provider.terraform-provider-example";

    struct Capture(Arc<Mutex<Vec<String>>>);

    impl<S: Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            self.0.lock().unwrap().push(format_event(event, MODULE));
        }
    }

    #[test]
    fn events_render_as_hclog_json() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Capture(lines.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(cluster = "demo", attempt = 2, "creating cluster");
        });
        let line = lines.lock().unwrap()[0].clone();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["@level"], "debug");
        assert_eq!(v["@message"], "creating cluster");
        assert_eq!(v["@module"], MODULE);
        assert_eq!(v["cluster"], "demo");
        assert_eq!(v["attempt"], 2);
        assert!(v["@timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn level_follows_tf_log_provider_then_tf_log() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(level_from_env(env(&[])), Level::WARN);
        assert_eq!(level_from_env(env(&[("TF_LOG", "debug")])), Level::DEBUG);
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "debug"), ("TF_LOG_PROVIDER", "TRACE")])),
            Level::TRACE
        );
    }

    #[test]
    fn other_crates_stop_at_info_whatever_the_level() {
        let layer = HclogLayer {
            level: Level::TRACE,
            module: MODULE,
            own: &["terraform_provider_eks"],
        };
        let sdk = "aws_smithy_runtime::client::orchestrator::http";
        assert!(!layer.shows(sdk, Level::TRACE), "response bodies");
        assert!(!layer.shows(sdk, Level::DEBUG), "decoded outputs");
        assert!(!layer.shows("aws_config::profile::credentials", Level::INFO));
        assert!(layer.shows(sdk, Level::WARN));
        assert!(!layer.shows("h2::codec", Level::TRACE));
        assert!(layer.shows("terraform_provider_eks::aws::wait", Level::TRACE));
        assert!(layer.shows("tfplugin6::server", Level::DEBUG));
        assert!(
            !layer.shows("terraform_provider_eks_extra", Level::DEBUG),
            "a crate is matched by its whole name"
        );
        let quiet = HclogLayer {
            level: Level::WARN,
            ..layer
        };
        assert!(!quiet.shows("terraform_provider_eks", Level::INFO));
    }

    #[test]
    fn registered_secrets_and_secret_fields_are_masked() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let code = "Fjz3/sZfSvv78EXAMPLE-logging-test";
        let key = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\nYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo\n-----END PRIVATE KEY-----\n";
        mask(code);
        mask(key);
        mask("short");
        let subscriber = tracing_subscriber::registry().with(Capture(lines.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(body = %format!("{{\"ActivationCode\":\"{code}\"}}"), "read HTTP response body");
            tracing::debug!(output = ?key, "decoded");
            tracing::debug!(activation_code = "whatever it is", "named");
            tracing::info!("a short word stays");
        });
        let text = lines.lock().unwrap().join("");
        assert!(!text.contains(code), "{text}");
        assert!(!text.contains("MIGHAgEAMBMGByqGSM49"), "{text}");
        assert!(
            !text.contains("YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo"),
            "{text}"
        );
        assert!(!text.contains("whatever it is"), "{text}");
        assert!(text.contains("a short word stays"), "{text}");
        assert_eq!(text.matches(MASK).count(), 4, "{text}");
    }
}
