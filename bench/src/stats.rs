//! Medians, and the tables the benchmark prints (as Markdown).

use std::fmt::Write as _;

/// Median, min and max of one peer's samples.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Summary {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl Summary {
    pub(crate) fn of(samples: &[f64]) -> Summary {
        assert!(!samples.is_empty(), "no samples to summarise");
        let mut v = samples.to_vec();
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Summary {
            median,
            min: v[0],
            max: v[v.len() - 1],
        }
    }
}

/// One peer's line in a table.
pub(crate) struct Row {
    pub(crate) name: &'static str,
    pub(crate) summary: Summary,
    /// A workload-specific column (efficiency, a note); may be empty.
    pub(crate) extra: String,
}

impl Row {
    pub(crate) fn new(name: &'static str, samples: &[f64]) -> Row {
        Row {
            name,
            summary: Summary::of(samples),
            extra: String::new(),
        }
    }
}

/// A workload's results: one row per peer, ratios against `base`.
pub(crate) struct Table {
    /// Short id used by the summary: "a", "c p50", ...
    pub(crate) key: &'static str,
    pub(crate) title: String,
    pub(crate) unit: &'static str,
    /// The row every median is divided by.
    pub(crate) base: &'static str,
    /// Header of the extra column; no such column when empty.
    pub(crate) extra_header: &'static str,
    pub(crate) rows: Vec<Row>,
    /// Printed under the table.
    pub(crate) notes: Vec<String>,
}

impl Table {
    pub(crate) fn new(key: &'static str, title: String, unit: &'static str) -> Table {
        Table {
            key,
            title,
            unit,
            base: crate::peers::HAND,
            extra_header: "",
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub(crate) fn median(&self, name: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.summary.median)
    }

    /// `name`'s median divided by the base row's median.
    pub(crate) fn ratio(&self, name: &str) -> Option<f64> {
        let base = self.median(self.base).filter(|&b| b != 0.0)?;
        Some(self.median(name)? / base)
    }

    pub(crate) fn render(&self) -> String {
        let mut s = format!("### {}\n\n", self.title);
        let extra = !self.extra_header.is_empty();
        let _ = write!(
            s,
            "| peer | median {u} | min {u} | max {u} | × {b} |",
            u = self.unit,
            b = self.base
        );
        if extra {
            let _ = write!(s, " {} |", self.extra_header);
        }
        s.push_str("\n|---|---:|---:|---:|---:|");
        if extra {
            s.push_str("---:|");
        }
        s.push('\n');
        for r in &self.rows {
            let ratio = self
                .ratio(r.name)
                .map_or("—".to_string(), |x| format!("{x:.2}"));
            let _ = write!(
                s,
                "| {} | {} | {} | {} | {} |",
                r.name,
                num(r.summary.median),
                num(r.summary.min),
                num(r.summary.max),
                ratio
            );
            if extra {
                let _ = write!(s, " {} |", r.extra);
            }
            s.push('\n');
        }
        for note in &self.notes {
            let _ = write!(s, "\n{note}\n");
        }
        s
    }
}

/// A number with as many decimals as its size deserves.
pub(crate) fn num(x: f64) -> String {
    let a = x.abs();
    if a >= 1000.0 || x.fract() == 0.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// `p`-th percentile (0..=100) of nanosecond samples, in µs; sorts `v`.
pub(crate) fn percentile_us(v: &mut [u64], p: usize) -> f64 {
    v.sort_unstable();
    let i = (v.len() * p / 100).min(v.len() - 1);
    v[i] as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let s = Summary::of(&[3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Summary::of(&[4.0, 1.0, 2.0, 3.0]).median, 2.5);
    }

    #[test]
    fn percentiles_pick_the_right_rank() {
        let mut v: Vec<u64> = (1..=100).rev().map(|x| x * 1000).collect();
        assert_eq!(percentile_us(&mut v, 50), 51.0);
        assert_eq!(percentile_us(&mut v, 99), 100.0);
    }
}
