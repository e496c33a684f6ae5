// `gtrm import PATH --out RUN_DIR`: a checkpoint of the official PyTorch code (TRM's `step_N`, HRM's `checkpoint`,
// torch.save of ACTLossHead(model).state_dict(), keys prefixed `_orig_mod.` when the model was compiled) becomes a
// gtrm run directory that `gtrm eval/solve/info` use. `gtrm eval/solve/info` also take such a file directly
// (read_torch_as_gtrm converts it in memory the same way).
//
// The architecture comes from three places, and import.json records which gave each value:
//   all_config.yaml beside the file   the `arch` block the official pretrain.py writes (cycles, layers, sizes, mixer)
//   the tensors' shapes               vocabulary, hidden size, layer counts, puzzle-table width, mixer, positions
//   --data DIR / --preset NAME        seq_len and vocabulary (the official code takes them from the dataset)
// It is then matched against the compiled presets (tools/presets.cmake); a checkpoint no preset fits gets the C++
// of the preset it needs. Every tensor is checked (names, shapes, none missing, none extra) by loading it into the
// preset's model before anything is written.
#pragma once
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <gtrm/io/safetensors.hpp>
#include <gtrm/io/state_dict.hpp>
#include <gtrm/io/torch_checkpoint.hpp>

#include "common.hpp"
#include "registry.hpp"

namespace gtrm::cli {

struct import_request {
  std::string path, out, preset, data;
  bool overwrite = false;
  bool quiet = false;
};

namespace import_detail {

// PATH or, for a folder, its `checkpoint` (HRM) or highest `step_N` (TRM).
inline fs::path find_torch_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw cli_error(path.string() + " does not exist");
  if (!fs::is_directory(path, ec)) return path;
  if (fs::exists(path / "checkpoint", ec)) return path / "checkpoint";
  fs::path best;
  long best_step = -1;
  const std::regex step_re("step_([0-9]+)");
  for (const auto& e : fs::directory_iterator(path, ec)) {
    std::smatch m;
    const std::string n = e.path().filename().string();
    if (std::regex_match(n, m, step_re) && std::stol(m[1]) > best_step) {
      best_step = std::stol(m[1]);
      best = e.path();
    }
  }
  if (best.empty())
    throw cli_error(path.string() + " is a folder without a `checkpoint` or `step_N` file (the names the official "
                    "HRM and TRM code save); give the checkpoint file");
  return best;
}

// A yaml scalar as JSON (numbers stay numbers, true/false booleans), or nullopt.
inline std::optional<json> yaml_value(const YAML::Node& n) {
  if (!n || !n.IsScalar()) return std::nullopt;
  const std::string s = n.Scalar();
  if (s == "true" || s == "True") return json(true);
  if (s == "false" || s == "False") return json(false);
  try {
    std::size_t used = 0;
    const long long i = std::stoll(s, &used);
    if (used == s.size()) return json(i);
    const double d = std::stod(s, &used);
    if (used == s.size()) return json(d);
  } catch (const std::exception&) {
  }
  return json(s);
}

struct resolution {
  json cfg = json::object();                     // gtrm config keys known so far
  std::map<std::string, std::string> source;     // key -> where it came from
  std::int64_t puzzle_rows = 0;
  void set(const std::string& k, json v, const std::string& from) {
    if (cfg.contains(k) && cfg[k] != v && !(cfg[k].is_number() && v.is_number() && cfg[k].get<double>() == v.get<double>()))
      throw cli_error("the checkpoint's " + k + " is " + cfg[k].dump() + " by " + source[k] + " but " + v.dump() + " by " + from);
    if (!cfg.contains(k)) {
      cfg[k] = std::move(v);
      source[k] = from;
    }
  }
};

// all_config.yaml's arch block.
inline void from_yaml(resolution& r, const fs::path& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const std::exception& e) {
    throw cli_error(file.string() + " is not valid YAML (" + e.what() + ")");
  }
  const YAML::Node arch = root["arch"] ? root["arch"] : root;
  const std::string from = file.filename().string();
  const std::string name = arch["name"] ? arch["name"].as<std::string>() : "";
  std::string kind;
  if (name.find("trm_singlez") != std::string::npos || name.find("trm_hier") != std::string::npos)
    throw cli_error(file.string() + ": arch " + name + " is a TRM variant gtrm does not implement (gtrm has trm, hrm and "
                    "transformers_baseline)");
  if (name.find("trm@") != std::string::npos) kind = "trm";
  else if (name.find("hrm") != std::string::npos) kind = "hrm";
  else if (name.find("transformers_baseline") != std::string::npos) kind = "transformer";
  else if (!name.empty()) throw cli_error(file.string() + ": unknown arch name " + name);
  if (!kind.empty()) r.set("arch", kind, from + " (arch.name " + name + ")");
  for (const char* k : {"H_cycles", "L_cycles", "L_layers", "hidden_size", "expansion", "num_heads", "pos_encodings",
                        "halt_max_steps", "mlp_t", "puzzle_emb_len", "no_ACT_continue"})
    if (auto v = yaml_value(arch[k])) r.set(k, *v, from);
  if (kind == "hrm") {
    if (auto v = yaml_value(arch["H_layers"])) r.set("H_layers", *v, from);
  }
  if (auto v = yaml_value(arch["puzzle_emb_ndim"])) {
    if (v->is_string() && v->get<std::string>() == "${.hidden_size}" && r.cfg.contains("hidden_size"))
      r.set("puzzle_emb_ndim", r.cfg["hidden_size"], from + " (${.hidden_size})");
    else if (v->is_number())
      r.set("puzzle_emb_ndim", *v, from);
  }
}

