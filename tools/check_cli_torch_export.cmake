# The run tests/torch/check_export.py exports and checks against the official PyTorch TRM: the README demo's preset,
# trained a few steps on 6x6 Sudoku (the ctest fixture "torch_export").
#   -DGTRM=<gtrm> -DWORK=<scratch> -DSOURCE=<source tree>
include(${CMAKE_CURRENT_LIST_DIR}/cli_test_lib.cmake)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
gtrm_run(ok data generate sudoku --size 6 --givens 14 --num-train 2000 --num-test 100 --seed 3 --output-dir ${WORK}/data6)
gtrm_run(ok train --preset sudoku6-demo --data ${WORK}/data6 --out ${WORK}/run --steps 20 --quiet)
gtrm_expect_file(${WORK}/run/model.safetensors)
