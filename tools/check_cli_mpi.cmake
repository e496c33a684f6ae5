# `mpirun -np 2 gtrm train` (tools/dist.hpp): a 2-rank run with an evaluation, stopped and resumed with 2 ranks, rank 0
# alone writing the run directory; `mpirun -np 2 gtrm eval` equal to one process (ARC's votes gathered on rank 0);
# ranks that disagree stop with one message from rank 0; a rank killed mid-run ends the job in bounded time, leaving
# the last complete state readable; `gtrm info` lists MPI.
#   -DGTRM=<gtrm> -DWORK=<scratch> -DSOURCE=<source tree> -DMPIEXEC=<mpiexec>
include(${CMAKE_CURRENT_LIST_DIR}/cli_test_lib.cmake)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(mpirun ${MPIEXEC} --oversubscribe)

gtrm_run(ok info)
if(NOT OUT MATCHES "MPI: yes")
  message(FATAL_ERROR "gtrm info does not list MPI:\n${OUT}")
endif()

gtrm_run(ok data generate sudoku --size 4 --givens 8 --num-train 500 --num-test 40 --seed 5 --output-dir ${WORK}/data)
set(args train --preset sudoku4-test --data ${WORK}/data --steps 40 --eval-every 20 --log-every 10 --batch 16 --eval-batch 16)

