#!/usr/bin/env bash
# CPU threading under real conditions (issue #17 item 3, issue #18 item 5): training throughput and batch-1 solve
# latency of `gtrm bench` at 1 and 2 threads, on a quiet machine and with one busy process beside it
# (`taskset -c 1 yes > /dev/null`), under the OpenMP wait policy gtrm starts with (a short spin, GOMP_SPINCOUNT=3000),
# sleeping at once (passive) and GNU OpenMP's default spin (GOMP_SPINCOUNT=300000); and PyTorch's training step and batch-1 ACT step
# (benchmarks/pytorch/bench_torch.py) under the same conditions. Prints one Markdown table per side.
#
#   benchmarks/threads.sh                       # everything (~30-60 min on a quiet 2-core machine)
#   PRESETS=sudoku6-demo THREADS=2 TORCH=none benchmarks/threads.sh   # a quick look
#
# Knobs (environment):
#   GTRM      the gtrm program (default build/tools/gtrm; build it with -DGTRM_NATIVE=ON and the presets below:
#             cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGTRM_NATIVE=ON \
#                   -DGTRM_CLI_PRESETS="sudoku-att;sudoku-mlp;sudoku6-demo" && ninja -C build gtrm_cli)
#   PRESETS   gtrm presets (default "sudoku-att sudoku-mlp sudoku6-demo": the paper's Sudoku configs and the demo)
#   BATCH     training rows per step (default 8; BATCH_<preset, - as _> overrides: BATCH_sudoku6_demo=64, the demo's)
#   STEPS     timed training steps per run (default 3; STEPS_<preset> overrides: STEPS_sudoku6_demo=20)
#   THREADS   thread counts (default "1 2")
#   LOADS     "quiet busy" (default): busy = `taskset -c BUSY_CORE yes > /dev/null` running beside the benchmark
#   BUSY_CORE the core the busy process is pinned to (default 1)
#   POLICIES  "shipped passive spin" (default): shipped = gtrm as it starts itself (GOMP_SPINCOUNT=3000, unless the
#             environment chooses); passive = OMP_WAIT_POLICY=passive (sleep at once); spin = GOMP_SPINCOUNT=300000,
#             GNU OpenMP's default spin before sleeping; also "short" = GOMP_SPINCOUNT=SHORT_SPIN (default 10000)
#   MODES     "split per-op" (default): split = gtrm as shipped (a network application's forward as one parallel
#             region, the batch split across threads); per-op = GTRM_BATCH_SPLIT=0, one region per op as before
#   TORCH     the Python with PyTorch (default /work/venv-torch/bin/python if present, else python3); "none" skips
#   TIMEOUT   seconds per run before it is reported as "timeout" (default 900)
set -uo pipefail
cd "$(dirname "$0")/.."

gtrm=${GTRM:-build/tools/gtrm}
presets=${PRESETS:-"sudoku-att sudoku-mlp sudoku6-demo"}
batch=${BATCH:-8}
steps=${STEPS:-3}
threads_list=${THREADS:-"1 2"}
loads=${LOADS:-"quiet busy"}
busy_core=${BUSY_CORE:-1}
policies=${POLICIES:-"shipped passive spin"}
short_spin=${SHORT_SPIN:-10000}
modes=${MODES:-"split per-op"}
timeout_s=${TIMEOUT:-900}
export BATCH_sudoku6_demo=${BATCH_sudoku6_demo:-64} STEPS_sudoku6_demo=${STEPS_sudoku6_demo:-20}
if [[ -n ${TORCH:-} ]]; then torch_py=$TORCH
elif [[ -x /work/venv-torch/bin/python ]]; then torch_py=/work/venv-torch/bin/python
else torch_py=python3; fi

[[ -x $gtrm ]] || { echo "threads.sh: no gtrm program at $gtrm (set GTRM=...)" >&2; exit 1; }

busy_pid=""
start_load() {  # $1 = quiet | busy
  if [[ $1 == busy ]]; then
    taskset -c "$busy_core" yes >/dev/null &
    busy_pid=$!
    sleep 0.5
  fi
}
stop_load() {
  if [[ -n $busy_pid ]]; then kill "$busy_pid" 2>/dev/null; wait "$busy_pid" 2>/dev/null; busy_pid=""; fi
}
trap stop_load EXIT

