// `gtrm info CKPT`: what a checkpoint holds (architecture, parameter count, the preset it needs and whether this
// gtrm has it compiled in) and where it came from (training steps, data, evaluation, version), from its metadata
// alone; a run directory reads its model.safetensors.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

#include <gtrm/cpu.hpp>
#include <gtrm/io/safetensors.hpp>
#include <gtrm/io/state_dict.hpp>

#include "common.hpp"
#include "device.hpp"
#include "dist.hpp"
#include "registry.hpp"

namespace gtrm::cli {

inline std::string thousands(std::int64_t v) {
  std::string s = std::to_string(v), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

// shown_as: what to call the checkpoint in the output (a PyTorch file's name, where PATH is its in-memory import)
inline int run_info(const std::string& path_text, bool as_json, const std::string& shown_as = "") {
  fs::path path = path_text;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw cli_error("checkpoint " + path.string() + " does not exist");
  if (fs::is_directory(path, ec)) {
    if (!fs::exists(path / "model.safetensors", ec)) throw cli_error(path.string() + " is a directory without model.safetensors");
    path /= "model.safetensors";
  }
  const io::safetensors_reader f(path);
  const auto& meta = f.metadata();
  const auto get = [&](const char* k) {
    auto it = meta.find(k);
    return it == meta.end() ? std::string() : it->second;
  };
  std::int64_t params = 0, table_rows = 0, table_width = 0;
  for (const auto& name : f.names()) {
    if (name.find('/') != std::string::npos) continue;
    const auto& t = f.info(name);
    const std::string n = io::detail::strip_prefix(name);
    if (n == "model.inner.puzzle_emb.weights") {
      table_rows = t.shape.empty() ? 0 : t.shape[0];
      table_width = t.shape.size() > 1 ? t.shape[1] : 0;
    } else if (n != "model.inner.H_init" && n != "model.inner.L_init") {
      params += t.numel();
    }
  }
  ojson cfg = nullptr;
  if (!get("config").empty()) {
    try {
      cfg = ojson::parse(get("config"));
    } catch (const std::exception&) {
      cfg = nullptr;
    }
  }
  std::string preset = get(meta_preset);
  bool compiled = false;
  const preset_entry* entry = nullptr;
  for (const auto* p : compiled_presets())
    if ((!preset.empty() && p->name == preset) || (preset.empty() && cfg.is_object() && config_equal(json::parse(p->config_json), cfg))) {
      entry = p;
      compiled = true;
      if (preset.empty()) preset = p->name;
      break;
    }
  const std::string shown = shown_as.empty() ? path.string() : shown_as;
  ojson out{{"checkpoint", shown}, {"bytes", static_cast<std::int64_t>(fs::file_size(path, ec))},
            {"format", get("gtrm_format")}, {"preset", preset.empty() ? ojson(nullptr) : ojson(preset)},
            {"compiled_in", compiled}, {"task", get(meta_task).empty() ? (entry ? ojson(entry->task().name()) : ojson(nullptr)) : ojson(get(meta_task))},
            {"config", cfg}, {"parameters", params}, {"puzzle_embeddings", {{"rows", table_rows}, {"width", table_width}}}};
  ojson prov = ojson::object();
  for (const auto& [k, v] : meta)
    if (k != "config" && k != "gtrm_format" && k != "train.run_config") prov[k] = v;
  out["metadata"] = prov;
  // what this gtrm computes products with, in each --dtype (the ISA oneDNN dispatches to for bf16)
  out["products"] = {{"fp32", cpu::gemm_library()}, {"bf16", cpu_bf16::gemm_library()}, {"bf16_presets", bf16_preset_names()}};
  if (!get("train.run_config").empty()) {
    try {
      out["run_config"] = ojson::parse(get("train.run_config"));
    } catch (const std::exception&) {
    }
  }
  if (as_json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  const auto row = [](const char* k, const std::string& v) { std::printf("%-14s %s\n", k, v.c_str()); };
  row("checkpoint", shown + " (" + thousands(out["bytes"].get<std::int64_t>() / 1024) + " KiB)");
  if (preset.empty()) row("preset", "unknown: no compiled preset has this architecture");
  else row("preset", preset + (compiled ? " (compiled in" + (entry ? ": " + entry->description : std::string()) + ")" : " (NOT compiled into this gtrm)"));
  if (!out["task"].is_null()) row("task", out["task"].get<std::string>());
  if (entry) row("architecture", entry->architecture);
  if (cfg.is_object()) row("config", cfg.dump());
  row("parameters", thousands(params) + " trainable; puzzle embeddings " + thousands(table_rows) + " x " + std::to_string(table_width));
  if (!get("train.step").empty()) {
    std::string s = get("train.step") + (get("train.total_steps").empty() ? "" : " of " + get("train.total_steps")) + " steps";
    if (!get("gtrm.created").empty()) s += ", saved " + get("gtrm.created");
    row("trained", s);
  }
  if (!get("data.path").empty())
    row("data", get("data.path") + (get("data.train_examples").empty() ? "" : " (" + get("data.train_examples") + " training examples)"));
  if (!get("eval.exact_accuracy").empty())
    row("evaluation", "step " + get("eval.step") + ": exact accuracy " + percent_text(std::stod(get("eval.exact_accuracy"))) +
                          ", token accuracy " + percent_text(std::stod(get("eval.accuracy"))) + " on " + get("eval.examples") +
                          " held-out examples");
  if (out.contains("run_config")) {
    const auto& rc = out["run_config"];
    std::string s;
    for (const char* k : {"batch", "lr", "lr_warmup_steps", "weight_decay", "ema_rate", "loss", "seed"})
      if (rc.contains(k)) s += std::string(s.empty() ? "" : ", ") + k + " " + rc[k].dump();
    row("hyperparams", s);
  }
  if (!get(meta_version).empty()) row("gtrm", get(meta_version));
  row("products", "fp32: " + cpu::gemm_library() + "; bf16: " + cpu_bf16::gemm_library() + " (--dtype bf16 presets: " +
                      bf16_preset_names() + ")");
  return 0;
}

// `gtrm info` without a checkpoint: this build's backends and communicators.
inline int run_build_info(bool as_json) {
#ifdef GTRM_CLI_CUDA
  const bool cuda = true;
#else
  const bool cuda = false;
#endif
#ifdef GTRM_HAS_MPI
  const bool mpi = true;
#else
  const bool mpi = false;
#endif
#ifdef GTRM_HAS_NCCL
  const bool nccl = true;
#else
  const bool nccl = false;
#endif
  if (as_json) {
    std::printf("%s\n", ojson{{"version", GTRM_VERSION}, {"cpu", true}, {"cuda", cuda}, {"mpi", mpi}, {"nccl", nccl},
                              {"presets", static_cast<std::int64_t>(compiled_presets().size())}}
                             .dump(2)
                             .c_str());
    return 0;
  }
  std::printf("%-14s %s\n", "gtrm", GTRM_VERSION);
  std::printf("%-14s cpu%s\n", "backends", cuda ? ", cuda (--device cuda)" : "");
  std::printf("%-14s %s\n", "distributed", comm_availability().c_str());
  std::printf("%-14s %zu compiled in (gtrm presets lists them)\n", "presets", compiled_presets().size());
  return 0;
}

}  // namespace gtrm::cli
