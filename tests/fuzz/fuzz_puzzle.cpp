// libFuzzer target: the puzzle text `gtrm solve` reads (include/gtrm/tasks/): for each task (Sudoku 4x4, 6x6 and
// 9x9, Maze 30x30, ARC) the bytes as one command-line argument, handled as collect_puzzles in tools/solve.hpp does
// (a stream when argument_is_stream says so, else one puzzle), as a puzzle file or stdin (read_puzzles), and as an
// answer. Every puzzle accepted must print (to_line, to_grid_lines, grid_values) and read back to the same tokens.
// tasks::input_error is a rejection.
#include <gtrm/tasks/registry.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>

#include "fuzz_common.hpp"

namespace {

namespace gt = gtrm::tasks;

const std::vector<std::unique_ptr<const gt::task>>& all_tasks() {
  static const auto tasks = [] {
    std::vector<std::unique_ptr<const gt::task>> v;
    v.push_back(gt::make_task("sudoku", 6, 16));
    v.push_back(gt::make_task("sudoku", 8, 36));
    v.push_back(gt::make_task("sudoku", 11, 81));
    v.push_back(gt::make_task("maze", 6, 900));
    v.push_back(gt::make_task("arc", 12, 900));
    return v;
  }();
  return tasks;
}

void check_round_trip(const gt::task& t, const gt::token_ids& tok) {
  if (tok.size() != static_cast<std::size_t>(t.seq())) {
    std::fprintf(stderr, "%s: parsed %zu tokens, expected %d\n", t.name().c_str(), tok.size(), t.seq());
    std::abort();
  }
  (void)t.to_grid_lines(tok);
  (void)t.grid_values(tok);
  const auto again = t.parse(t.to_line(tok), "round trip");
  if (again != tok) {
    std::fprintf(stderr, "%s: to_line then parse does not give the same tokens\n", t.name().c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(gtrm::fuzz::as_text(data, size));
  for (const auto& t : all_tasks()) {
    try {
      if (t->argument_is_stream(text)) {
        std::istringstream s(text);
        for (const auto& p : t->read_puzzles(s, "argument 1")) check_round_trip(*t, p.tokens);
      } else {
        check_round_trip(*t, t->parse(text, "argument 1"));
      }
    } catch (const gt::input_error&) {
    }
    try {
      std::istringstream s(text);
      for (const auto& p : t->read_puzzles(s, "puzzles.txt")) check_round_trip(*t, p.tokens);
    } catch (const gt::input_error&) {
    }
    try {
      (void)t->parse_answer(text, "answer");
    } catch (const gt::input_error&) {
    }
  }
  return 0;
}
