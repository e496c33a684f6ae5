#!/usr/bin/env python3
"""A model trained by gtrm, exported with `gtrm export --format torch`, loads into the official PyTorch TRM and
computes what gtrm computes.

    check_export.py --gtrm build/tools/gtrm --run RUN_DIR --data DATA_DIR --ref TinyRecursiveModels [--puzzles 100]

1. `gtrm export RUN_DIR --format torch --orig-mod --out TMP/step_N` (and TMP/all_config.yaml);
2. torch.load(TMP/step_N, weights_only=True), the `_orig_mod.` prefix stripped as the official evaluate does, into
   ACTLossHead(TinyRecursiveReasoningModel_ACTV1(arch of all_config.yaml + seq_len/vocab/puzzle count of the
   dataset)) with load_state_dict(strict=True);
3. the first N test puzzles through the official model in eval mode (all halt_max_steps ACT steps, float32) and
   through `gtrm solve RUN_DIR --trajectory --format json`: the Q-halt logit of every puzzle at every ACT step must
   agree within 1e-5 relative (norm over all), and the predicted grid of every step must be identical.
Exit 0: pass; 1: fail; 77: skipped (no torch or numpy in this Python), for ctest's SKIP_RETURN_CODE.
"""
import argparse, json, math, os, subprocess, sys, tempfile, types

try:
    import numpy as np
    import torch
    from torch import nn
    import torch.nn.functional as F
except ImportError as e:
    print(f"skipped: {e} (this check needs PyTorch and numpy)")
    sys.exit(77)

import yaml


def shims():
    """What the official modules import but this check does not need (see tests/data/torch/make_fixtures.py)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "torch"))
    import make_fixtures
    make_fixtures.install_shims()
    return make_fixtures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gtrm", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--ref", required=True, help="TinyRecursiveModels checkout")
    ap.add_argument("--puzzles", type=int, default=100)
    a = ap.parse_args()
    if not os.path.isdir(os.path.join(a.ref, "models")):
        print(f"skipped: no official TinyRecursiveModels checkout at {a.ref}")
        return 77
    mf = shims()
    torch.set_num_threads(1)
    tmp = tempfile.mkdtemp(prefix="gtrm-export-")
    step = os.path.join(tmp, "step_1")
    subprocess.run([a.gtrm, "export", a.run, "--format", "torch", "--orig-mod", "--out", step], check=True)

    sd = torch.load(step, map_location="cpu", weights_only=True)
    sd = {k.removeprefix("_orig_mod."): v for k, v in sd.items()}
    with open(os.path.join(tmp, "all_config.yaml")) as f:
        arch = yaml.safe_load(f)["arch"]
    with open(os.path.join(a.data, "test", "dataset.json")) as f:
        meta = json.load(f)
    cfg = {k: v for k, v in arch.items() if k not in ("name", "loss")}
    cfg.update(batch_size=a.puzzles, seq_len=meta["seq_len"], vocab_size=meta["vocab_size"],
               num_puzzle_identifiers=sd["model.inner.puzzle_emb.weights"].shape[0] if "model.inner.puzzle_emb.weights" in sd else 1)
    trm, losses = mf.import_ref(a.ref, "models.recursive_reasoning.trm")
    head = losses.ACTLossHead(trm.TinyRecursiveReasoningModel_ACTV1(cfg), loss_type=arch["loss"]["loss_type"])
    head.load_state_dict(sd, strict=True)
    head.eval()

    # the first N test puzzles, as tokens (PAD 0, blank 1, digit d -> d + 1) and as the text gtrm solve reads
    inputs = np.load(os.path.join(a.data, "test", "all__inputs.npy"))[: a.puzzles].astype(np.int32)
    n = inputs.shape[0]
    lines = ["".join("." if t == 1 else str(t - 1) for t in row) for row in inputs]
    pz = os.path.join(tmp, "puzzles.txt")
    with open(pz, "w") as f:
        f.write("\n".join(lines) + "\n")
    out = subprocess.run([a.gtrm, "solve", a.run, "--file", pz, "--format", "json", "--trajectory"], check=True,
                         capture_output=True, text=True).stdout
    solved = json.loads(out)["puzzles"]
    assert len(solved) == n, (len(solved), n)

    batch = {"inputs": torch.from_numpy(inputs), "labels": torch.from_numpy(inputs),
             "puzzle_identifiers": torch.zeros(n, dtype=torch.int32)}
    if torch.__version__.startswith("1."):
        batch = {k: v.long() for k, v in batch.items()}
    steps = arch["halt_max_steps"]
    q_ours, q_ref, same_grids, grids = [], [], 0, 0
    with torch.no_grad():
        carry = head.model.initial_carry(batch)
        for s in range(steps):
            carry, o = head.model(carry=carry, batch=batch)
            preds = o["logits"].argmax(-1).numpy()
            for i in range(n):
                st = solved[i]["trajectory"][s]
                q_ours.append(st["q_halt_logit"])
                q_ref.append(float(o["q_halt_logits"][i]))
                ref_line = "".join("." if t == 1 else ("?" if t == 0 else str(t - 1)) for t in preds[i])
                ours = st["prediction"]
                same_grids += all(r == g or (r in ".?" and not g.isdigit()) for r, g in zip(ref_line, ours))
                grids += 1
    q_ours, q_ref = np.array(q_ours), np.array(q_ref)
    rel = float(np.linalg.norm(q_ours - q_ref) / np.linalg.norm(q_ref))
    print(f"export check: {n} puzzles x {steps} ACT steps, torch {torch.__version__}: q_halt logits relative error "
          f"{rel:.3g} (max abs {float(np.abs(q_ours - q_ref).max()):.3g}); predicted grids identical {same_grids}/{grids}")
    ok = rel <= 1e-5 and same_grids == grids
    print("export check:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
