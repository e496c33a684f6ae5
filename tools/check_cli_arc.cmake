# The ARC path of the gtrm program on the tiny hand-made tasks of tests/data/arc: gtrm data arc -> train (a few steps
# of the arc-test preset) -> eval (voting over augmented versions, pass@K, submission.json) -> solve a JSON grid; and
# the architecture errors: a checkpoint no compiled preset has (a golden file of the reference) names what to add.
#   -DGTRM=<gtrm> -DWORK=<scratch> -DSOURCE=<source tree>
include(${CMAKE_CURRENT_LIST_DIR}/cli_test_lib.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/json_schema.cmake)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

gtrm_run(ok data arc --input-file-prefix ${SOURCE}/tests/data/arc/tiny/combined/tiny --subsets training,evaluation
         --test-set-name evaluation --num-aug 3 --output-dir ${WORK}/arc --quiet)
gtrm_run(ok train --preset arc-test --data ${WORK}/arc --out ${WORK}/run --steps 10 --eval-every 5 --quiet)
gtrm_expect_file(${WORK}/run/checkpoints/step_10.safetensors)

gtrm_run(ok eval ${WORK}/run --data ${WORK}/arc --submission ${WORK}/submission.json --json --quiet)
string(JSON tasks GET "${OUT}" arc tasks)
string(JSON p1 GET "${OUT}" arc pass pass@1)
string(JSON p2 GET "${OUT}" arc pass pass@2)
if(NOT tasks EQUAL 1 OR p1 GREATER p2)
  message(FATAL_ERROR "gtrm eval on ARC:\n${OUT}")
endif()
file(READ ${WORK}/submission.json sub)
string(JSON attempts LENGTH "${sub}" bbbb0001)
string(JSON first TYPE "${sub}" bbbb0001 0 attempt_1)
if(NOT attempts EQUAL 2 OR NOT first STREQUAL "ARRAY")
  message(FATAL_ERROR "submission.json is not {task: [{attempt_1: grid, attempt_2: grid}, ...]}:\n${sub}")
endif()
gtrm_run(ok eval ${WORK}/run --data ${WORK}/arc --pass-k 1,3 --submission ${WORK}/sub2.json --quiet)
if(NOT OUT MATCHES "pass@1 .*pass@3 .* over 1 tasks")
  message(FATAL_ERROR "gtrm eval --pass-k 1,3:\n${OUT}")
endif()

gtrm_run(ok solve ${WORK}/run "[[1,2],[3,4]]" --format json --trajectory)
file(READ ${SOURCE}/docs/solve.schema.json schema)
gtrm_json_validate("${OUT}" "${schema}" "$" errors)
if(errors)
  message(FATAL_ERROR "ARC solve JSON does not match the schema:\n${errors}\n${OUT}")
endif()
string(JSON valid TYPE "${OUT}" puzzles 0 valid)
if(NOT valid STREQUAL "NULL")
  message(FATAL_ERROR "an ARC answer has no checker: valid must be null")
endif()
gtrm_expect_error("ARC colours are integers 0-9" solve ${WORK}/run "[[1,12]]")
gtrm_expect_error("an ARC grid is a JSON list of 1 to 30 rows" solve ${WORK}/run "1234")
gtrm_expect_error("an ARC puzzle is a JSON grid" solve ${WORK}/run "not json")
gtrm_expect_error("--vote works for Sudoku and mazes" solve ${WORK}/run "[[1]]" --vote 4)
gtrm_expect_error("--puzzle-id 100000 is outside" solve ${WORK}/run "[[1]]" --puzzle-id 100000)

# architectures this gtrm does not have: a reference golden file (hidden 64) is refused with the preset to add
gtrm_expect_error("no compiled preset has the architecture of .*a_rope.safetensors.*add one to include/gtrm/presets.hpp, e.g. `inline constexpr dims my_dims\\{.vocab = 11, .seq = 16"
                  solve ${SOURCE}/tests/data/golden/a_rope.safetensors 1234)
message(STATUS "gtrm ARC path passed")
