#!/usr/bin/env python3
"""Makes the PyTorch checkpoint fixtures of tests/test_io_torch.cpp (see README.md beside this file).

Run from the repository root, once with each writer (the files carry the writer's tag):
    /usr/bin/python3            tests/data/torch/make_fixtures.py --ref REF_TRM --hrm-ref REF_HRM   # Debian torch 1.13 -> t1
    /work/venv-torch/bin/python tests/data/torch/make_fixtures.py --ref REF_TRM --hrm-ref REF_HRM   # pip torch 2.x     -> t2
REF_TRM is a checkout of github.com/SamsungSAILMontreal/TinyRecursiveModels, REF_HRM of github.com/sapientinc/HRM.
Needs torch and numpy only: the few imports of the official code that these models do not use at run time
(pydantic, einops, flash_attn) and the torch >= 2.x APIs missing from torch 1.13 (nn.Buffer,
F.scaled_dot_product_attention) are replaced by the small shims below, which compute the same thing.

For each model: <name>.pt = torch.save(ACTLossHead(model).state_dict()) of the official module (keys
"model.inner.*", the names the official pretrain.py saves; `_orig_mod.` prefixed where the name says so), and
<name>.expected.safetensors = a fixed batch and the logits and Q-halt logits of every ACT step of the official model
in eval mode (fp32), plus the config. Random weights; the tensors the official init sets to constants (puzzle
embeddings, q_head) are redrawn so that their paths are tested.
"""
import argparse, json, math, os, pickle, struct, sys, types, zipfile

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

TAG = "t1" if torch.__version__.startswith("1.") else "t2"


# ---------------------------------------------------------------- shims (only what the models need)
def install_shims():
    pyd = types.ModuleType("pydantic")

    class BaseModel:
        def __init__(self, **kw):
            for cls in reversed(type(self).__mro__):
                for k in getattr(cls, "__annotations__", {}):
                    if hasattr(cls, k):
                        setattr(self, k, getattr(cls, k))
            for k, v in kw.items():
                setattr(self, k, v)
    pyd.BaseModel = BaseModel
    sys.modules["pydantic"] = pyd

    ein = types.ModuleType("einops")

    def rearrange(x, pattern):
        assert pattern in ("B H S D -> B S H D", "B S H D -> B H S D"), pattern
        return x.transpose(1, 2).contiguous()  # einops may return a view; the values are the same
    ein.rearrange = rearrange
    sys.modules["einops"] = ein

    if not hasattr(F, "scaled_dot_product_attention"):
        def sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
            q, k, v = query, key, value
            s = (q @ k.transpose(-2, -1)) * (scale if scale is not None else 1.0 / math.sqrt(q.shape[-1]))
            return torch.softmax(s, dim=-1) @ v
        F.scaled_dot_product_attention = sdpa

    fa = types.ModuleType("flash_attn")

    def flash_attn_func(q, k, v, causal=False):  # [B, S, H, D] layout
        o = F.scaled_dot_product_attention(query=q.transpose(1, 2), key=k.transpose(1, 2), value=v.transpose(1, 2), is_causal=causal)
        return o.transpose(1, 2).contiguous()
    fa.flash_attn_func = flash_attn_func
    sys.modules["flash_attn"] = fa

    if torch.__version__.startswith("1."):  # bare @torch.no_grad (torch >= 2.0) as a decorator
        orig_no_grad = torch.no_grad
        torch.no_grad = lambda fn=None: orig_no_grad()(fn) if callable(fn) else orig_no_grad()
    import torch.optim.optimizer as optim_mod
    if not hasattr(optim_mod, "ParamsT"):  # a type alias sparse_embedding.py imports (torch >= 2.2)
        optim_mod.ParamsT = object
    if not hasattr(nn, "Buffer"):
        class Buffer(torch.Tensor):
            def __new__(cls, data, persistent=True):
                t = data.detach()
                t._gtrm_persistent = persistent
                return t
        orig = nn.Module.__setattr__

        def setattr_(self, name, value):
            if isinstance(value, torch.Tensor) and hasattr(value, "_gtrm_persistent"):
                self.register_buffer(name, value, persistent=value._gtrm_persistent)
            else:
                orig(self, name, value)
        nn.Buffer = Buffer
        nn.Module.__setattr__ = setattr_


def import_ref(path, module):
    for k in list(sys.modules):
        if k == "models" or k.startswith("models."):
            del sys.modules[k]
    sys.path.insert(0, path)
    try:
        return __import__(module, fromlist=["*"]), __import__("models.losses", fromlist=["*"])
    finally:
        sys.path.remove(path)


