# Reliability (docs/robustness.md): one check per kind of bad input or fault, each asserting the exit status and the
# one-line message "gtrm: error: <file or flag>: <what was expected>":
#   bad files that used to load (non-finite weights, bytes outside every tensor), out-of-range flags (the range in
#   words, never CLI11's 1.79769e+308), library text (stoll/stod/json type errors) turned into words, the maze
#   generator's impossible path length, solve's several puzzles / '-' / a directory / a CSV with a byte-order mark,
#   a diverging run, a full disk and a signal during `data generate --csv-dir`, kill -9 during the final evaluation,
#   and kill -9 then --resume continuing bit-exactly.
#   -DGTRM=<gtrm> -DWORK=<scratch> -DSOURCE=<source tree>
include(${CMAKE_CURRENT_LIST_DIR}/cli_test_lib.cmake)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

# No library's own words may reach the user.
function(expect_no_library_text text)
  if(text MATCHES "stod|stoll|stoi|json\\.exception|_M_default_append|max_size\\(\\)|basic_string|1\\.79769e\\+308|1\\.8e\\+?308")
    message(FATAL_ERROR "a library's own text reached the user:\n${text}")
  endif()
endfunction()

gtrm_run(ok data generate sudoku --size 4 --givens 8 --num-train 300 --num-test 40 --seed 5 --output-dir ${WORK}/data)
set(train4 train --preset sudoku4-test --data ${WORK}/data --batch 16 --quiet)
gtrm_run(ok ${train4} --out ${WORK}/run --steps 20)
set(ckpt ${WORK}/run/model.safetensors)

# ---- kind: bad files that used to load silently ----
# trailing bytes after the last tensor
file(COPY_FILE ${ckpt} ${WORK}/trailing.safetensors)
file(APPEND ${WORK}/trailing.safetensors "junk")
gtrm_expect_error("trailing.safetensors: 4 trailing bytes after the last tensor.*expected the tensors to cover the data section exactly"
                  solve ${WORK}/trailing.safetensors 1.3.....2.1.....)
# a NaN weight: four bytes of the first tensor in the data section become a NaN (printf | dd: CMake writes no binary)
file(READ ${ckpt} len_hex LIMIT 8 HEX)
string(SUBSTRING "${len_hex}" 0 8 le)  # the header is far below 4 GiB: the low 32 bits, little-endian
string(REGEX REPLACE "(..)(..)(..)(..)" "\\4\\3\\2\\1" be "${le}")
math(EXPR header_len "0x${be}")
file(READ ${ckpt} header OFFSET 8 LIMIT ${header_len})
string(JSON n LENGTH "${header}")
math(EXPR last "${n} - 1")
set(first_tensor "")
foreach(i RANGE ${last})
  string(JSON key MEMBER "${header}" ${i})
  if(NOT key STREQUAL "__metadata__")
    string(JSON begin GET "${header}" ${key} data_offsets 0)
    if(begin EQUAL 0)
      set(first_tensor ${key})
    endif()
  endif()
endforeach()
math(EXPR data_begin "8 + ${header_len}")
file(COPY_FILE ${ckpt} ${WORK}/nan.safetensors)
execute_process(COMMAND sh -c "printf '\\300\\300\\300\\177' | dd of=\"$0\" bs=1 seek=$1 conv=notrunc 2>/dev/null"
                        ${WORK}/nan.safetensors ${data_begin} RESULT_VARIABLE rc)
gtrm_expect_error("nan.safetensors: tensor ${first_tensor} holds a non-finite value \\(NaN at element 0\\); expected finite weights"
                  solve ${WORK}/nan.safetensors 1.3.....2.1..... --format json)
gtrm_expect_error("tensor ${first_tensor} holds a non-finite value" eval ${WORK}/nan.safetensors --data ${WORK}/data)

