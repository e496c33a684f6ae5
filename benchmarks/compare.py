#!/usr/bin/env python3
"""Runs gtrm (bench_model) and the PyTorch baseline (pytorch/bench_torch.py) on the same configurations,
batch sizes and thread count, and prints Markdown tables of the ratios.

  python3 benchmarks/compare.py --bench build-bench/benchmarks/bench_model \
      --torch-python /tmp/torchvenv/bin/python --threads 2 --batches 8,32 --reps 3 --json-out results.jsonl

--clock wall (default) compares wall-clock times. --clock cpu (with --threads 1) compares the CPU time of
the one working thread instead (Google Benchmark's cpu_time, Python's thread_time): on a machine shared
with other jobs this is the time the step takes when it has a core to itself, and it does not swing with
the load the way wall-clock time does.

Every measurement runs in its own process (so peak-RSS growth per example is that run's). Throughput is
the best of --reps runs for both sides (gtrm: best Google Benchmark repetition; PyTorch: the fastest step
of each process, best over --reps processes): on a shared 2-core machine the best observed time is the
least noisy estimate of what the code can do. Only the standard library is needed here; PyTorch is needed
only in the interpreter given as --torch-python.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = ["h128_att", "h128_mlp", "sudoku_mlp", "sudoku_att"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def loadavg() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def cpu_pressure() -> float:
    """PSI 'some avg10' of the CPU (% of time runnable tasks waited), or the 1-min load × 50 without PSI."""
    try:
        for ln in open("/proc/pressure/cpu"):
            if ln.startswith("some"):
                return float(ln.split()[1].split("=")[1])
    except OSError:
        pass
    return float(open("/proc/loadavg").read().split()[0]) * 50


QUIET = {"max_pressure": None, "max_wait": 0.0}


def wait_quiet() -> None:
    """With --quiet P, waits (up to --max-wait s) until other processes leave the CPUs mostly idle."""
    if QUIET["max_pressure"] is None:
        return
    t0 = time.time()
    while cpu_pressure() > QUIET["max_pressure"] and time.time() - t0 < QUIET["max_wait"]:
        time.sleep(5)


def run_gtrm(bench: str, filt: str, threads: int, reps: int) -> tuple[list[dict], dict]:
    wait_quiet()
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [bench, f"--benchmark_filter={filt}", "--benchmark_format=json", f"--benchmark_repetitions={reps}"]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    rows = [b for b in doc["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    if not rows:
        raise RuntimeError(f"no benchmark matched {filt!r}")
    return rows, doc["context"]


def run_torch(py: str, cfg: str, batch: int, what: str, mode: str, threads: int, min_time: float) -> dict:
    cmd = [py, os.path.join(HERE, "pytorch", "bench_torch.py"), "--config", cfg, "--batch", str(batch), "--what", what,
           "--mode", mode, "--threads", str(threads), "--min-time", str(min_time)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    wait_quiet()
    res = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)


def fmt(x: float | None, nd: int = 2) -> str:
    if x is None:
        return "–"
    return f"{x:.{nd}f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default="build-bench/benchmarks/bench_model")
    ap.add_argument("--torch-python", default="/tmp/torchvenv/bin/python")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--batches", default="8,32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3, help="repetitions (gtrm) / processes (PyTorch) per measurement")
    ap.add_argument("--modes", default="eager,compile", help="PyTorch modes")
    ap.add_argument("--min-time", type=float, default=3.0, help="PyTorch: seconds of timed steps per process")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="cpu: compare the working thread's CPU time (needs --threads 1)")
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--quiet", type=float, default=None, metavar="P",
                    help="before each run, wait until CPU pressure (PSI some avg10, %%) is at most P")
    ap.add_argument("--max-wait", type=float, default=300.0, help="seconds to wait for --quiet at most")
    ap.add_argument("--json-out", default=None, help="append every raw measurement here (JSON lines)")
    args = ap.parse_args()

    QUIET["max_pressure"], QUIET["max_wait"] = args.quiet, args.max_wait
    if args.clock == "cpu" and args.threads != 1:
        ap.error("--clock cpu measures one thread's CPU time: use it with --threads 1")
    cpu_clock = args.clock == "cpu"
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    configs = args.configs.split(",")
    batches = [int(b) for b in args.batches.split(",")]
    modes = [m for m in args.modes.split(",") if m]
    raw = open(args.json_out, "a") if args.json_out else None

    def record(d: dict) -> None:
        d = dict(d, loadavg=loadavg(), cpu_pressure=cpu_pressure(), time=time.strftime("%Y-%m-%d %H:%M:%S"))
        if raw:
            raw.write(json.dumps(d) + "\n")
            raw.flush()

    peak = None
    train_rows, lat_rows = [], []
    for cfg in configs:
        for b in batches:
            log(f"[gtrm] train {cfg} B={b} (load {loadavg()})")
            rows, ctx = run_gtrm(args.bench, f"^model_train/{cfg}/B:{b}/", args.threads, args.reps)
            peak = float(ctx.get("fp32_peak_gflops", 0)) or peak
            for r in rows:  # per-clock throughput, FLOP/s and fraction of peak
                secs = (r["cpu_time"] if cpu_clock else r["real_time"]) * unit[r["time_unit"]]
                flops = r["flops_per_example_act_step"] * b
                r["_eps"], r["_gflops"] = b / secs, flops / secs / 1e9
                r["_frac"] = r["_gflops"] / float(ctx["fp32_peak_gflops"])
            best = max(rows, key=lambda r: r["_eps"])
            g = {"impl": "gtrm", "config": cfg, "batch": b, "what": "train", "clock": args.clock,
                 "example_act_steps_per_s": best["_eps"], "peak_frac": best["_frac"],
                 "gflops": best["_gflops"], "ws_mb_per_example": best["ws_MB_per_example"],
                 "rss_mb_per_example": best["rss_MB_per_example"], "fp32_peak_gflops": peak,
                 "all": [r["_eps"] for r in rows]}
            record(g)
            t = {}
            for m in modes:
                best_t = None
                for _ in range(args.reps if m == "eager" else max(1, args.reps - 1)):
                    log(f"[torch-{m}] train {cfg} B={b} (load {loadavg()})")
                    r = run_torch(args.torch_python, cfg, b, "train", m, args.threads, args.min_time)
                    r["example_act_steps_per_s_best"] = b / (r["step_cpu_s_min"] if cpu_clock else r["step_s_min"])
                    record(r)
                    if best_t is None or r["example_act_steps_per_s_best"] > best_t["example_act_steps_per_s_best"]:
                        best_t = r
                t[m] = best_t
            train_rows.append((cfg, b, g, t))
        if not args.no_latency:
            log(f"[gtrm] latency {cfg} (load {loadavg()})")
            rows, ctx = run_gtrm(args.bench, f"^model_latency/{cfg}/", args.threads, args.reps)
            key = "cpu_time" if cpu_clock else "real_time"
            ms = [r[key] * unit[r["time_unit"]] * 1e3 for r in rows]
            g = {"impl": "gtrm", "config": cfg, "batch": 1, "what": "latency", "clock": args.clock, "ms": min(ms),
                 "all_ms": ms}
            record(g)
            t = {}
            for m in modes:
                best_t = None
                for _ in range(args.reps if m == "eager" else max(1, args.reps - 1)):
                    log(f"[torch-{m}] latency {cfg} (load {loadavg()})")
                    r = run_torch(args.torch_python, cfg, 1, "fwd", m, args.threads, args.min_time)
                    r["lat_s"] = r["step_cpu_s_min"] if cpu_clock else r["step_s_min"]
                    record(r)
                    if best_t is None or r["lat_s"] < best_t["lat_s"]:
                        best_t = r
                t[m] = best_t
            lat_rows.append((cfg, g, t))

    print(f"fp32 FMA peak measured by bench_model: {fmt(peak, 1)} GFLOP/s ({args.threads} threads); "
          f"clock: {args.clock}\n")
    print("Training ACT step (forward + loss + backward, last-cycle truncation), example-ACT-steps/s, best of runs\n")
    hdr = "| config | B | gtrm | " + " | ".join(f"torch {m}" for m in modes) + \
          " | gtrm / best torch | gtrm GFLOP/s | gtrm % of peak | gtrm MB/example (workspace; RSS) | torch eager MB/example (RSS) |"
    print(hdr)
    print("|" + "---|" * (hdr.count("|") - 1))
    for cfg, b, g, t in train_rows:
        ts = [t[m]["example_act_steps_per_s_best"] for m in modes if t.get(m)]
        best_t = max(ts) if ts else None
        eager_mem = t["eager"]["rss_mb_per_example"] if t.get("eager") else None
        cells = [cfg, str(b), fmt(g["example_act_steps_per_s"])] + \
                [fmt(t[m]["example_act_steps_per_s_best"]) if t.get(m) else "–" for m in modes] + \
                [fmt(g["example_act_steps_per_s"] / best_t) + "×" if best_t else "–", fmt(g["gflops"], 1),
                 fmt(100 * g["peak_frac"], 1) + "%", f"{fmt(g['ws_mb_per_example'], 1)}; {fmt(g['rss_mb_per_example'], 1)}",
                 fmt(eager_mem, 1)]
        print("| " + " | ".join(cells) + " |")
    if lat_rows:
        print("\nBatch-1 forward latency of one ACT step (ms; a 16-step solve is 16×), best of runs\n")
        hdr = "| config | gtrm | " + " | ".join(f"torch {m}" for m in modes) + " | best torch / gtrm |"
        print(hdr)
        print("|" + "---|" * (hdr.count("|") - 1))
        for cfg, g, t in lat_rows:
            ts = [1000 * t[m]["lat_s"] for m in modes if t.get(m)]
            cells = [cfg, fmt(g["ms"], 1)] + [fmt(1000 * t[m]["lat_s"], 1) if t.get(m) else "–" for m in modes] + \
                    [fmt(min(ts) / g["ms"]) + "×" if ts else "–"]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
