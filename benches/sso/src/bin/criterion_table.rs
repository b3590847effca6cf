//! Summarises criterion's results as one Markdown table: each benchmark's time per request with
//! its 95 % interval (the estimate criterion prints: the slope of its linear sampling, else the
//! mean), the requests per second that makes, and its ratio to `bare` of the same group (in the
//! comparison group, also to `tower_workos_sso`).
//!
//! ```text
//! cargo run -p tower-workos-sso-benches --bin criterion-table [-- CRITERION_DIR]
//! ```
//!
//! CRITERION_DIR defaults to `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else the
//! workspace's `target/criterion`, where `cargo bench` leaves each benchmark's latest
//! `new/estimates.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Groups in the order the benchmarks run them; others follow alphabetically.
const ORDER: [&str; 12] = [
    "public_anonymous",
    "public_with_session",
    "optional_anonymous",
    "optional_with_session",
    "auth_cookie",
    "auth_bearer",
    "auth_first_sight",
    "auth_renewal",
    "browser_redirect",
    "login_redirect",
    "callback",
    "compare_authenticated",
];

/// The crate's id in the comparison groups.
const CRATE: &str = "tower_workos_sso";

struct Row {
    id: String,
    mean: f64,
    lower: f64,
    upper: f64,
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("CRITERION_HOME").map(PathBuf::from))
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(|t| Path::new(&t).join("criterion")))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion"));
    let mut groups: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for bench in find(&dir, "benchmark.json") {
        let new = bench.parent().expect("a folder");
        let Some(estimates) = read(&new.join("estimates.json")) else {
            continue;
        };
        let Some(info) = read(&bench) else { continue };
        let text = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_owned();
        // What criterion prints as `time:`: the slope where it has one, else the mean.
        let mean = if estimates["slope"].is_object() {
            &estimates["slope"]
        } else {
            &estimates["mean"]
        };
        let number = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        groups
            .entry(text(&info, "group_id"))
            .or_default()
            .push(Row {
                id: text(&info, "function_id"),
                mean: number(&mean["point_estimate"]),
                lower: number(&mean["confidence_interval"]["lower_bound"]),
                upper: number(&mean["confidence_interval"]["upper_bound"]),
            });
    }
    if groups.is_empty() {
        eprintln!(
            "no criterion results under {} (run cargo bench first)",
            dir.display()
        );
        std::process::exit(1);
    }

    let mut names: Vec<String> = groups.keys().cloned().collect();
    names.sort_by_key(|name| {
        (
            ORDER.iter().position(|o| o == name).unwrap_or(ORDER.len()),
            name.clone(),
        )
    });
    println!("| group | target | time | 95 % interval | req/s | × bare | × {CRATE} |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for name in names {
        let rows = groups.get_mut(&name).expect("a group");
        rows.sort_by_key(|row| {
            let rank = ["bare", "noop_layer", "noop_body_layer", "sso", CRATE]
                .iter()
                .position(|id| *id == row.id)
                .unwrap_or(usize::MAX);
            (rank, row.id.clone())
        });
        let of = |id: &str| rows.iter().find(|row| row.id == id).map(|row| row.mean);
        let (bare, krate) = (of("bare"), of(CRATE));
        for row in rows.iter() {
            let ratio =
                |base: Option<f64>| base.map_or(String::new(), |b| format!("{:.2}", row.mean / b));
            println!(
                "| {name} | {} | {} | {} – {} | {:.0} | {} | {} |",
                row.id,
                duration(row.mean),
                duration(row.lower),
                duration(row.upper),
                1e9 / row.mean,
                ratio(bare),
                ratio(krate),
            );
        }
    }
}

fn duration(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn read(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Every `<dir>/…/new/<name>`: criterion's latest result of each benchmark.
fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "new") && path.join(name).is_file() {
                found.push(path.join(name));
            } else {
                found.extend(find(&path, name));
            }
        }
    }
    found
}
