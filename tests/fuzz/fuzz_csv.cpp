// libFuzzer target: the puzzle CSV files `gtrm data build` reads (include/gtrm/data/csv.hpp, the excel-dialect
// reader and its header check) through the Sudoku and Maze row parsers (data/sudoku.hpp, data/maze.hpp), both with
// bad rows as errors and as counted skips, and with the Sudoku difficulty filter (which parses the rating).
// data::data_error is a rejection.
#include <gtrm/data/maze.hpp>
#include <gtrm/data/sudoku.hpp>

#include "fuzz_common.hpp"

namespace {
template <class F>
void rejected_ok(F&& f) {
  try {
    f();
  } catch (const gtrm::data::data_error&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace gd = gtrm::data;
  const auto path = gtrm::fuzz::write_scratch("puzzles.csv", data, size);
  rejected_ok([&] {
    gd::csv_reader r(path);
    gd::csv_row row;
    while (r.next(row)) {
    }
  });
  for (const bool skip : {false, true}) {
    gd::bad_row_policy policy;
    policy.skip_bad = skip;
    policy.warn = [](const std::string&) {};
    rejected_ok([&] {
      gd::sudoku::read_options opt;
      opt.bad = policy;
      (void)gd::sudoku::read_csv(path, opt);
      opt.min_difficulty = 1;
      (void)gd::sudoku::read_csv(path, opt);
    });
    rejected_ok([&] {
      int side = 0;
      (void)gd::maze::read_csv(path, side, policy);
    });
  }
  return 0;
}
