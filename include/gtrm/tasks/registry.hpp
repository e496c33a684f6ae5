// The tasks gtrm knows, by name. Adding a task: a folder tasks/NAME/ with a class deriving from tasks::task
// (tasks/task.hpp), and one line in make_task and task_names below.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "arc/arc.hpp"
#include "maze/maze.hpp"
#include "sudoku/sudoku.hpp"
#include "task.hpp"

namespace gtrm::tasks {

inline const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names = {"sudoku", "maze", "arc"};
  return names;
}

// The task `kind` for a model of this vocabulary and sequence length; throws input_error when the name is unknown
// or the model does not fit the task.
inline std::unique_ptr<const task> make_task(std::string_view kind, int vocab, int seq) {
  if (kind == "sudoku") return std::make_unique<sudoku_task>(vocab, seq);
  if (kind == "maze") return std::make_unique<maze_task>(vocab, seq);
  if (kind == "arc") return std::make_unique<arc_task>(vocab, seq);
  throw input_error("unknown task '" + std::string(kind) + "' (sudoku, maze or arc)");
}

}  // namespace gtrm::tasks
