"""A PyTorch TRM of the same architecture as gtrm, written from docs/reference.md (§1, §2), in fp32.

It is a benchmark baseline, not a numerical reference: it follows the reference's structure op for op
(post-norm blocks without gain, fused qkv with Q|K|V slots, NeoX RoPE, SDPA without mask, SwiGLU with the
gate first, the token-MLP mixer over the sequence axis with its norm over L, 16 puzzle-prefix slots, the
√D embedding scale, T−1 cycles under no_grad and the last cycle with gradient, lm_head on z_H[:, P:],
q_head on z_H[:, 0], stablemax cross-entropy in float64 + 0.5·BCE(q_halt)). Differences from the reference
that do not change the cost: fp32 everywhere (the reference casts to bf16 on the GPU), plain trunc-normal
init, and the puzzle embedding is an ordinary parameter gathered per row (the reference's SignSGD scratch
copy has the same shapes and gradient).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class Config:
    vocab: int = 11
    seq: int = 81
    hidden: int = 512
    heads: int = 8
    expansion: int = 4
    puzzle_emb_len: int = 16
    h_cycles: int = 3       # T
    l_cycles: int = 6       # n
    layers: int = 2
    mlp_t: bool = False
    pos: str = "rope"       # "rope" or "none"
    halt_max_steps: int = 16

    @property
    def L(self) -> int:
        return self.puzzle_emb_len + self.seq


CONFIGS = {
    "sudoku_att": Config(hidden=512, heads=8, mlp_t=False, pos="rope"),
    "sudoku_mlp": Config(hidden=512, heads=8, mlp_t=True, pos="none"),
    "h128_att": Config(hidden=128, heads=4, mlp_t=False, pos="rope"),
    "h128_mlp": Config(hidden=128, heads=4, mlp_t=True, pos="none"),
}


def swiglu_intermediate(n: int, expansion: int) -> int:
    a = round(expansion * n * 2 / 3)
    return -(a // -256) * 256


def trunc_normal_(t: torch.Tensor, std: float) -> torch.Tensor:
    with torch.no_grad():
        return nn.init.trunc_normal_(t, std=std * 1.1368472343, a=-2.2736945 * std, b=2.2736945 * std)


def linear(n_in: int, n_out: int) -> nn.Linear:
    lin = nn.Linear(n_in, n_out, bias=False)
    trunc_normal_(lin.weight, 1.0 / math.sqrt(n_in))
    return lin


def rms_norm(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class SwiGLU(nn.Module):
    def __init__(self, n: int, expansion: int):
        super().__init__()
        i = swiglu_intermediate(n, expansion)
        self.gate_up_proj = linear(n, 2 * i)
        self.down_proj = linear(i, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
        return self.down_proj(F.silu(gate) * up)


class Attention(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.heads, self.head_dim = cfg.heads, cfg.hidden // cfg.heads
        self.qkv_proj = linear(cfg.hidden, 3 * cfg.hidden)
        self.o_proj = linear(cfg.hidden, cfg.hidden)

    def forward(self, x: torch.Tensor, cos, sin) -> torch.Tensor:
        B, L, D = x.shape
        qkv = self.qkv_proj(x).view(B, L, 3 * self.heads, self.head_dim)
        q, k, v = qkv[:, :, : self.heads], qkv[:, :, self.heads : 2 * self.heads], qkv[:, :, 2 * self.heads :]
        if cos is not None:  # cos, sin: [L, 1, head_dim]
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # [B, H, L, d]
        o = F.scaled_dot_product_attention(q, k, v)
        return self.o_proj(o.transpose(1, 2).reshape(B, L, D))


class Block(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.mlp_t = cfg.mlp_t
        if cfg.mlp_t:
            self.mlp_t_layer = SwiGLU(cfg.L, cfg.expansion)
        else:
            self.self_attn = Attention(cfg)
        self.mlp = SwiGLU(cfg.hidden, cfg.expansion)

    def forward(self, h: torch.Tensor, cos, sin) -> torch.Tensor:
        if self.mlp_t:
            u = h.transpose(1, 2)
            u = rms_norm(u + self.mlp_t_layer(u))
            h = u.transpose(1, 2)
        else:
            h = rms_norm(h + self.self_attn(h, cos, sin))
        return rms_norm(h + self.mlp(h))


class TRM(nn.Module):
    def __init__(self, cfg: Config, num_puzzle_ids: int = 1):
        super().__init__()
        self.cfg = cfg
        D, V = cfg.hidden, cfg.vocab
        self.embed_tokens = nn.Parameter(trunc_normal_(torch.empty(V, D), 1.0 / math.sqrt(D)))
        self.lm_head = linear(D, V)
        self.q_head = nn.Linear(D, 2)
        with torch.no_grad():
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5.0)
        self.puzzle_emb = nn.Parameter(torch.zeros(num_puzzle_ids, D))
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.register_buffer("H_init", trunc_normal_(torch.empty(D), 1.0))
        self.register_buffer("L_init", trunc_normal_(torch.empty(D), 1.0))
        if cfg.pos == "rope":
            d = D // cfg.heads
            inv_freq = 1.0 / (10000.0 ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
            freqs = torch.outer(torch.arange(cfg.L, dtype=torch.float32), inv_freq)
            emb = torch.cat((freqs, freqs), dim=-1)
            self.register_buffer("cos", emb.cos()[:, None, :], persistent=False)
            self.register_buffer("sin", emb.sin()[:, None, :], persistent=False)
        else:
            self.cos = self.sin = None

    def input_embeddings(self, inputs: torch.Tensor, puzzle_ids: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        B = inputs.shape[0]
        tok = self.embed_tokens[inputs]
        pe = self.puzzle_emb[puzzle_ids]
        pe = F.pad(pe, (0, cfg.puzzle_emb_len * cfg.hidden - pe.shape[-1])).view(B, cfg.puzzle_emb_len, cfg.hidden)
        return math.sqrt(cfg.hidden) * torch.cat((pe, tok), dim=1)

    def f(self, h: torch.Tensor, inj: torch.Tensor) -> torch.Tensor:
        h = h + inj
        for blk in self.layers:
            h = blk(h, self.cos, self.sin)
        return h

    def forward(self, z_h, z_l, inputs, puzzle_ids):
        """One ACT step of the inner model: T−1 cycles without gradient, the last with gradient."""
        cfg = self.cfg
        x = self.input_embeddings(inputs, puzzle_ids)
        with torch.no_grad():
            for _ in range(cfg.h_cycles - 1):
                for _ in range(cfg.l_cycles):
                    z_l = self.f(z_l, z_h + x)
                z_h = self.f(z_h, z_l)
        for _ in range(cfg.l_cycles):
            z_l = self.f(z_l, z_h + x)
        z_h = self.f(z_h, z_l)
        logits = self.lm_head(z_h)[:, cfg.puzzle_emb_len :]
        q = self.q_head(z_h[:, 0])
        return z_h.detach(), z_l.detach(), logits, q

    def initial_carry(self, batch: int):
        L, D = self.cfg.L, self.cfg.hidden
        return self.H_init.expand(batch, L, D).clone(), self.L_init.expand(batch, L, D).clone()


def stablemax_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    x = logits.to(torch.float64)
    s = torch.where(x < 0, 1.0 / (1.0 - x + 1e-30), x + 1.0)
    logp = torch.log(s / s.sum(-1, keepdim=True))
    valid = labels != -100
    ce = -torch.gather(logp, -1, torch.where(valid, labels, 0).unsqueeze(-1)).squeeze(-1)
    return torch.where(valid, ce, 0.0)


def act_loss(logits: torch.Tensor, q: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """ACTLossHead (docs/reference.md §2.2) summed over the batch: lm_loss + 0.5 · q_halt_loss."""
    valid = labels != -100
    count = valid.sum(-1).clamp_min(1)
    lm_loss = (stablemax_cross_entropy(logits, labels).sum(-1) / count).sum()
    with torch.no_grad():
        correct = valid & (logits.argmax(-1) == labels)
        seq_ok = correct.sum(-1) == valid.sum(-1)
    q_loss = F.binary_cross_entropy_with_logits(q[:, 0].float(), seq_ok.float(), reduction="sum")
    return lm_loss + 0.5 * q_loss
