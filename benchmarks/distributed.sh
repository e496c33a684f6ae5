#!/usr/bin/env bash
# Inside one machine on the CPU: one rank of 2 threads (OpenMP) against 2 ranks of 1 thread (MPI, data parallel),
# the same global batch, the same training, at two configurations; prints a table of training steps per second.
#
#   benchmarks/distributed.sh [GTRM]          GTRM: the gtrm program (default build/tools/gtrm, built with MPI)
#   STEPS_SMALL=40 STEPS_PAPER=3 RUNS=1 benchmarks/distributed.sh
#
# Configurations: sudoku6-demo at its batch 64 (the README demo) and sudoku-mlp (the paper's Sudoku-MLP, hidden 512)
# at batch 8 (a paper-size step: a few seconds on 2 cores). Each run is `gtrm train` on generated data; steps/s is
# the run's own measurement over all its steps (metrics.jsonl, one progress window), excluding the final evaluation.
# The best of RUNS runs is reported. Results: benchmarks/results/distributed.md.
set -euo pipefail
cd "$(dirname "$0")/.."
gtrm=${1:-build/tools/gtrm}
steps_small=${STEPS_SMALL:-40}
steps_paper=${STEPS_PAPER:-3}
runs=${RUNS:-1}
work=$(mktemp -d /tmp/gtrm-distributed.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Open MPI refuses root without these (CI and containers run as root)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

"$gtrm" info | grep -q "MPI: yes" || { echo "distributed.sh: $gtrm was built without MPI (-DGTRM_ENABLE_MPI=ON)" >&2; exit 1; }
"$gtrm" data generate sudoku --size 6 --givens 11 --num-train 4000 --num-test 16 --seed 1 --output-dir "$work/s6" >/dev/null 2>&1
"$gtrm" data generate sudoku --size 9 --givens 30 --num-train 400 --num-test 16 --seed 1 --output-dir "$work/s9" >/dev/null 2>&1

# steps/s of the last progress line of a run directory
rate() { python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if "\"train\"" in l][-1]["steps_per_s"])' "$1/metrics.jsonl"; }

run() {  # label preset data batch steps launcher...
  local label=$1 preset=$2 data=$3 batch=$4 steps=$5; shift 5
  local best=0
  for ((i = 0; i < runs; i++)); do
    rm -rf "$work/run"
    "$@" "$gtrm" train --preset "$preset" --data "$data" --out "$work/run" --steps "$steps" --batch "$batch" \
      --log-every "$steps" --eval-batch 16 --eval-examples 16 --warmup 1 --quiet
    best=$(python3 -c "print(max($best, $(rate "$work/run")))")
  done
  echo "$best"
}

printf '| preset | global batch | layout | steps/s | examples/s |\n|---|---:|---|---:|---:|\n'
for cfg in "sudoku6-demo s6 64 $steps_small" "sudoku-mlp s9 8 $steps_paper"; do
  read -r preset data batch steps <<<"$cfg"
  a=$(run "1x2" "$preset" "$work/$data" "$batch" "$steps" env OMP_NUM_THREADS=2)
  b=$(run "2x1" "$preset" "$work/$data" "$batch" "$steps" mpirun -np 2 --oversubscribe --bind-to core -x OMP_NUM_THREADS=1)
  for row in "1 rank x 2 threads:$a" "2 ranks x 1 thread:$b"; do
    layout=${row%%:*} sps=${row##*:}
    printf '| %s | %s | %s | %.3f | %.1f |\n' "$preset" "$batch" "$layout" "$sps" "$(python3 -c "print($sps * $batch)")"
  done
done
echo
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
