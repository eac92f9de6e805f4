//! The crate's architecture, checked: it reads `src/` and fails when a
//! module imports a higher layer, when anything outside `client` imports
//! `client`, when modules import each other (directly or around a cycle),
//! when a module names the crate root's re-exports instead of the module
//! that defines an item, when `unsafe` code stands outside the fast path
//! and the escaper, or when a module file does not open with a doc
//! comment. Each failure names the file, the line and the rule.
//!
//! An arrow is any `crate::` path in code (a `use` or an inline path) and
//! any `super::` path; comments, strings and `#[cfg(test)]` items do not
//! count. The generated types (in `OUT_DIR`) are checked too: they may use
//! only the layers up to `schema`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first: a module may use its own top-level module and
/// the layers below its own.
const LAYERS: &[(&str, u32)] = &[
    ("json", 0),
    ("error", 0),
    ("notice", 0),
    ("model", 1),
    ("encode", 2),
    ("schema", 3),
    ("pipeline", 4),
    ("transport", 5),
    ("core", 6),
    ("config", 7),
    ("client", 7),
    ("integrations", 7),
];

/// The files that may say `#[allow(unsafe_code)]` (on the declarations of
/// the modules below).
const UNSAFE_ALLOWERS: &[&str] = &["core/fast/mod.rs", "json/mod.rs"];

/// Where `unsafe` code may stand (a file, or a folder ending in `/`).
const UNSAFE_ALLOWED: &[&str] = &["core/fast/raw.rs", "json/escape.rs"];

/// The layer of the generated types.
const GENERATED_LAYER: u32 = 3;

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// A module file: its module path (`core::fast::slots`) and its text.
struct ModFile {
    module: String,
    rel: String,
    text: String,
}

fn module_files() -> Vec<ModFile> {
    module_files_in(&src_dir())
}