json_field() {  # $1 = key; reads one JSON object on stdin; prints the number
  python3 -c 'import json,sys; d=json.load(sys.stdin); v=d.get(sys.argv[1]); print("" if v is None else v)' "$1"
}
fmt() { awk -v v="$1" -v d="$2" 'BEGIN { if (v == "") print "-"; else printf "%.*f\n", d, v }'; }

echo "# gtrm threads benchmark"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- gtrm: $gtrm; batch $batch, $steps timed steps (the demo: $BATCH_sudoku6_demo, $STEPS_sudoku6_demo); busy = taskset -c $busy_core yes"
echo
echo "## gtrm (\`gtrm bench\`): training example-ACT-steps/s and batch-1 solve ms (all ACT steps)"
echo
echo "| preset | B | threads | load | wait policy | threading | ex/s | solve ms | of fp32 peak |"
echo "|---|---:|---:|---|---|---|---:|---:|---:|"
for preset in $presets; do
  var="BATCH_${preset//-/_}"
  b=${!var:-$batch}
  var="STEPS_${preset//-/_}"
  n=${!var:-$steps}
  for t in $threads_list; do
    for load in $loads; do
      for policy in $policies; do
      for mode in $modes; do
        [[ $t == 1 && $mode == per-op ]] && continue   # one thread: the two are the same path
        env_args=(GTRM_BATCH_SPLIT=$([[ $mode == per-op ]] && echo 0 || echo 1))
        [[ $policy == spin ]] && env_args+=(GOMP_SPINCOUNT=300000)
        [[ $policy == passive ]] && env_args+=(OMP_WAIT_POLICY=passive)
        [[ $policy == short ]] && env_args+=(GOMP_SPINCOUNT=$short_spin)
        start_load "$load"
        out=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "${env_args[@]}" timeout "$timeout_s" "$gtrm" bench --preset "$preset" --batch "$b" --steps "$n" \
              --threads "$t" 2>/dev/null)
        rc=$?
        stop_load
        if [[ $rc -ne 0 ]]; then
          reason=$([[ $rc -eq 124 ]] && echo "timeout (${timeout_s} s)" || echo "failed ($rc)")
          echo "| $preset | $b | $t | $load | $policy | $mode | $reason | | |"
          continue
        fi
        ex=$(json_field example_act_steps_per_s <<<"$out")
        ms=$(json_field solve_ms <<<"$out")
        frac=$(json_field fraction_of_peak <<<"$out")
        echo "| $preset | $b | $t | $load | $policy | $mode | $(fmt "$ex" 2) | $(fmt "$ms" 0) | $(awk -v f="$frac" 'BEGIN { printf "%.1f %%", 100 * f }') |"
      done
      done
    done
  done
done

[[ $torch_py == none ]] && exit 0
if ! "$torch_py" -c 'import torch' 2>/dev/null; then
  echo; echo "(PyTorch side skipped: $torch_py cannot import torch)"; exit 0
fi
echo
echo "## PyTorch ($("$torch_py" -c 'import torch; print(torch.__version__)'), eager; benchmarks/pytorch/bench_torch.py)"
echo
echo "The demo preset has no PyTorch config. ACT step ms = one batch-1 forward ACT step (a paper-config solve is 16 of them)."
echo
echo "| config | B | threads | load | training ex/s | batch-1 ACT step ms |"
echo "|---|---:|---:|---|---:|---:|"
for preset in $presets; do
  case $preset in sudoku-att) cfg=sudoku_att ;; sudoku-mlp) cfg=sudoku_mlp ;; *) continue ;; esac
  for t in $threads_list; do
    for load in $loads; do
      start_load "$load"
      tr=$(timeout "$timeout_s" "$torch_py" benchmarks/pytorch/bench_torch.py --config "$cfg" --batch "$batch" \
           --what train --threads "$t" --min-time 5 2>/dev/null)
      fw=$(timeout "$timeout_s" "$torch_py" benchmarks/pytorch/bench_torch.py --config "$cfg" --batch 1 \
           --what fwd --threads "$t" --min-time 3 2>/dev/null)
      stop_load
      ex=$([[ -n $tr ]] && json_field example_act_steps_per_s <<<"$tr")
      st=$([[ -n $fw ]] && json_field step_s <<<"$fw")
      echo "| $cfg | $batch | $t | $load | $(fmt "$ex" 2) | $(awk -v s="$st" 'BEGIN { if (s == "") print "-"; else printf "%.0f", 1000 * s }') |"
    done
  done
done
