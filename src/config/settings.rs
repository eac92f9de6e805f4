//! Every setting, declared once: its group, its name (the [`Config`]
//! method that sets it), where its value lives, its default, the
//! environment variables that set it and how their text is read, and the
//! check every value passes. `Config::new`, `Config::from_lookup`, the
//! checks at `Client::new` and the README's table of variables (section
//! "Configuration", checked by a test below) all come from [`all`].
//!
//! Part of `config` (layer 7); uses `config::values`, `config::url`,
//! `pipeline`, `transport`.

use std::time::Duration;

use super::url::{base_url, Service};
use super::values::{Backend, ByBackend, Config};
use crate::pipeline::filter::ParamsFilter;
use crate::transport::compress::Compression;
use crate::transport::secret::Secret;

/// Default Honeybadger endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://api.honeybadger.io";
/// Default Honeycomb API host.
pub const DEFAULT_HONEYCOMB_API_HOST: &str = "https://api.honeycomb.io";
/// Largest event Honeybadger accepts, in bytes of JSON.
pub const MAX_EVENT_BYTES: usize = 102_400;
/// Batches stay under this many bytes.
pub const MAX_BATCH_BYTES: usize = 5_000_000;

/// Events per batch when none is set: honeybadger-python's 1,000; for
/// Honeycomb 500 (libhoney's 50 makes ten times the requests).
pub(crate) const BATCH_SIZE: ByBackend<usize> = ByBackend {
    honeybadger: 1_000,
    honeycomb: 500,
};
/// How long a batch waits to fill when no timeout is set.
pub(crate) const BATCH_TIMEOUT: ByBackend<Duration> = ByBackend {
    honeybadger: Duration::from_secs(5),
    honeycomb: Duration::from_millis(100),
};

/// Where a setting's value lives in a `Config`.
pub(crate) struct Field<T: 'static> {
    pub(crate) get: fn(&Config) -> &T,
    pub(crate) set: fn(&mut Config) -> &mut T,
}

/// The `Field` of a path in `Config` (`field!(queue.max_size)`).
macro_rules! field {
    ($($part:ident).+) => {
        Field {
            get: |c| &c.$($part).+,
            set: |c| &mut c.$($part).+,
        }
    };
}

