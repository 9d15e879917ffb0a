//! Jobs that each run in a separate process: a `HandlerPool` whose inbox
//! carries command lines, each run by `sh -c` in a child process that the
//! worker waits for. A child that fails, or dies of a signal, cannot take
//! the worker or the program down with it: its exit status and its stderr
//! land on the errbox, beside the job's id.
//!
//! ```text
//! cargo run --release --example processes -- ['COMMAND LINE' ...]
//! ```
//!
//! Without arguments it runs a few lines of its own, two of which fail.
//! Needs a Unix shell.

use std::io;
use std::process::Command;

use worklight::{Handler, HandlerPool};

/// A worker's handler: it counts the children it ran, and says so when
/// its worker leaves (a handler's teardown is its `Drop`).
struct Shell {
    worker: String,
    children: usize,
}

impl Drop for Shell {
    fn drop(&mut self) {
        println!("{}: {} child processes", self.worker, self.children);
    }
}

impl Handler<String> for Shell {
    /// The command line and what it printed.
    type Output = (String, String);
    type Error = io::Error;

    fn handle(&mut self, line: String) -> io::Result<(String, String)> {
        self.children += 1;
        let out = Command::new("sh").arg("-c").arg(&line).output()?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let why = match stderr.trim() {
                "" => out.status.to_string(),
                said => format!("{} ({said})", out.status),
            };
            return Err(io::Error::other(format!("`{line}`: {why}")));
        }
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Ok((line, stdout))
    }
}

const OWN_LINES: [&str; 6] = [
    "echo hello from process $$",
    "uname -s",
    "printf '%s' $((6 * 7))",
    "ls /no/such/directory",
    "kill -SEGV $$",
    "sleep 0.2; echo slept a fifth of a second",
];

fn main() {
    let mut lines: Vec<String> = std::env::args().skip(1).collect();
    if lines.is_empty() {
        lines = OWN_LINES.iter().map(|l| (*l).to_owned()).collect();
    }
    let pool = HandlerPool::builder(|w| Shell {
        worker: w.name().to_owned(),
        children: 0,
    })
    .workers(4)
    .build()
    .expect("start workers");
    let count = lines.len();
    pool.inbox.put_all(lines).expect("pool is running");
    pool.exile().expect("exile from the main thread");

    let (mut ran, mut failed) = (0, 0);
    for (line, stdout) in pool.outbox.try_iter() {
        println!("ok     `{line}`: {stdout}");
        ran += 1;
    }
    for failure in pool.errbox.try_iter() {
        println!("failed {failure}");
        failed += 1;
    }
    assert_eq!(ran + failed, count, "every command line lands once");
    println!("{count} command lines: {ran} ran, {failed} failed");
}