fn module_files_in(src: &Path) -> Vec<ModFile> {
    let src = src.to_path_buf();
    let mut out = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .expect("read src")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let rel = path
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "bin" || rel.starts_with("bin/") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if rel.ends_with(".rs") {
                let mut parts: Vec<&str> = rel.trim_end_matches(".rs").split('/').collect();
                if matches!(parts.last(), Some(&"mod") | Some(&"lib")) {
                    parts.pop();
                }
                out.push(ModFile {
                    module: parts.join("::"),
                    text: std::fs::read_to_string(&path).expect("read file"),
                    rel,
                });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

/// `text` with comments, strings and character literals blanked (newlines
/// kept, so line numbers stay), and `#[cfg(test)]` items removed.
fn code_only(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && (!ident_char_before(&b, i) || (b[i - 1] == 'b' && !ident_char_before(&b, i - 1)))
        {
            // A raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|h| b.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push('"');
            for &ch in &b[i + 1..j.min(b.len()) - 1] {
                out.push(blank(ch));
            }
            out.push('"');
            i = j;
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < b.len() {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if c == '\'' {
            // A character literal ('a', '\n', '\u{..}') or a lifetime.
            if next == Some('\\') {
                let mut j = i + 2;
                while j < b.len() && b[j] != '\'' {
                    j += 1;
                }
                out.push_str(&" ".repeat(j + 1 - i));
                i = j + 1;
            } else if b.get(i + 2) == Some(&'\'') {
                out.push_str("   ");
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    remove_test_items(&out)
}

fn ident_char_before(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

/// Blanks every item marked `#[cfg(test)]` (up to its closing brace or
/// semicolon).
fn remove_test_items(code: &str) -> String {
    let mut b: Vec<char> = code.chars().collect();
    let pat: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i + pat.len() <= b.len() {
        if b[i..i + pat.len()] != pat[..] {
            i += 1;
            continue;
        }
        let mut j = i + pat.len();
        let mut depth = 0i32;
        while j < b.len() {
            match b[j] {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        j += 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    j += 1;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        for ch in &mut b[i..j.min(code.len())] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        i = j;
    }
    b.into_iter().collect()
}

/// One path found in code: where, and its segments after `crate::` (or
/// the module `super::` names).
struct Arrow {
    line: usize,
    segments: Vec<String>,
}

fn line_of(code: &str, byte: usize) -> usize {
    code[..byte].matches('\n').count() + 1
}

/// Expands a `use` tree (`a::{b, c::{d, e as f}}`) into paths.
fn expand_use(tree: &str) -> Vec<String> {
    let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    fn go(prefix: &str, tree: &str, out: &mut Vec<String>) {
        let tree = tree.trim();
        if let Some(open) = tree.find('{') {
            let head = tree[..open].trim().trim_end_matches("::");
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let base = join(prefix, head);
            let mut depth = 0;
            let mut start = 0;
            for (k, ch) in inner.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        go(&base, &inner[start..k], out);
                        start = k + 1;
                    }
                    _ => {}
                }
            }
            go(&base, &inner[start..], out);
        } else {
            let path = tree.split(" as ").next().unwrap_or("").trim();
            if !path.is_empty() {
                out.push(join(prefix, path));
            }
        }
    }
    fn join(a: &str, b: &str) -> String {
        match (a.is_empty(), b.is_empty()) {
            (true, _) => b.to_owned(),
            (_, true) => a.to_owned(),
            _ => format!("{a}::{b}"),
        }
    }
    let mut out = Vec::new();
    go("", &tree, &mut out);
    out
}

/// The child modules a file declares (`mod name;`).
fn declared_children(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in code.lines() {
        let t = line.trim();
        let t = t
            .strip_prefix("pub(crate) ")
            .or_else(|| t.strip_prefix("pub(super) "))
            .or_else(|| t.strip_prefix("pub "))
            .unwrap_or(t);
        if let Some(name) = t.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
            out.push(name.trim().to_owned());
        }
    }
    out
}

/// The inline modules of a file (`mod name { ... }`): their byte ranges
/// and names.
fn inline_modules(code: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut search = 0;
    while let Some(k) = code[search..].find("mod ") {
        let pos = search + k;
        search = pos + 4;
        if pos > 0
            && code[..pos]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let rest = &code[pos + 4..];
        let name_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let after = rest[name_len..].trim_start();
        if name_len == 0 || !after.starts_with('{') {
            continue;
        }
        let open = pos + 4 + name_len + (rest[name_len..].len() - after.len());
        let mut depth = 0;
        let mut close = code.len();
        for (j, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = open + j;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push((open, close, rest[..name_len].to_owned()));
    }
    out
}

/// The arrows of one file's code.
fn arrows(code: &str, file_module: &str) -> Vec<Arrow> {
    let inline = inline_modules(code);
    // The module a position is in: the file's, and the inline modules
    // around it (so `super::` inside `mod sse2 { .. }` names the file's
    // module).
    let module_at = |pos: usize| -> String {
        let mut m: Vec<&str> = file_module.split("::").filter(|s| !s.is_empty()).collect();
        for (o, c, name) in &inline {
            if *o < pos && pos < *c {
                m.push(name);
            }
        }
        m.join("::")
    };
    let children = declared_children(code);
    let mut out = Vec::new();
    let child_path = |segs: &[String]| -> Option<Vec<String>> {
        let first = segs.first()?;
        children.contains(first).then(|| {
            file_module
                .split("::")
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .chain(segs.iter().cloned())
                .collect()
        })
    };
    let chars: Vec<(usize, char)> = code.char_indices().collect();
    let word_at = |pos: usize, word: &str| -> bool {
        code[pos..].starts_with(word)
            && (pos == 0
                || !code[..pos]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':'))
    };
    // `use` statements (their trees may span lines).
    let mut in_use = vec![false; code.len() + 1];
    for &(pos, _) in &chars {
        if !word_at(pos, "use ") {
            continue;
        }
        let Some(end) = code[pos..].find(';').map(|e| pos + e) else {
            continue;
        };
        for flag in &mut in_use[pos..end] {
            *flag = true;
        }
        let tree = &code[pos + 4..end];
        for path in expand_use(tree) {
            let segs: Vec<String> = path.split("::").map(str::to_owned).collect();
            let resolved = resolve_relative(&segs, &module_at(pos)).or_else(|| child_path(&segs));
            if let Some(a) = resolved {
                out.push(Arrow {
                    line: line_of(code, pos),
                    segments: a,
                });
            }
        }
    }
    // Inline paths.
    for &(pos, _) in &chars {
        if in_use[pos] {
            continue;
        }
        let child_heads: Vec<String> = children.iter().map(|c| format!("{c}::")).collect();
        let heads = ["crate::".to_owned(), "super::".to_owned()];
        for head in heads.iter().chain(&child_heads) {
            if !word_at(pos, head) {
                continue;
            }
            let rest = &code[pos..];
            let len = rest
                .char_indices()
                .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(rest.len(), |(k, _)| k);
            let segs: Vec<String> = rest[..len]
                .trim_end_matches(':')
                .split("::")
                .map(str::to_owned)
                .collect();
            let resolved = resolve_relative(&segs, &module_at(pos)).or_else(|| child_path(&segs));
            if let Some(a) = resolved {
                out.push(Arrow {
                    line: line_of(code, pos),
                    segments: a,
                });
            }
        }
    }
    out
}

/// A path as segments from the crate root (`None` for paths outside the
/// crate: `std::`, another crate).
fn resolve_relative(segs: &[String], module: &str) -> Option<Vec<String>> {
    let mut here: Vec<String> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").map(str::to_owned).collect()
    };
    let mut rest = segs;
    match rest.first().map(String::as_str) {
        Some("crate") => return Some(rest[1..].to_vec()),
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                here.pop();
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    Some(here.into_iter().chain(rest.iter().cloned()).collect())
}

/// The crate root's re-exports: `name` (or `inline_module::name`) to the
/// path it re-exports.
fn root_reexports(root_code: &str) -> BTreeMap<String, Vec<String>> {
    let mut map = BTreeMap::new();
    // Inline modules of the root (`pub mod transmission { ... }`).
    let scopes = inline_modules(root_code);
    let mut search = 0;
    while let Some(k) = root_code[search..].find("pub use ") {
        let pos = search + k;
        let end = pos + root_code[pos..].find(';').unwrap_or(0);
        let scope = scopes
            .iter()
            .find(|(o, c, _)| *o < pos && pos < *c)
            .map(|(_, _, n)| n.clone());
        for path in expand_use(&root_code[pos + 8..end]) {
            let segs: Vec<String> = path.split("::").map(str::to_owned).collect();
            let Some(target) = resolve_relative(&segs, "") else {
                continue;
            };
            let Some(name) = target.last().cloned() else {
                continue;
            };
            if name == "*" {
                continue;
            }
            let key = match &scope {
                Some(s) => format!("{s}::{name}"),
                None => name,
            };
            map.insert(key, target);
        }
        search = end.max(pos + 1);
    }
    map
}

/// The module file a path points into: its longest prefix that is a module.
fn target_module(segs: &[String], modules: &BTreeSet<String>) -> Option<String> {
    (1..=segs.len())
        .rev()
        .map(|n| segs[..n].join("::"))
        .find(|m| modules.contains(m))
}

fn layer_of(module: &str) -> Option<u32> {
    let top = module.split("::").next().unwrap_or("");
    LAYERS.iter().find(|(n, _)| *n == top).map(|&(_, l)| l)
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or("")
}

/// Checks one arrow; returns the broken rule, if any.
fn check_arrow(from: &str, to: &str) -> Option<String> {
    if to.is_empty() {
        return Some(
            "names the crate root (a re-export or a root module): use the path of the module \
             that defines the item"
                .into(),
        );
    }
    if top(to) == "client" && top(from) != "client" {
        return Some(format!(
            "imports `{to}`: nothing outside `client` imports `client`"
        ));
    }
    let (Some(lf), Some(lt)) = (layer_of(from), layer_of(to)) else {
        return Some(format!(
            "`{from}` or `{to}` has no layer: add its top-level module to LAYERS in tests/layers.rs"
        ));
    };
    if top(from) != top(to) && lt > lf {
        return Some(format!(
            "imports `{to}` (layer {lt}) from layer {lf}: a module uses only its own layer \
             and the layers below it"
        ));
    }
    None
}

/// Strongly connected sets of more than one module.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        idx: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        on: BTreeSet<String>,
        stack: Vec<String>,
        out: Vec<Vec<String>>,
        n: usize,
    }
    fn visit(t: &mut T<'_>, v: &str) {
        t.idx.insert(v.to_owned(), t.n);
        t.low.insert(v.to_owned(), t.n);
        t.n += 1;
        t.stack.push(v.to_owned());
        t.on.insert(v.to_owned());
        let next: Vec<String> = t.edges.get(v).into_iter().flatten().cloned().collect();
        for w in next {
            if !t.idx.contains_key(&w) {
                visit(t, &w);
                let lw = t.low[&w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.on.contains(&w) {
                let iw = t.idx[&w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.idx[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(&w);
                let done = w == v;
                comp.push(w);
                if done {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        edges,
        idx: BTreeMap::new(),
        low: BTreeMap::new(),
        on: BTreeSet::new(),
        stack: Vec::new(),
        out: Vec::new(),
        n: 0,
    };
    for v in edges.keys() {
        if !t.idx.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// Every arrow of the crate's module files: (file, line, from, to).
fn all_arrows(files: &[ModFile]) -> Vec<(String, usize, String, String)> {
    let modules: BTreeSet<String> = files.iter().map(|f| f.module.clone()).collect();
    let mut out = Vec::new();
    for f in files {
        if f.module.is_empty() {
            continue; // the root is the facade: it may name every module
        }
        let code = code_only(&f.text);
        for a in arrows(&code, &f.module) {
            let segs = a.segments;
            // Anything at the root that is not a module of its own: a
            // re-export, a glob (`crate::*`), an inline module of `lib.rs`.
            let through_root = segs.first().is_some_and(|s| !modules.contains(s.as_str()));
            if through_root {
                out.push((f.rel.clone(), a.line, f.module.clone(), String::new()));
                continue;
            }
            if let Some(t) = target_module(&segs, &modules) {
                if t != f.module {
                    out.push((f.rel.clone(), a.line, f.module.clone(), t));
                }
            }
        }
    }
    out
}

fn layer_failures(src: &Path) -> Vec<String> {
    let files = module_files_in(src);
    let mut failures = Vec::new();
    for (file, line, from, to) in all_arrows(&files) {
        if let Some(rule) = check_arrow(&from, &to) {
            failures.push(format!("src/{file}:{line}: `{from}` {rule}"));
        }
    }
    failures
}

#[test]
fn dependencies_point_down_the_layers() {
    assert_clean(layer_failures(&src_dir()));
}

#[test]
fn no_two_modules_import_each_other() {
    assert_clean(cycle_failures(&src_dir()));
}

fn cycle_failures(src: &Path) -> Vec<String> {
    let files = module_files_in(src);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut first_line: BTreeMap<(String, String), (String, usize)> = BTreeMap::new();
    for f in &files {
        edges.entry(f.module.clone()).or_default();
    }
    for (file, line, from, to) in all_arrows(&files) {
        if to.is_empty() {
            continue;
        }
        edges.entry(from.clone()).or_default().insert(to.clone());
        first_line.entry((from, to)).or_insert((file, line));
    }
    let mut failures = Vec::new();
    for comp in cycles(&edges) {
        let set: BTreeSet<&String> = comp.iter().collect();
        let mut lines = Vec::new();
        for from in &comp {
            for to in &edges[from] {
                if set.contains(to) {
                    let (file, line) = &first_line[&(from.clone(), to.clone())];
                    lines.push(format!("  src/{file}:{line}: `{from}` imports `{to}`"));
                }
            }
        }
        failures.push(format!(
            "modules import each other (a cycle): {}\n{}",
            comp.join(", "),
            lines.join("\n")
        ));
    }
    failures
}

#[test]
fn unsafe_code_stays_in_the_fast_path_and_the_escaper() {
    assert_clean(unsafe_failures(&src_dir()));
}

fn unsafe_failures(src: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    for f in module_files_in(src) {
        let code = code_only(&f.text);
        if code.contains("allow(unsafe_code)") && !UNSAFE_ALLOWERS.contains(&f.rel.as_str()) {
            failures.push(format!(
                "src/{}: `allow(unsafe_code)` outside {UNSAFE_ALLOWERS:?}: unsafe code stays in the fast path and the escaper",
                f.rel
            ));
        }
        let allowed = UNSAFE_ALLOWED.iter().any(|a| {
            if a.ends_with('/') {
                f.rel.starts_with(a)
            } else {
                f.rel == *a
            }
        });
        if allowed {
            continue;
        }
        for (n, line) in code.lines().enumerate() {
            let t = line.trim_start();
            let has = [
                "unsafe {",
                "unsafe fn",
                "unsafe impl",
                "unsafe extern",
                "unsafe trait",
                "unsafe(",
            ]
            .iter()
            .any(|p| line.contains(p))
                || t.starts_with("unsafe ");
            if has {
                failures.push(format!(
                    "src/{}:{}: `unsafe` outside {:?}: move it into `core::fast::raw` behind a safe interface",
                    f.rel,
                    n + 1,
                    UNSAFE_ALLOWED
                ));
            }
        }
    }
    let root = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    if !root.contains("#![deny(unsafe_code)]") {
        failures.push("src/lib.rs:1: the crate root must say #![deny(unsafe_code)]".into());
    }
    if !root.contains("#![deny(clippy::undocumented_unsafe_blocks)]") {
        failures.push(
            "src/lib.rs:1: the crate root must deny clippy::undocumented_unsafe_blocks".into(),
        );
    }
    failures
}

#[test]
fn every_module_opens_with_a_doc_comment() {
    assert_clean(doc_failures(&src_dir()));
}

fn doc_failures(src: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    for f in module_files_in(src) {
        let first = f.text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if !first.starts_with("//!") {
            failures.push(format!(
                "src/{}:1: a module opens with a `//!` doc comment that says what it holds and \
                 what it may use",
                f.rel
            ));
        }
    }
    failures
}

/// The generated types use only the layers up to `schema`.
#[test]
fn generated_code_uses_only_the_layers_below_the_client() {
    let generated = Path::new(env!("OUT_DIR")).join("insights_events_generated.rs");
    let text = std::fs::read_to_string(&generated).expect("generated file");
    let files = module_files();
    let modules: BTreeSet<String> = files.iter().map(|f| f.module.clone()).collect();
    let root = files
        .iter()
        .find(|f| f.module.is_empty())
        .expect("src/lib.rs");
    let reexports = root_reexports(&code_only(&root.text));
    let code = code_only(&text);
    let mut failures = Vec::new();
    let mut seen = 0;
    for a in arrows(&code, "schema::generated") {
        let segs = &a.segments;
        let origin = reexports
            .get(&segs[0])
            .or_else(|| {
                segs.get(1)
                    .and_then(|s| reexports.get(&format!("{}::{s}", segs[0])))
            })
            .cloned()
            .unwrap_or_else(|| segs.clone());
        let Some(t) = target_module(&origin, &modules) else {
            continue;
        };
        seen += 1;
        let layer = layer_of(&t).unwrap_or(u32::MAX);
        if layer > GENERATED_LAYER {
            failures.push(format!(
                "{}:{}: generated code names `{}` (module `{t}`, layer {layer}): generated types \
                 use only layers up to {GENERATED_LAYER}",
                generated.display(),
                a.line,
                segs.join("::")
            ));
        }
    }
    assert!(seen > 0, "no runtime path found in the generated file");
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// Fails with every failure, one per line.
fn assert_clean(failures: Vec<String>) {
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// The checker itself: each rule catches what it is for.
#[test]
fn the_checker_catches_each_rule() {
    assert!(check_arrow("model::event", "client::handle").is_some());
    assert!(check_arrow("core::worker", "config").is_some());
    assert!(check_arrow("model::event", "encode::batch").is_some());
    assert!(check_arrow("transport::http", "core::stats").is_some());
    assert!(check_arrow("core::worker", "").is_some());
    assert!(check_arrow("core::worker", "core::shared").is_none());
    assert!(check_arrow("client::handle", "core::handle").is_none());
    assert!(check_arrow("json::compact", "error").is_none());
    assert!(check_arrow("nowhere", "model").is_some());

    let code = code_only(
        "use crate::a::{b, c::{d, e as f}};\n// crate::x::y\nlet s = \"crate::q\";\nlet c = '\"';\nsuper::z::w();\n#[cfg(test)]\nmod tests { use crate::t; }\n",
    );
    let found: Vec<(usize, String)> = arrows(&code, "m::n")
        .into_iter()
        .map(|a| (a.line, a.segments.join("::")))
        .collect();
    assert_eq!(
        found,
        vec![
            (1, "a::b".to_owned()),
            (1, "a::c::d".to_owned()),
            (1, "a::c::e".to_owned()),
            (5, "m::z::w".to_owned()),
        ]
    );

    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    edges.entry("c".into()).or_default().insert("a".into());
    edges.entry("d".into()).or_default().insert("a".into());
    assert_eq!(cycles(&edges), vec![vec!["a", "b", "c"]]);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read") {
        let p = e.expect("entry").path();
        let dest = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).expect("read");
    std::fs::write(path, f(text)).expect("write");
}

/// A copy of `src/` with one break of each rule: every check finds its
/// break, at the right file and line, and nothing else.
#[test]
fn each_check_fails_on_a_copy_of_src_that_breaks_its_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("src");
    copy_tree(&src_dir(), &copy);
    assert!(layer_failures(&copy).is_empty());
    assert!(cycle_failures(&copy).is_empty());

    // Up a layer, and through the root's re-exports.
    edit(&copy.join("model/response.rs"), |t| {
        format!(
            "{t}\nuse crate::core::stats::Counter;\nfn f() {{ let _ = crate::Config::new(); }}\n"
        )
    });
    let lines = std::fs::read_to_string(copy.join("model/response.rs"))
        .expect("read")
        .lines()
        .count();
    let f = layer_failures(&copy);
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f[0].starts_with(&format!("src/model/response.rs:{}: `model::response` imports `core::stats` (layer 6) from layer 1", lines - 1)), "{f:#?}");
    assert!(
        f[1].starts_with(&format!(
            "src/model/response.rs:{lines}: `model::response` names the crate root"
        )),
        "{f:#?}"
    );

    // Two modules of one layer that import each other.
    edit(&copy.join("core/stats.rs"), |t| {
        format!("{t}\nuse super::shared::Shared;\n")
    });
    let f = cycle_failures(&copy);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].contains("core::shared, core::stats"), "{f:#?}");
    assert!(f[0].contains("src/core/stats.rs:"), "{f:#?}");

    // Anything outside `client` that imports it.
    edit(&copy.join("config.rs"), |t| {
        format!("{t}\nuse crate::client::handle::Client;\n")
    });
    assert!(layer_failures(&copy)
        .iter()
        .any(|l| l.starts_with("src/config.rs:")
            && l.contains("nothing outside `client` imports `client`")));

    // `unsafe` outside the fast path.
    assert!(unsafe_failures(&copy).is_empty());
    edit(&copy.join("encode/batch.rs"), |t| {
        format!("{t}\nfn g() {{ unsafe {{ }} }}\n")
    });
    let f = unsafe_failures(&copy);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].starts_with("src/encode/batch.rs:"), "{f:#?}");

    // A module without its doc comment.
    assert!(doc_failures(&copy).is_empty());
    edit(&copy.join("core/settings.rs"), |t| t.replace("//!", "//"));
    assert_eq!(doc_failures(&copy), vec![doc_failures(&copy)[0].clone()]);
    assert!(doc_failures(&copy)[0].starts_with("src/core/settings.rs:1:"));
}
