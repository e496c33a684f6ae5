# PyTorch checkpoints through the gtrm program (issue #16), without Python:
#  - every hostile fixture of tests/data/torch is refused by `gtrm info` and `gtrm import` with one line on stderr and a
#    non-zero exit, and the payloads (which would create /tmp/gtrm-torch-hostile-ran) never run;
#  - the official code's folder layout (step_N + all_config.yaml) imports as the compiled preset its config names
#    (the paper's Sudoku-MLP fixture, bf16), `gtrm info/solve` take the PyTorch file directly, and a config that
#    contradicts the tensors is refused; an HRM checkpoint without a compiled preset gets the preset it needs;
#  - export -> import round trips: a trained sudoku4-test run and an ARC run, exported with --format torch (with and
#    without _orig_mod.), imported back, solve and evaluate (ARC pass@K and submission.json) exactly as the original.
#   -DGTRM=<gtrm> -DWORK=<scratch> -DSOURCE=<source tree>
include(${CMAKE_CURRENT_LIST_DIR}/cli_test_lib.cmake)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(fx ${SOURCE}/tests/data/torch)

# ---- hostile files ----
set(mark /tmp/gtrm-torch-hostile-ran)
file(REMOVE ${mark})
foreach(pair "system;global posix.system is not allowed" "eval;global __builtin__.eval is not allowed"
             "other_module;global numpy.core.multiarray._reconstruct is not allowed" "truncated;truncated"
             "missing_storage;has no record" "small_storage;its record holds")
  list(GET pair 0 name)
  list(GET pair 1 says)
  gtrm_expect_error("${says}" info ${fx}/hostile_${name}.pt)
  gtrm_expect_error("${says}" import ${fx}/hostile_${name}.pt --out ${WORK}/hostile_${name})
  if(EXISTS ${WORK}/hostile_${name}/model.safetensors)
    message(FATAL_ERROR "a refused import left ${WORK}/hostile_${name}/model.safetensors")
  endif()
endforeach()
if(EXISTS ${mark})
  message(FATAL_ERROR "a hostile pickle's payload ran: ${mark} exists")
endif()

# ---- the official layout: step_N + all_config.yaml (the paper's Sudoku-MLP, bf16) ----
file(MAKE_DIRECTORY ${WORK}/official)
file(COPY_FILE ${fx}/trm_paper_mlp_bf16_t2.pt ${WORK}/official/step_52000)
set(arch "arch:\n  name: recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1\n  loss:\n    name: losses@ACTLossHead\n    loss_type: stablemax_cross_entropy\n  halt_exploration_prob: 0.1\n  halt_max_steps: 16\n  H_cycles: 3\n  L_cycles: 6\n  H_layers: 0\n  L_layers: 2\n  hidden_size: 512\n  num_heads: 8\n  expansion: 4\n  puzzle_emb_ndim: 512\n  pos_encodings: none\n  forward_dtype: bfloat16\n  mlp_t: true\n  puzzle_emb_len: 16\n  no_ACT_continue: true\n")
file(WRITE ${WORK}/official/all_config.yaml "${arch}global_batch_size: 768\n")
gtrm_run(ok import ${WORK}/official --out ${WORK}/imported)
if(NOT OUT MATCHES "as preset sudoku-mlp")
  message(FATAL_ERROR "gtrm import did not map the paper's config to sudoku-mlp:\n${OUT}")
endif()
gtrm_expect_file(${WORK}/imported/model.safetensors)
gtrm_expect_file(${WORK}/imported/import.json)
gtrm_run(ok info ${WORK}/imported --json)
string(JSON preset GET "${OUT}" preset)
if(NOT preset STREQUAL "sudoku-mlp")
  message(FATAL_ERROR "gtrm info of the import: preset ${preset}")
endif()
# the PyTorch file directly (its folder's all_config.yaml is read), one ACT step of one puzzle
set(puzzle "..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3..")
gtrm_run(ok solve ${WORK}/official/step_52000 ${puzzle} --steps 1 --format json)
string(JSON direct GET "${OUT}" puzzles 0 solution)
gtrm_run(ok solve ${WORK}/imported ${puzzle} --steps 1 --format json)
string(JSON via_import GET "${OUT}" puzzles 0 solution)
if(NOT direct STREQUAL via_import)
  message(FATAL_ERROR "solve of the PyTorch file (${direct}) differs from solve of its import (${via_import})")
