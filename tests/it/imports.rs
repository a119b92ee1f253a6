//! No import cycles between the crate's modules (issue 16): each module's `crate::…`
//! and `super::…` paths, outside comments and its `#[cfg(test)]` module, are its edges;
//! a module and its own ancestors or descendants do not count as a cycle.
//!
//! That alone misses a circle through a parent's own children (`report` → `report::pages`
//! → … → `report`), so the folders are checked too (issue 25, item 26): each folder of
//! `src/` imports only the layers below it (DESIGN.md, "Layout").

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`warehouse::delta::rewrite`) -> source text, for every file of `src/`.
fn modules() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("src/main.rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            out.insert(parts.join("::"), std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}

/// The code of a file without comments and without its test module.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path named after `crate::` or `super::` in `code`, made absolute, with
/// `{a, b::c}` groups expanded (one level per group, recursively).
fn paths(module: &str, code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (prefix, base) in [("crate::", String::new()), ("super::", parent(module))] {
        let mut rest = code;
        while let Some(i) = rest.find(prefix) {
            let preceded = rest[..i].chars().last();
            rest = &rest[i + prefix.len()..];
            if preceded.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut base = base.clone();
            let mut tail = rest;
            // `super::super::…`
            while prefix == "super::" && tail.starts_with("super::") {
                base = parent(&base);
                tail = &tail["super::".len()..];
            }
            expand(&base, tail, &mut out);
        }
    }
    out
}

/// The module `super` names from `module` (`a/b.rs` and `a/b/mod.rs` alike are `a::b`,
/// whose `super` is `a`).
fn parent(module: &str) -> String {
    match module.rfind("::") {
        Some(i) => module[..i].to_string(),
        None => String::new(),
    }
}

fn expand(base: &str, tail: &str, out: &mut Vec<String>) {
    let end = tail
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(tail.len());
    let path = tail[..end].trim_end_matches(':');
    let full = join(base, path);
    if tail[end..].starts_with('{') && tail[..end].ends_with("::") {
        let group = &tail[end + 1..];
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    expand(&full, group[start..i].trim(), out);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&full, group[start..i].trim(), out);
                    start = i + 1;
                }
                _ => {}
            }
        }
    } else if !full.is_empty() {
        out.push(full);
    }
}

fn join(base: &str, path: &str) -> String {
    match (base.is_empty(), path.is_empty()) {
        (true, _) => path.to_string(),
        (_, true) => base.to_string(),
        _ => format!("{base}::{path}"),
    }
}

/// The longest module that is a prefix of `path`.
fn resolve<'a>(path: &str, modules: &'a BTreeMap<String, String>) -> Option<&'a str> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find_map(|m| modules.get_key_value(&m).map(|(k, _)| k.as_str()))
}

fn related(a: &str, b: &str) -> bool {
    a == b || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::")) || b.is_empty()
}

fn edges(modules: &BTreeMap<String, String>) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (module, text) in modules {
        for path in paths(module, &code(text)) {
            if let Some(to) = resolve(&path, modules)
                && !related(module, to)
            {
                edges.entry(module.as_str()).or_default().insert(to);
            }
        }
    }
    edges
}

/// A cycle of `edges`, as the modules on it, if there is one.
fn find_cycle<'a>(edges: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Option<Vec<&'a str>> {
    fn visit<'a>(
        node: &'a str,
        edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(i) = path.iter().position(|n| *n == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node);
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|start| visit(start, edges, &mut Vec::new(), &mut done))
}

/// The folders of `src/` (and its top-level files), top layer first: each may import
/// only the ones after it. `report` renders what `pipeline` and `ops` hand it, so it sits
/// below them and imports only `model`.
const LAYERS: &[&str] = &[
    "cli",
    "samples",
    "ops",
    "config",
    "pipeline",
    "warehouse",
    "run",
    "io",
    "queries",
    "report",
    "model",
];

/// Leaf helpers any layer may use; they import nothing of the crate. The crate root
/// (`lib.rs`) counts as one: it re-exports `error`'s `Error` and `Result`.
const LEAVES: &[&str] = &["", "error", "failpoint", "hint"];

/// The folder (first path segment) a module belongs to.
fn folder(module: &str) -> &str {
    module.split("::").next().unwrap_or_default()
}

