#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora, tests/fuzz/corpus/<name>/: a few valid inputs (from tests/data or built
here) and a few broken ones per parser. Run from the repository root: python3 tests/fuzz/make_seeds.py
Standard library only; the corpora are committed, so this is needed only to change them."""
import base64
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")


def put(name, file, content):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, file), "wb") as f:
        f.write(content if isinstance(content, bytes) else content.encode())


def read(*p):
    with open(os.path.join(DATA, *p), "rb") as f:
        return f.read()


# ---- safetensors ----
def safetensors(tensors, meta=None, extra=b""):
    header, data = {}, b""
    if meta is not None:
        header["__metadata__"] = meta
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data + extra


f32 = struct.pack("<6f", 1, -2, 0.5, 3e38, 0, -0.0)
ok = safetensors({"w": ("F32", [2, 3], f32), "step": ("I64", [], struct.pack("<q", 7)),
                  "m": ("BF16", [2], b"\x80\x3f\x00\xc0"), "b": ("BOOL", [3], b"\x00\x01\x02"),
                  "h": ("F16", [1], b"\x00\x3c"), "e": ("U8", [0], b"")}, meta={"format": "pt", "gtrm.preset": "x"})
put("safetensors", "valid_mixed.safetensors", ok)
put("safetensors", "valid_ints.safetensors", safetensors({"i8": ("I8", [4], b"\x01\xff\x7f\x80"),
                                                          "i16": ("I16", [2], struct.pack("<2h", -1, 300)),
                                                          "i32": ("I32", [1, 1], struct.pack("<i", -5)),
                                                          "f64": ("F64", [1], struct.pack("<d", 2.5))}))
put("safetensors", "broken_truncated.safetensors", ok[:-5])
put("safetensors", "broken_header_len.safetensors", struct.pack("<Q", 1 << 40) + ok[8:])
put("safetensors", "broken_overlap.safetensors",
    struct.pack("<Q", 88) + json.dumps({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                                        "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}}).encode().ljust(88)
    + b"\x00" * 6)
put("safetensors", "broken_dtype.safetensors", safetensors({"w": ("Q8", [1], b"\x00")}))
put("safetensors", "broken_nan.safetensors", safetensors({"w": ("F32", [2], struct.pack("<2f", float("nan"), float("inf")))}))

# ---- npy ----
def npy(descr, shape, raw, fortran=False, version=1):
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, "True" if fortran else "False", "".join("%d," % s for s in shape) if len(shape) == 1 else ", ".join(map(str, shape)))
    pre = 10 if version == 1 else 12
    h += " " * (-(pre + len(h) + 1) % 64) + "\n"
    lenb = struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([version, 0]) + lenb + h.encode() + raw


put("npy", "valid_u1_2d.npy", npy("|u1", [2, 3], bytes([0, 1, 2, 3, 4, 5])))
put("npy", "valid_i4_1d.npy", npy("<i4", [3], struct.pack("<3i", 0, 1, 3)))
put("npy", "valid_i8_v2.npy", npy("<i8", [2], struct.pack("<2q", 5, 9), version=2))
put("npy", "valid_reference_inputs.npy", read("reference_builds", "maze_plain", "test", "all__puzzle_indices.npy"))
put("npy", "broken_truncated.npy", npy("|u1", [4, 4], bytes(5)))
put("npy", "broken_fortran.npy", npy("<i4", [2, 2], bytes(16), fortran=True))
put("npy", "broken_magic.npy", b"\x93NUMPZ\x01\x00" + bytes(20))
put("npy", "broken_overflow.npy", npy("|u1", [1 << 32, 1 << 32, 2], b""))
put("npy", "broken_i8_range.npy", npy("<i8", [1], struct.pack("<q", -1)))

# ---- dataset.json (and identifiers.json) ----
put("dataset_json", "valid_maze.json", read("reference_builds", "maze_plain", "test", "dataset.json"))
put("dataset_json", "valid_identifiers.json", read("reference_builds", "maze_plain", "identifiers.json"))
put("dataset_json", "valid_small.json", json.dumps({"pad_id": 0, "ignore_label_id": None, "blank_identifier_id": 0,
    "vocab_size": 3, "seq_len": 4, "num_puzzle_identifiers": 2, "total_groups": 1, "mean_puzzle_examples": 1.0,
    "total_puzzles": 1, "sets": ["all"]}))
put("dataset_json", "broken_types.json", '{"pad_id": "0", "seq_len": 1e400, "sets": "all"}')
put("dataset_json", "broken_range.json", json.dumps({"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0,
    "vocab_size": 9999999999, "seq_len": -1, "num_puzzle_identifiers": 0, "total_groups": 1,
    "mean_puzzle_examples": 1, "total_puzzles": 1, "sets": ["all", 3]}))
put("dataset_json", "broken_json.json", '{"pad_id": 0,')

# ---- CSV ----
sudoku = read("sudoku_small.csv").decode().splitlines()
maze = read("maze_small_test.csv").decode().splitlines()
put("csv", "valid_sudoku.csv", "\n".join(sudoku[:3]) + "\n")
put("csv", "valid_maze.csv", "\r\n".join(maze[:3]) + "\r\n")
put("csv", "valid_quoted.csv", 'source,question,answer,rating\n"a ""quoted"",\nsource",' + sudoku[1].split(",", 1)[1] + "\n")
put("csv", "broken_bom.csv", "\ufeff" + "\n".join(sudoku[:2]) + "\n")
put("csv", "broken_header.csv", "question,answer\n" + sudoku[1] + "\n")
put("csv", "broken_quote.csv", 'source,question,answer,rating\n"open,1,2,3\n')
put("csv", "broken_rows.csv", "source,question,answer,rating\nx,123,456,abc\nx,,\n" + sudoku[1].replace("4", "x") + "\n")

# ---- ARC JSON ----
for sub, f in [("training", "aaaa0001.json"), ("evaluation", "bbbb0001.json"),
               ("combined", "tiny_training_challenges.json"), ("combined", "tiny_training_solutions.json")]:
    put("arc_json", "valid_" + f, read("arc", "tiny", sub, f))
put("arc_json", "broken_ragged.json", '{"train": [{"input": [[1,2],[3]], "output": [[1]]}], "test": [{"input": [[0]]}]}')
put("arc_json", "broken_cell.json", '{"t1": {"train": [{"input": [[10]], "output": [[-1]]}], "test": []}, "t1": {}}')
put("arc_json", "broken_big.json", json.dumps({"train": [{"input": [[1] * 31], "output": [[1]] * 31}],
                                               "test": [{"input": [[1.5]]}]}))

# ---- puzzle strings (gtrm solve) ----
put("puzzle", "sudoku9_line.txt", sudoku[1].split(",")[1])
put("puzzle", "sudoku9_grid.txt", "\n".join(sudoku[1].split(",")[1][i:i + 9] for i in range(0, 81, 9)) + "\n")
put("puzzle", "sudoku6_line.txt", "1.3...4.....2...5.6..1.....3.4...2.1")
put("puzzle", "sudoku4_grid.txt", "1 . | 3 .\n. . | . 2\n-----\n2 . | . .\n. 3 | . 1\n")
put("puzzle", "sudoku_csv_rows.txt", "\n".join(sudoku[:3]) + "\n")
put("puzzle", "maze_grid.txt", "\n".join(maze[1].split(",")[1][i:i + 8] for i in range(0, 64, 8)) + "\n")
put("puzzle", "arc_grid.json", "[[0, 1, 2], [3, 4, 5]]")
put("puzzle", "arc_grids.json", "[[[0]], [[1, 1], [2, 2]]]")
put("puzzle", "broken_mixed.txt", "12..\n" + sudoku[1] + "\n..x.\n")

# ---- the config JSON and the run directory ----
config = {"preset": "sudoku6-demo", "data": "data/sudoku6", "steps": 1200, "epochs": 0, "batch": 64, "lr": 0.002,
          "lr_min_ratio": 0.1, "lr_warmup_steps": 100, "beta1": 0.9, "beta2": 0.95, "weight_decay": 0.1,
          "optimizer": "adam_atan2", "puzzle_emb_lr": 0.01, "puzzle_emb_weight_decay": 0.1,
          "halt_exploration_prob": 0.1, "ema": True, "ema_rate": 0.99, "loss": "softmax", "seed": 0,
          "eval_every": 0, "log_every": 50, "eval_batch": 256, "eval_examples": 0, "keep_checkpoints": True,
          "gtrm_version": "0.1.0", "model": {"hidden_size": 64}}
put("run_config", "valid_run_config.json", json.dumps(config, indent=2))
put("run_config", "valid_flags_as_text.json", json.dumps({"steps": "20", "lr": "1e-3", "ema": "off", "optimizer": "adamw"}))
put("run_config", "broken_types.json", json.dumps({"preset": 3, "steps": -1, "lr": "fast", "ema": 2, "beta2": None}))
put("run_config", "broken_unknown_key.json", json.dumps({"lr": 1e-3, "learning_rate": 1}))
put("run_config", "broken_not_object.json", "[1, 2, 3]")
put("run_config", "broken_huge.json", '{"steps": 1e400, "seed": 18446744073709551615, "batch": 9223372036854775807}')

state = {"step": 100, "elapsed_s": 12.5, "window": {"batches": 3, "loss": 1.5, "count": 192, "accuracy": 0.5,
         "exact_accuracy": 4, "q_halt_accuracy": 100, "steps": 300, "lm_loss": 1.2, "q_halt_loss": 0.2,
         "q_continue_loss": 0.1}}
put("run_dir", "valid_config.json", json.dumps(config))
put("run_dir", "valid_train_state.json", json.dumps(state))
put("run_dir", "valid_metrics.jsonl", '{"step": 50, "split": "train", "loss": 2.0}\n{"step": 100, "split": "eval"}\n'
    '{"step": 150, "split": "train"}\n{"step": 15')
put("run_dir", "broken_state_types.json", json.dumps({"step": 100, "window": {"batches": "3", "loss": None}}))
put("run_dir", "broken_state_step.json", json.dumps({"step": "100", "elapsed_s": "no", "window": []}))
put("run_dir", "broken_not_object.json", '"just a string"')

# ---- the run directory's safetensors (train_state.safetensors, model checkpoints) ----
# The valid seeds come from the fuzzer itself (a state and a checkpoint of its model, sudoku4-test):
#   GTRM_FUZZ_WRITE_SEEDS=tests/fuzz/corpus/train_state build-fuzz/tests/fuzz/fuzz_train_state
put("train_state", "broken_meta_text.safetensors", safetensors(
    {"w": ("F32", [2], struct.pack("<2f", 1, 2))},
    meta={"gtrm_format": "trm-train-state-1", "train.global_batch_size": "two", "train.step": "1e99"}))
put("train_state", "broken_meta_range.safetensors", safetensors(
    {"w": ("F32", [1], struct.pack("<f", 1))},
    meta={"gtrm_format": "trm-train-state-1", "train.global_batch_size": "99999999999999999999"}))
put("train_state", "broken_config.safetensors", safetensors(
    {"w": ("F32", [1], struct.pack("<f", 1))}, meta={"gtrm_format": "1", "config": "{\"hidden_size\": [}"}))

# ---- regressions: inputs the fuzzers found, kept so that every smoke run replays them ----
put("npy", "regress_header_len_4gib.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + b"{'descr'")
put("npy", "regress_empty_shape_value.npy", base64.b64decode(  # xtensor's parser: back() of an empty string (UBSan)
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJysgKDUsKSwgfSAgICAgICAg"
    "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAQAAAAIAAAADAAAA"))
put("puzzle", "regress_arc_colour_wraps.json", "[[4294967299]]")
put("run_config", "regress_preset_number.json", '{"preset": 3}')
put("run_dir", "regress_window_float_count.json", json.dumps({"step": 100, "window": {"batches": 1e300}}))
put("run_dir", "regress_metrics_step_text.jsonl", '{"step": 10, "split": "train"}\n{"step": "7", "split": 1}\n')
