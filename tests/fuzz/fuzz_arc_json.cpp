// libFuzzer target: ARC task JSON (include/gtrm/data/arc_task.hpp): the bytes as one task file
// ({"train": [...], "test": [...]}, as load_arc_task_dir reads each *.json) and as a combined challenges file
// ({task_id: task, ...}, load_arc_combined, with bad tasks as errors and as counted skips) with the same bytes as its
// solutions file. data::data_error is a rejection.
#include <gtrm/data/arc_task.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace gd = gtrm::data;
  const std::string text(gtrm::fuzz::as_text(data, size));
  try {
    const auto j = gd::arc_detail::parse_json(text, "task.json");
    (void)gd::arc_task_from_json(j, "task", "task.json");
  } catch (const gd::data_error&) {
  }
  const auto challenges = gtrm::fuzz::write_scratch("challenges.json", data, size);
  for (const bool skip : {false, true}) {
    gd::arc_load_options opt;
    opt.skip_bad = skip;
    gd::arc_load_log log;
    try {
      (void)gd::load_arc_combined("fuzz", challenges, {}, opt, &log);
    } catch (const gd::data_error&) {
    }
    try {
      (void)gd::load_arc_combined("fuzz", challenges, challenges, opt, &log);
    } catch (const gd::data_error&) {
    }
  }
  return 0;
}