/// Whether the folder of `from` may import the folder of `to`.
fn allowed(from: &str, to: &str) -> bool {
    let rank = |f: &str| LAYERS.iter().position(|l| *l == f);
    match (folder(from), folder(to)) {
        (a, b) if a == b => true,
        (a, _) if LEAVES.contains(&a) => false,
        (_, b) if LEAVES.contains(&b) => true,
        (a, b) => matches!((rank(a), rank(b)), (Some(a), Some(b)) if a < b),
    }
}

/// Every edge from one folder to another that the layers do not allow, as
/// `from -> to` with the modules that make it.
fn layer_violations(edges: &BTreeMap<&str, BTreeSet<&str>>) -> Vec<String> {
    edges
        .iter()
        .flat_map(|(from, tos)| tos.iter().map(move |to| (*from, *to)))
        .filter(|(from, to)| !allowed(from, to))
        .map(|(from, to)| format!("{} -> {}: {from} -> {to}", folder(from), folder(to)))
        .collect()
}

/// The folder graph: an edge wherever a module of one folder imports another folder.
fn folder_edges<'a>(
    edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
) -> BTreeMap<&'a str, BTreeSet<&'a str>> {
    let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, tos) in edges {
        for to in tos {
            if folder(from) != folder(to) {
                out.entry(folder(from)).or_default().insert(folder(to));
            }
        }
    }
    out
}

#[test]
fn folders_import_only_the_layers_below_them() {
    let modules = modules();
    let folders: BTreeSet<&str> = modules.keys().map(|m| folder(m)).collect();
    let unplaced: Vec<&str> = folders
        .iter()
        .filter(|f| !LAYERS.contains(f) && !LEAVES.contains(f))
        .copied()
        .collect();
    assert!(unplaced.is_empty(), "folders in no layer: {unplaced:?}");
    let violations = layer_violations(&edges(&modules));
    assert!(
        violations.is_empty(),
        "imports against the layers ({}):\n{}",
        LAYERS.join(" -> "),
        violations.join("\n")
    );
}

#[test]
fn no_import_cycle_between_folders() {
    let modules = modules();
    if let Some(cycle) = find_cycle(&folder_edges(&edges(&modules))) {
        panic!("import cycle between folders: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_layer_check_finds_a_report_that_imports_an_operation() {
    let mut modules = BTreeMap::new();
    modules.insert("model".to_string(), "pub struct M;\n".to_string());
    modules.insert("error".to_string(), "pub struct E;\n".to_string());
    modules.insert(
        "report::daily".to_string(),
        "use crate::model::M;\nuse crate::error::E;\n".to_string(),
    );
    modules.insert(
        "ops::daily".to_string(),
        "use crate::report::daily;\n".to_string(),
    );
    assert!(layer_violations(&edges(&modules)).is_empty());
    assert_eq!(find_cycle(&folder_edges(&edges(&modules))), None);
    modules.insert(
        "report::pages".to_string(),
        "fn f() { crate::ops::daily::x() }\n".to_string(),
    );
    let edges = edges(&modules);
    assert_eq!(
        layer_violations(&edges),
        ["report -> ops: report::pages -> ops::daily"]
    );
    assert_eq!(
        find_cycle(&folder_edges(&edges)),
        Some(vec!["ops", "report", "ops"])
    );
    assert!(!allowed("error", "model"), "a leaf imports nothing");
}

#[test]
fn no_import_cycle_between_modules() {
    let modules = modules();
    assert!(
        modules.contains_key("warehouse::delta::rewrite"),
        "{:?}",
        modules.keys()
    );
    let edges = edges(&modules);
    if let Some(cycle) = find_cycle(&edges) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_checker_sees_grouped_imports_and_finds_a_planted_cycle() {
    let mut modules = BTreeMap::new();
    modules.insert("a".to_string(), "use crate::b::{x, c::y};\n".to_string());
    modules.insert(
        "b".to_string(),
        "// use crate::a;\npub fn x() {}\n".to_string(),
    );
    modules.insert(
        "b::c".to_string(),
        "fn y() { super::super::a::z() }\n".to_string(),
    );
    let edges = edges(&modules);
    assert_eq!(edges["a"], BTreeSet::from(["b", "b::c"]));
    assert_eq!(find_cycle(&edges), Some(vec!["a", "b::c", "a"]));
    modules.insert("b::c".to_string(), "fn y() {}\n".to_string());
    assert_eq!(find_cycle(&self::edges(&modules)), None);
}