// What the tensors determine.
inline void from_tensors(resolution& r, const io::torch_state_dict& sd) {
  const std::string from = "tensor shapes";
  std::map<std::string, std::vector<std::int64_t>> shapes;
  for (const auto& t : sd.tensors) shapes[io::strip_torch_prefixes(t.name)] = t.shape;
  if (auto it = shapes.find("model.inner.embed_tokens.embedding_weight"); it != shapes.end() && it->second.size() == 2) {
    r.set("vocab_size", it->second[0], from + " (embed_tokens.embedding_weight)");
    r.set("hidden_size", it->second[1], from + " (embed_tokens.embedding_weight)");
  } else {
    throw cli_error("the checkpoint has no model.inner.embed_tokens.embedding_weight: it is not a state_dict of the official TRM/HRM "
                    "code (ACTLossHead(model).state_dict(), keys model.inner.*)");
  }
  if (auto it = shapes.find("model.inner.puzzle_emb.weights"); it != shapes.end() && it->second.size() == 2) {
    r.set("puzzle_emb_ndim", it->second[1], from + " (puzzle_emb.weights)");
    r.puzzle_rows = it->second[0];
  } else {
    r.set("puzzle_emb_ndim", 0, from + " (no puzzle_emb.weights)");
  }
  int l_layers = 0, h_layers = 0;
  bool mlp_t = false, attention = false;
  const std::regex layer_re(R"(model\.inner\.(L|H)_level\.layers\.([0-9]+)\.(.*))");
  for (const auto& [k, s] : shapes) {
    std::smatch m;
    if (!std::regex_match(k, m, layer_re)) continue;
    const int i = std::stoi(m[2]) + 1;
    (m[1] == "L" ? l_layers : h_layers) = std::max(m[1] == "L" ? l_layers : h_layers, i);
    mlp_t = mlp_t || m[3].str().rfind("mlp_t.", 0) == 0;
    attention = attention || m[3].str().rfind("self_attn.", 0) == 0;
    if (m[3] == "mlp_t.gate_up_proj.weight" && s.size() == 2) r.cfg["__total_len"] = s[1];  // L = seq + prefix
  }
  r.set("L_layers", l_layers, from);
  r.set("arch", h_layers > 0 ? "hrm" : "trm", from + (h_layers > 0 ? " (H_level blocks)" : " (no H_level)"));
  if (h_layers > 0) r.set("H_layers", h_layers, from);
  else r.set("H_layers", 0, from);
  r.set("mlp_t", mlp_t && !attention, from + (mlp_t ? " (mlp_t blocks)" : " (self_attn blocks)"));
  if (auto it = shapes.find("model.inner.embed_pos.embedding_weight"); it != shapes.end() && it->second.size() == 2) {
    r.set("pos_encodings", "learned", from + " (embed_pos)");
    r.cfg["__total_len"] = it->second[0];
  } else if (mlp_t) {
    r.set("pos_encodings", "none", from + " (mlp_t, no embed_pos)");
  }
}

