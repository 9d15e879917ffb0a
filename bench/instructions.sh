#!/usr/bin/env bash
# Instructions per tiny job, counted by callgrind: repeatable where wall
# time on a shared machine is not, so a change that costs a few percent a
# job shows. Each peer of workload (a) runs alone (`--once`) with N and
# with 2N jobs; per job = (count at 2N - count at N) / N, which leaves out
# start-up and shutdown. callgrind runs the threads one at a time: this
# counts the work a job costs, not contention, and a peer's waiting counts
# only as the instructions it spins for. Where threads block and wake,
# callgrind's switching still follows the real time of the wake-ups, so
# each count is made ROUNDS times (default 3): median, min and max.
#
#   bench/instructions.sh [N] [PEER...]     (N default 100000; needs valgrind)
#   ROUNDS=5 bench/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
rounds=${ROUNDS:-3}
shift || true
if [ $# -eq 0 ]; then
    set -- "worklight" "worklight put_all" "worklight data" "hand-rolled" "hand-rolled data" \
        "threadpool" "rayon spawn" "rayon::scope" "rusty_pool"
fi
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 2; }
cargo build --release -q -p worklight-bench
bin=target/release/worklight-bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

count() { # peer jobs -> instructions of the whole run
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" \
        "$bin" --once "$1" --jobs "$2" 2>&1 >/dev/null |
        awk '/Collected :/ { print $NF }'
}

echo "Instructions per tiny job, from $n and $((2 * n)) jobs, $rounds rounds:"
echo
echo "| peer | median instructions per job | min | max |"
echo "|---|---:|---:|---:|"
for peer in "$@"; do
    for _ in $(seq "$rounds"); do
        one=$(count "$peer" "$n")
        two=$(count "$peer" $((2 * n)))
        awk -v a="$one" -v b="$two" -v n="$n" 'BEGIN { printf "%.1f\n", (b - a) / n }'
    done | sort -n | awk -v peer="$peer" '{ v[NR] = $1 }
        END { printf "| %s | %s | %s | %s |\n", peer, v[int((NR + 1) / 2)], v[1], v[NR] }'
done
