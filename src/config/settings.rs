//! Every setting, declared once: its group, its name (the [`Config`]
//! method that sets it), where its value lives, its default, the
//! environment variables that set it and how their text is read, and the
//! check every value passes. `Config::new`, `Config::from_lookup`, the
//! checks at `Client::new` and the README's table of variables (section
//! "Configuration", checked by a test below) all come from [`all`].

use std::time::Duration;

use super::url::{base_url as url, Service};
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

/// Every setting, by group, in the README's order.
pub(crate) fn groups() -> Vec<(Group, Vec<Box<dyn Declared>>)> {
    vec![
        (Group::Destination, destination()),
        (Group::Batching, batching()),
        (Group::Requests, requests()),
        (Group::Sampling, sampling()),
        (Group::Queue, queue()),
        (Group::Hooks, hooks()),
        (Group::LossReporting, loss_reporting()),
    ]
}

/// Every setting, in the README's order.
pub(crate) fn all() -> impl Iterator<Item = Box<dyn Declared>> {
    groups().into_iter().flat_map(|(_, settings)| settings)
}

/// Where events go: the backend, its keys and URLs.
fn destination() -> Vec<Box<dyn Declared>> {
    vec![
        Setting::new("backend", field!(destination.backend), Backend::Auto)
            .choices(&["INSIGHTS_EVENTS_BACKEND"], backends(), "")
            .boxed(),
        Setting::new("api_key", field!(destination.api_key), None)
            .shown("none (then the writer on stdout)")
            .env(&["HONEYBADGER_API_KEY"], "", secret)
            .boxed(),
        Setting::new(
            "endpoint",
            field!(destination.endpoint),
            DEFAULT_ENDPOINT.into(),
        )
        .env(&["HONEYBADGER_ENDPOINT"], "", |v| {
            url(Service::Honeybadger, v)
        })
        .check(|v| url(Service::Honeybadger, v).map(drop))
        .boxed(),
        Setting::new(
            "honeycomb_write_key",
            field!(destination.honeycomb_write_key),
            None,
        )
        .env(&["HONEYCOMB_API_KEY", "HONEYCOMB_WRITEKEY"], "", secret)
        .boxed(),
        Setting::new(
            "honeycomb_dataset",
            field!(destination.honeycomb_dataset),
            "insights-events".into(),
        )
        .env(&["HONEYCOMB_DATASET"], "", |v| Ok(v.to_owned()))
        .check(|v| match v.trim() != v || v.chars().any(char::is_control) {
            true => Err("no leading or trailing spaces or control characters".into()),
            false => Ok(()),
        })
        .boxed(),
        Setting::new(
            "honeycomb_api_host",
            field!(destination.honeycomb_api_host),
            DEFAULT_HONEYCOMB_API_HOST.into(),
        )
        .env(&["HONEYCOMB_API_HOST"], "", |v| url(Service::Honeycomb, v))
        .check(|v| url(Service::Honeycomb, v).map(drop))
        .boxed(),
    ]
}

/// How events are gathered into batches.
fn batching() -> Vec<Box<dyn Declared>> {
    let by_backend = |hb: String, hc: String| format!("{hb} (Honeycomb: {hc})");
    vec![
        Setting::new("batch_size", field!(batching.size), None)
            .shown(&by_backend(
                BATCH_SIZE.honeybadger.shown(),
                BATCH_SIZE.honeycomb.shown(),
            ))
            .env(&["HONEYBADGER_EVENTS_BATCH_SIZE"], "", |v| {
                whole(v, 1_000_000).map(Some)
            })
            .check(|v| at_least(v.unwrap_or(1), 1))
            .boxed(),
        Setting::new("batch_timeout", field!(batching.timeout), None)
            .shown(&by_backend(
                BATCH_TIMEOUT.honeybadger.shown(),
                BATCH_TIMEOUT.honeycomb.shown(),
            ))
            .env(&["HONEYBADGER_EVENTS_TIMEOUT"], "seconds", |v| {
                seconds(v).map(Some)
            })
            .boxed(),
        Setting::new(
            "batch_max_bytes",
            field!(batching.max_bytes),
            MAX_BATCH_BYTES,
        )
        .check(|&v| match v == 0 || v > MAX_BATCH_BYTES {
            true => Err(format!("must be 1–{}", MAX_BATCH_BYTES.shown())),
            false => Ok(()),
        })
        .boxed(),
        Setting::new(
            "max_event_bytes",
            field!(batching.max_event_bytes),
            MAX_EVENT_BYTES,
        )
        .check(|&v| at_least(v, 1))
        .boxed(),
        Setting::new("max_in_flight", field!(batching.max_in_flight), 4)
            .check(|&v| at_least(v, 1))
            .boxed(),
    ]
}

