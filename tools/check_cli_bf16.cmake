# --dtype bf16 from the command line (tools/device.hpp): bench reports the dtype and the bf16 library; a tiny
# sudoku6-demo run trains, evaluates and solves in bf16; info names both product libraries; a preset outside
# GTRM_CLI_BF16_PRESETS and an unknown dtype are refused in one line.
#   -DGTRM=<gtrm> -DWORK=<scratch> -DSOURCE=<source tree>
include(${CMAKE_CURRENT_LIST_DIR}/cli_test_lib.cmake)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

gtrm_run(ok presets --json)
set(compiled "${OUT}")  # the compiled presets only
if(NOT compiled MATCHES "\"name\": \"sudoku6-demo\"")
  message("skipped: sudoku6-demo is not compiled into this gtrm")
  return()
endif()
gtrm_expect_error("--dtype" bench --preset sudoku6-demo --dtype fp16)

gtrm_run(ok bench --preset sudoku6-demo --dtype bf16 --batch 2 --steps 1)
string(JSON dtype GET "${OUT}" dtype)
string(JSON gemm GET "${OUT}" gemm)
if(NOT dtype STREQUAL "bf16" OR NOT gemm MATCHES "bf16")
  message(FATAL_ERROR "gtrm bench --dtype bf16 reports dtype '${dtype}', gemm '${gemm}':\n${OUT}")
endif()
message(STATUS "bench --dtype bf16: ${gemm}")

gtrm_run(ok data generate sudoku --size 6 --givens 11 --num-train 300 --num-test 20 --seed 5 --output-dir ${WORK}/data6
         --csv-dir ${WORK}/csv6)
gtrm_run(ok train --preset sudoku6-demo --dtype bf16 --data ${WORK}/data6 --out ${WORK}/run --steps 6 --eval-every 6
         --log-every 3 --quiet)
gtrm_expect_file(${WORK}/run/model.safetensors)
gtrm_run(ok eval ${WORK}/run/model.safetensors --data ${WORK}/data6 --dtype bf16 --json --quiet)
string(JSON examples GET "${OUT}" examples)
if(NOT examples EQUAL 20)
  message(FATAL_ERROR "gtrm eval --dtype bf16 evaluated ${examples} examples, expected 20:\n${OUT}")
endif()
file(STRINGS ${WORK}/csv6/test.csv rows)
list(GET rows 1 row)
string(REPLACE "," ";" fields "${row}")
list(GET fields 1 puzzle)
gtrm_run(ok solve ${WORK}/run/model.safetensors --dtype bf16 ${puzzle} --format json)
string(JSON solution GET "${OUT}" puzzles 0 solution)
string(LENGTH "${solution}" n)
if(NOT n EQUAL 36)
  message(FATAL_ERROR "gtrm solve --dtype bf16 gave no 6x6 solution:\n${OUT}")
endif()
gtrm_run(ok info ${WORK}/run)
if(NOT OUT MATCHES "products +fp32: [^\n]*; bf16: ")
  message(FATAL_ERROR "gtrm info names no product libraries:\n${OUT}")
endif()

if(compiled MATCHES "\"name\": \"maze-att\"")  # compiled, but not in the default GTRM_CLI_BF16_PRESETS
  gtrm_expect_error("--dtype bf16: preset maze-att is not compiled for bf16 in this gtrm \\(bf16 presets: "
                    bench --preset maze-att --dtype bf16)
endif()
