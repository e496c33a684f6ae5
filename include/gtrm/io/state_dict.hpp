// A model's state_dict in a safetensors file, under the reference PyTorch names (TRM_REFERENCE.md §1.2, §3.8):
// every trainable parameter, plus the buffers H_init, L_init and puzzle_emb.weights. Keys may carry the
// prefixes of the official checkpoints (`_orig_mod.` from torch.compile); they are stripped on load.
//
// Loading is all-or-nothing: every tensor is checked (present, shape, a float dtype) before anything is
// copied, and every key without '/' that the model does not know is an error — a checkpoint of another
// architecture never loads partially.
#pragma once
#include <filesystem>
#include <map>
#include <set>
#include <type_traits>
#include <string>
#include <vector>

#include "../policy/policies.hpp"
#include "error.hpp"
#include "safetensors.hpp"

namespace gtrm::io {

// The metadata keys gtrm writes next to the tensors.
inline constexpr const char* meta_format = "gtrm_format";      // "trm-state-dict-1"
inline constexpr const char* meta_config = "config";           // the reference config JSON of the compiled model

namespace detail {
inline std::string strip_prefix(const std::string& k) {
  static const char* prefixes[] = {"_orig_mod."};
  for (const char* p : prefixes) {
    const std::string s(p);
    if (k.rfind(s, 0) == 0) return k.substr(s.size());
  }
  return k;
}
}  // namespace detail

// The reference's model config (trm.py:TinyRecursiveReasoningModel_ACTV1Config) of a compiled model type, as
// JSON text: what gtrm writes to a checkpoint and what a golden file's `config` metadata is matched against.
template <class Model>
std::string model_config_json() {
  constexpr auto d = Model::dims_v;
  constexpr auto c = Model::cycles_v;
  const char* pos = std::is_same_v<typename Model::position, pos::rope> ? "rope"
                    : std::is_same_v<typename Model::position, pos::learned> ? "learned" : "none";
  std::string s = "{";
  auto kv = [&](const char* k, const std::string& v) { if (s.size() > 1) s += ", "; s += '"'; s += k; s += "\": "; s += v; };
  kv("H_cycles", std::to_string(c.h));
  kv("L_cycles", std::to_string(c.l));
  kv("L_layers", std::to_string(c.layers));
  kv("expansion", std::to_string(d.expansion) + ".0");
  kv("halt_max_steps", std::to_string(c.max_act_steps));
  kv("hidden_size", std::to_string(d.hidden));
  kv("mlp_t", Model::attention ? "false" : "true");
  kv("no_ACT_continue", Model::halt_type::continue_target ? "false" : "true");
  kv("num_heads", std::to_string(d.heads));
  kv("pos_encodings", std::string("\"") + pos + "\"");
  kv("puzzle_emb_len", std::to_string(d.puzzle_emb_len));
  kv("puzzle_emb_ndim", std::to_string(Model::E));
  kv("seq_len", std::to_string(d.seq));
  kv("vocab_size", std::to_string(d.vocab));
  return s + "}";
}

// Loads weights and buffers into m. The puzzle table's row count must equal m.num_puzzle_ids().
template <class Model>
void load_state_dict(Model& m, const safetensors_reader& f, const std::string& key_prefix = "") {
  using T = typename Model::scalar;
  const std::string file = f.path().string();
  std::map<std::string, std::string> by_name;  // stripped name -> stored key
  for (const auto& k : f.names()) {
    if (k.find('/') != std::string::npos) continue;  // golden files keep non-state tensors under prefixes with '/'
    std::string n = detail::strip_prefix(k);
    if (!key_prefix.empty() && n.rfind(key_prefix, 0) == 0) n = n.substr(key_prefix.size());
    by_name[n] = k;
  }
  struct wanted { std::string name; std::vector<std::int64_t> shape; T* dst; };
  std::vector<wanted> want;
  for (std::size_t i = 0; i < Model::layout.count; ++i) {
    const auto& s = Model::layout[i];
    std::vector<std::int64_t> shape = s.ndim == 1 ? std::vector<std::int64_t>{s.rows} : std::vector<std::int64_t>{s.rows, s.cols};
    want.push_back({s.full_name(), shape, m.params().data() + s.offset});
  }
  want.push_back({Model::h_init_name, {Model::D}, m.h_init().data()});
  want.push_back({Model::l_init_name, {Model::D}, m.l_init().data()});
  if constexpr (Model::E > 0) want.push_back({Model::puzzle_table_name, {m.num_puzzle_ids(), Model::E}, m.puzzle_table().data()});

  std::set<std::string> known;
  for (const auto& w : want) {
    known.insert(w.name);
    auto it = by_name.find(w.name);
    if (it == by_name.end())
      throw error("checkpoint " + file + " has no tensor " + w.name + " (shape " + shape_string(w.shape) +
                  "), which the compiled model needs: is it a checkpoint of another architecture?");
    const auto& info = f.info(it->second);
    if (!dtype_is_float(info.type))
      throw error("checkpoint " + file + ": tensor " + w.name + " has dtype " + std::string(dtype_name(info.type)) +
                  ", expected a floating-point dtype (F32, F64, BF16 or F16)");
    if (info.shape != w.shape)
      throw error("checkpoint " + file + ": tensor " + w.name + " has shape " + shape_string(info.shape) +
                  ", the compiled model expects " + shape_string(w.shape));
  }
  for (const auto& [name, key] : by_name)
    if (!known.count(name))
      throw error("checkpoint " + file + " has tensor " + key + " that the compiled model does not have: "
                  "it was saved from another architecture (check the preset)");
  for (const auto& w : want) f.read_into<T>(by_name[w.name], w.shape, w.dst);
}

// Adds the model's state_dict (under "model.inner.…") and its config to a writer.
template <class Model>
void add_state_dict(const Model& m, safetensors_writer& w) {
  for (std::size_t i = 0; i < Model::layout.count; ++i) {
    const auto& s = Model::layout[i];
    std::vector<std::int64_t> shape = s.ndim == 1 ? std::vector<std::int64_t>{s.rows} : std::vector<std::int64_t>{s.rows, s.cols};
    w.add(s.full_name(), shape, m.params().data() + s.offset);
  }
  w.add(Model::h_init_name, {Model::D}, m.h_init().data());
  w.add(Model::l_init_name, {Model::D}, m.l_init().data());
  if constexpr (Model::E > 0) w.add(Model::puzzle_table_name, {m.num_puzzle_ids(), Model::E}, m.puzzle_table().data());
  w.metadata(meta_format, "trm-state-dict-1");
  w.metadata(meta_config, model_config_json<Model>());
}

// The number of puzzle-table rows stored in a checkpoint (to construct the model before loading).
inline std::int64_t stored_puzzle_rows(const safetensors_reader& f, const char* name = "model.inner.puzzle_emb.weights") {
  for (const auto& k : f.names())
    if (detail::strip_prefix(k) == name) return f.info(k).shape.at(0);
  return 1;
}

// A compiled model with the weights of a checkpoint file: the puzzle table is sized from the file, and every
// tensor must match the type's architecture (load_state_dict's errors name the first that does not).
//   auto model = gtrm::io::load_model<gtrm::presets::sudoku6_demo<gtrm::cpu>>("run/model.safetensors");
template <class Model>
Model load_model(const std::filesystem::path& path) {
  safetensors_reader f(path);
  Model m(stored_puzzle_rows(f));
  load_state_dict(m, f);
  return m;
}

}  // namespace gtrm::io