// The policy keys gtrm's configs add, as the official code fixes them.
inline void official_policies(resolution& r) {
  const std::string a = r.cfg.value("arch", std::string("trm"));
  const std::string from = "the official " + a + " code";
  r.set("context_gate", "none", from);
  r.set("attention_gate", "none", from);
  r.set("recurrence_gate", "none", from);
  if (a == "hrm") {
    r.set("halt_rule", "q_head_continue", from);
    r.set("grad_rule", "one_step", from);
    r.set("no_ACT_continue", false, from);
    r.set("puzzle_emb_len", 0, from + " (prefix ceil(ndim / hidden))");
  } else if (a == "trm") {
    if (!r.cfg.contains("no_ACT_continue")) r.set("no_ACT_continue", true, from + " (default)");
    r.set("halt_rule", r.cfg["no_ACT_continue"] == true ? "q_head" : "q_head_continue", from + " (no_ACT_continue)");
    r.set("grad_rule", "last_cycle", from);
    if (!r.cfg.contains("puzzle_emb_len")) r.set("puzzle_emb_len", 16, from + " (default)");
    if (!r.cfg.contains("mlp_t")) r.set("mlp_t", false, from + " (default)");
  }
  if (r.cfg.contains("mlp_t")) r.set("mixer", r.cfg["mlp_t"] == true ? "token_mlp" : "attention", "mlp_t");
  // the sequence length behind a total length (mlp_t weights or learned positions)
  if (r.cfg.contains("__total_len") && r.cfg.contains("puzzle_emb_len") && r.cfg.contains("hidden_size")) {
    std::int64_t p = r.cfg["puzzle_emb_len"].get<std::int64_t>();
    const std::int64_t d = r.cfg["hidden_size"].get<std::int64_t>(), e = r.cfg.value("puzzle_emb_ndim", std::int64_t{0});
    if (p == 0 && e > 0) p = (e + d - 1) / d;
    r.set("seq_len", r.cfg["__total_len"].get<std::int64_t>() - p, "tensor shapes (sequence + prefix)");
  }
  r.cfg.erase("__total_len");
}

inline void from_data(resolution& r, const fs::path& dir) {
  for (const char* split : {"test", "train"}) {
    const fs::path f = dir / split / "dataset.json";
    std::error_code ec;
    if (!fs::exists(f, ec)) continue;
    const auto j = read_json_file(f, "dataset metadata");
    const std::string from = "--data " + dir.string();
    if (j.contains("seq_len")) r.set("seq_len", j["seq_len"].get<std::int64_t>(), from);
    if (j.contains("vocab_size")) r.set("vocab_size", j["vocab_size"].get<std::int64_t>(), from);
    return;
  }
  throw cli_error("--data " + dir.string() + " is not a dataset (no test/dataset.json or train/dataset.json)");
}

inline bool same_value(const json& a, const json& b) {
  return a.is_number() && b.is_number() ? a.get<double>() == b.get<double>() : a == b;
}
// The keys where preset config c disagrees with what is known.
inline std::vector<std::string> conflicts(const json& c, const resolution& r) {
  std::vector<std::string> out;
  const bool mlp = c.value("mlp_t", false);
  for (const auto& [k, v] : r.cfg.items()) {
    if (k == "num_heads" && mlp) continue;
    if (!c.contains(k)) continue;
    if (!same_value(c[k], v)) out.push_back(k + ": preset " + c[k].dump() + ", checkpoint " + v.dump() + " (" + r.source.at(k) + ")");
  }
  return out;
}

inline std::string unknown_keys(const json& any_preset_cfg, const resolution& r) {
  std::string s;
  for (const auto& [k, v] : any_preset_cfg.items())
    if (!r.cfg.contains(k) && k.rfind("lma_", 0) != 0) s += (s.empty() ? "" : ", ") + k;
  return s;
}

// The C++ of the preset a checkpoint needs (registry.hpp's preset_suggestion, with HRM's type and halting).
inline std::string suggestion(const json& c) {
  std::string s = preset_suggestion(c);
  if (c.value("arch", std::string()) != "hrm") return s;
  const std::string mixer = "mixer::attention<pos::" + c.value("pos_encodings", std::string("rope")) + ">";
  const auto at = s.find("template <class Be>");
  return s.substr(0, at) + "template <class Be> using my_preset = hrm<my_dims, my_cycles, " +
         (c.contains("H_layers") ? c["H_layers"].dump() : std::string("?")) + ", " + mixer +
         ", halt::q_head_continue, Be, grad::one_step>;";
}

}  // namespace import_detail