/// One request, its retries and throttling, and the body's compression.
fn requests() -> Vec<Box<dyn Declared>> {
    vec![
        Setting::new("request_timeout", field!(retries.request_timeout), secs(15))
            .check(|v| match v.is_zero() {
                true => Err("must be longer than zero".into()),
                false => Ok(()),
            })
            .boxed(),
        Setting::new("max_batch_retries", field!(retries.max_retries), 3)
            .env(&["HONEYBADGER_EVENTS_MAX_BATCH_RETRIES"], "", |v| {
                whole(v, 100)
            })
            .boxed(),
        Setting::new(
            "retry_backoff",
            field!(retries.backoff),
            Duration::from_millis(500),
        )
        .boxed(),
        Setting::new("retry_backoff_max", field!(retries.backoff_max), secs(30)).boxed(),
        Setting::new("throttle_wait", field!(retries.throttle_wait), secs(60))
            .env(&["HONEYBADGER_EVENTS_THROTTLE_WAIT"], "seconds", seconds)
            .boxed(),
        Setting::new(
            "compression",
            field!(retries.compression),
            Compression::None,
        )
        .choices(
            &["INSIGHTS_EVENTS_COMPRESSION"],
            compressions(),
            "`zstd` for Honeycomb only, with the `zstd` feature",
        )
        .boxed(),
    ]
}

/// The sample rates; the backend in use picks one.
fn sampling() -> Vec<Box<dyn Declared>> {
    vec![
        Setting::new("sample_rate", field!(sampling.honeybadger), 100)
            .env(&["HONEYBADGER_EVENTS_SAMPLE_RATE"], "0–100", |v| {
                whole(v, u32::MAX.into())
            })
            .check(|&v| match v > 100 {
                true => Err("must be 0–100 (percent)".into()),
                false => Ok(()),
            })
            .boxed(),
        Setting::new("honeycomb_sample_rate", field!(sampling.honeycomb), 1)
            .env(&["HONEYCOMB_SAMPLE_RATE"], "1 in N", |v| {
                whole(v, u32::MAX.into())
            })
            .check(|&v| match v == 0 {
                true => Err("must be at least 1 (one in N)".into()),
                false => Ok(()),
            })
            .boxed(),
    ]
}

/// The queues between callers, the worker and the responses stream.
fn queue() -> Vec<Box<dyn Declared>> {
    vec![
        Setting::new("max_queue_size", field!(queue.max_size), 10_000)
            .env(&["HONEYBADGER_EVENTS_MAX_QUEUE_SIZE"], "", |v| {
                whole(v, 100_000_000)
            })
            .check(|&v| at_least(v, 1))
            .boxed(),
        Setting::new("block_on_send", field!(queue.block_on_send), false).boxed(),
        Setting::new("block_on_response", field!(queue.block_on_response), false).boxed(),
        Setting::new("response_queue_size", field!(queue.response_size), 1_000)
            .check(|&v| at_least(v, 1))
            .boxed(),
        Setting::new("drop_timeout", field!(queue.drop_timeout), secs(2)).boxed(),
    ]
}

/// The params filter (hooks and client-wide fields have no default).
fn hooks() -> Vec<Box<dyn Declared>> {
    vec![Setting::new(
        "filter_keys",
        field!(hooks.params_filter),
        ParamsFilter::default(),
    )
    .boxed()]
}

