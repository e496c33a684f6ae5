# --device cuda from the command line. -DCUDA=ON (a CUDA build): train and bench of a CUDA preset exit non-zero with
# "no CUDA device" on a machine without a GPU, and where a GPU answers the check prints "skipped: a CUDA device is
# present" (ctest reports it as skipped: this test is about the device-less machine). -DCUDA=OFF: every command says
# the build has no CUDA. An unknown device is refused either way.
#   -DGTRM=<gtrm> -DWORK=<scratch> -DSOURCE=<source tree> -DCUDA=ON|OFF
include(${CMAKE_CURRENT_LIST_DIR}/cli_test_lib.cmake)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

gtrm_expect_error("--device tpu: unknown device \\(cpu or cuda\\)" bench --preset sudoku6-demo --device tpu)
if(CUDA)
  execute_process(COMMAND ${GTRM} bench --preset sudoku6-demo --device cuda --batch 1 --steps 1
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET WORKING_DIRECTORY ${WORK})
  if(rc EQUAL 0)
    message("skipped: a CUDA device is present")
    return()
  endif()
  set(why "no CUDA device")
else()
  set(why "built without CUDA \\(configure with -DGTRM_ENABLE_CUDA=ON")
endif()
gtrm_expect_error("--device cuda: ${why}" bench --preset sudoku6-demo --device cuda)
gtrm_expect_error("--device cuda: ${why}" train --preset sudoku6-demo --data ${WORK}/no-data --steps 1
                  --out ${WORK}/run --device cuda)
if(CUDA)
  gtrm_expect_error("--device cuda: ${why}" bench --preset sudoku-att --device cuda)
  gtrm_expect_error("--device cuda: ${why}" train --preset sudoku-mlp --data ${WORK}/no-data --steps 1
                    --out ${WORK}/run --device cuda)
endif()
