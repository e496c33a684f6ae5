// For the fuzz targets that call the gtrm program's own readers (tools/): the preset registry, which the program
// generates from tools/presets.cmake with every model compiled in, replaced by entries that carry a name and a task
// only. The readers fuzzed here (config files, run directories) look presets up by name and never run a model.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <gtrm/tasks/registry.hpp>

#include "../../tools/registry.hpp"

namespace gtrm::cli {

inline preset_entry stub_preset(const char* name, const char* kind, int vocab, int seq) {
  preset_entry e;
  e.name = name;
  e.task_kind = kind;
  e.vocab = vocab;
  e.seq = seq;
  e.task_of = tasks::make_task(kind, vocab, seq);
  return e;
}

const std::vector<const preset_entry*>& compiled_presets() {
  static const preset_entry demo = stub_preset("sudoku6-demo", "sudoku", 8, 36);
  static const preset_entry maze = stub_preset("maze-small", "maze", 6, 900);
  static const std::vector<const preset_entry*> all = {&demo, &maze};
  return all;
}
const std::vector<std::string>& known_preset_names() {
  static const std::vector<std::string> all = {"sudoku6-demo", "maze-small", "arc-att"};
  return all;
}
const char* preset_selection() { return "sudoku6-demo;maze-small"; }

}  // namespace gtrm::cli
