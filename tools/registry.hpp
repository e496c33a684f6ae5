// The presets compiled into this gtrm. A model's architecture is a compile-time type, so the program carries one
// instantiation of train/eval/solve per preset; each lives in its own translation unit (generated from
// tools/presets.cmake), and this registry is how the rest of the program finds them by name or by checkpoint.
//
// Adding a preset: define its type at the end of include/gtrm/presets.hpp (section "CLI presets"), add one
// gtrm_cli_preset(...) line to tools/presets.cmake, rebuild. A checkpoint whose architecture no compiled preset has
// gets an error saying exactly that, with the numbers to put in the new preset.
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtrm/data/dataset.hpp>
#include <gtrm/io/safetensors.hpp>
#include <gtrm/io/state_dict.hpp>

#include "common.hpp"
#include "task.hpp"

namespace gtrm::cli {

struct train_request;
struct eval_request;
struct solve_request;
struct bench_request;

struct preset_entry {
  std::string name;            // "sudoku6-demo"
  std::string task_kind;       // "sudoku", "maze", "arc" (include/gtrm/tasks/registry.hpp)
  std::string description;
  int vocab = 0, seq = 0;      // the dataset shape the model reads
  std::string config_json;     // the reference's model config (io::model_config_json), stored in checkpoints
  std::int64_t param_count = 0;
  std::string architecture;    // one line for humans
  int (*train)(const preset_entry&, const train_request&) = nullptr;
  int (*eval)(const preset_entry&, const eval_request&) = nullptr;
  int (*solve)(const preset_entry&, const solve_request&) = nullptr;
  int (*bench)(const preset_entry&, const bench_request&) = nullptr;
  // loads a checkpoint into this preset's model and throws io::error naming the first tensor that does not fit
  void (*check_state)(const io::safetensors_reader&) = nullptr;

  std::shared_ptr<const tasks::task> task_of;  // the task for this model's vocabulary and sequence length

