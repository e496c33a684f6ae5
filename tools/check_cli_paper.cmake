# The README's paper runs, end to end but tiny: each data builder the README names (Sudoku and Maze from CSV -- here
# CSVs written by the generators in the reference's format -- and ARC from JSON, the tiny fixtures), then one
# training step of batch 2 with each paper preset (sudoku-mlp, sudoku-att, maze-att, arc-att). Checks that the
# commands run and write a resumable run; accuracy is the paper's business, not a test's.
#   -DGTRM=<gtrm> -DWORK=<scratch> -DSOURCE=<source tree>
include(${CMAKE_CURRENT_LIST_DIR}/cli_test_lib.cmake)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

gtrm_run(ok data generate sudoku --size 9 --givens 40 --num-train 20 --num-test 4 --seed 3 --output-dir ${WORK}/gen-sudoku
         --csv-dir ${WORK}/sudoku-extreme)
gtrm_run(ok data sudoku --train-csv ${WORK}/sudoku-extreme/train.csv --test-csv ${WORK}/sudoku-extreme/test.csv
         --subsample-size 10 --num-aug 2 --output-dir ${WORK}/data/sudoku-extreme-1k-aug-1000)
gtrm_run(ok data generate maze --size 30 --num-train 4 --num-test 2 --min-path-length 20 --seed 3 --output-dir ${WORK}/gen-maze
         --csv-dir ${WORK}/maze-hard)
gtrm_run(ok data maze --train-csv ${WORK}/maze-hard/train.csv --test-csv ${WORK}/maze-hard/test.csv --aug
         --output-dir ${WORK}/data/maze-30x30-hard-1k)
gtrm_run(ok data arc --input-file-prefix ${SOURCE}/tests/data/arc/tiny/combined/tiny --subsets training,evaluation
         --test-set-name evaluation --num-aug 2 --output-dir ${WORK}/data/arc1concept-aug-1000 --quiet)

foreach(run "sudoku-mlp;sudoku-extreme-1k-aug-1000" "sudoku-att;sudoku-extreme-1k-aug-1000"
            "maze-att;maze-30x30-hard-1k" "arc-att;arc1concept-aug-1000")
  list(GET run 0 preset)
  list(GET run 1 data)
  gtrm_run(ok train --preset ${preset} --data ${WORK}/data/${data} --out ${WORK}/runs/${preset} --batch 2 --stop-after 1 --quiet)
  gtrm_expect_file(${WORK}/runs/${preset}/train_state.safetensors)
  file(READ ${WORK}/runs/${preset}/config.json cfg)
  string(JSON p GET "${cfg}" preset)
  if(NOT p STREQUAL preset)
    message(FATAL_ERROR "${preset}: config.json says preset ${p}")
  endif()
  message(STATUS "${preset}: one step on ${data}")
endforeach()
message(STATUS "paper presets passed")
