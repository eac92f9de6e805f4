//! Placing an event whose `event_type` no schema claims as a `const`: the
//! one policy both the generated `AnyEvent` and the schemas loaded at run
//! time (`insights-events validate --schemas DIR`) follow, so that the two
//! agree on every event.
//!
//! A schema that fixes its `event_type` with a `const` is found by that
//! name (and, when several share one, by their required consts); that part
//! is a plain lookup by the caller. Every other schema makes a [`Claim`]:
//!
//! 1. **By required consts.** A schema with required `const` properties
//!    besides `event_type` (heroku's `router` and `postgres`, both sent as
//!    `logplex`, told apart by `proc_id`) claims every event that holds all
//!    of them, whatever its `event_type`.
//! 2. **By name.** A schema whose `event_type` is free (a string property
//!    without a `const`, as elixir's `ecto.query`, sent as the repo's
//!    prefix: `my_app.repo.query`) claims the names that match one of its
//!    [name patterns](Claim::name_patterns): globs in which `*` stands for
//!    one or more characters. They are declared in the schema, on the
//!    `event_type` property, as `"x-event-type-pattern": "*.repo.query"`
//!    (a string or an array of strings); without that, they come from the
//!    property's `examples` by [`patterns_from_example`], and the schema's
//!    own file name is always one.
//!
//! Claims by consts come first (they are the more specific); a name claim
//! only counts for a schema without required consts. Two claims of the
//! same kind are [`Placed::Ambiguous`]: the event is not guessed into
//! either.
//!
//! ```
//! use insights_events::placing::{place, Claim, Placed};
//! use serde_json::json;
//!
//! let claims = [
//!     Claim { required_consts: &[("proc_id", "\"router\"")], name_patterns: &["logplex"] },
//!     Claim { required_consts: &[("proc_id", "\"heroku-postgres\"")], name_patterns: &["logplex"] },
//!     Claim { required_consts: &[], name_patterns: &["ecto.query", "*.repo.query"] },
//! ];
//! let event = json!({"event_type": "logplex", "proc_id": "router"});
//! assert_eq!(place(&claims, "logplex", event.as_object().unwrap()), Placed::One(0));
//! let event = json!({"event_type": "my_app.repo.query", "query": "SELECT 1"});
//! assert_eq!(place(&claims, "my_app.repo.query", event.as_object().unwrap()), Placed::One(2));
//! ```

use serde_json::{Map, Value};

use super::rules::const_eq;

/// What a schema without an `event_type` const claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim<'a> {
    /// Its required `const` properties other than `event_type`, as
    /// `(key, the const as compact JSON)`.
    pub required_consts: &'a [(&'a str, &'a str)],
    /// Globs its `event_type` may match (`*`: one or more characters).
    pub name_patterns: &'a [&'a str],
}

/// Where an event went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// The claim at this index, alone.
    One(usize),
    /// No claim: the event type is unknown.
    Nowhere,
    /// Several claims of the same kind (their indexes): it is not guessed.
    Ambiguous(Vec<usize>),
}

/// The claim an event with `event_type` and the keys of `map` falls under.
pub fn place(claims: &[Claim<'_>], event_type: &str, map: &Map<String, Value>) -> Placed {
    let by_consts: Vec<usize> = claims
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.required_consts.is_empty() && holds_all(map, c.required_consts))
        .map(|(i, _)| i)
        .collect();
    if !by_consts.is_empty() {
        return one_of(by_consts);
    }
    let by_name: Vec<usize> = claims
        .iter()
        .enumerate()
        .filter(|(_, c)| c.required_consts.is_empty())
        .filter(|(_, c)| c.name_patterns.iter().any(|p| glob_match(p, event_type)))
        .map(|(i, _)| i)
        .collect();
    one_of(by_name)
}

fn one_of(found: Vec<usize>) -> Placed {
    match found.as_slice() {
        [] => Placed::Nowhere,
        [one] => Placed::One(*one),
        _ => Placed::Ambiguous(found),
    }
}

/// Whether `map` holds every `(key, const)`.
fn holds_all(map: &Map<String, Value>, consts: &[(&str, &str)]) -> bool {
    consts
        .iter()
        .all(|(key, json)| map.get(*key).is_some_and(|v| const_eq(v, json)))
}

/// Whether `name` matches `pattern`, where `*` stands for one or more
/// characters and every other character for itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p = pattern.as_bytes();
    let n = name.as_bytes();
    // Iterative matching with one backtrack point: the last `*`, and how
    // much of the name it has taken so far.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            // `*` takes one character at least.
            star = Some((pi, ni + 1));
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    // Whatever is left of the pattern (a `*` too: it takes one character
    // at least) has nothing left to match.
    pi == p.len()
}