/// Every setting, in the README's order.
pub(crate) fn all() -> Vec<Box<dyn Declared>> {
    use Group::*;
    vec![
        // Where events go.
        Setting::new(
            Destination,
            "backend",
            field!(destination.backend),
            Backend::Auto,
        )
        .choices(&["INSIGHTS_EVENTS_BACKEND"], backends(), "")
        .into(),
        Setting::new(Destination, "api_key", field!(destination.api_key), None)
            .shown("none (then the writer on stdout)")
            .env(&["HONEYBADGER_API_KEY"], "", secret)
            .into(),
        Setting::new(
            Destination,
            "endpoint",
            field!(destination.endpoint),
            DEFAULT_ENDPOINT.to_owned(),
        )
        .env(&["HONEYBADGER_ENDPOINT"], "", |v| {
            base_url(Service::Honeybadger, v)
        })
        .check(|v| base_url(Service::Honeybadger, v).map(drop))
        .into(),
        Setting::new(
            Destination,
            "honeycomb_write_key",
            field!(destination.honeycomb_write_key),
            None,
        )
        .env(&["HONEYCOMB_API_KEY", "HONEYCOMB_WRITEKEY"], "", secret)
        .into(),
        Setting::new(
            Destination,
            "honeycomb_dataset",
            field!(destination.honeycomb_dataset),
            "insights-events".to_owned(),
        )
        .env(&["HONEYCOMB_DATASET"], "", |v| Ok(v.to_owned()))
        .check(|v| {
            if v.trim() != v || v.chars().any(char::is_control) {
                return Err("no leading or trailing spaces or control characters".into());
            }
            Ok(())
        })
        .into(),
        Setting::new(
            Destination,
            "honeycomb_api_host",
            field!(destination.honeycomb_api_host),
            DEFAULT_HONEYCOMB_API_HOST.to_owned(),
        )
        .env(&["HONEYCOMB_API_HOST"], "", |v| {
            base_url(Service::Honeycomb, v)
        })
        .check(|v| base_url(Service::Honeycomb, v).map(drop))
        .into(),
        // Batching.
        Setting::new(Batching, "batch_size", field!(batching.size), None)
            .shown(&format!(
                "{} (Honeycomb: {})",
                thousands(BATCH_SIZE.honeybadger as u64),
                thousands(BATCH_SIZE.honeycomb as u64)
            ))
            .env(&["HONEYBADGER_EVENTS_BATCH_SIZE"], "", |v| {
                whole(v, 1_000_000).map(Some)
            })
            .check(|v| at_least(v.unwrap_or(1), 1))
            .into(),
        Setting::new(Batching, "batch_timeout", field!(batching.timeout), None)
            .shown(&format!(
                "{} (Honeycomb: {})",
                BATCH_TIMEOUT.honeybadger.shown(),
                BATCH_TIMEOUT.honeycomb.shown()
            ))
            .env(&["HONEYBADGER_EVENTS_TIMEOUT"], "seconds", |v| {
                seconds(v).map(Some)
            })
            .into(),
        Setting::new(
            Batching,
            "batch_max_bytes",
            field!(batching.max_bytes),
            MAX_BATCH_BYTES,
        )
        .check(|&v| {
            if v == 0 || v > MAX_BATCH_BYTES {
                return Err(format!("must be 1–{}", thousands(MAX_BATCH_BYTES as u64)));
            }
            Ok(())
        })
        .into(),
        Setting::new(
            Batching,
            "max_event_bytes",
            field!(batching.max_event_bytes),
            MAX_EVENT_BYTES,
        )
        .check(|&v| at_least(v, 1))
        .into(),
        Setting::new(Batching, "max_in_flight", field!(batching.max_in_flight), 4)
            .check(|&v| at_least(v, 1))
            .into(),
        // Requests and retries.
        Setting::new(
            Requests,
            "request_timeout",
            field!(retries.request_timeout),
            Duration::from_secs(15),
        )
        .check(|v| match v.is_zero() {
            true => Err("must be longer than zero".into()),
            false => Ok(()),
        })
        .into(),
        Setting::new(
            Requests,
            "max_batch_retries",
            field!(retries.max_retries),
            3,
        )
        .env(&["HONEYBADGER_EVENTS_MAX_BATCH_RETRIES"], "", |v| {
            whole(v, 100)
        })
        .into(),
        Setting::new(
            Requests,
            "retry_backoff",
            field!(retries.backoff),
            Duration::from_millis(500),
        )
        .into(),
        Setting::new(
            Requests,
            "retry_backoff_max",
            field!(retries.backoff_max),
            Duration::from_secs(30),
        )
        .into(),
        Setting::new(
            Requests,
            "throttle_wait",
            field!(retries.throttle_wait),
            Duration::from_secs(60),
        )
        .env(&["HONEYBADGER_EVENTS_THROTTLE_WAIT"], "seconds", seconds)
        .into(),
        Setting::new(
            Requests,
            "compression",
            field!(retries.compression),
            Compression::None,
        )
        .choices(
            &["INSIGHTS_EVENTS_COMPRESSION"],
            compressions(),
            "`zstd` for Honeycomb only, with the `zstd` feature",
        )
        .into(),
        // Sampling.
        Setting::new(Sampling, "sample_rate", field!(sampling.honeybadger), 100)
            .env(&["HONEYBADGER_EVENTS_SAMPLE_RATE"], "0–100", |v| {
                whole(v, u32::MAX.into())
            })
            .check(|&v| match v > 100 {
                true => Err("must be 0–100 (percent)".into()),
                false => Ok(()),
            })
            .into(),
        Setting::new(
            Sampling,
            "honeycomb_sample_rate",
            field!(sampling.honeycomb),
            1,
        )
        .env(&["HONEYCOMB_SAMPLE_RATE"], "1 in N", |v| {
            whole(v, u32::MAX.into())
        })
        .check(|&v| match v == 0 {
            true => Err("must be at least 1 (one in N)".into()),
            false => Ok(()),
        })
        .into(),
        // The queues.
        Setting::new(Queue, "max_queue_size", field!(queue.max_size), 10_000)
            .env(&["HONEYBADGER_EVENTS_MAX_QUEUE_SIZE"], "", |v| {
                whole(v, 100_000_000)
            })
            .check(|&v| at_least(v, 1))
            .into(),
        Setting::new(Queue, "block_on_send", field!(queue.block_on_send), false).into(),
        Setting::new(
            Queue,
            "block_on_response",
            field!(queue.block_on_response),
            false,
        )
        .into(),
        Setting::new(
            Queue,
            "response_queue_size",
            field!(queue.response_size),
            1_000,
        )
        .check(|&v| at_least(v, 1))
        .into(),
        Setting::new(
            Queue,
            "drop_timeout",
            field!(queue.drop_timeout),
            Duration::from_secs(2),
        )
        .into(),
        // Hooks and filters.
        Setting::new(
            Hooks,
            "filter_keys",
            field!(hooks.params_filter),
            ParamsFilter::default(),
        )
        .into(),
        // Loss reporting.
        Setting::new(
            LossReporting,
            "loss_summary_interval",
            field!(loss.summary_interval),
            Duration::from_secs(60),
        )
        .into(),
    ]
}

