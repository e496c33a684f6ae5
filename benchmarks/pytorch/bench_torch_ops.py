"""The PyTorch counterparts of bench_ops' Sudoku-attention ops at B = 8 (N = 8·97 rows), one thread, timed by
the thread's CPU clock (best of 20): linear forward/backward at the block's four shapes, SDPA forward and
backward (8 heads × 64, L = 97), silu(g)·u. Used for the per-op table in results/cpu-baseline.md.

  /tmp/torchvenv/bin/python benchmarks/pytorch/bench_torch_ops.py
"""
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def best(f, n=20):
    f()
    b = 1e9
    for _ in range(n):
        c = time.thread_time()
        f()
        b = min(b, time.thread_time() - c)
    return b


N = 8 * 97
for i, o in [(512, 1536), (512, 512), (512, 3072), (1536, 512)]:
    x, w = torch.randn(N, i), torch.randn(o, i) * 0.05
    s = best(lambda: F.linear(x, w))
    print(f"linear fwd {i}x{o}: {s * 1e3:.2f} ms {2 * N * i * o / s / 1e9:.1f} GFLOP/s")
    x.requires_grad_()
    w.requires_grad_()
    y = F.linear(x, w)
    g = torch.randn_like(y)
    s = best(lambda: torch.autograd.grad(y, (x, w), g, retain_graph=True))
    print(f"linear bwd {i}x{o}: {s * 1e3:.2f} ms {4 * N * i * o / s / 1e9:.1f} GFLOP/s")
q, k, v = (torch.randn(8, 8, 97, 64) for _ in range(3))
s = best(lambda: F.scaled_dot_product_attention(q, k, v))
print(f"sdpa fwd: {s * 1e3:.2f} ms {4 * 97 * 97 * 512 * 8 / s / 1e9:.1f} GFLOP/s")
for t in (q, k, v):
    t.requires_grad_()
out = F.scaled_dot_product_attention(q, k, v)
g = torch.randn_like(out)
s = best(lambda: torch.autograd.grad(out, (q, k, v), g, retain_graph=True))
print(f"sdpa bwd: {s * 1e3:.2f} ms")
a, u = torch.randn(N, 1536), torch.randn(N, 1536)
s = best(lambda: F.silu(a) * u)
print(f"silu(g)*u fwd: {s * 1e3:.2f} ms")