# ---------------------------------------------------------------- safetensors writer (numpy arrays)
def save_safetensors(path, tensors, metadata):
    kinds = {np.float32: "F32", np.int32: "I32", np.float64: "F64"}
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        b = a.tobytes()
        header[name] = {"dtype": kinds[a.dtype.type], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ---------------------------------------------------------------- models
def build(trm_mod, losses, cfg, seed):
    torch.manual_seed(seed)
    cls = getattr(trm_mod, "TinyRecursiveReasoningModel_ACTV1", None) or getattr(trm_mod, "HierarchicalReasoningModel_ACTV1")
    head = losses.ACTLossHead(cls(cfg), loss_type="stablemax_cross_entropy")
    inner = head.model.inner
    with torch.no_grad():
        d = cfg["hidden_size"]
        inner.q_head.weight.normal_(0, 1 / math.sqrt(d))
        inner.q_head.bias.normal_(0, 1)
        if cfg["puzzle_emb_ndim"] > 0:
            inner.puzzle_emb.weights.normal_(0, 1 / math.sqrt(d))
    return head.eval()


def to_float64(head, trm_mod):
    """The same model computing in float64 throughout: a reference with (almost) no rounding of its own. The official
    code casts to float32 inside rms_norm and builds the RoPE tables in float32, so rms_norm is replaced by the same
    formula in the input's dtype and the tables are rebuilt in float64 (theta 10000, as every config here); every
    weight and buffer becomes float64 with .double(). Only the Q head's output is still cast to float32 by the
    official code (a last rounding of 6e-8 relative)."""
    import copy
    h = copy.deepcopy(head).double()
    for m in h.modules():
        if hasattr(m, "cast_to"):
            m.cast_to = torch.float64
        if hasattr(m, "forward_dtype"):
            m.forward_dtype = torch.float64
        if hasattr(m, "cos_cached"):  # RoPE tables: the official code builds them in float32; rebuild in float64
            n, dim = m.cos_cached.shape
            inv_freq = 1.0 / (10000.0 ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
            freqs = torch.outer(torch.arange(n, dtype=torch.float64), inv_freq)
            emb = torch.cat((freqs, freqs), dim=-1)
            m.cos_cached, m.sin_cached = emb.cos(), emb.sin()

    def rms_norm(x, variance_epsilon):
        return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + variance_epsilon)
    trm_mod.rms_norm = rms_norm
    sys.modules["models.layers"].rms_norm = rms_norm
    return h


def run(head, cfg, batch_size, seed, steps, key="eval"):
    g = torch.Generator().manual_seed(seed + 100)
    inputs = torch.randint(1, cfg["vocab_size"], (batch_size, cfg["seq_len"]), generator=g, dtype=torch.int32)
    pids = torch.randint(0, cfg["num_puzzle_identifiers"], (batch_size,), generator=g, dtype=torch.int32)
    batch = {"inputs": inputs, "labels": inputs.clone(), "puzzle_identifiers": pids}
    if TAG == "t1":  # torch 1.13 indexes with int64 only (the values are the same)
        batch = {k: v.long() for k, v in batch.items()}
    model = head.model
    out = {"batch/inputs": inputs.numpy(), "batch/labels": inputs.numpy(), "batch/puzzle_identifiers": pids.numpy()} if key == "eval" else {}
    with torch.no_grad():
        carry = model.initial_carry(batch)
        for s in range(1, steps + 1):
            carry, o = model(carry=carry, batch=batch)
            out[f"{key}/step{s}/logits"] = o["logits"].numpy()
            out[f"{key}/step{s}/q_halt_logits"] = o["q_halt_logits"].numpy()
    return out


def save_checkpoint(head, path, prefix="", dtype=None, views=False):
    sd = head.state_dict()
    if dtype is not None:
        sd = {k: v.to(dtype) for k, v in sd.items()}
    if views:
        # every tensor a view of one shared storage, at its offset; lm_head.weight stored transposed (strides (1, V))
        flat = torch.cat([v.reshape(-1) for v in sd.values()])
        views_sd, off = {}, 0
        for k, v in sd.items():
            n = v.numel()
            if k.endswith("lm_head.weight"):
                views_sd[k] = flat[off:off + n].view(v.shape[1], v.shape[0]).t()
                flat[off:off + n].copy_(v.t().contiguous().reshape(-1))
            else:
                views_sd[k] = flat[off:off + n].view(v.shape)
            off += n
        sd = views_sd
    from collections import OrderedDict
    torch.save(OrderedDict((prefix + k, v) for k, v in sd.items()), path)


def write_model(out_dir, name, trm_mod, losses, cfg, seed, batch, steps, prefix="", dtype=None, views=False):
    head = build(trm_mod, losses, cfg, seed)
    if dtype is not None:  # the logits of the weights as stored: round to dtype, compute in fp32
        with torch.no_grad():
            for t in list(head.parameters()) + list(head.buffers()):
                if t.is_floating_point():
                    t.copy_(t.to(dtype).float())
    save_checkpoint(head, os.path.join(out_dir, f"{name}.pt"), prefix, dtype, views)
    expected = run(head, cfg, batch, seed, steps)
    layers_rms = sys.modules["models.layers"].rms_norm
    expected.update(run(to_float64(head, trm_mod), cfg, batch, seed, steps, key="eval64"))
    trm_mod.rms_norm = sys.modules["models.layers"].rms_norm = layers_rms
    save_safetensors(os.path.join(out_dir, f"{name}.expected.safetensors"), expected,
                     {"config": json.dumps(cfg), "torch_version": torch.__version__, "prefix": prefix,
                      "stored_dtype": str(dtype or torch.float32), "views": str(views)})
    print("wrote", name)


def hostile(out_dir):
    """Hostile files: each must be refused, and the payloads (which would create MARK) must never run. They start
    from a tiny valid checkpoint (one 2x3 tensor, model.inner.lm_head.weight) and break one thing each."""
    mark = "/tmp/gtrm-torch-hostile-ran"
    base_pt = os.path.join(out_dir, "tiny_t2.pt")
    torch.save({"model.inner.lm_head.weight": torch.arange(6, dtype=torch.float32).view(2, 3)}, base_pt)
    with zipfile.ZipFile(base_pt) as z:
        names = z.namelist()
        records = {n: z.read(n) for n in names}
    arch = names[0].split("/")[0]

    def write(name, recs):
        with zipfile.ZipFile(os.path.join(out_dir, name), "w", zipfile.ZIP_STORED) as z:
            for n, b in recs.items():
                z.writestr(n, b)
        print("wrote", name)

    class System:
        def __reduce__(self):
            return (os.system, ("touch " + mark,))

    class Eval:
        def __reduce__(self):
            return (eval, ("open(%r, 'w').close()" % mark,))
    for name, obj in [("hostile_system.pt", System()), ("hostile_eval.pt", Eval())]:
        r = dict(records)
        r[arch + "/data.pkl"] = pickle.dumps({"model.inner.lm_head.weight": obj}, protocol=2)
        write(name, r)
    # a global of another module: numpy's array reconstructor (what pickled numpy arrays inside a checkpoint use)
    r = dict(records)
    r[arch + "/data.pkl"] = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01cnumpy.core.multiarray\n_reconstruct\nq\x02s."
    write("hostile_other_module.pt", r)
    r = dict(records)
    r[arch + "/data.pkl"] = records[arch + "/data.pkl"][: len(records[arch + "/data.pkl"]) // 2]
    write("hostile_truncated.pt", r)
    r = {n: b for n, b in records.items() if n != arch + "/data/0"}
    write("hostile_missing_storage.pt", r)
    r = dict(records)
    r[arch + "/data/0"] = records[arch + "/data/0"][:-4]
    write("hostile_small_storage.pt", r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", required=True, help="TinyRecursiveModels checkout")
    ap.add_argument("--hrm-ref", required=True, help="HRM checkout")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    install_shims()
    torch.set_num_threads(1)
    trm, trm_losses = import_ref(a.ref, "models.recursive_reasoning.trm")
    common = dict(halt_exploration_prob=0.0, forward_dtype="float32", rms_norm_eps=1e-5, rope_theta=10000.0)
    # the golden configuration (a): include/gtrm/presets.hpp golden_rope
    small = dict(common, batch_size=4, seq_len=16, vocab_size=11, num_puzzle_identifiers=8, puzzle_emb_ndim=64,
                 puzzle_emb_len=16, H_cycles=3, L_cycles=2, H_layers=0, L_layers=2, hidden_size=64, expansion=4,
                 num_heads=4, pos_encodings="rope", halt_max_steps=4, mlp_t=False, no_ACT_continue=True)
    write_model(a.out, f"trm_rope_{TAG}", trm, trm_losses, small, 0, 4, 4)
    write_model(a.out, f"trm_rope_orig_mod_{TAG}", trm, trm_losses, small, 1, 4, 4, prefix="_orig_mod.")
    write_model(a.out, f"trm_rope_views_{TAG}", trm, trm_losses, small, 2, 4, 4, views=True)
    if TAG == "t2":
        # the paper's Sudoku-MLP (config/arch/trm.yaml with mlp_t, 1 puzzle id): bf16, ~13 MB; one ACT step, batch 1
        paper = dict(common, batch_size=1, seq_len=81, vocab_size=11, num_puzzle_identifiers=1, puzzle_emb_ndim=512,
                     puzzle_emb_len=16, H_cycles=3, L_cycles=6, H_layers=0, L_layers=2, hidden_size=512, expansion=4,
                     num_heads=8, pos_encodings="none", halt_max_steps=16, mlp_t=True, no_ACT_continue=True)
        write_model(a.out, "trm_paper_mlp_bf16_t2", trm, trm_losses, paper, 3, 1, 1, prefix="_orig_mod.",
                    dtype=torch.bfloat16)
        hostile(a.out)
    hrm, hrm_losses = import_ref(a.hrm_ref, "models.hrm.hrm_act_v1")
    # include/gtrm/presets.hpp golden_hrm: H_level 2 blocks, RoPE, Q-continue target
    hrm_cfg = dict(common, batch_size=4, seq_len=16, vocab_size=11, num_puzzle_identifiers=8, puzzle_emb_ndim=64,
                   H_cycles=2, L_cycles=2, H_layers=2, L_layers=2, hidden_size=64, expansion=4, num_heads=4,
                   pos_encodings="rope", halt_max_steps=4)
    write_model(a.out, f"hrm_rope_{TAG}", hrm, hrm_losses, hrm_cfg, 4, 4, 4, prefix="_orig_mod.")


if __name__ == "__main__":
    main()
