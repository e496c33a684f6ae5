# The presets the gtrm program compiles, one translation unit each (tools/CMakeLists.txt generates them).
#   gtrm_cli_preset(NAME  C++-TYPE  TASK  DESCRIPTION)
# TASK is sudoku, maze or arc: how puzzles are read and printed. The type is a model from include/gtrm/presets.hpp
# with the CPU backend. To add a preset: define its type there (section "sizes and CLI presets"), add a line here,
# rebuild. -DGTRM_CLI_PRESETS="a;b" compiles only those (default: all); the demo builds sudoku6-demo alone.
gtrm_cli_preset(sudoku-mlp    "gtrm::presets::sudoku_mlp<gtrm::cpu>"    sudoku "the paper's Sudoku-Extreme run, MLP token mixer (= sudoku large)")
gtrm_cli_preset(sudoku-att    "gtrm::presets::sudoku_att<gtrm::cpu>"    sudoku "the paper's Sudoku-Extreme run, self-attention")
gtrm_cli_preset(maze-att      "gtrm::presets::maze_att<gtrm::cpu>"      maze   "the paper's Maze-Hard 30x30 run (= maze large)")
gtrm_cli_preset(arc-att       "gtrm::presets::arc_att<gtrm::cpu>"       arc    "the paper's ARC-AGI run (= arc large)")
gtrm_cli_preset(sudoku-mlp-h128 "gtrm::presets::sudoku_mlp_h128<gtrm::cpu>" sudoku "the paper's Sudoku-MLP at hidden 128, 4 heads (the benchmarks' small config)")
gtrm_cli_preset(sudoku-small  "gtrm::presets::sudoku_small<gtrm::cpu>"  sudoku "9x9 Sudoku, hidden 64, MLP mixer, T=2 n=2, 8 ACT steps")
gtrm_cli_preset(sudoku-medium "gtrm::presets::sudoku_medium<gtrm::cpu>" sudoku "9x9 Sudoku, hidden 256, MLP mixer, T=3 n=6, 16 ACT steps")
gtrm_cli_preset(maze-small    "gtrm::presets::maze_small<gtrm::cpu>"    maze   "30x30 maze, hidden 64, attention, T=2 n=2, 8 ACT steps")
gtrm_cli_preset(maze-medium   "gtrm::presets::maze_medium<gtrm::cpu>"   maze   "30x30 maze, hidden 256, attention, T=3 n=4, 16 ACT steps")
gtrm_cli_preset(arc-small     "gtrm::presets::arc_small<gtrm::cpu>"     arc    "ARC canvas, hidden 64, attention, T=2 n=2, 8 ACT steps")
gtrm_cli_preset(arc-medium    "gtrm::presets::arc_medium<gtrm::cpu>"    arc    "ARC canvas, hidden 256, attention, T=3 n=4, 16 ACT steps")
gtrm_cli_preset(sudoku6-demo  "gtrm::presets::sudoku6_demo<gtrm::cpu>"  sudoku "the README demo: 6x6 Sudoku, MLP mixer, learns on a CPU in minutes")
gtrm_cli_preset(sudoku4-test  "gtrm::presets::sudoku4_test<gtrm::cpu>"  sudoku "the CLI tests: 4x4 Sudoku, trains in seconds")
gtrm_cli_preset(arc-test      "gtrm::presets::arc_test<gtrm::cpu>"      arc    "the CLI tests' ARC path: 30x30 canvas, minimal width")
