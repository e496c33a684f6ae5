# `gtrm train --resume` continues exactly: a run stopped after 25 steps (--stop-after, the same path Ctrl-C takes)
# and resumed ends with the same metrics (timings aside) and a byte-identical training state as an uninterrupted run.
#   -DGTRM=<gtrm> -DWORK=<scratch> -DSOURCE=<source tree>
include(${CMAKE_CURRENT_LIST_DIR}/cli_test_lib.cmake)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

gtrm_run(ok data generate sudoku --size 4 --givens 8 --num-train 500 --num-test 40 --seed 5 --output-dir ${WORK}/data)
set(args train --preset sudoku4-test --data ${WORK}/data --steps 60 --eval-every 30 --log-every 10 --batch 16 --quiet)
gtrm_run(ok ${args} --out ${WORK}/whole)
gtrm_run(ok ${args} --out ${WORK}/parts --stop-after 25)
gtrm_expect_file(${WORK}/parts/train_state.safetensors)
if(EXISTS ${WORK}/parts/checkpoints/step_60.safetensors)
  message(FATAL_ERROR "--stop-after 25 ran to the end")
endif()
gtrm_run(ok train --resume ${WORK}/parts --stop-after 20 --quiet)   # 25 -> 45, across an evaluation
gtrm_run(ok train --resume ${WORK}/parts)                           # 45 -> 60
if(NOT ERR MATCHES "resuming .* at step 45 of 60")
  message(FATAL_ERROR "the second resume did not start at step 45:\n${ERR}")
endif()

# metrics without the wall-clock fields
function(strip_timings file out)
  file(STRINGS ${file} lines)
  set(result "")
  foreach(l ${lines})
    string(REGEX REPLACE ",\"(elapsed_s|steps_per_s|seconds)\":[-+.0-9eE]+" "" l "${l}")
    list(APPEND result "${l}")
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()
strip_timings(${WORK}/whole/metrics.jsonl a)
strip_timings(${WORK}/parts/metrics.jsonl b)
if(NOT a STREQUAL b)
  string(REPLACE ";" "\n" a "${a}")
  string(REPLACE ";" "\n" b "${b}")
  message(FATAL_ERROR "metrics differ after resuming:\nwhole:\n${a}\nparts:\n${b}")
endif()
file(SHA256 ${WORK}/whole/train_state.safetensors ha)
file(SHA256 ${WORK}/parts/train_state.safetensors hb)
if(NOT ha STREQUAL hb)
  message(FATAL_ERROR "the final training states differ (weights, optimizer, EMA, carry or RNG)")
endif()
list(LENGTH a n)
message(STATUS "resumed run equals the uninterrupted one: ${n} metrics lines, train_state sha256 ${ha}")

# Ctrl-C: SIGINT while training is noticed between steps; the state is saved, exit status 130, and the run resumes
execute_process(COMMAND sh -c "\"$0\" train --preset sudoku4-test --data \"$1\" --out \"$2\" --steps 1000000 --log-every 1 &
pid=$!
i=0
while [ ! -s \"$2/metrics.jsonl\" ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i+1)); done
kill -INT $pid
wait $pid
echo \"rc=$?\"" ${GTRM} ${WORK}/data ${WORK}/interrupted
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT out MATCHES "rc=130" OR NOT err MATCHES "interrupted at step [0-9]+ of 1000000; saved")
  message(FATAL_ERROR "Ctrl-C during training: ${out}\n${err}")
endif()
gtrm_expect_file(${WORK}/interrupted/train_state.safetensors)
gtrm_expect_file(${WORK}/interrupted/model.safetensors)
gtrm_expect_no_temporaries(${WORK})
gtrm_run(ok train --resume ${WORK}/interrupted --stop-after 2)
if(NOT ERR MATCHES "resuming .* at step [0-9]+ of 1000000" OR NOT ERR MATCHES "paused at step")
  message(FATAL_ERROR "resuming the interrupted run:\n${ERR}")
endif()
message(STATUS "Ctrl-C: ${err}")