struct imported_checkpoint {
  const preset_entry* preset = nullptr;
  fs::path source;
  ojson report;  // what import.json holds
};

// Reads a PyTorch checkpoint, resolves its preset and writes the gtrm checkpoint (model.safetensors) to `dst`,
// after loading it into the preset's model (every tensor checked). Throws cli_error with one sentence.
inline imported_checkpoint import_torch_checkpoint(const fs::path& path, const fs::path& dst, const std::string& preset_name,
                                                   const std::string& data_dir) {
  using namespace import_detail;
  imported_checkpoint out;
  out.source = find_torch_file(path);
  io::torch_state_dict sd;  // (non-const: the reference's non-persistent buffers are dropped below)
  try {
    sd = io::read_torch_checkpoint(out.source);
  } catch (const io::error& e) {
    throw cli_error(e.what());
  }
  resolution r;
  const fs::path yaml = out.source.parent_path() / "all_config.yaml";
  std::error_code ec;
  const bool has_yaml = fs::exists(yaml, ec);
  if (has_yaml) from_yaml(r, yaml);
  from_tensors(r, sd);
  if (!data_dir.empty()) from_data(r, data_dir);
  official_policies(r);

  std::vector<const preset_entry*> fits;
  std::string why_not;
  if (!preset_name.empty()) {
    const auto& p = find_preset(preset_name);
    const auto c = conflicts(json::parse(p.config_json), r);
    if (!c.empty()) {
      std::string s;
      for (const auto& x : c) s += (s.empty() ? "" : "; ") + x;
      throw cli_error("preset " + preset_name + " does not fit " + out.source.string() + ": " + s);
    }
    fits.push_back(&p);
  } else {
    for (const auto* p : compiled_presets())
      if (conflicts(json::parse(p->config_json), r).empty()) fits.push_back(p);
  }
  const json any = compiled_presets().empty() ? json::object() : json::parse(compiled_presets().front()->config_json);
  if (fits.empty()) {
    json want = r.cfg;
    throw cli_error("no compiled preset has the architecture of " + out.source.string() + " " + want.dump() +
                    (unknown_keys(any, r).empty() ? std::string() : " (not determined: " + unknown_keys(any, r) + ")") +
                    (has_yaml ? std::string() : "; no all_config.yaml beside it, so the cycles and heads are unknown") +
                    "; add a preset to include/gtrm/presets.hpp, e.g. `" + suggestion(want) +
                    "`, list it in tools/presets.cmake and rebuild (compiled: " + compiled_names() + ")");
  }
  if (fits.size() > 1) {
    std::string names;
    for (const auto* p : fits) names += (names.empty() ? "" : ", ") + p->name;
    throw cli_error("several compiled presets fit " + out.source.string() + " (" + names + ") because " +
                    (unknown_keys(any, r).empty() ? std::string("they differ only in what the file does not say")
                                                   : "the file does not determine " + unknown_keys(any, r)) +
                    ": name one with --preset, or give the dataset with --data");
  }
  const preset_entry& p = *fits.front();
  const json pc = json::parse(p.config_json);

  // buffers the reference registers as non-persistent (a state_dict normally lacks them; a hand-made one may have
  // them): recomputed by the model, so dropped and listed in import.json; any other extra tensor is an error
  std::vector<std::string> ignored;
  std::erase_if(sd.tensors, [&](const io::torch_tensor& t) {
    for (const char* np : {"rotary_emb.cos_cached", "rotary_emb.sin_cached", "puzzle_emb.local_weights", "puzzle_emb.local_ids"}) {
      const std::string_view n = t.name, suffix = np;
      if (n.size() >= suffix.size() && n.substr(n.size() - suffix.size()) == suffix) {
        ignored.push_back(t.name);
        return true;
      }
    }
    return false;
  });
  io::safetensors_writer w;
  io::add_to_safetensors(sd, w);
  w.metadata(io::meta_format, "trm-state-dict-1");
  w.metadata(io::meta_config, p.config_json);
  w.metadata(meta_preset, p.name);
  w.metadata(meta_task, p.task().name());
  w.metadata(meta_version, GTRM_VERSION);
  w.metadata("import.source", fs::absolute(out.source).string());
  w.metadata("import.archive", sd.archive);
  ojson src = ojson::object();
  for (const auto& [k, v] : pc.items())
    src[k] = r.source.count(k) ? r.source.at(k) : (preset_name.empty() ? "the only fitting preset " : "--preset ") + p.name;
  w.metadata("import.resolution", src.dump());
  try {
    w.save(dst);
    p.check_state(io::safetensors_reader(dst));
  } catch (const std::exception& e) {
    fs::remove(dst, ec);
    throw cli_error(std::string(e.what()));
  }
  std::set<io::dtype> dtypes;
  for (const auto& t : sd.tensors) dtypes.insert(t.type);
  std::string dts;
  for (auto d : dtypes) dts += (dts.empty() ? "" : ",") + std::string(io::dtype_name(d));
  out.preset = &p;
  out.report = {{"source", fs::absolute(out.source).string()}, {"all_config_yaml", has_yaml ? ojson(fs::absolute(yaml).string()) : ojson(nullptr)},
                {"archive", sd.archive}, {"tensors", sd.tensors.size()}, {"stored_dtypes", dts}, {"preset", p.name},
                {"puzzle_rows", r.puzzle_rows}, {"ignored_non_persistent", ignored}, {"config", ojson::parse(p.config_json)},
                {"resolution", src}};
  return out;
}