# two ranks, paused after 25 steps (the Ctrl-C path), resumed with two ranks to the end
execute_process(COMMAND ${mpirun} -np 2 ${GTRM} ${args} --out ${WORK}/mpi --stop-after 25
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err WORKING_DIRECTORY ${WORK})
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mpirun -np 2 gtrm train: rc ${rc}\n${out}\n${err}")
endif()
string(REGEX MATCHALL "step 20: held-out exact accuracy" evals "${err}")
list(LENGTH evals n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected the evaluation at step 20 reported once (by rank 0), got ${n}:\n${err}")
endif()
execute_process(COMMAND ${mpirun} -np 2 ${GTRM} train --resume ${WORK}/mpi
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err WORKING_DIRECTORY ${WORK})
if(NOT rc EQUAL 0 OR NOT err MATCHES "resuming .* at step 25 of 40")
  message(FATAL_ERROR "mpirun -np 2 gtrm train --resume: rc ${rc}\n${out}\n${err}")
endif()
gtrm_expect_file(${WORK}/mpi/model.safetensors)
gtrm_expect_file(${WORK}/mpi/checkpoints/step_40.safetensors)
gtrm_expect_no_temporaries(${WORK}/mpi)
file(STRINGS ${WORK}/mpi/metrics.jsonl lines)
list(LENGTH lines n)
if(NOT n EQUAL 6)  # train lines at 10, 20, 30, 40 and evaluations at 20, 40, each once
  message(FATAL_ERROR "metrics.jsonl holds ${n} lines, expected 6 (one writer):\n${lines}")
endif()
gtrm_run(ok eval ${WORK}/mpi --data ${WORK}/data)

# `mpirun -np 2 gtrm eval`: each rank solves its slice of every batch; the figures equal one process's, the cut at
# --max-examples (27: inside the second batch of 16, in rank 1's half) included, and rank 0 alone prints
gtrm_run(ok eval ${WORK}/mpi --data ${WORK}/data --batch 16 --max-examples 27 --json --quiet)
set(single "${OUT}")
execute_process(COMMAND ${mpirun} -np 2 ${GTRM} eval ${WORK}/mpi --data ${WORK}/data --batch 16 --max-examples 27 --json --quiet
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err WORKING_DIRECTORY ${WORK})
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mpirun -np 2 gtrm eval: rc ${rc}\n${out}\n${err}")
endif()
foreach(key examples exact_accuracy token_accuracy mean_act_steps)
  string(JSON a GET "${single}" ${key})
  string(JSON b GET "${out}" ${key})
  if(NOT a STREQUAL b)
    message(FATAL_ERROR "gtrm eval, 1 rank vs 2 ranks: ${key} ${a} vs ${b}\n${single}\n${out}")
  endif()
endforeach()
string(JSON n GET "${out}" examples)
if(NOT n EQUAL 27)
  message(FATAL_ERROR "mpirun -np 2 gtrm eval --max-examples 27 evaluated ${n} examples")
endif()

# ARC: the votes of both ranks cast on rank 0 give one process's pass@K and the same submission.json
gtrm_run(ok data arc --input-file-prefix ${SOURCE}/tests/data/arc/tiny/combined/tiny --subsets training,evaluation
         --test-set-name evaluation --num-aug 3 --output-dir ${WORK}/arc --quiet)
gtrm_run(ok train --preset arc-test --data ${WORK}/arc --out ${WORK}/arc-run --steps 6 --eval-every 0 --quiet)
gtrm_run(ok eval ${WORK}/arc-run --data ${WORK}/arc --batch 4 --submission ${WORK}/sub1.json --json --quiet)
set(single "${OUT}")
execute_process(COMMAND ${mpirun} -np 2 ${GTRM} eval ${WORK}/arc-run --data ${WORK}/arc --batch 4 --submission ${WORK}/sub2.json
                        --json --quiet
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err WORKING_DIRECTORY ${WORK})
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mpirun -np 2 gtrm eval (ARC): rc ${rc}\n${out}\n${err}")
endif()
string(JSON a GET "${single}" arc)
string(JSON b GET "${out}" arc)
string(JSON ea GET "${single}" examples)
string(JSON eb GET "${out}" examples)
file(READ ${WORK}/sub1.json s1)
file(READ ${WORK}/sub2.json s2)
if(NOT a STREQUAL b OR NOT ea EQUAL eb OR NOT s1 STREQUAL s2 OR ea LESS 5)
  message(FATAL_ERROR "ARC eval, 1 rank vs 2 ranks (${ea} vs ${eb} examples):\n${a}\n${b}\n${s1}\n${s2}")
endif()
message(STATUS "2-rank eval: the same figures as one process; ARC (${eb} examples over 2 ranks) ${b}")

# ranks that disagree on a setting (here the seed): one message, from rank 0, and no run directory
execute_process(COMMAND ${mpirun} -np 1 ${GTRM} ${args} --out ${WORK}/bad : -np 1 ${GTRM} ${args} --seed 1 --out ${WORK}/bad
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err WORKING_DIRECTORY ${WORK} TIMEOUT 60)
string(REGEX MATCHALL "gtrm: error: ranks disagree on the preset, data or hyper-parameters" msgs "${err}")
list(LENGTH msgs n)
if(rc EQUAL 0 OR NOT n EQUAL 1 OR EXISTS ${WORK}/bad/config.json)
  message(FATAL_ERROR "disagreeing ranks: rc ${rc}, ${n} messages, expected one:\n${err}")
endif()
message(STATUS "disagreeing ranks rejected: ${msgs}")

# a rank killed during training: the job ends (no hang), and the state saved before stays loadable
execute_process(COMMAND ${mpirun} -np 2 sh -c
                  "if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then (sleep 3; kill -9 $$) & fi; exec \"$0\" \"$@\""
                  ${GTRM} train --preset sudoku4-test --data ${WORK}/data --steps 1000000 --eval-every 5 --batch 16
                  --eval-batch 16 --eval-examples 16 --quiet --out ${WORK}/killed
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err WORKING_DIRECTORY ${WORK} TIMEOUT 60)
if(rc EQUAL 0 OR rc MATCHES "timeout")
  message(FATAL_ERROR "a killed rank: rc '${rc}', expected the job to fail within 60 s\n${err}")
endif()
if(EXISTS ${WORK}/killed/train_state.safetensors)
  gtrm_run(ok info ${WORK}/killed)
endif()
message(STATUS "a killed rank ended the job: rc ${rc}")
