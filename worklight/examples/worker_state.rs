//! Each worker keeps its own state: a scratch buffer that is allocated once
//! per worker and reused for every file that worker reads, and a count of
//! the jobs it ran. Two forms: closure jobs with `Job::stateful`, and a
//! `HandlerPool` whose inbox carries plain paths.
//!
//! ```text
//! cargo run --release --example worker_state -- [DIRECTORY]
//! ```

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;

use worklight::{Handler, HandlerPool, Job, WorkerPool};

/// A worker's state: its name, a reusable buffer, and how often it was used.
struct Scratch {
    name: String,
    buf: Vec<u8>,
    jobs: usize,
    grew: usize,
}

impl Scratch {
    /// Counts the lines of a file, reading it through the reused buffer.
    fn count_lines(&mut self, path: &PathBuf) -> io::Result<usize> {
        let before = self.buf.capacity();
        self.buf.clear();
        File::open(path)?.read_to_end(&mut self.buf)?;
        if self.buf.capacity() > before {
            self.grew += 1;
        }
        self.jobs += 1;
        Ok(self.buf.iter().filter(|&&b| b == b'\n').count())
    }
}

/// The same state as a handler: the inbox carries plain `PathBuf`s.
impl Handler<PathBuf> for Scratch {
    type Output = (PathBuf, usize);
    type Error = io::Error;
    fn handle(&mut self, path: PathBuf) -> io::Result<(PathBuf, usize)> {
        let lines = self.count_lines(&path)?;
        Ok((path, lines))
    }
}

fn report(s: Scratch) {
    println!(
        "  {} ran {} jobs with one buffer (grown {} times, now {} bytes)",
        s.name,
        s.jobs,
        s.grew,
        s.buf.capacity()
    );
}

fn files(root: &str) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect()
}

fn main() {
    let root = std::env::args().nth(1).unwrap_or_else(|| String::from("."));
    let paths = files(&root);

    println!("closure jobs with per-worker state:");
    let pool = WorkerPool::builder()
        .workers(3)
        .worker_setup(|w| {
            Ok::<_, io::Error>(Scratch {
                name: w.name().to_owned(),
                buf: Vec::with_capacity(4096),
                jobs: 0,
                grew: 0,
            })
        })
        .worker_teardown(|state, _| report(state))
        .build()
        .expect("start workers");
    for path in paths.clone() {
        let job = Job::stateful_fallible(move |s: &mut Scratch| s.count_lines(&path));
        pool.inbox.put(job).expect("pool is running");
    }
    pool.exile().expect("exile from the main thread");
    let lines: usize = pool.outbox.iter().sum();
    println!(
        "  {} files, {lines} lines, {} failures",
        paths.len(),
        pool.errbox.len()
    );

    println!("a handler pool whose inbox carries paths:");
    let handlers = HandlerPool::builder(|w| Scratch {
        name: w.name().to_owned(),
        buf: Vec::new(),
        jobs: 0,
        grew: 0,
    })
    .workers(3)
    .on_worker_stop(|w| println!("  {} left", w.name()))
    .build()
    .expect("start workers");
    for path in paths {
        handlers.inbox.put(path).expect("pool is running");
    }
    handlers.exile().expect("exile from the main thread");
    let longest = handlers.outbox.iter().max_by_key(|(_, lines)| *lines);
    if let Some((path, lines)) = longest {
        println!("  longest file: {} ({lines} lines)", path.display());
    }
    for failure in handlers.errbox.iter() {
        eprintln!("  failed: {failure}");
    }
}
