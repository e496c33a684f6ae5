"""Times the PyTorch TRM baseline (trm_torch.py) on the CPU and prints one JSON object.

  python bench_torch.py --config sudoku_att --batch 8 --what train --mode eager --threads 2

--what train    one training ACT step: forward (T−1 cycles no_grad, last cycle with grad), stablemax CE +
                0.5·BCE loss, backward (loss / batch, as pretrain.py divides by the global batch); no optimizer
--what fwd      one ACT step forward under no_grad (inference)
--mode eager | compile   (torch.compile, inductor, dynamic=False: one graph per batch size)
--dtype fp32 | bf16      bf16: the step under torch.autocast("cpu", bfloat16), which runs the products (linear layers,
                         attention) on bf16 operands with fp32 master weights, as the reference's
                         forward_dtype=bfloat16 does (its norms are computed in fp32 there too); an approximation of the
                         reference's casts (it also stores the carries in bf16), equal in what costs: the products

Output keys: example_act_steps_per_s, step_s (median), step_s_min, iters, compile_s (first call),
step_cpu_s_min / step_cpu_s_median (CPU time of the calling thread: with --threads 1 every op runs on it,
so this is the step's time without the waits a shared machine adds),
rss_mb_per_example (growth of ru_maxrss over the RSS just before the first step,
divided by the batch; the first (warm-up) step is included; in compile mode it includes the compiler's own memory, so only eager mode gives a
fair number), params, torch version and thread count.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trm_torch import CONFIGS, TRM, act_loss  # noqa: E402


def current_rss_bytes() -> float:
    with open("/proc/self/statm") as f:
        resident = int(f.read().split()[1])
    return resident * os.sysconf("SC_PAGE_SIZE")


def maxrss_bytes() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=sorted(CONFIGS), required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--what", choices=["train", "fwd"], default="train")
    ap.add_argument("--mode", choices=["eager", "compile"], default="eager")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--min-time", type=float, default=3.0, help="seconds of timed steps (at least --min-iters)")
    ap.add_argument("--min-iters", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = CONFIGS[args.config]
    model = TRM(cfg)
    B = args.batch
    g = torch.Generator().manual_seed(7)
    inputs = torch.randint(0, cfg.vocab, (B, cfg.seq), generator=g, dtype=torch.int32).long()
    labels = torch.randint(1, cfg.vocab, (B, cfg.seq), generator=g, dtype=torch.int32).long()
    pids = torch.zeros(B, dtype=torch.long)
    z_h, z_l = model.initial_carry(B)

    bf16 = args.dtype == "bf16"

    def train_fwd(z_h, z_l):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            z_h, z_l, logits, q = model(z_h, z_l, inputs, pids)
        return z_h, z_l, act_loss(logits.float(), q.float(), labels) / B

    def infer(z_h, z_l):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            z_h, z_l, logits, q = model(z_h, z_l, inputs, pids)
        return z_h, z_l, logits, q

    if args.mode == "compile":
        train_fwd = torch.compile(train_fwd, dynamic=False)
        infer = torch.compile(infer, dynamic=False)

    carry = [z_h, z_l]

    def step():
        if args.what == "train":
            model.zero_grad(set_to_none=False)
            zh, zl, loss = train_fwd(carry[0], carry[1])
            loss.backward()
        else:
            with torch.no_grad():
                zh, zl, _, _ = infer(carry[0], carry[1])
        carry[0], carry[1] = zh, zl

    rss0 = current_rss_bytes()
    t0 = time.perf_counter()
    step()
    compile_s = time.perf_counter() - t0
    for _ in range(args.warmup - 1):
        step()
    times, cpu_times = [], []
    t_start = time.perf_counter()
    while len(times) < args.min_iters or time.perf_counter() - t_start < args.min_time:
        t, c = time.perf_counter(), time.thread_time()
        step()
        times.append(time.perf_counter() - t)
        cpu_times.append(time.thread_time() - c)
    med = statistics.median(times)
    params = sum(p.numel() for n, p in model.named_parameters() if n != "puzzle_emb")
    print(json.dumps({
        "impl": f"torch-{args.mode}", "dtype": args.dtype, "config": args.config, "batch": B, "what": args.what,
        "example_act_steps_per_s": B / med, "step_s": med, "step_s_min": min(times), "iters": len(times),
        "step_cpu_s_min": min(cpu_times), "step_cpu_s_median": statistics.median(cpu_times),
        "compile_s": compile_s, "rss_mb_per_example": (maxrss_bytes() - rss0) / B / 1e6,
        "maxrss_mb": maxrss_bytes() / 1e6, "params": params, "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