# ---- kind: out-of-range flags, refused with the range in words ----
gtrm_expect_error("--beta1 \\(beta1\\): expected a number in \\[0, 1\\), got 5" ${train4} --out ${WORK}/r --steps 5 --beta1 5)
gtrm_expect_error("--beta2 \\(beta2\\): expected a number in \\[0, 1\\), got -1" ${train4} --out ${WORK}/r --steps 5 --beta2 -1)
gtrm_expect_error("--lr-min-ratio \\(lr_min_ratio\\): expected a number in \\[0, 1\\]" ${train4} --out ${WORK}/r --steps 5 --lr-min-ratio -0.5)
gtrm_expect_error("--seed must be zero or more" ${train4} --out ${WORK}/r --steps 5 --seed -3)
gtrm_expect_error("--eval-batch \\(eval_batch\\): expected a whole number from 0 to 65536, got 100000000"
                  ${train4} --out ${WORK}/r --steps 5 --eval-batch 100000000)
foreach(bad "eval;${ckpt};--data;${WORK}/data;--max-examples;-1" "eval;${ckpt};--data;${WORK}/data;--batch;0"
            "solve;${ckpt};--steps;2147483647" "solve;${ckpt};--seed;-1" "--threads;-1;presets"
            "data;generate;sudoku;--output-dir;${WORK}/g;--seed;-1" "data;generate;maze;--output-dir;${WORK}/g;--wall-prob;1")
  gtrm_run(fail ${bad})
  string(REGEX REPLACE "\n$" "" err "${ERR}")
  if(NOT RC EQUAL 2 OR NOT err MATCHES "^gtrm: error: --[a-z-]+: expected a (whole number from|number in) " OR err MATCHES "\n")
    message(FATAL_ERROR "gtrm ${bad}: expected one line naming the flag and its range, exit 2; got rc ${RC}:\n${ERR}")
  endif()
  expect_no_library_text("${ERR}")
  message(STATUS "rejected as expected (rc ${RC}): ${err}")
endforeach()
gtrm_run(ok solve --help)
if(NOT OUT MATCHES "--steps[^\n]*\\(0 to 1,000\\)")
  message(FATAL_ERROR "gtrm solve --help does not give the range of --steps:\n${OUT}")
endif()
gtrm_run(ok train --help)
if(NOT OUT MATCHES "Adam beta2; in \\[0, 1\\)")
  message(FATAL_ERROR "gtrm train --help does not give the range of --beta2:\n${OUT}")
endif()

# ---- kind: what a library would say, said in words ----
gtrm_expect_error("--steps must be an integer" ${train4} --out ${WORK}/r --steps 99999999999999999999999)
gtrm_expect_error("--lr must be a number" ${train4} --out ${WORK}/r --steps 5 --lr 1e999)
file(WRITE ${WORK}/typed.json "{\"preset\": 5, \"steps\": 5}")
gtrm_expect_error("typed.json: preset: expected a string, got 5" train --config ${WORK}/typed.json --data ${WORK}/data --out ${WORK}/r)
gtrm_expect_error("--pass-k: expected a comma list of whole numbers from 1, got 'x'" eval ${ckpt} --data ${WORK}/data --pass-k 1,x)

# ---- kind: an impossible request refused up front, never a hang ----
gtrm_expect_error("--min-path-length: a shortest path on a 5x5 grid has at most 24 moves"
                  data generate maze --size 5 --min-path-length 30 --output-dir ${WORK}/maze)

# ---- kind: what a user would expect of solve's input ----
gtrm_run(ok solve ${ckpt} 1.3.....2.1..... .2.....1...3.... --format json)
string(JSON n LENGTH "${OUT}" puzzles)
if(NOT n EQUAL 2)
  message(FATAL_ERROR "two puzzle arguments gave ${n} answers:\n${OUT}")