/// The `INSIGHTS_EVENTS_BACKEND` words.
fn backends() -> Vec<(&'static str, Backend)> {
    vec![
        ("auto", Backend::Auto),
        ("honeybadger", Backend::Honeybadger),
        ("honeycomb", Backend::Honeycomb),
        ("stdout", Backend::Stdout),
        ("writer", Backend::Stdout),
    ]
}

/// The `INSIGHTS_EVENTS_COMPRESSION` words.
fn compressions() -> Vec<(&'static str, Compression)> {
    vec![
        ("none", Compression::None),
        ("gzip", Compression::Gzip),
        ("deflate", Compression::Deflate),
        ("zstd", Compression::Zstd),
    ]
}

/// The groups settings come in, in the README's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    Destination,
    Batching,
    Requests,
    Sampling,
    Queue,
    Hooks,
    LossReporting,
}

impl Group {
    /// The README's name for the group.
    #[cfg(test)]
    fn title(self) -> &'static str {
        match self {
            Group::Destination => "where events go",
            Group::Batching => "batching",
            Group::Requests => "requests and retries",
            Group::Sampling => "sampling",
            Group::Queue => "queues",
            Group::Hooks => "hooks and filters",
            Group::LossReporting => "loss reporting",
        }
    }
}

/// A declared setting, whatever its type.
pub(crate) trait Declared {
    /// The setting's name: the `Config` method that sets it.
    fn name(&self) -> &'static str;
    /// The environment variables that set it, the first one set wins.
    fn vars(&self) -> &'static [&'static str];
    /// Puts the default in `config`.
    fn reset(&self, config: &mut Config);
    /// Reads a variable's text into `config`: `Err` says why it cannot be
    /// used (the caller names the variable and the text).
    fn read(&self, config: &mut Config, text: &str) -> Result<(), String>;
    /// The check every value passes: `Err` names the value and says why.
    fn check(&self, config: &Config) -> Result<(), String>;
    /// The README's row: group, setting, variables, default.
    #[cfg(test)]
    fn row(&self) -> [String; 4];
}

/// A value a setting holds: how an error names it, how the README shows it.
pub(crate) trait Value: Clone + 'static {
    /// As an error names the value given (never a secret).
    fn given(&self) -> String;
    /// As the README shows a default.
    fn shown(&self) -> String;
}

type Parse<T> = Box<dyn Fn(&str) -> Result<T, String>>;
type Check<T> = Box<dyn Fn(&T) -> Result<(), String>>;

/// One setting (see [`all`]).
pub(crate) struct Setting<T: 'static> {
    /// Read for the README's table (by its test).
    #[cfg_attr(not(test), allow(dead_code))]
    group: Group,
    name: &'static str,
    field: Field<T>,
    default: T,
    /// The default as the README shows it, when the value alone does not
    /// say it.
    shown: Option<String>,
    vars: &'static [&'static str],
    /// What a variable holds, for the README ("seconds").
    form: String,
    parse: Option<Parse<T>>,
    check: Option<Check<T>>,
}

impl<T: Value> Setting<T> {
    fn new(group: Group, name: &'static str, field: Field<T>, default: T) -> Self {
        Setting {
            group,
            name,
            field,
            default,
            shown: None,
            vars: &[],
            form: String::new(),
            parse: None,
            check: None,
        }
    }

    fn shown(mut self, text: &str) -> Self {
        self.shown = Some(text.to_owned());
        self
    }

    /// Set by `vars` too, their text read by `parse`.
    fn env(
        mut self,
        vars: &'static [&'static str],
        form: &str,
        parse: impl Fn(&str) -> Result<T, String> + 'static,
    ) -> Self {
        self.vars = vars;
        self.form = form.to_owned();
        self.parse = Some(Box::new(parse));
        self
    }

    /// Set by `vars` too, to one of `words` (any case).
    fn choices(
        self,
        vars: &'static [&'static str],
        words: Vec<(&'static str, T)>,
        note: &str,
    ) -> Self {
        let names: Vec<&str> = words.iter().map(|(w, _)| *w).collect();
        let mut form = names
            .iter()
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if !note.is_empty() {
            form = format!("{form}; {note}");
        }
        let expected = match names.split_last() {
            Some((last, rest)) => format!("expected {} or {last}", rest.join(", ")),
            None => "expected nothing".to_owned(),
        };
        self.env(vars, &form, move |v| {
            let v = v.trim().to_ascii_lowercase();
            words
                .iter()
                .find(|(w, _)| *w == v)
                .map(|(_, value)| value.clone())
                .ok_or_else(|| expected.clone())
        })
    }

    fn check(mut self, check: impl Fn(&T) -> Result<(), String> + 'static) -> Self {
        self.check = Some(Box::new(check));
        self
    }
}