endif()
gtrm_run(ok info ${WORK}/official/step_52000)
if(NOT OUT MATCHES "PyTorch checkpoint, imported in memory" OR NOT OUT MATCHES "sudoku-mlp")
  message(FATAL_ERROR "gtrm info of a PyTorch file:\n${OUT}")
endif()
# a config that contradicts the tensors
string(REPLACE "hidden_size: 512" "hidden_size: 256" bad "${arch}")
file(MAKE_DIRECTORY ${WORK}/contradicts)
file(COPY_FILE ${fx}/trm_paper_mlp_bf16_t2.pt ${WORK}/contradicts/step_1)
file(WRITE ${WORK}/contradicts/all_config.yaml "${bad}")
gtrm_expect_error("hidden_size is 256 by all_config.yaml but 512 by tensor shapes" import ${WORK}/contradicts --out ${WORK}/c)
gtrm_expect_error("preset sudoku4-test does not fit" import ${WORK}/official --out ${WORK}/c --preset sudoku4-test)
# HRM: no compiled preset has its architecture; the error names the numbers a preset needs
gtrm_expect_error("no compiled preset has the architecture of .*\"arch\":\"hrm\".*add a preset to include/gtrm/presets.hpp"
                  import ${fx}/hrm_rope_t2.pt --out ${WORK}/hrm)

# ---- export -> import round trips ----
gtrm_run(ok data generate sudoku --size 4 --givens 10 --num-train 2000 --num-test 50 --seed 5 --output-dir ${WORK}/data4)
gtrm_run(ok train --preset sudoku4-test --data ${WORK}/data4 --out ${WORK}/run4 --steps 30 --quiet)
gtrm_run(ok export ${WORK}/run4 --format torch --out ${WORK}/exp4/step_30)
gtrm_expect_file(${WORK}/exp4/all_config.yaml)
file(READ ${WORK}/exp4/all_config.yaml y)
if(NOT y MATCHES "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1" OR NOT y MATCHES "hidden_size: 32")
  message(FATAL_ERROR "all_config.yaml of the export:\n${y}")
endif()
gtrm_run(ok import ${WORK}/exp4 --out ${WORK}/back4 --data ${WORK}/data4)
gtrm_run(ok solve ${WORK}/run4 "1...3.....2.4..." --format json --trajectory)
string(JSON a GET "${OUT}" puzzles 0 trajectory)
gtrm_run(ok solve ${WORK}/back4 "1...3.....2.4..." --format json --trajectory)
string(JSON b GET "${OUT}" puzzles 0 trajectory)
if(NOT a STREQUAL b)
  message(FATAL_ERROR "solve after export+import differs:\n${a}\n${b}")
endif()

gtrm_run(ok data arc --input-file-prefix ${SOURCE}/tests/data/arc/tiny/combined/tiny --subsets training,evaluation
         --test-set-name evaluation --num-aug 3 --output-dir ${WORK}/arc --quiet)
gtrm_run(ok train --preset arc-test --data ${WORK}/arc --out ${WORK}/runarc --steps 6 --quiet)
gtrm_run(ok export ${WORK}/runarc --format torch --orig-mod --out ${WORK}/exparc/step_6)
gtrm_run(ok import ${WORK}/exparc/step_6 --out ${WORK}/backarc --preset arc-test)
gtrm_run(ok eval ${WORK}/runarc --data ${WORK}/arc --pass-k 1,2 --submission ${WORK}/sub_a.json --json --quiet)
string(JSON ea GET "${OUT}" arc pass)
gtrm_run(ok eval ${WORK}/backarc --data ${WORK}/arc --pass-k 1,2 --submission ${WORK}/sub_b.json --json --quiet)
string(JSON eb GET "${OUT}" arc pass)
file(READ ${WORK}/sub_a.json sa)
file(READ ${WORK}/sub_b.json sb)
if(NOT ea STREQUAL eb OR NOT sa STREQUAL sb)
  message(FATAL_ERROR "ARC evaluation after export+import differs: ${ea} vs ${eb}")
endif()
message(STATUS "torch checkpoints: hostile files refused, official layout imported, round trips exact (ARC pass@K ${eb})")
