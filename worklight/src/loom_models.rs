//! Loom models of the inbox protocol (run with `RUSTFLAGS="--cfg loom"`).