impl<T: Value> From<Setting<T>> for Box<dyn Declared> {
    fn from(s: Setting<T>) -> Self {
        Box::new(s)
    }
}

impl<T: Value> Declared for Setting<T> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn vars(&self) -> &'static [&'static str] {
        self.vars
    }

    fn reset(&self, config: &mut Config) {
        *(self.field.set)(config) = self.default.clone();
    }

    fn read(&self, config: &mut Config, text: &str) -> Result<(), String> {
        let parse = self.parse.as_ref().ok_or("not read from the environment")?;
        let value = parse(text)?;
        if let Some(check) = &self.check {
            check(&value)?;
        }
        *(self.field.set)(config) = value;
        Ok(())
    }

    fn check(&self, config: &Config) -> Result<(), String> {
        let value = (self.field.get)(config);
        match &self.check {
            Some(check) => check(value).map_err(|why| format!("{}: {why}", value.given())),
            None => Ok(()),
        }
    }

    #[cfg(test)]
    fn row(&self) -> [String; 4] {
        let mut vars = self
            .vars
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(" or ");
        if !self.form.is_empty() {
            vars = format!("{vars} ({})", self.form);
        }
        [
            self.group.title().to_owned(),
            format!("`{}`", self.name),
            vars,
            self.shown.clone().unwrap_or_else(|| self.default.shown()),
        ]
    }
}

/// The README's table of settings (section "Configuration"), a group's
/// name on its first row only.
#[cfg(test)]
pub(crate) fn readme_table() -> Vec<String> {
    let mut lines = vec![
        "| group | setting | environment variable | default |".to_owned(),
        "|---|---|---|---|".to_owned(),
    ];
    let mut last = String::new();
    for s in all() {
        let [group, name, vars, default] = s.row();
        let group = if group == last {
            String::new()
        } else {
            last = group.clone();
            group
        };
        lines.push(format!("| {group} | {name} | {vars} | {default} |"));
    }
    lines
}

/// A whole number up to `max` (a variable's ceiling, beyond what a check
/// allows in code).
fn whole<T: TryFrom<u64>>(text: &str, max: u64) -> Result<T, String> {
    let n: u64 = text
        .trim()
        .parse()
        .map_err(|_| "expected a whole number".to_owned())?;
    if n > max {
        return Err(format!("expected at most {}", thousands(max)));
    }
    T::try_from(n).map_err(|_| "out of range".to_owned())
}

/// A number of seconds, 0–86400.
fn seconds(text: &str) -> Result<Duration, String> {
    let s: f64 = text
        .trim()
        .parse()
        .map_err(|_| "expected a number of seconds".to_owned())?;
    if !(0.0..=86_400.0).contains(&s) {
        return Err("expected 0–86400 seconds".to_owned());
    }
    Ok(Duration::from_secs_f64(s))
}

/// A key: the text without surrounding spaces.
fn secret(text: &str) -> Result<Option<Secret>, String> {
    Ok(Some(Secret::new(text.trim().to_owned())))
}

fn at_least(n: usize, min: usize) -> Result<(), String> {
    match n < min {
        true => Err(format!("must be at least {min}")),
        false => Ok(()),
    }
}

/// `n` with a comma between thousands: 10,000.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Value for usize {
    fn given(&self) -> String {
        self.to_string()
    }
    fn shown(&self) -> String {
        thousands(*self as u64)
    }
}

impl Value for u32 {
    fn given(&self) -> String {
        self.to_string()
    }
    fn shown(&self) -> String {
        thousands((*self).into())
    }
}

impl Value for bool {
    fn given(&self) -> String {
        self.to_string()
    }
    fn shown(&self) -> String {
        self.to_string()
    }
}

impl Value for Duration {
    fn given(&self) -> String {
        format!("{}s", self.as_secs_f64())
    }
    fn shown(&self) -> String {
        match self.subsec_millis() {
            0 => format!("{} s", self.as_secs()),
            _ => format!("{} ms", self.as_millis()),
        }
    }
}

impl Value for String {
    fn given(&self) -> String {
        format!("{self:?}")
    }
    fn shown(&self) -> String {
        format!("`{self}`")
    }
}

