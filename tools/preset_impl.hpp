// What one preset's translation unit compiles: train, eval and solve instantiated for its model type, and the
// registry entry that points at them. Included by the files tools/CMakeLists.txt generates from tools/presets.cmake.
#pragma once
#include <string>
#include <type_traits>

#include <gtrm/cpu.hpp>
#include <gtrm/io/state_dict.hpp>

#include "bench.hpp"
#include "eval.hpp"
#include "registry.hpp"
#include "solve.hpp"
#include "train.hpp"

namespace gtrm::cli {

template <class Model>
std::string architecture_line() {
  constexpr auto d = Model::dims_v;
  constexpr auto c = Model::cycles_v;
  std::string pos = std::is_same_v<typename Model::position, pos::rope>      ? "rope"
                    : std::is_same_v<typename Model::position, pos::learned> ? "learned positions"
                                                                             : "no positions";
  std::string s = Model::attention ? "attention (" + pos + ", " + std::to_string(d.heads) + " heads)" : "token MLP (" + pos + ")";
  s += ", hidden " + std::to_string(d.hidden) + ", expansion " + std::to_string(d.expansion) + ", " +
       std::to_string(c.layers) + " layer" + (c.layers == 1 ? "" : "s") + ", T=" + std::to_string(c.h) + " n=" +
       std::to_string(c.l) + ", " + std::to_string(c.max_act_steps) + " ACT steps, puzzle prefix " + std::to_string(Model::P) +
       ", sequence " + std::to_string(d.seq) + ", vocab " + std::to_string(d.vocab);
  return s;
}

template <class Model>
void check_state_of(const io::safetensors_reader& f) {
  Model m(io::stored_puzzle_rows(f));
  io::load_state_dict(m, f);
}

template <class Model>
preset_entry make_preset_entry(const char* name, const char* task, const char* description) {
  preset_entry e;
  e.name = name;
  e.task_kind = task;
  e.description = description;
  e.vocab = Model::V;
  e.seq = Model::S;
  e.config_json = io::model_config_json<Model>();
  e.param_count = static_cast<std::int64_t>(Model::param_count);
  e.architecture = architecture_line<Model>();
  e.train = &run_train<Model>;
  e.eval = &run_eval<Model>;
  e.solve = &run_solve<Model>;
  e.bench = &run_bench<Model>;
  e.check_state = &check_state_of<Model>;
  e.task_of = tasks::make_task(task, e.vocab, e.seq);  // throws when the task does not fit the model
  return e;
}

}  // namespace gtrm::cli
