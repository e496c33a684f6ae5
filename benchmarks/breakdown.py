#!/usr/bin/env python3
"""Where the time of one gtrm training ACT step goes, from the op benchmarks.

  OMP_NUM_THREADS=2 build-bench/benchmarks/bench_ops --benchmark_format=json --benchmark_out=ops.json \
      --benchmark_repetitions=3
  python3 benchmarks/breakdown.py ops.json --batch 32 --mixer att

Multiplies each op's best measured time at batch B (bench_ops runs every op at the model's shapes) by the
number of times the model calls it in one training ACT step (forward of T·(n+1) = 21 applications of the
2-layer network, backward through the last n+1 = 7; counts read off include/gtrm/model/{trm,block}.hpp and
ops/{swiglu,token_mlp}.hpp). Fills of other widths than D are scaled from fill/D512 by column count. The sum
is a prediction to hold against model_train's measured time; the gap is what the op benchmarks miss (cache
effects between ops, the heads' gathers, parallel-region overheads).
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict

T, N_L, LAYERS = 3, 6, 2
APPS = T * (N_L + 1)          # 21 applications forward
REC = N_L + 1                 # 7 recorded (grad::last_cycle)
FWD_LAYERS = APPS * LAYERS    # 42 block forwards
BWD_LAYERS = REC * LAYERS     # 14 block backwards


def step_calls(mixer: str, D: int = 512, I: int = 1536) -> list[tuple[str, str, float]]:
    """(group, benchmark name, calls per training ACT step)."""
    d = [
        ("GEMM fwd: gate_up", "linear_fwd/gate_up_512x3072", FWD_LAYERS),
        ("GEMM fwd: down", "linear_fwd/down_1536x512", FWD_LAYERS),
        ("GEMM bwd: gate_up", "linear_bwd/gate_up_512x3072", BWD_LAYERS),
        ("GEMM bwd: down", "linear_bwd/down_1536x512", BWD_LAYERS),
        ("GEMM: lm_head fwd+bwd", "linear_fwd/lm_head_512x11", 1),
        ("GEMM: lm_head fwd+bwd", "linear_bwd/lm_head_512x11", 1),
        ("rms_norm fwd (D)", "rms_norm_fwd/C512", FWD_LAYERS * (2 if mixer == "att" else 1)),
        ("rms_norm bwd (D)", "rms_norm_bwd/C512", BWD_LAYERS * (2 if mixer == "att" else 1)),
        ("swiglu act fwd (+ bwd recompute)", "swiglu_fwd/I1536", FWD_LAYERS + BWD_LAYERS),
        ("swiglu act bwd", "swiglu_bwd/I1536", BWD_LAYERS),
        ("stablemax loss", "stablemax_fwd/V11", 1),
        ("stablemax loss", "stablemax_bwd/V11", 1),
    ]
    # element-wise passes of trm.hpp / block.hpp (widths in units of D columns)
    z_l_apps, z_h_apps = T * N_L, T
    residual_adds = FWD_LAYERS * (2 if mixer == "att" else 1)
    adds = 2 * z_l_apps + z_h_apps + residual_adds
    copies = APPS + BWD_LAYERS + REC          # carry update; dr -> dh1; d_h0 -> dz
    accs = (BWD_LAYERS if mixer == "att" else 0) + 2 * N_L + 1
    fills_d = BWD_LAYERS * (1 + I // D + 2 * I // D + 1)  # dr, ds (I), dgu (2I), din
    if mixer == "att":
        fills_d += BWD_LAYERS * (1 + 1 + 3)   # dr again, d_o, dqkv (3D)
    d += [
        ("element-wise (add/copy/fill/accumulate)", "add/D512", adds),
        ("element-wise (add/copy/fill/accumulate)", "copy/D512", copies),
        ("element-wise (add/copy/fill/accumulate)", "accumulate/D512", accs),
        ("element-wise (add/copy/fill/accumulate)", "fill/D512", fills_d),
    ]
    if mixer == "att":
        d += [
            ("GEMM fwd: qkv", "linear_fwd/qkv_512x1536", FWD_LAYERS),
            ("GEMM fwd: o_proj", "linear_fwd/o_512x512", FWD_LAYERS),
            ("GEMM bwd: qkv", "linear_bwd/qkv_512x1536", BWD_LAYERS),
            ("GEMM bwd: o_proj", "linear_bwd/o_512x512", BWD_LAYERS),
            ("attention fwd", "attention_fwd/h8_d64", FWD_LAYERS),
            ("attention bwd", "attention_bwd/h8_d64", BWD_LAYERS),
            ("rope fwd", "rope_fwd/h8_d64", FWD_LAYERS),
            ("rope bwd", "rope_bwd/h8_d64", BWD_LAYERS),
        ]
    else:
        d += [
            ("token_mlp fwd", "token_mlp_fwd/D512_It512", FWD_LAYERS),
            ("token_mlp bwd", "token_mlp_bwd/D512_It512", BWD_LAYERS),
        ]
    return d


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ops_json")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--mixer", choices=["att", "mlp"], default="att")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="cpu: use cpu_time (for one-thread runs on a shared machine)")
    ap.add_argument("--measured-ms", type=float, default=None, help="model_train time to compare against")
    args = ap.parse_args()

    doc = json.load(open(args.ops_json))
    best: dict[str, float] = {}
    for b in doc["benchmarks"]:
        if b.get("run_type", "iteration") != "iteration":
            continue
        name = b["run_name"] if "run_name" in b else b["name"]
        parts = name.split("/")
        if len(parts) < 3 or parts[2] != str(args.batch):
            continue
        key = "/".join(parts[:2])
        ms = b["cpu_time" if args.clock == "cpu" else "real_time"] * {"us": 1e-3, "ms": 1.0, "ns": 1e-6, "s": 1e3}[b["time_unit"]]
        best[key] = min(best.get(key, float("inf")), ms)

    groups: dict[str, float] = defaultdict(float)
    missing = []
    for group, name, calls in step_calls(args.mixer):
        if name not in best:
            missing.append(name)
            continue
        groups[group] += calls * best[name]
    total = sum(groups.values())
    print(f"Predicted training ACT step, Sudoku-{args.mixer}, B={args.batch}: {total:.0f} ms"
          + (f" (model_train measured {args.measured_ms:.0f} ms)" if args.measured_ms else "") + "\n")
    print("| op | ms per step | share |")
    print("|---|---|---|")
    for g, ms in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"| {g} | {ms:.0f} | {100 * ms / total:.1f}% |")
    if missing:
        print("\nmissing benchmarks:", ", ".join(missing))


if __name__ == "__main__":
    main()