// Whether PATH is a PyTorch checkpoint (or a folder of the official code's with one and no model.safetensors).
inline bool is_torch_checkpoint(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "model.safetensors", ec)) return false;
    try {
      return io::looks_like_torch_file(import_detail::find_torch_file(path));
    } catch (const cli_error&) {
      return false;
    }
  }
  return fs::exists(path, ec) && io::looks_like_torch_file(path);
}

// A temporary file for a conversion, removed when this goes out of scope.
struct temp_checkpoint {
  fs::path path = fs::temp_directory_path() / ("gtrm-import-" + std::to_string(::getpid()) + ".safetensors");
  ~temp_checkpoint() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

// `gtrm eval/solve` on any checkpoint: a PyTorch file is imported in memory (as gtrm import would), anything else
// goes to open_checkpoint.
inline opened_checkpoint open_any_checkpoint(const fs::path& path) {
  if (!is_torch_checkpoint(path)) return open_checkpoint(path);
  temp_checkpoint tmp;
  const auto im = import_torch_checkpoint(path, tmp.path, "", "");
  return {io::safetensors_reader(tmp.path), im.preset};
}

inline int run_import(const import_request& rq) {
  if (rq.out.empty()) throw cli_error("gtrm import needs --out RUN_DIR");
  const fs::path out = rq.out;
  std::error_code ec;
  if (fs::exists(out / "model.safetensors", ec) && !rq.overwrite)
    throw cli_error(out.string() + " already holds a model.safetensors; add --overwrite to replace it");
  fs::create_directories(out, ec);
  if (ec) throw cli_error("cannot create " + out.string() + " (" + ec.message() + ")");
  const auto im = import_torch_checkpoint(rq.path, out / "model.safetensors", rq.preset, rq.data);
  write_file_atomic(out / "import.json", im.report.dump(2) + "\n");
  if (!rq.quiet) {
    std::printf("imported %s (%zu tensors, %s) as preset %s\n", im.source.string().c_str(),
                static_cast<std::size_t>(im.report["tensors"].get<std::size_t>()), im.report["stored_dtypes"].get<std::string>().c_str(),
                im.preset->name.c_str());
    std::printf("architecture  %s\n", im.preset->architecture.c_str());
    std::map<std::string, std::vector<std::string>> by_source;
    for (const auto& [k, v] : im.report["resolution"].items()) by_source[v.get<std::string>()].push_back(k);
    for (const auto& [s, keys] : by_source) {
      std::string ks;
      for (const auto& k : keys) ks += (ks.empty() ? "" : ", ") + k;
      std::printf("  from %s: %s\n", s.c_str(), ks.c_str());
    }
    std::printf("wrote %s and import.json (use: gtrm solve %s ..., gtrm eval %s --data DIR)\n",
                (out / "model.safetensors").string().c_str(), out.string().c_str(), out.string().c_str());
  }
  return 0;
}

}  // namespace gtrm::cli