/// How lost events are reported.
fn loss_reporting() -> Vec<Box<dyn Declared>> {
    vec![Setting::new(
        "loss_summary_interval",
        field!(loss.summary_interval),
        secs(60),
    )
    .boxed()]
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
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
    /// The README's cells: setting, variables, default.
    #[cfg(test)]
    fn row(&self) -> [String; 3];
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
    fn new(name: &'static str, field: Field<T>, default: T) -> Self {
        Setting {
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

    /// The setting in a list of settings of any type.
    fn boxed(self) -> Box<dyn Declared> {
        Box::new(self)
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
    fn row(&self) -> [String; 3] {
        let mut vars = self
            .vars
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(" or ");
        if !self.form.is_empty() {
            vars = format!("{vars} ({})", self.form);
        }
        let default = self.shown.clone();
        [
            format!("`{}`", self.name),
            vars,
            default.unwrap_or_else(|| self.default.shown()),
        ]
    }
}

/// The table of settings (in the README's section "Configuration" and in
/// the doc of `Config::from_lookup`), a group's name on its first row.
#[cfg(test)]
pub(crate) fn table() -> Vec<String> {
    let mut lines = vec![
        "| group | setting | environment variable | default |".to_owned(),
        "|---|---|---|---|".to_owned(),
    ];
    for (group, settings) in groups() {
        for (i, setting) in settings.iter().enumerate() {
            let title = if i == 0 { group.title() } else { "" };
            let [name, vars, default] = setting.row();
            lines.push(format!("| {title} | {name} | {vars} | {default} |"));
        }
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

    /// The table of settings in `file`: its lines (without `prefix`) from
    /// the first one starting with `|` after the line `after`, and where
    /// they stand.
    fn table_in(text: &str, after: &str, prefix: &str) -> (usize, usize) {
        let lines: Vec<&str> = text.lines().collect();
        let row = format!("{prefix}|");
        let at = lines
            .iter()
            .position(|l| *l == after)
            .unwrap_or_else(|| panic!("no line {after:?}"));
        let start = at
            + lines[at..]
                .iter()
                .position(|l| l.starts_with(&row))
                .unwrap_or_else(|| panic!("no table after {after:?}"));
        let end = start
            + lines[start..]
                .iter()
                .position(|l| !l.starts_with(&row))
                .unwrap_or(lines.len() - start);
        (start, end)
    }

    /// Whether the table of settings in `file` is [`table`]'s: each row
    /// missing, extra or different, named. With
    /// `INSIGHTS_EVENTS_WRITE_TABLES=1`, rewrites it instead.
    fn table_problems(file: &str, after: &str, prefix: &str) -> Vec<String> {
        let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        let (start, end) = table_in(&text, after, prefix);
        let want = table();
        if std::env::var_os("INSIGHTS_EVENTS_WRITE_TABLES").is_some() {
            let mut out: Vec<String> = lines[..start].iter().map(|l| l.to_string()).collect();
            out.extend(want.iter().map(|l| format!("{prefix}{l}")));
            out.extend(lines[end..].iter().map(|l| l.to_string()));
            std::fs::write(&path, out.join("\n") + "\n").expect("write");
            return Vec::new();
        }
        let have: Vec<&str> = lines[start..end]
            .iter()
            .map(|l| &l[prefix.len()..])
            .collect();
        let mut problems = Vec::new();
        for row in &want {
            if !have.contains(&row.as_str()) {
                problems.push(format!("{file}: missing or different: {row}"));
            }
        }
        for row in &have {
            if !want.iter().any(|w| w == row) {
                problems.push(format!("{file}: not declared: {row}"));
            }
        }
        if problems.is_empty() && have != want {
            problems.push(format!("{file}: the rows are out of order"));
        }
        problems
    }

    /// The tables of settings in the README (section "Configuration") and
    /// in the doc of `Config::from_lookup` are the declarations'. To
    /// rewrite both from the declarations:
    /// `INSIGHTS_EVENTS_WRITE_TABLES=1 cargo test --all-features --lib settings_table`.
    #[test]
    fn settings_table_is_the_declarations() {
        let mut problems = table_problems("README.md", "## Configuration", "");
        problems.extend(table_problems(
            "src/config.rs",
            "    /// Reads settings through `lookup` (a variable name to its value): the",
            "    /// ",
        ));
        assert!(
            problems.is_empty(),
            "the tables of settings differ from the declarations in src/config/settings.rs \
             (to rewrite them: INSIGHTS_EVENTS_WRITE_TABLES=1 cargo test --all-features --lib \
             settings_table):\n{}",
            problems.join("\n")
        );
    }
}
