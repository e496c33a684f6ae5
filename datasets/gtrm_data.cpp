// gtrm-data: builds TRM datasets in the reference's on-disk layout.
//   gtrm-data sudoku   --output-dir D --train-csv F [--test-csv F] ...   (dataset/build_sudoku_dataset.py)
//   gtrm-data maze     --output-dir D --train-csv F [--test-csv F] ...   (dataset/build_maze_dataset.py)
//   gtrm-data arc      --output-dir D --input-file-prefix P | --input-dir D [--subsets a,b=path,...] ...
//                                                                      (dataset/build_arc_dataset.py)
//   gtrm-data generate sudoku|maze --output-dir D ...                  (seeded puzzles for users without the files)
// The same commands as `gtrm data ...`: both programs wire tools/data.hpp's data_commands, so flags, messages and
// results cannot drift apart. Flags keep the reference builders' names where they mean the same.
// Bad input: one line on stderr, exit code 1.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "data.hpp"

int main(int argc, char** argv) {
  CLI::App app{"gtrm-data: build Sudoku, Maze and ARC datasets in the TRM reference layout, or generate seeded ones"};
  app.require_subcommand(1);
  gtrm::cli::data_commands data;
  data.add(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "gtrm-data: error: %s (see --help)\n", e.what());
    return 1;
  }
  try {
    return data.run("gtrm-data");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gtrm-data: error: %s\n", e.what());
    return 1;
  }
}
