#!/usr/bin/env bash
# CPU bf16 against fp32, gtrm against PyTorch (issue #17's Must-show): batch-1 solve latency of the paper's
# Sudoku-attention model (16 ACT steps) and training throughput at the paper's Sudoku-MLP and Sudoku-attention
# configs, each in fp32 and bf16, on THREADS threads (default 2). Prints one table; raw JSON lines go to $OUT.
#   benchmarks/cpu_bf16.sh                      builds gtrm (sudoku-att, sudoku-mlp; fp32 and bf16) in build-bf16-bench
#   GTRM=path/to/gtrm benchmarks/cpu_bf16.sh    uses that program
#   TORCH_PYTHON=... BATCH=8 STEPS=10 THREADS=2 PRESETS="sudoku-att sudoku-mlp" QUICK=1 (short runs, to check that
#   the script works)
# gtrm: `gtrm bench --dtype fp32|bf16` (training ACT steps of batch BATCH; best of three batch-1 solves).
# PyTorch: benchmarks/pytorch/bench_torch.py (--dtype bf16: autocast bf16 products, as the reference's
# forward_dtype=bfloat16), eager; its solve is 16 x one batch-1 ACT step under no_grad.
# Figures are for a quiet machine: record `lscpu` flags (amx_bf16, avx512_bf16) with them.
set -euo pipefail
cd "$(dirname "$0")/.."

threads=${THREADS:-2}
batch=${BATCH:-8}
steps=${STEPS:-10}
torch_python=${TORCH_PYTHON:-/work/venv-torch/bin/python}
[ -x "$torch_python" ] || torch_python=python3
out=${OUT:-runs/cpu-bf16-bench.jsonl}
min_time=3
[ -n "${QUICK:-}" ] && { steps=2; min_time=0.3; }

if [ -z "${GTRM:-}" ]; then
  build=${BUILD:-build-bf16-bench}
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGTRM_NATIVE=ON -DGTRM_CLI_PRESETS="sudoku-att;sudoku-mlp" \
        -DGTRM_CLI_BF16_PRESETS="sudoku-att;sudoku-mlp" -DGTRM_CLI_VERIFY=OFF -DGTRM_BUILD_TESTS=OFF \
        -DGTRM_BUILD_EXAMPLES=OFF -DGTRM_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build "$build" --target gtrm_cli
  GTRM="$build/tools/gtrm"
fi
mkdir -p "$(dirname "$out")"
: >"$out"
export OMP_NUM_THREADS=$threads

presets=${PRESETS:-sudoku-att sudoku-mlp}
for preset in $presets; do
  config=${preset/-/_}
  for dtype in fp32 bf16; do
    "$GTRM" bench --preset "$preset" --dtype "$dtype" --batch "$batch" --steps "$steps" --threads "$threads" |
      python3 -c 'import json,sys; d=json.load(sys.stdin); d["impl"]="gtrm"; print(json.dumps(d))' >>"$out"
    for what in train fwd; do
      b=$batch; [ "$what" = fwd ] && b=1
      "$torch_python" benchmarks/pytorch/bench_torch.py --config "$config" --batch "$b" --what "$what" --dtype "$dtype" \
                      --threads "$threads" --min-time "$min_time" >>"$out" ||
        echo "cpu_bf16.sh: no PyTorch figure for $config ($what, $dtype)" >&2
    done
  done
done

python3 - "$out" "$threads" "$batch" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
threads, batch = sys.argv[2], sys.argv[3]
def find(**kw):
    for r in rows:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None
gemm = {r["dtype"]: r["gemm"] for r in rows if r.get("impl") == "gtrm"}
print(f"\nthreads {threads}, training batch {batch}; gtrm products: fp32 {gemm.get('fp32')}; bf16 {gemm.get('bf16')}")
print(f"{'config':11} {'dtype':5} {'gtrm train':>11} {'torch train':>12} {'ratio':>6} {'gtrm solve s':>13} {'torch solve s':>14} {'ratio':>6}")
for preset in dict.fromkeys(r["preset"] for r in rows if r.get("impl") == "gtrm"):
    config = preset.replace("-", "_")
    for dtype in ("fp32", "bf16"):
        g = find(impl="gtrm", preset=preset, dtype=dtype)
        tt = find(impl="torch-eager", config=config, dtype=dtype, what="train")
        tf = find(impl="torch-eager", config=config, dtype=dtype, what="fwd")
        if not g:
            continue
        gs = g["solve_ms"] / 1e3
        if tt and tf:
            ts = g["solve_act_steps"] * tf["step_s"]
            print(f"{preset:11} {dtype:5} {g['example_act_steps_per_s']:11.2f} {tt['example_act_steps_per_s']:12.2f} "
                  f"{g['example_act_steps_per_s'] / tt['example_act_steps_per_s']:6.2f} {gs:13.2f} {ts:14.2f} {ts / gs:6.2f}")
        else:
            print(f"{preset:11} {dtype:5} {g['example_act_steps_per_s']:11.2f} {'n/a':>12} {'':6} {gs:13.2f} {'n/a':>14}")
print("train: example-ACT-steps/s (higher is better); solve: halt_max_steps (16) ACT steps at batch 1 (lower is better); "
      "ratio: gtrm's speed / PyTorch's")
PY
