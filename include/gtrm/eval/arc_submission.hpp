// Kaggle-style submission.json for ARC: {task_id: [{"attempt_1": grid, "attempt_2": grid, ...}, ...]}, one object
// per test input in order, written as the reference's json.dump(submission) writes it (", " / ": " separators).
#pragma once
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../data/arc_task.hpp"
#include "../data/pyjson.hpp"
#include "arc_vote.hpp"

namespace gtrm::eval {

inline std::string arc_submission_json(const std::vector<arc_submission_task>& tasks) {
  data::pyjson::object_writer top;
  for (const auto& t : tasks) {
    std::string list = "[";
    for (std::size_t i = 0; i < t.inputs.size(); ++i) {
      data::pyjson::object_writer attempts;
      for (std::size_t a = 0; a < t.inputs[i].grids.size(); ++a)
        attempts.raw("attempt_" + std::to_string(a + 1), data::arc_grid_pyjson(t.inputs[i].grids[a]));
      list += (i ? ", " : "") + attempts.str();
    }
    top.raw(t.task_id, list + "]");
  }
  return top.str();
}

inline void write_arc_submission(const std::filesystem::path& file, const std::vector<arc_submission_task>& tasks) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) throw data::data_error(file.string() + ": cannot create");
  out << arc_submission_json(tasks);
  out.flush();
  if (!out) throw data::data_error(file.string() + ": write error (disk full?)");
}

}  // namespace gtrm::eval