  const tasks::task& task() const { return *task_of; }
};

// Defined in the generated registry translation unit.
const std::vector<const preset_entry*>& compiled_presets();
const std::vector<std::string>& known_preset_names();  // every preset of tools/presets.cmake, compiled or not
const char* preset_selection();                         // the GTRM_CLI_PRESETS the program was configured with

inline std::string compiled_names() {
  std::string s;
  for (const auto* p : compiled_presets()) s += (s.empty() ? "" : ", ") + p->name;
  return s.empty() ? "(none)" : s;
}

inline std::string rebuild_hint(const std::string& name) {
  return "reconfigure with -DGTRM_CLI_PRESETS=all (or add " + name + " to the list) and rebuild: cmake -S . -B build "
         "-DGTRM_CLI_PRESETS=all && cmake --build build --target gtrm_cli";
}

inline const preset_entry& find_preset(const std::string& name) {
  for (const auto* p : compiled_presets())
    if (p->name == name) return *p;
  for (const auto& k : known_preset_names())
    if (k == name)
      throw cli_error("preset " + name + " is not compiled into this gtrm (built with GTRM_CLI_PRESETS=" +
                      std::string(preset_selection()) + "); " + rebuild_hint(name));
  throw cli_error("unknown preset '" + name + "'; compiled presets: " + compiled_names() + " (gtrm presets lists them)");
}

// ---- checkpoints ----

// Metadata keys gtrm writes into model checkpoints next to io::add_state_dict's gtrm_format and config.
inline constexpr const char* meta_preset = "gtrm.preset";
inline constexpr const char* meta_task = "gtrm.task";
inline constexpr const char* meta_version = "gtrm.version";

// a: a compiled preset's config, b: a checkpoint's (one saved before the policy keys reads as the plain TRM)
inline bool config_equal(const json& a, const json& b) { return io::config_mismatch(a, b).empty(); }

// The C++ a user adds to presets.hpp for a configuration no compiled preset has.
inline std::string preset_suggestion(const json& c) {
  const auto num = [&](const char* k) { return c.contains(k) ? c[k].dump() : std::string("?"); };
  const bool mlp = c.value("mlp_t", false);
  const std::string pos = c.value("pos_encodings", std::string("rope"));
  return "inline constexpr dims my_dims{.vocab = " + num("vocab_size") + ", .seq = " + num("seq_len") +
         ", .puzzle_emb_len = " + num("puzzle_emb_len") + ", .puzzle_emb_ndim = " + num("puzzle_emb_ndim") +
         ", .hidden = " + num("hidden_size") + ", .heads = " + num("num_heads") + ", .expansion = " +
         std::to_string(static_cast<int>(c.value("expansion", 4.0))) + "}; inline constexpr cycles my_cycles{.h = " +
         num("H_cycles") + ", .l = " + num("L_cycles") + ", .layers = " + num("L_layers") + ", .max_act_steps = " +
         num("halt_max_steps") + "}; template <class Be> using my_preset = trm<my_dims, my_cycles, " +
         (mlp ? "mixer::token_mlp<pos::" + pos + ">" : "mixer::attention<pos::" + pos + ">") +
         ", gate::none, halt::q_head, Be>;";
}

struct opened_checkpoint {
  io::safetensors_reader file;
  const preset_entry* preset = nullptr;
};

// Opens a checkpoint and finds the compiled preset it belongs to: by its gtrm.preset metadata when present (the
// architecture must then match too), else by its model config. Every failure is one sentence.
inline opened_checkpoint open_checkpoint(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw cli_error("checkpoint " + path.string() + " does not exist");
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "model.safetensors", ec)) return open_checkpoint(path / "model.safetensors");
    throw cli_error(path.string() + " is a directory without model.safetensors: give a checkpoint file");
  }
  io::safetensors_reader f(path);
  if (f.meta(io::meta_format).value_or("") == "trm-train-state-1")
    throw cli_error(path.string() + " is a training state, not a checkpoint: use the run's model.safetensors or "
                    "checkpoints/step_N.safetensors (gtrm train --resume continues from the state)");
  const auto cfg_text = f.meta(io::meta_config);
  if (!cfg_text)
    throw cli_error(path.string() + " has no model config in its metadata: it is not a gtrm checkpoint "
                    "(a training state? use the run's model.safetensors or checkpoints/step_N.safetensors)");
  json cfg;
  try {
    cfg = json::parse(*cfg_text);
  } catch (const std::exception&) {
    throw cli_error(path.string() + ": its config metadata is not valid JSON");
  }
  const auto stored = f.meta(meta_preset);
  if (stored) {
    for (const auto* p : compiled_presets())
      if (p->name == *stored) {
        if (!config_equal(json::parse(p->config_json), cfg))
          throw cli_error(path.string() + " says preset " + *stored + " but its architecture " + cfg.dump() +
                          " differs from the compiled " + p->name + " " + p->config_json +
                          " (the preset changed since it was saved)");
        return {std::move(f), p};
      }
    bool known = false;
    for (const auto& k : known_preset_names()) known = known || k == *stored;
    if (known)
      throw cli_error("checkpoint " + path.string() + " needs preset " + *stored + ", which this gtrm was built without; " +
                      rebuild_hint(*stored));
  }
  for (const auto* p : compiled_presets())
    if (config_equal(json::parse(p->config_json), cfg)) return {std::move(f), p};
  throw cli_error("no compiled preset has the architecture of " + path.string() + " " + cfg.dump() +
                  "; add one to include/gtrm/presets.hpp, e.g. `" + preset_suggestion(cfg) +
                  "`, list it in tools/presets.cmake and rebuild (compiled: " + compiled_names() + ")");
}

inline std::map<std::string, std::string> checkpoint_metadata(const io::safetensors_reader& f) { return f.metadata(); }

// ---- datasets ----

// Reads <dir>/<split> and checks that the preset's model reads it: same sequence length and vocabulary, and for
// Sudoku and Maze (which share 4x4's shape) labels that look like the task's.
inline data::loaded_split load_split_for(const fs::path& dir, const std::string& split, const preset_entry& p) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw cli_error("data directory " + dir.string() + " does not exist");
  if (!fs::is_directory(dir, ec)) throw cli_error(dir.string() + " is not a directory (expected a dataset directory)");
  if (!fs::exists(dir / split / "dataset.json", ec))
    throw cli_error(dir.string() + " is not a dataset: it has no " + split + "/dataset.json (make one with gtrm data ...)");
  auto s = data::read_split(dir, split);
  const auto& m = s.metadata;
  if (m.seq_len != p.seq || m.vocab_size != p.vocab) {
    std::string fits;
    for (const auto* q : compiled_presets())
      if (q->seq == m.seq_len && q->vocab == m.vocab_size) fits += (fits.empty() ? "" : ", ") + q->name;
    throw cli_error("dataset " + dir.string() + " has seq_len " + std::to_string(m.seq_len) + " and vocab " +
                    std::to_string(m.vocab_size) + ", but preset " + p.name + " (" + p.task().name() + ") reads seq_len " +
                    std::to_string(p.seq) + " and vocab " + std::to_string(p.vocab) +
                    (fits.empty() ? std::string("; no compiled preset fits this data") : "; presets that fit: " + fits));
  }
  if (const auto why = p.task().labels_mismatch(s.data.labels, dir.string(), p.name); !why.empty()) throw cli_error(why);
  return s;
}

}  // namespace gtrm::cli
