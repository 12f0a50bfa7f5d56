#!/usr/bin/env bash
# nagode against the JAX + diffrax anchor in one script: `trainer bench` and
# the anchor (Euler and RK4) run back to back for each round, then
# compare.py prints one Markdown table with ratios and the goals.
#
#   bench/compare.sh                 # one round, ~1 min after the builds
#   bench/compare.sh --rounds 3      # alternating rounds; figures as ranges
#   bench/compare.sh --keep DIR      # keep the JSON and text outputs in DIR
#
# The anchor's venv is created by diffrax/run.sh on first use (PyPI).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rounds=1
iters=40
keep=
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--iters N] [--keep DIR]" >&2; exit 2 ;;
  esac
done
if [ -n "$keep" ]; then
  out=$keep
  mkdir -p "$out"
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
(cd "$root" && cargo build -q -p trainer --release)
nagode=()
diffrax=()
for r in $(seq "$rounds"); do
  echo "round $r/$rounds: trainer bench" >&2
  (cd "$root" && cargo run -q -p trainer --release -- bench --iters "$iters" \
    --json "$out/nagode-$r.json") >"$out/nagode-$r.txt"
  echo "round $r/$rounds: diffrax anchor" >&2
  "$here/diffrax/run.sh" --solvers euler,rk4 --json "$out/diffrax-$r.json" \
    >"$out/diffrax-$r.txt"
  nagode+=("$out/nagode-$r.json")
  diffrax+=("$out/diffrax-$r.json")
done
python3 "$here/compare.py" --nagode "${nagode[@]}" --diffrax "${diffrax[@]}"
