//! The closing summary: every peer's median as a ratio to its table's
//! base, and worklight's targets, each marked met or missed.

use std::fmt::Write as _;

use crate::peers;
use crate::stats::Table;

const COLUMNS: [&str; 11] = [
    peers::WORKLIGHT,
    peers::WORKLIGHT_ALL,
    peers::WORKLIGHT_DATA,
    peers::WORKLIGHT_SCOPED,
    peers::HAND,
    peers::HAND_DATA,
    peers::THREADPOOL,
    peers::RAYON_SPAWN,
    peers::RAYON_SCOPE,
    peers::RUSTY,
    peers::STD_SCOPE,
];

/// A Markdown table: one line per table, one column per peer.
pub(crate) fn ratios(tables: &[Table]) -> String {
    let mut s =
        String::from("### Ratios of medians (each table's base = 1.00)\n\n| table | base |");
    for c in COLUMNS {
        let _ = write!(s, " {c} |");
    }
    s.push_str("\n|---|---|");
    s.push_str(&"---:|".repeat(COLUMNS.len()));
    s.push('\n');
    // Tables of peers only: a breakdown by phase has no peer columns.
    let of_peers = |t: &&Table| t.rows.iter().any(|r| COLUMNS.contains(&r.name));
    for t in tables
        .iter()
        .filter(|t| t.median(t.base).is_some_and(|b| b > 0.0))
        .filter(of_peers)
    {
        let _ = write!(s, "| {} | {} |", t.key, t.base);
        for c in COLUMNS {
            let cell = t.ratio(c).map_or("—".to_string(), |r| format!("{r:.2}"));
            let _ = write!(s, " {cell} |");
        }
        s.push('\n');
    }
    s
}

fn find<'t>(tables: &'t [Table], key: &str) -> Option<&'t Table> {
    tables.iter().find(|t| t.key == key)
}

fn verdict(met: bool) -> &'static str {
    if met { "MET" } else { "MISSED" }
}

/// worklight's targets, as ratios of medians from this run.
pub(crate) fn targets(tables: &[Table], workers: usize) -> String {
    let mut lines = Vec::new();
    let wl = peers::WORKLIGHT;
    if let Some(t) = find(tables, "a") {
        let r = t.ratio(wl).unwrap_or(f64::NAN);
        let mine = t.median(wl).unwrap_or(f64::NAN);
        // The hand-rolled pools are the floors, not peers.
        let others = t
            .rows
            .iter()
            .filter(|r| !r.name.starts_with(wl) && !r.name.starts_with(peers::HAND));
        let behind: Vec<&str> = others
            .filter(|r| r.summary.median <= mine)
            .map(|r| r.name)
            .collect();
        lines.push(format!(
            "(a) ≤ 0.80× hand-rolled: {r:.2}× — {}",
            verdict(r <= 0.8)
        ));
        lines.push(format!(
            "(a) ahead of every other peer: {} — {}",
            if behind.is_empty() {
                "yes".to_string()
            } else {
                format!("no, behind {}", behind.join(", "))
            },
            verdict(behind.is_empty())
        ));
        let data = t.median(peers::WORKLIGHT_DATA).unwrap_or(f64::NAN)
            / t.median(peers::HAND_DATA).unwrap_or(f64::NAN);
        lines.push(format!(
            "(a) data jobs against their own floor (not a target): worklight data {data:.2}× \
             hand-rolled data"
        ));
    }
    if let Some(t) = find(tables, "b") {
        let eff = t.median(peers::SERIAL).unwrap_or(f64::NAN)
            / t.median(wl).unwrap_or(f64::NAN)
            / workers as f64;
        let ceiling = t.median(peers::SERIAL).unwrap_or(f64::NAN)
            / t.median(peers::BARE).unwrap_or(f64::NAN)
            / workers as f64;
        lines.push(format!(
            "(b) ≥ 99% of ideal: {:.1}% — {} (bare threads claiming jobs from an atomic \
             counter, no pool: {:.1}%)",
            eff * 100.0,
            verdict(eff >= 0.99),
            ceiling * 100.0
        ));
    }
    if let Some(t) = find(tables, "c p50") {
        let r = t.median(wl).unwrap_or(f64::NAN) / t.median(peers::RUSTY).unwrap_or(f64::NAN);
        lines.push(format!(
            "(c) p50 no worse than rusty_pool: {r:.2}× rusty_pool's — {}",
            verdict(r <= 1.0)
        ));
    }
    if let Some(t) = find(tables, "d") {
        let r = t.ratio(wl).unwrap_or(f64::NAN);
        let named = t.ratio(peers::BARE_NAMED).unwrap_or(f64::NAN);
        let floor = t.ratio(peers::POLLING_FLOOR).unwrap_or(f64::NAN);
        lines.push(format!(
            "(d) ≤ 1.05× bare threads: {r:.2}× — {} (named bare threads: {named:.2}×; \
             polling floor: {floor:.2}×)",
            verdict(r <= 1.05)
        ));
    }
    if let Some(t) = find(tables, "e") {
        let r = t.ratio(wl).unwrap_or(f64::NAN);
        lines.push(format!(
            "(e) ≤ 0.80× hand-rolled: {r:.2}× — {}",
            verdict(r <= 0.8)
        ));
    }
    if let Some(t) = find(tables, "g idle") {
        match t.median(wl) {
            Some(n) => lines.push(format!(
                "(g) an idle pool wakes up zero times: {n} — {}",
                verdict(n == 0.0)
            )),
            None => lines.push("(g) idle wake-ups: not measured".to_string()),
        }
    }
    let mut s = String::from("### Targets\n\n");
    for l in lines {
        let _ = writeln!(s, "- {l}");
    }
    s
}