/// The name patterns one `examples` entry of a free `event_type` stands
/// for: the example itself, and, when it has three dotted segments or
/// more, the same with its first segment as `*` (the application's
/// prefix: `my_app.repo.query` gives `*.repo.query`).
pub fn patterns_from_example(example: &str) -> Vec<String> {
    let mut out = vec![example.to_owned()];
    if example.split('.').count() >= 3 && !example.starts_with('.') {
        if let Some((_, rest)) = example.split_once('.') {
            out.push(format!("*.{rest}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn glob_table() {
        let rows: &[(&str, &str, bool)] = &[
            ("ecto.query", "ecto.query", true),
            ("ecto.query", "ecto.queryx", false),
            ("*.repo.query", "my_app.repo.query", true),
            ("*.repo.query", "a.b.repo.query", true),
            ("*.repo.query", ".repo.query", false),
            ("*.repo.query", "repo.query", false),
            ("*.repo.query", "my_app.repo.queries", false),
            ("*", "x", true),
            ("*", "", false),
            ("a*", "a", false),
            ("a*", "ab", true),
            ("*b*", "abc", true),
            ("*b*", "bc", false),
            ("", "", true),
            ("", "x", false),
            ("a*c", "abbbc", true),
            ("a*c", "ac", false),
        ];
        for (p, n, want) in rows {
            assert_eq!(glob_match(p, n), *want, "glob {p:?} against {n:?}");
        }
    }

    #[test]
    fn patterns_from_examples_table() {
        let rows: &[(&str, &[&str])] = &[
            ("my_app.repo.query", &["my_app.repo.query", "*.repo.query"]),
            ("logplex", &["logplex"]),
            ("ecto.query", &["ecto.query"]),
            ("a.b.c.d", &["a.b.c.d", "*.b.c.d"]),
        ];
        for (ex, want) in rows {
            assert_eq!(patterns_from_example(ex), *want, "example {ex:?}");
        }
    }

    const ROUTER: Claim<'static> = Claim {
        required_consts: &[("proc_id", "\"router\"")],
        name_patterns: &["logplex"],
    };
    const POSTGRES: Claim<'static> = Claim {
        required_consts: &[("proc_id", "\"heroku-postgres\"")],
        name_patterns: &["logplex"],
    };
    const ECTO: Claim<'static> = Claim {
        required_consts: &[],
        name_patterns: &["ecto.query", "my_app.repo.query", "*.repo.query"],
    };

    fn placed(claims: &[Claim<'_>], v: Value) -> Placed {
        let et = v["event_type"].as_str().unwrap_or("").to_owned();
        place(claims, &et, v.as_object().unwrap())
    }

    #[test]
    fn place_table() {
        let all = [ROUTER, POSTGRES, ECTO];
        let rows: Vec<(Value, Placed)> = vec![
            (
                json!({"event_type": "logplex", "proc_id": "router"}),
                Placed::One(0),
            ),
            (
                json!({"event_type": "logplex", "proc_id": "heroku-postgres"}),
                Placed::One(1),
            ),
            // Consts place the event whatever its name.
            (
                json!({"event_type": "other", "proc_id": "router"}),
                Placed::One(0),
            ),
            // A name claim counts only for schemas without required consts.
            (
                json!({"event_type": "logplex", "proc_id": "web.1"}),
                Placed::Nowhere,
            ),
            (json!({"event_type": "logplex"}), Placed::Nowhere),
            (json!({"event_type": "my_app.repo.query"}), Placed::One(2)),
            (json!({"event_type": "shop.repo.query"}), Placed::One(2)),
            (json!({"event_type": "ecto.query"}), Placed::One(2)),
            (json!({"event_type": "my_app.repo.insert"}), Placed::Nowhere),
            (json!({"event_type": "cache.miss"}), Placed::Nowhere),
        ];
        for (ev, want) in rows {
            assert_eq!(placed(&all, ev.clone()), want, "event {ev}");
        }
    }

    #[test]
    fn two_claims_of_one_kind_are_not_guessed() {
        let twice = [ECTO, ECTO];
        assert_eq!(
            placed(&twice, json!({"event_type": "x.repo.query"})),
            Placed::Ambiguous(vec![0, 1])
        );
        let routers = [ROUTER, ROUTER];
        assert_eq!(
            placed(
                &routers,
                json!({"event_type": "logplex", "proc_id": "router"})
            ),
            Placed::Ambiguous(vec![0, 1])
        );
    }

    #[test]
    fn consts_compare_as_json_schema_does() {
        let c = [Claim {
            required_consts: &[("v", "1")],
            name_patterns: &[],
        }];
        assert_eq!(
            placed(&c, json!({"event_type": "x", "v": 1.0})),
            Placed::One(0)
        );
        assert_eq!(
            placed(&c, json!({"event_type": "x", "v": "1"})),
            Placed::Nowhere
        );
    }
}