endif()
file(WRITE ${WORK}/two.txt "1.3.....2.1.....\n.2.....1...3....\n")
execute_process(COMMAND ${GTRM} solve ${ckpt} - 4....3.......2.. --format json INPUT_FILE ${WORK}/two.txt
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(JSON n LENGTH "${out}" puzzles)
if(NOT rc EQUAL 0 OR NOT n EQUAL 3)
  message(FATAL_ERROR "'-' (stdin) and an argument: rc ${rc}, ${n} answers\n${out}\n${err}")
endif()
file(MAKE_DIRECTORY ${WORK}/puzzle-dir)
gtrm_expect_error("--file .*puzzle-dir: is a directory, expected a file of puzzles" solve ${ckpt} --file ${WORK}/puzzle-dir)
string(ASCII 239 187 191 bom)
file(WRITE ${WORK}/excel.csv "${bom}source,question,answer,rating\r\nx,1.3.....2.4.....,1234341221434321,0\r\n")
gtrm_run(ok solve ${ckpt} --file ${WORK}/excel.csv --format json)
string(JSON src GET "${OUT}" puzzles 0 source)
message(STATUS "a CSV with a byte-order mark: solved ${src}")

# ---- fault: a diverging run stops, naming the step, and saves nothing non-finite ----
gtrm_expect_error("step [0-9]+: (the loss is (NaN|infinite)|an? (EMA )?weight is (NaN|-?inf)).*: training diverged"
                  ${train4} --out ${WORK}/diverged --steps 200 --eval-every 5 --optimizer adamw --lr 10 --weight-decay 1000 --ema false)
if(EXISTS ${WORK}/diverged/model.safetensors)
  gtrm_run(ok solve ${WORK}/diverged/model.safetensors 1.3.....2.1.....)  # its last finite checkpoint loads
endif()

# ---- fault: --csv-dir writes whole files or none (full disk, SIGTERM) ----
gtrm_run(ok data generate sudoku --size 4 --givens 8 --num-train 100 --num-test 10 --output-dir ${WORK}/csvdata --csv-dir ${WORK}/csv)
file(STRINGS ${WORK}/csv/train.csv rows)
list(LENGTH rows n)
if(NOT n EQUAL 101)
  message(FATAL_ERROR "train.csv holds ${n} lines, expected the header and 100 rows")
endif()
execute_process(COMMAND sh -c "ulimit -f 40 && exec \"$0\" \"$@\"" ${GTRM} data generate sudoku --size 4 --givens 8
                        --num-train 1000 --num-test 10 --output-dir ${WORK}/csvfull --csv-dir ${WORK}/csvfull-csv
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX REPLACE "(.*\n)?(gtrm: error: [^\n]*)\n?$" "\\2" last_line "${err}")
if(rc EQUAL 0 OR NOT last_line MATCHES "^gtrm: error: .*train.csv: write error")
  message(FATAL_ERROR "a CSV write beyond the file-size limit: rc ${rc}, stderr:\n${err}")
endif()
if(EXISTS ${WORK}/csvfull-csv/train.csv)
  message(FATAL_ERROR "a failed CSV export left a partial train.csv")
endif()
gtrm_expect_no_temporaries(${WORK})
message(STATUS "full disk during the CSV export: ${last_line}")
# SIGTERM (no handler in `gtrm data`): what carries a final name is whole; an interrupted write leaves at most a
# temporary beside it, never a part of the file under its name
execute_process(COMMAND sh -c "\"$0\" data generate maze --size 12 --min-path-length 20 --num-train 3000 --num-test 10 --output-dir \"$1\" --csv-dir \"$2\" 2>/dev/null &
pid=$!
sleep 0.3
kill -TERM $pid
wait $pid
echo \"rc=$?\"" ${GTRM} ${WORK}/termdata ${WORK}/termcsv RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(STRIP "${out}" out)
foreach(f train test)
  if(EXISTS ${WORK}/termcsv/${f}.csv)
    file(STRINGS ${WORK}/termcsv/${f}.csv rows)
    list(LENGTH rows n)
    if((f STREQUAL "train" AND NOT n EQUAL 3001) OR (f STREQUAL "test" AND NOT n EQUAL 11))
      message(FATAL_ERROR "SIGTERM left a partial ${f}.csv (${n} lines)")
    endif()
  endif()
endforeach()
message(STATUS "SIGTERM during data generate --csv-dir (${out}): no partial CSV under its name")

# ---- fault: kill -9 during the final evaluation keeps the trained weights ----
gtrm_run(ok data generate sudoku --size 4 --givens 8 --num-train 300 --num-test 3000 --seed 7 --output-dir ${WORK}/bigtest)
execute_process(COMMAND sh -c "\"$0\" train --preset sudoku4-test --data \"$1\" --out \"$2\" --steps 30 --batch 16 --eval-batch 16 --log-every 10 2>\"$2.log\" &
pid=$!
i=0
while ! grep -q 'evaluating on' \"$2.log\" 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.02; i=$((i+1)); done
kill -KILL $pid
wait $pid
echo \"rc=$?\"" ${GTRM} ${WORK}/bigtest ${WORK}/killed-eval RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT out MATCHES "rc=137")
  message(FATAL_ERROR "the run was not killed during its final evaluation: ${out}")
endif()
gtrm_expect_file(${WORK}/killed-eval/model.safetensors)
gtrm_run(ok train --resume ${WORK}/killed-eval)
if(NOT ERR MATCHES "already finished at step 30")
  message(FATAL_ERROR "after kill -9 during the final evaluation the run is not complete:\n${ERR}")
endif()
gtrm_run(ok solve ${WORK}/killed-eval/model.safetensors 1.3.....2.1.....)
message(STATUS "kill -9 during the final evaluation: the step-30 checkpoint and state were saved before it")

# ---- fault: kill -9, then --resume continues bit-exactly ----
set(args train --preset sudoku4-test --data ${WORK}/data --steps 120 --eval-every 20 --log-every 10 --batch 16 --quiet)
gtrm_run(ok ${args} --out ${WORK}/whole)
execute_process(COMMAND sh -c "out=\"$1\"; shift; \"$0\" \"$@\" --out \"$out\" &
pid=$!
i=0
while ! grep -q '\"step\":50,' \"$out/metrics.jsonl\" 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.02; i=$((i+1)); done
kill -KILL $pid
wait $pid
echo \"rc=$?\"" ${GTRM} ${WORK}/killed ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT out MATCHES "rc=137")
  message(FATAL_ERROR "the run was not killed: ${out}")
endif()
gtrm_run(ok train --resume ${WORK}/killed)
if(NOT ERR MATCHES "resuming .* at step [0-9]+ of 120")
  message(FATAL_ERROR "resuming after kill -9:\n${ERR}")
endif()
string(REGEX MATCH "at step [0-9]+" resumed_at "${ERR}")
file(SHA256 ${WORK}/whole/train_state.safetensors ha)
file(SHA256 ${WORK}/killed/train_state.safetensors hb)
if(NOT ha STREQUAL hb)
  message(FATAL_ERROR "after kill -9 and --resume the final training state differs from the uninterrupted run's")
endif()
foreach(f whole killed)
  file(STRINGS ${WORK}/${f}/metrics.jsonl lines)
  set(${f}_metrics "")
  foreach(l ${lines})
    string(REGEX REPLACE ",\"(elapsed_s|steps_per_s|seconds)\":[-+.0-9eE]+" "" l "${l}")
    list(APPEND ${f}_metrics "${l}")
  endforeach()
endforeach()
if(NOT whole_metrics STREQUAL killed_metrics)
  message(FATAL_ERROR "metrics differ after kill -9 and --resume")
endif()
gtrm_expect_no_temporaries(${WORK})
message(STATUS "kill -9, then --resume (${resumed_at}): train_state sha256 ${ha}, as the uninterrupted run")
message(STATUS "gtrm reliability checks passed")
