# `gtrm data` on the command line: --help everywhere exits 0; bad input gives exactly one line on stderr, exit code 1
# for a failed build and 2 for a command-line usage error (whose message ends "(see --help)"); a good build exits 0
# and leaves a complete dataset, byte for byte as the reference builders' where tests/data/reference_builds has them.
#   -DGTRM=<gtrm> -DWORK=<scratch> -DSOURCE=<source tree> [-DSHARED=<folder holding trm-kaggle-combined/>; its checks
#   are skipped when that folder is absent]
set(DATA ${SOURCE}/tests/data)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
file(WRITE ${WORK}/bad.csv "source,question,answer,rating\nx,123,456,1\n")
file(STRINGS ${DATA}/sudoku_small.csv good_rows LIMIT_COUNT 3)
list(GET good_rows 1 good1)
list(GET good_rows 2 good2)
file(WRITE ${WORK}/mixed.csv "source,question,answer,rating\nx,123,456,1\n${good1}\n${good2}\n")

function(expect name rc_want)
  execute_process(COMMAND ${GTRM} data ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL rc_want)
    message(FATAL_ERROR "${name}: exit code ${rc}, expected ${rc_want}\nstdout: ${out}\nstderr: ${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
  set(last_err "${err}" PARENT_SCOPE)
endfunction()

function(expect_one_line_error_rc name rc_want pattern)
  expect(${name} ${rc_want} ${ARGN})
  string(REGEX MATCHALL "\n" lines "${last_err}")
  list(LENGTH lines n)
  if(NOT n EQUAL 1 OR NOT last_err MATCHES "^gtrm: error: " OR NOT last_err MATCHES "${pattern}")
    message(FATAL_ERROR "${name}: expected one line 'gtrm: error: ...${pattern}...', got:\n${last_err}")
  endif()
  if(rc_want EQUAL 2 AND NOT last_err MATCHES "\\(see --help\\)\n$")
    message(FATAL_ERROR "${name}: a usage error's line should end '(see --help)', got:\n${last_err}")
  endif()
endfunction()
# A failed build: exit code 1.
function(expect_one_line_error name pattern)
  expect_one_line_error_rc(${name} 1 "${pattern}" ${ARGN})
endfunction()
# A command-line usage error found while parsing (missing subcommand, a flag's check): exit code 2.
function(expect_usage_error name pattern)
  expect_one_line_error_rc(${name} 2 "${pattern}" ${ARGN})
endfunction()

foreach(sub "" "sudoku" "maze" "arc" "generate" "generate;sudoku" "generate;maze")
  expect("help '${sub}'" 0 ${sub} --help)
  if(NOT last_out MATCHES "--help")
    message(FATAL_ERROR "help '${sub}': no usage text")
  endif()
endforeach()

expect_usage_error("no subcommand" "subcommand")
expect_usage_error("missing CSV" "train-csv" sudoku --output-dir ${WORK}/x --train-csv ${WORK}/nope.csv)
expect_one_line_error("bad row" "bad.csv:2: question has 3 characters"
                      sudoku --output-dir ${WORK}/x --train-csv ${WORK}/bad.csv --test-csv ${WORK}/bad.csv)
expect_one_line_error("bad maze row" "bad.csv:2: question length 3 is not a square grid"
                      maze --output-dir ${WORK}/x --train-csv ${WORK}/bad.csv)
expect_usage_error("bad size" "size" generate sudoku --output-dir ${WORK}/x --size 5)
expect_one_line_error("unreachable givens" "givens must be in 0..16" generate sudoku --output-dir ${WORK}/x --size 4 --givens 20)
expect_usage_error("givens out of range" "--givens: expected a whole number from 0 to 81" generate sudoku --output-dir ${WORK}/x --size 4 --givens 99)
if(EXISTS ${WORK}/x)
  message(FATAL_ERROR "a failed build left ${WORK}/x behind")
endif()

expect("good build" 0 sudoku --output-dir ${WORK}/ok --train-csv ${DATA}/sudoku_small.csv --num-aug 2)
foreach(f train/dataset.json train/all__inputs.npy test/all__group_indices.npy identifiers.json)
  if(NOT EXISTS ${WORK}/ok/${f})
    message(FATAL_ERROR "good build: ${f} missing")
  endif()
endforeach()
expect_one_line_error("existing output" "exists" sudoku --output-dir ${WORK}/ok --train-csv ${DATA}/sudoku_small.csv)
expect("overwrite" 0 sudoku --output-dir ${WORK}/ok --train-csv ${DATA}/sudoku_small.csv --overwrite)
expect_one_line_error("mixed without --skip-bad" "mixed.csv:2:"
                      sudoku --output-dir ${WORK}/skip --train-csv ${WORK}/mixed.csv)
expect("skip bad" 0 sudoku --output-dir ${WORK}/skip --train-csv ${WORK}/mixed.csv --skip-bad)
if(NOT last_err MATCHES "warning: skipping bad row: .*mixed.csv:2")
  message(FATAL_ERROR "skip bad: no warning naming the row:\n${last_err}")
endif()

# Built through the command line, the reference builders' outputs come out byte for byte (tests/data/reference_builds;
# all but the augmented Sudoku tokens, which the reference writes as int64 and gtrm as uint8).
function(expect_same_files name ours ref)
  foreach(f ${ARGN})
    file(SHA256 ${ours}/${f} a)
    file(SHA256 ${ref}/${f} b)
    if(NOT a STREQUAL b)
      message(FATAL_ERROR "${name}: ${f} differs from ${ref}/${f}")
    endif()
  endforeach()
endfunction()
set(REF ${DATA}/reference_builds)
set(index_files identifiers.json train/dataset.json test/dataset.json train/all__puzzle_identifiers.npy
                train/all__puzzle_indices.npy train/all__group_indices.npy test/all__puzzle_identifiers.npy
                test/all__puzzle_indices.npy test/all__group_indices.npy)
expect("maze as the reference" 0 maze --output-dir ${WORK}/maze-plain --train-csv ${DATA}/maze_small_train.csv
       --test-csv ${DATA}/maze_small_test.csv)
expect_same_files("maze as the reference" ${WORK}/maze-plain ${REF}/maze_plain ${index_files} train/all__inputs.npy
                  train/all__labels.npy test/all__inputs.npy test/all__labels.npy)
expect("maze --aug as the reference" 0 maze --output-dir ${WORK}/maze-aug --train-csv ${DATA}/maze_small_train.csv
       --test-csv ${DATA}/maze_small_test.csv --subsample-size 4 --aug --seed 7)
expect_same_files("maze --aug as the reference" ${WORK}/maze-aug ${REF}/maze_seed7_sub4_aug ${index_files}
                  train/all__inputs.npy train/all__labels.npy test/all__inputs.npy test/all__labels.npy)
expect("sudoku --num-aug as the reference" 0 sudoku --output-dir ${WORK}/sudoku-aug --train-csv ${DATA}/sudoku_small.csv
       --test-csv ${DATA}/sudoku_small.csv --subsample-size 7 --num-aug 3 --seed 42)
expect_same_files("sudoku --num-aug as the reference" ${WORK}/sudoku-aug ${REF}/sudoku_seed42_sub7_aug3 ${index_files}
                  test/all__inputs.npy test/all__labels.npy)
# The augmented tokens: the same values, int64 there (each value then seven zero bytes) and uint8 here, after headers
# of the same 128 bytes.
foreach(f inputs labels)
  file(READ ${WORK}/sudoku-aug/train/all__${f}.npy ours OFFSET 128 HEX)
  file(READ ${REF}/sudoku_seed42_sub7_aug3/train/all__${f}.npy theirs OFFSET 128 HEX)
  string(REGEX REPLACE "(..)00000000000000" "\\1" theirs "${theirs}")
  string(LENGTH "${ours}" n)
  if(NOT n EQUAL 4536 OR NOT ours STREQUAL theirs)
    message(FATAL_ERROR "sudoku --num-aug as the reference: train ${f} differ (${n} hex digits)")
  endif()
endforeach()

# ---- arc ----
set(TINY ${DATA}/arc/tiny)
file(MAKE_DIRECTORY ${WORK}/arc-bad/training)
file(GLOB tiny_training ${TINY}/training/*.json)
file(COPY ${tiny_training} DESTINATION ${WORK}/arc-bad/training)
file(WRITE ${WORK}/arc-bad/training/cccc0001.json
     "{\"train\": [{\"input\": [[1, 2], [3]], \"output\": [[1]]}], \"test\": [{\"input\": [[1]], \"output\": [[1]]}]}")

expect_one_line_error("arc: no source" "has no source" arc --output-dir ${WORK}/x --subsets training)
expect_usage_error("arc: dir and prefix" "excludes" arc --output-dir ${WORK}/x --input-dir ${TINY}
                   --input-file-prefix ${TINY}/combined/tiny)
expect_one_line_error("arc: missing subset" "subset 'nope': no such folder"
                      arc --output-dir ${WORK}/x --input-dir ${TINY} --subsets training,nope)
expect_one_line_error("arc: missing combined file" "tiny_nope_challenges.json: subset 'nope': no such file"
                      arc --output-dir ${WORK}/x --input-file-prefix ${TINY}/combined/tiny --subsets nope)
expect_usage_error("arc: negative --num-aug" "num-aug"
                   arc --output-dir ${WORK}/x --input-dir ${TINY} --num-aug -1)
expect_usage_error("arc: --puzzle-identifiers-start 0" "puzzle-identifiers-start"
                   arc --output-dir ${WORK}/x --input-dir ${TINY} --puzzle-identifiers-start 0)
expect_one_line_error("arc: ragged grid" "cccc0001.json: task cccc0001: train pair 0 input: ragged grid"
                      arc --output-dir ${WORK}/x --input-dir ${WORK}/arc-bad --subsets training --num-aug 2)
if(EXISTS ${WORK}/x)
  message(FATAL_ERROR "a failed arc build left ${WORK}/x behind")
endif()

expect("arc: good build" 0 arc --output-dir ${WORK}/arc-ok --input-dir ${TINY} --subsets training,evaluation
       --num-aug 2)
if(NOT last_err MATCHES "arc: train split \\[" OR NOT last_err MATCHES "wrote .*arc-ok: 4 tasks")
  message(FATAL_ERROR "arc: good build: no progress bar or summary on stderr:\n${last_err}")
endif()
foreach(f identifiers.json test_puzzles.json train/dataset.json train/all__inputs.npy train/all__labels.npy
          train/all__puzzle_identifiers.npy train/all__puzzle_indices.npy train/all__group_indices.npy
          test/dataset.json test/all__inputs.npy test/all__group_indices.npy)
  if(NOT EXISTS ${WORK}/arc-ok/${f})
    message(FATAL_ERROR "arc: good build: ${f} missing")
  endif()
endforeach()
file(READ ${WORK}/arc-ok/test_puzzles.json tp)
if(NOT tp MATCHES "^{\"bbbb000[12]\": ")
  message(FATAL_ERROR "arc: test_puzzles.json does not hold the evaluation tasks: ${tp}")
endif()
expect_one_line_error("arc: existing output" "exists" arc --output-dir ${WORK}/arc-ok --input-dir ${TINY})
expect("arc: overwrite, quiet, name=path" 0 arc --output-dir ${WORK}/arc-ok --overwrite --quiet --num-aug 0
       --subsets training=${TINY}/combined/tiny_training_challenges.json,evaluation=${TINY}/evaluation)
if(last_err MATCHES "wrote|\\[")
  message(FATAL_ERROR "arc: --quiet still printed progress or a summary:\n${last_err}")
endif()
expect("arc: skip bad" 0 arc --output-dir ${WORK}/arc-skip --input-dir ${WORK}/arc-bad --subsets training
       --num-aug 1 --skip-bad --quiet)
if(NOT last_err MATCHES "warning: skipped: .*cccc0001.json" OR NOT last_err MATCHES "1 task\\(s\\) skipped")
  message(FATAL_ERROR "arc: skip bad: no warning naming the task:\n${last_err}")
endif()

# The real ARC-AGI-1 build without augmentation, against the reference builder's files (np.random.seed(42); digests
# as in tests/test_arc_data.cpp): checks that subsets, their order, the test set and the seed reach the builder.
set(prefix ${SHARED}/trm-kaggle-combined/arc-agi)
if(NOT SHARED OR NOT EXISTS ${prefix}_training_challenges.json)
  message(STATUS "skipped the ARC-AGI-1 check: ${prefix}_training_challenges.json not present")
else()
  expect("arc: ARC-AGI-1" 0 arc --output-dir ${WORK}/arc1 --input-file-prefix ${prefix}
         --subsets training,evaluation,concept --test-set-name evaluation --num-aug 0 --quiet)
  file(READ ${WORK}/arc1/train/dataset.json train_json)
  file(READ ${WORK}/arc1/test/dataset.json test_json)
  file(SHA256 ${WORK}/arc1/identifiers.json ids_sha)
  file(SHA256 ${WORK}/arc1/test_puzzles.json tp_sha)
  set(want_train [[{"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 12, "seq_len": 900, "num_puzzle_identifiers": 961, "total_groups": 960, "mean_puzzle_examples": 4.154166666666667, "total_puzzles": 960, "sets": ["all"]}]])
  set(want_test [[{"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 12, "seq_len": 900, "num_puzzle_identifiers": 961, "total_groups": 400, "mean_puzzle_examples": 1.0475, "total_puzzles": 400, "sets": ["all"]}]])
  if(NOT train_json STREQUAL want_train OR NOT test_json STREQUAL want_test)
    message(FATAL_ERROR "arc: ARC-AGI-1 dataset.json differs from the reference:\n${train_json}\n${test_json}")
  endif()
  if(NOT ids_sha STREQUAL "7202a1400f27b167b6e41beaac83ba1892d52270097175e7165d21e5208d2a89"
     OR NOT tp_sha STREQUAL "e2b2a80ed4e8ec2fa3c9ff9ffca093ff2871fbbbea811e592f9eb9b87f825d84")
    message(FATAL_ERROR "arc: ARC-AGI-1 identifiers.json (${ids_sha}) or test_puzzles.json (${tp_sha}) differs "
                        "from the reference")
  endif()
  file(REMOVE_RECURSE ${WORK}/arc1)
endif()
