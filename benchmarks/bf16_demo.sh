#!/usr/bin/env bash
# The README demo trained twice, in fp32 and in bf16 (--dtype bf16: gtrm::cpu_bf16, bf16 products with fp32
# accumulation and master weights), on the same generated 6x6 Sudoku data with the same seed; prints both held-out
# accuracies. Issue #17 asks that bf16 reach the fp32 figure within one point.
#   benchmarks/bf16_demo.sh                  (GTRM_BF16_DEMO_BUILD, _DIR, _STEPS, _THREADS, _TRAIN override the defaults)
# Each run takes minutes on a quiet CPU: run it with nice on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${GTRM_BF16_DEMO_BUILD:-build-bf16-demo}
out=${GTRM_BF16_DEMO_DIR:-runs/bf16-demo}
steps=${GTRM_BF16_DEMO_STEPS:-}
threads=${GTRM_BF16_DEMO_THREADS:-$(nproc)}
num_train=${GTRM_BF16_DEMO_TRAIN:-30000}

if [ -z "${GTRM:-}" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGTRM_NATIVE=ON -DGTRM_CLI_FAST_MATH=ON \
        -DGTRM_CLI_PRESETS=sudoku6-demo -DGTRM_CLI_BF16_PRESETS=sudoku6-demo -DGTRM_CLI_VERIFY=OFF \
        -DGTRM_BUILD_TESTS=OFF -DGTRM_BUILD_EXAMPLES=OFF -DGTRM_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build "$build" --target gtrm_cli -j "$(nproc)"
  GTRM="$build/tools/gtrm"
fi
export OMP_NUM_THREADS=$threads

mkdir -p "$out"
if [ ! -f "$out/data/train/dataset.json" ]; then
  "$GTRM" data generate sudoku --size 6 --givens 11 --num-train "$num_train" --num-test 1000 --seed 1 \
          --output-dir "$out/data" --overwrite
fi
declare -A exact token secs
for dtype in fp32 bf16; do
  t0=$(date +%s.%N)
  "$GTRM" train --preset sudoku6-demo --dtype "$dtype" --data "$out/data" --out "$out/$dtype" --overwrite --quiet \
          ${steps:+--steps "$steps"}
  secs[$dtype]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
  "$GTRM" eval "$out/$dtype/model.safetensors" --dtype "$dtype" --data "$out/data" --quiet --json >"$out/$dtype/eval.json"
  exact[$dtype]=$(sed -n 's/.*"exact_accuracy": \([0-9.e-]*\).*/\1/p' "$out/$dtype/eval.json")
  token[$dtype]=$(sed -n 's/.*"token_accuracy": \([0-9.e-]*\).*/\1/p' "$out/$dtype/eval.json")
done
echo
echo "sudoku6-demo, 1000 held-out puzzles, $threads threads, $("$GTRM" info "$out/bf16/model.safetensors" | sed -n 's/^products *//p')"
printf '%-6s %14s %14s %10s\n' dtype exact_accuracy token_accuracy train_s
for dtype in fp32 bf16; do
  printf '%-6s %14s %14s %10s\n' "$dtype" "${exact[$dtype]}" "${token[$dtype]}" "${secs[$dtype]}"
done
awk -v a="${exact[fp32]}" -v b="${exact[bf16]}" \
    'BEGIN { d = 100 * (b - a); printf "bf16 - fp32 exact accuracy: %+.1f points (issue #17: within 1)\n", d }'
