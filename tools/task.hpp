// The program's view of tasks: everything about a puzzle family (vocabulary, text formats, validity check,
// augmentations, scoring, drawing) lives in the library under include/gtrm/tasks/; a preset names its task and the
// program looks it up once (tasks::make_task). Files and stdin hold one puzzle per line, or a drawn grid over several
// lines; CSV rows "source,question,answer[,...]" and "question,answer" also read (tasks/line_reader.hpp).
#pragma once
#include <gtrm/tasks/registry.hpp>

namespace gtrm::cli {

using tasks::puzzle_input;
using tasks::split_commas;
using tasks::task;

}  // namespace gtrm::cli
