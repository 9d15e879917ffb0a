//! The Quick Start, doing real work: checksum every file under a directory
//! with 8 workers, then print each result from the outbox, each failure
//! from the errbox, and the totals.
//!
//! ```text
//! cargo run --release --example quickstart -- [DIRECTORY]
//! ```

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use worklight::Job;

/// Reads a file in 64 KiB chunks; returns its path, size and CRC-32.
fn checksum(path: &Path) -> io::Result<(PathBuf, u64, u32)> {
    let mut file = File::open(path)?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((path.to_path_buf(), size, hasher.finalize()))
}

fn main() {
    let root = std::env::args().nth(1).unwrap_or_else(|| String::from("."));
    let mut walk_errors = 0;
    let harvest = worklight::pool(8, |pool| {
        for entry in walkdir::WalkDir::new(&root) {
            match entry {
                Ok(entry) if entry.file_type().is_file() => {
                    let path = entry.into_path();
                    let label = path.display().to_string();
                    let job = Job::fallible(move || checksum(&path)).label(label);
                    pool.inbox
                        .put(job)
                        .expect("the inbox is open until the closure returns");
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("walk: {e}");
                    walk_errors += 1;
                }
            }
        }
    })
    .expect("start 8 worker threads");

    let (mut files, mut bytes) = (0u64, 0u64);
    for (path, size, crc) in worklight::iterqueue(&harvest.outbox) {
        println!("{crc:08x}  {size:>12}  {}", path.display());
        files += 1;
        bytes += size;
    }
    let mut failures = 0;
    for failure in worklight::iterqueue(&harvest.errbox) {
        eprintln!("failed: {failure}");
        failures += 1;
    }
    println!(
        "{files} files, {bytes} bytes checksummed; {failures} failed; {walk_errors} unreadable directory entries"
    );
}
