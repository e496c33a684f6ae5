# Helpers of the gtrm CLI checks (check_cli_*.cmake): run the program, check exit codes and one-line errors.
#   -DGTRM=<gtrm executable> -DWORK=<scratch directory> -DSOURCE=<source tree>
cmake_minimum_required(VERSION 3.20)

# gtrm_run(<expect: ok|fail> ARGS ...) -> OUT, ERR, RC in the caller's scope
macro(gtrm_run expect)
  execute_process(COMMAND ${GTRM} ${ARGN} RESULT_VARIABLE RC OUTPUT_VARIABLE OUT ERROR_VARIABLE ERR
                  WORKING_DIRECTORY ${WORK})
  if("${expect}" STREQUAL "ok" AND NOT RC EQUAL 0)
    message(FATAL_ERROR "gtrm ${ARGN}\n  exited ${RC}, expected 0\nstdout: ${OUT}\nstderr: ${ERR}")
  endif()
  if("${expect}" STREQUAL "fail" AND RC EQUAL 0)
    message(FATAL_ERROR "gtrm ${ARGN}\n  succeeded, expected a failure\nstdout: ${OUT}\nstderr: ${ERR}")
  endif()
endmacro()

# A failure whose stderr is exactly one line "gtrm: error: ..." matching `regex`, nothing on stdout.
function(gtrm_expect_error regex)
  gtrm_run(fail ${ARGN})
  string(REGEX REPLACE "\n$" "" err "${ERR}")
  if(err MATCHES "\n")
    message(FATAL_ERROR "gtrm ${ARGN}\n  printed more than one line on stderr:\n${ERR}")
  endif()
  if(NOT err MATCHES "^gtrm: error: " OR NOT err MATCHES "${regex}")
    message(FATAL_ERROR "gtrm ${ARGN}\n  stderr does not match '${regex}':\n${ERR}")
  endif()
  if(NOT OUT STREQUAL "")
    message(FATAL_ERROR "gtrm ${ARGN}\n  printed on stdout although it failed:\n${OUT}")
  endif()
  message(STATUS "rejected as expected (rc ${RC}): ${err}")
endfunction()

function(gtrm_expect_file f)
  if(NOT EXISTS ${f})
    message(FATAL_ERROR "expected file ${f} is missing")
  endif()
endfunction()

# No temporary or half-written files anywhere under dir.
function(gtrm_expect_no_temporaries dir)
  file(GLOB_RECURSE tmps LIST_DIRECTORIES false ${dir}/*.tmp-*)
  if(tmps)
    message(FATAL_ERROR "temporary files left behind: ${tmps}")
  endif()
endfunction()
