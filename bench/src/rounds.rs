//! Interleaved repetitions: every round runs every peer once, in an order
//! shuffled afresh, so that drift (thermal, frequency, other load) spreads
//! over all peers instead of landing on whoever runs last.

use crate::stats::Row;

/// A named measurement: one call is one sample.
pub(crate) struct Contender<'a, M> {
    pub(crate) name: &'static str,
    run: Box<dyn FnMut() -> M + 'a>,
}

impl<M> Contender<'_, M> {
    /// One run, outside any round.
    pub(crate) fn call(&mut self) -> M {
        (self.run)()
    }
}

pub(crate) fn contender<'a, M>(
    name: &'static str,
    run: impl FnMut() -> M + 'a,
) -> Contender<'a, M> {
    Contender {
        name,
        run: Box::new(run),
    }
}

/// Runs one untimed warm-up round, then `rounds` rounds in shuffled
/// order; returns each contender's samples, in the contenders' order.
pub(crate) fn interleave<M>(
    rounds: usize,
    rng: &mut fastrand::Rng,
    contenders: &mut [Contender<'_, M>],
) -> Vec<(&'static str, Vec<M>)> {
    let mut order: Vec<usize> = (0..contenders.len()).collect();
    rng.shuffle(&mut order);
    for &i in &order {
        contenders[i].call();
    }
    let mut samples: Vec<Vec<M>> = contenders.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        rng.shuffle(&mut order);
        for &i in &order {
            samples[i].push(contenders[i].call());
        }
    }
    contenders.iter().map(|c| c.name).zip(samples).collect()
}

/// One row per contender, from scalar samples.
pub(crate) fn rows(samples: &[(&'static str, Vec<f64>)]) -> Vec<Row> {
    samples.iter().map(|(name, v)| Row::new(name, v)).collect()
}
