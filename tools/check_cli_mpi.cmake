# `mpirun -np 2 gtrm train` (tools/dist.hpp): a 2-rank run with an evaluation, stopped and resumed with 2 ranks, rank 0
# alone writing the run directory; ranks that disagree stop with one message from rank 0; a rank killed mid-run ends
# the job in bounded time, leaving the last complete state readable; `gtrm info` lists MPI.
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