impl Value for Option<Secret> {
    fn given(&self) -> String {
        "[REDACTED]".to_owned()
    }
    fn shown(&self) -> String {
        match self {
            Some(_) => "a key".to_owned(),
            None => "none".to_owned(),
        }
    }
}

impl Value for Option<usize> {
    fn given(&self) -> String {
        self.map_or_else(|| "unset".to_owned(), |v| v.given())
    }
    fn shown(&self) -> String {
        self.map_or_else(|| "unset".to_owned(), |v| v.shown())
    }
}

impl Value for Option<Duration> {
    fn given(&self) -> String {
        self.map_or_else(|| "unset".to_owned(), |v| v.given())
    }
    fn shown(&self) -> String {
        self.map_or_else(|| "unset".to_owned(), |v| v.shown())
    }
}

impl Value for Backend {
    fn given(&self) -> String {
        format!("{self:?}")
    }
    fn shown(&self) -> String {
        match self {
            Backend::Auto => "`auto`",
            Backend::Honeybadger => "`honeybadger`",
            Backend::Honeycomb => "`honeycomb`",
            Backend::Stdout => "`stdout`",
            Backend::Custom(_) => "a sender of your own",
        }
        .to_owned()
    }
}

impl Value for Compression {
    fn given(&self) -> String {
        format!("{self:?}")
    }
    fn shown(&self) -> String {
        let word = compressions()
            .into_iter()
            .find(|(_, c)| c == self)
            .map_or("?", |(w, _)| w);
        format!("`{word}`")
    }
}

impl Value for ParamsFilter {
    fn given(&self) -> String {
        format!("{:?}", self.keys())
    }
    fn shown(&self) -> String {
        self.keys()
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_table() {
        for (n, want) in [
            (0, "0"),
            (100, "100"),
            (1_000, "1,000"),
            (102_400, "102,400"),
            (5_000_000, "5,000,000"),
        ] {
            assert_eq!(thousands(n), want);
        }
    }

    #[test]
    fn durations_are_shown_and_named_as_given() {
        assert_eq!(Duration::from_secs(60).shown(), "60 s");
        assert_eq!(Duration::from_millis(100).shown(), "100 ms");
        assert_eq!(Duration::ZERO.given(), "0s");
        assert_eq!(Duration::from_millis(1500).given(), "1.5s");
    }

    /// Each setting is declared once, under its own name, and every
    /// variable sets one setting.
    #[test]
    fn names_and_variables_are_declared_once() {
        let mut names = std::collections::BTreeSet::new();
        let mut vars = std::collections::BTreeSet::new();
        for s in all() {
            assert!(names.insert(s.name()), "{} declared twice", s.name());
            for v in s.vars() {
                assert!(vars.insert(*v), "{v} read by two settings");
            }
        }
    }

    /// The README's table of settings is the declarations': a row missing,
    /// extra or different fails, naming it. To rewrite the table from the
    /// declarations: `INSIGHTS_EVENTS_WRITE_README=1 cargo test --lib readme_table`.
    #[test]
    fn readme_table_is_the_declarations() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        let lines: Vec<&str> = readme.lines().collect();
        let section = lines
            .iter()
            .position(|l| *l == "## Configuration")
            .expect("README.md has a section \"## Configuration\"");
        let start = section
            + lines[section..]
                .iter()
                .position(|l| l.starts_with('|'))
                .expect("a table in the Configuration section");
        let end = start
            + lines[start..]
                .iter()
                .position(|l| !l.starts_with('|'))
                .unwrap_or(lines.len() - start);
        let want = readme_table();
        if std::env::var_os("INSIGHTS_EVENTS_WRITE_README").is_some() {
            let mut out: Vec<String> = lines[..start].iter().map(|l| l.to_string()).collect();
            out.extend(want.iter().cloned());
            out.extend(lines[end..].iter().map(|l| l.to_string()));
            std::fs::write(path, out.join("\n") + "\n").expect("write README.md");
            return;
        }
        let have = &lines[start..end];
        let mut problems = Vec::new();
        for row in &want {
            if !have.contains(&row.as_str()) {
                problems.push(format!("missing or different: {row}"));
            }
        }
        for row in have {
            if !want.contains(&row.to_string()) {
                problems.push(format!("not declared: {row}"));
            }
        }
        if problems.is_empty() && have.len() == want.len() {
            assert_eq!(have, &want[..], "README rows are out of order");
        }
        assert!(
            problems.is_empty(),
            "README.md's Configuration table differs from config::settings::all() \
             (rewrite it with INSIGHTS_EVENTS_WRITE_README=1 cargo test --lib readme_table):\n{}",
            problems.join("\n")
        );
    }
}
