//! Command-line settings: `--workers N`, `--quick`, `--only a,b`, `--seed S`,
//! and `--once PEER [--jobs N]`.

/// What to run and how big.
pub(crate) struct Config {
    /// Worker threads per pool (workload (d) always uses 4).
    pub(crate) workers: usize,
    /// Fewer rounds and smaller sizes: a smoke test, not a measurement.
    pub(crate) quick: bool,
    /// The workloads to run, by letter; all when `None`.
    pub(crate) only: Option<Vec<char>>,
    /// Seed of the generator that shuffles the peer order each round.
    pub(crate) seed: u64,
    /// Run only this peer of workload (a), once, with `jobs` jobs: for
    /// counting instructions per job (`bench/instructions.sh`).
    pub(crate) once: Option<String>,
    /// The job count of `once` (default 1,000,000).
    pub(crate) jobs: u64,
}

pub(crate) const WORKLOADS: &str = "abcdefgh";

const USAGE: &str = "\
usage: worklight-bench [--workers N] [--quick] [--only a,b,...] [--seed S]
       worklight-bench --once PEER [--jobs N] [--workers N]

  --workers N   worker threads per pool (default 2)
  --quick       fewer rounds and smaller sizes, for a smoke test
  --only LIST   run only these workloads (letters a-h, comma-separated)
  --seed S      seed for the per-round shuffle of the peer order (default 1)
  --once PEER   run one peer of workload (a) once, nothing else (no warm-up):
                for counting instructions per job, see bench/instructions.sh
  --jobs N      the job count of --once (default 1000000)";

impl Config {
    /// Parses the process arguments; `Err` holds the message to print.
    pub(crate) fn from_args() -> Result<Config, String> {
        let mut cfg = Config {
            workers: 2,
            quick: false,
            only: None,
            seed: 1,
            once: None,
            jobs: 1_000_000,
        };
        let mut jobs_given = false;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) => (f.to_string(), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or(format!("{name} needs a value\n{USAGE}"))
            };
            match flag.as_str() {
                "--workers" => cfg.workers = positive("--workers", &value("--workers")?)?,
                "--seed" => {
                    let v = value("--seed")?;
                    cfg.seed = v.parse().map_err(|_| format!("bad --seed {v:?}"))?;
                }
                "--only" => cfg.only = Some(parse_only(&value("--only")?)?),
                "--once" => cfg.once = Some(value("--once")?),
                "--jobs" => {
                    cfg.jobs = positive("--jobs", &value("--jobs")?)?;
                    jobs_given = true;
                }
                "--quick" => cfg.quick = true,
                "--bench" => {} // passed by `cargo bench`-style runners
                "-h" | "--help" => return Err(USAGE.to_string()),
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        if jobs_given && cfg.once.is_none() {
            return Err(format!("--jobs is the job count of --once\n{USAGE}"));
        }
        Ok(cfg)
    }

    /// Whether workload `key` was asked for.
    pub(crate) fn wants(&self, key: char) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(&key))
    }

    /// The number of measured rounds: `full`, or 2 with `--quick`.
    pub(crate) fn rounds(&self, full: usize) -> usize {
        if self.quick { 2 } else { full }
    }

    /// A workload size: `full`, or `quick` with `--quick`.
    pub(crate) fn size(&self, full: u64, quick: u64) -> u64 {
        if self.quick { quick } else { full }
    }

    /// A generator for workload `key`, the same whatever else runs.
    pub(crate) fn rng(&self, key: char) -> fastrand::Rng {
        fastrand::Rng::with_seed(self.seed ^ (u64::from(key) << 32))
    }
}

/// `v` as a number above zero, or the message for `flag`.
fn positive<N: std::str::FromStr + Default + PartialEq>(flag: &str, v: &str) -> Result<N, String> {
    v.parse()
        .ok()
        .filter(|n| *n != N::default())
        .ok_or(format!("{flag} wants a positive number, not {v:?}"))
}

fn parse_only(list: &str) -> Result<Vec<char>, String> {
    let keys: Vec<char> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if WORKLOADS.contains(c) => Ok(c),
                _ => Err(format!("--only wants letters from {WORKLOADS}, not {s:?}")),
            }
        })
        .collect::<Result<_, _>>()?;
    if keys.is_empty() {
        return Err("--only needs at least one workload letter".to_string());
    }
    Ok(keys)
}
