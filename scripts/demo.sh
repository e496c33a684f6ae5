#!/usr/bin/env bash
# The README's first command. On a fresh Debian 12 machine: install what is missing, build the gtrm program (only
# the demo's preset), generate 6x6 Sudoku puzzles, train a Tiny Recursive Model on the CPU, evaluate it on held-out
# puzzles, solve one step by step, and print the figures. Everything lands in runs/demo (GTRM_DEMO_DIR).
# Knobs for the curious: GTRM_DEMO_STEPS, GTRM_DEMO_GIVENS, GTRM_DEMO_TRAIN (training puzzles), GTRM_DEMO_BUILD (build directory), GTRM_DEMO_THREADS.
set -euo pipefail
cd "$(dirname "$0")/.."

t0=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

build=${GTRM_DEMO_BUILD:-build-demo}
out=${GTRM_DEMO_DIR:-runs/demo}
givens=${GTRM_DEMO_GIVENS:-11}
steps=${GTRM_DEMO_STEPS:-}
num_train=${GTRM_DEMO_TRAIN:-30000}
threads=${GTRM_DEMO_THREADS:-$(nproc)}

say "1/6 dependencies"
./scripts/install-deps.sh

say "2/6 building the gtrm program (the sudoku6-demo preset only, tuned for this CPU: -march=native)"
tb=$(date +%s.%N)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGTRM_NATIVE=ON -DGTRM_CLI_FAST_MATH=ON -DGTRM_CLI_PRESETS=sudoku6-demo \
      -DGTRM_CLI_VERIFY=OFF -DGTRM_BUILD_TESTS=OFF -DGTRM_BUILD_EXAMPLES=OFF -DGTRM_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" --target gtrm_cli -j "$(nproc)"
build_s=$(elapsed "$tb")
gtrm="$build/tools/gtrm"
export OMP_NUM_THREADS=$threads

say "3/6 generating 6x6 Sudoku puzzles ($givens givens, unique solutions; train and held-out test are disjoint)"
td=$(date +%s.%N)
mkdir -p "$out"
"$gtrm" data generate sudoku --size 6 --givens "$givens" --num-train "$num_train" --num-test 1000 --seed 1 \
        --output-dir "$out/data" --csv-dir "$out/csv" --overwrite
data_s=$(elapsed "$td")

say "4/6 training preset sudoku6-demo on the CPU ($threads threads)"
tt=$(date +%s.%N)
"$gtrm" train --preset sudoku6-demo --data "$out/data" --out "$out/run" --overwrite ${steps:+--steps "$steps"}
train_s=$(elapsed "$tt")

say "5/6 evaluating on the 1000 held-out puzzles"
te=$(date +%s.%N)
"$gtrm" eval "$out/run/model.safetensors" --data "$out/data" --quiet --json >"$out/eval.json"
eval_s=$(elapsed "$te")
exact=$(sed -n 's/.*"exact_accuracy": \([0-9.e-]*\).*/\1/p' "$out/eval.json")
token=$(sed -n 's/.*"token_accuracy": \([0-9.e-]*\).*/\1/p' "$out/eval.json")
examples=$(sed -n 's/.*"examples": \([0-9]*\).*/\1/p' "$out/eval.json")

say "6/6 one held-out puzzle, solved step by step"
puzzle=$(sed -n 2p "$out/csv/test.csv" | cut -d, -f2)
"$gtrm" solve "$out/run/model.safetensors" --trajectory "$puzzle"
ts=$(date +%s.%N)
"$gtrm" solve "$out/run/model.safetensors" "$puzzle" --format json >"$out/solve.json"
solve_ms=$(awk -v a="$ts" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", 1000 * (b - a) }')
"$gtrm" plot "$out/run" >/dev/null

total_s=$(elapsed "$t0")
say "figures"
awk -v e="$exact" -v t="$token" 'BEGIN { printf "held-out exact accuracy   %.1f%% (token accuracy %.2f%%)\n", 100 * e, 100 * t }'
echo "held-out puzzles          $examples 6x6 Sudoku, $givens givens each, none seen in training"
echo "time                      ${total_s}s in all: build ${build_s}s, data ${data_s}s, training ${train_s}s, evaluation ${eval_s}s"
echo "gtrm solve, one puzzle    ${solve_ms} ms (process start, checkpoint load, 8 ACT steps)"
echo "machine                   $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "files                     $out/run (checkpoints, metrics.jsonl, curves.svg), $out/eval.json, $out/solve.json"
echo "next                      $gtrm solve $out/run --trajectory --format svg -o solved.svg '$puzzle'"
