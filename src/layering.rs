//! Keeps the module map honest: no import cycles, no hub files.

use std::path::Path;

/// Every module of `src/`, lowest layer first. A module may use only modules before it.
#[rustfmt::skip] // Kept compact: rustfmt would give each name a line of its own.
const LAYERS: &[&str] = &[
    "time", "telemetry", "limit", "path", "crypto", "secret", "cookie", "body", "claims", "session_info", "shared_str", "profile", "selector", "store",
    "pages", "response", "tenant", "domains", "token", "authorization", "config", "session",
    "revocation", "webhook", "flow", "client", "policy", "admission", "directory", "core", "routes",
    "future", "service", "layer", "guard", "extract", "extract_tenant", "testkit",
];

/// The longest a source file may grow before it wants splitting.
const MAX_LINES: usize = 600;

/// `src/a/b.rs` and `src/a/mod.rs` belong to module `a`.
fn module_of(relative: &Path) -> String {
    let first = relative.components().next().unwrap();
    let name = first.as_os_str().to_str().unwrap();
    name.trim_end_matches(".rs").to_owned()
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's code without its tests and comments: tests may use any module (they sit beside
/// the code they drive), and comments and doc links name modules without using them.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate modules a file's code (not its comments and doc links) names through `crate::x`.
fn crate_paths(text: &str) -> Vec<String> {
    let code = code_of(text);
    let text = code.as_str();
    let mut used = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        used.push(name);
    }
    // `use crate::{a, b::c}` names several at once.
    let mut rest = text;
    while let Some(at) = rest.find("crate::{") {
        rest = &rest[at + "crate::{".len()..];
        let group = &rest[..rest.find('}').unwrap_or(rest.len())];
        for item in group.split(',') {
            let name: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            used.push(name);
        }
    }
    used
}

#[test]
fn each_module_uses_only_modules_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let root_items = [
        "Selector",
        "SsoConfig",
        "SsoConfigBuilder",
        "Profile",
        "Session",
    ];
    let mut broken = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = module_of(relative);
        // A module's tests in a file of their own may use any module, as inline tests do.
        let tests = relative.file_name().is_some_and(|name| name == "tests.rs");
        if tests || matches!(module.as_str(), "lib" | "layering" | "fuzz_bridge") {
            continue;
        }
        let own = LAYERS
            .iter()
            .position(|m| *m == module)
            .unwrap_or_else(|| panic!("{} is not in LAYERS", relative.display()));
        let text = std::fs::read_to_string(&file).unwrap();
        for used in crate_paths(&text) {
            if used.is_empty() || used == module || root_items.contains(&used.as_str()) {
                continue;
            }
            match LAYERS.iter().position(|m| *m == used) {
                Some(layer) if layer < own => {}
                _ => broken.push(format!("{} uses crate::{used}", relative.display())),
            }
        }
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn no_source_file_is_a_hub() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let long: Vec<_> = files
        .iter()
        .map(|f| (f, std::fs::read_to_string(f).unwrap().lines().count()))
        .filter(|(_, lines)| *lines > MAX_LINES)
        .map(|(f, lines)| format!("{}: {lines} lines", f.display()))
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

/// The sibling files of `dir` (`a.rs` or `a/`) that the code of `text` names: `super::a`,
/// `super::{a, ..}`, or `crate::<module>::a` for the module `dir` is.
fn siblings_used(text: &str, module_path: &str, siblings: &[String]) -> Vec<String> {
    let code = code_of(text);
    let mut names = Vec::new();
    let word = |rest: &str| -> String {
        rest.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let own = format!("crate::{module_path}::");
    for prefix in ["super::", own.as_str()] {
        let mut rest = code.as_str();
        while let Some(at) = rest.find(prefix) {
            rest = &rest[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                names.extend(group.split(',').map(|item| word(item.trim())));
            } else {
                names.push(word(rest));
            }
        }
    }
    names.retain(|name| siblings.contains(name));
    names.sort();
    names.dedup();
    names
}

/// Within every module folder, the files use each other without a cycle (the folder's
/// `mod.rs` may use its files, and they its items: it is their parent, not a sibling).
#[test]
fn no_files_of_a_module_use_each_other_in_a_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut folders = vec![src.clone()];
    let mut cycles = Vec::new();
    while let Some(dir) = folders.pop() {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            if path.is_dir() {
                folders.push(path.clone());
                files.push((name, path.join("mod.rs")));
            } else if path.extension().is_some_and(|e| e == "rs")
                && !matches!(name.as_str(), "mod" | "tests" | "lib")
            {
                files.push((name, path));
            }
        }
        if dir == src {
            continue; // Modules of the crate root: `each_module_uses_only_modules_below_it`.
        }
        let module_path = dir
            .strip_prefix(&src)
            .unwrap()
            .to_str()
            .unwrap()
            .replace('/', "::");
        let names: Vec<String> = files.iter().map(|(name, _)| name.clone()).collect();
        let edges: Vec<(String, Vec<String>)> = files
            .iter()
            .map(|(name, path)| {
                let text = std::fs::read_to_string(path).unwrap_or_default();
                let used = siblings_used(&text, &module_path, &names);
                (
                    name.clone(),
                    used.into_iter().filter(|u| u != name).collect(),
                )
            })
            .collect();
        // Depth-first search for a path back to where it started.
        let uses = |name: &str| {
            edges
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, u)| u.clone())
        };
        for (start, _) in &edges {
            let mut stack = vec![(start.clone(), vec![start.clone()])];
            let mut seen = Vec::new();
            while let Some((at, trail)) = stack.pop() {
                for next in uses(&at).unwrap_or_default() {
                    if next == *start {
                        cycles.push(format!("{module_path}: {} -> {start}", trail.join(" -> ")));
                    } else if !seen.contains(&next) {
                        seen.push(next.clone());
                        let mut longer = trail.clone();
                        longer.push(next.clone());
                        stack.push((next, longer));
                    }
                }
            }
        }
    }
    cycles.sort();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}
