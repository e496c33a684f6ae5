// `gtrm export RUN_DIR --format torch --out step_N`: a gtrm checkpoint as a PyTorch file that torch.load(...,
// weights_only=True) reads and the official model's load_state_dict accepts (the names are already the reference's:
// ACTLossHead(model).state_dict(), "model.inner.*"; `--orig-mod` adds the `_orig_mod.` prefix a compiled model's
// state_dict has, as the official pretrain.py saves it), plus the all_config.yaml the official evaluate/pretrain
// scripts read beside it, with the values gtrm knows (the arch block; the training hyper-parameters of a gtrm run).
// Only architectures the official code has are exported: TRM, HRM and the transformer baseline without gates or LMA.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <string>
#include <vector>

#include <gtrm/io/safetensors.hpp>
#include <gtrm/io/state_dict.hpp>
#include <gtrm/io/torch_checkpoint.hpp>

#include "common.hpp"

namespace gtrm::cli {

struct export_request {
  std::string run, out, format = "torch";
  bool orig_mod = false;
  bool no_config = false;
};

namespace export_detail {

// The `arch` block of the official config for a gtrm model config.
inline YAML::Node arch_yaml(const json& c, const json& run) {
  YAML::Node a;
  const std::string arch = c.value("arch", std::string("trm"));
  a["name"] = arch == "hrm"           ? "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1"
              : arch == "transformer" ? "recursive_reasoning.transformers_baseline@Model_ACTV2"
                                      : "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1";
  a["loss"]["name"] = "losses@ACTLossHead";
  a["loss"]["loss_type"] = run.value("loss", std::string("stablemax")) == "softmax" ? "softmax_cross_entropy" : "stablemax_cross_entropy";
  a["halt_exploration_prob"] = run.contains("halt_exploration_prob") ? run["halt_exploration_prob"].get<double>() : 0.1;
  for (const char* k : {"halt_max_steps", "H_cycles", "L_cycles", "H_layers", "L_layers", "hidden_size", "num_heads"})
    a[k] = c.at(k).get<long long>();
  a["expansion"] = c.at("expansion").get<double>();
  a["puzzle_emb_ndim"] = c.at("puzzle_emb_ndim").get<long long>();
  a["pos_encodings"] = c.at("pos_encodings").get<std::string>();
  a["forward_dtype"] = "float32";  // gtrm trains in float32 (precision::fp32); the official default is bfloat16
  if (arch == "trm") {
    a["mlp_t"] = c.at("mlp_t").get<bool>();
    a["puzzle_emb_len"] = c.at("puzzle_emb_len").get<long long>();
    a["no_ACT_continue"] = c.at("no_ACT_continue").get<bool>();
  }
  return a;
}

inline std::string all_config_yaml(const json& c, const json& run, const std::map<std::string, std::string>& meta) {
  YAML::Node root;
  root["arch"] = arch_yaml(c, run);
  // pretrain.py's PretrainConfig, where a gtrm run knows the value (its train.run_config metadata)
  const std::pair<const char*, const char*> same[] = {{"lr", "lr"}, {"lr_min_ratio", "lr_min_ratio"}, {"lr_warmup_steps", "lr_warmup_steps"},
                                                      {"beta1", "beta1"}, {"beta2", "beta2"}, {"weight_decay", "weight_decay"},
                                                      {"puzzle_emb_lr", "puzzle_emb_lr"}, {"puzzle_emb_weight_decay", "puzzle_emb_weight_decay"},
                                                      {"batch", "global_batch_size"}, {"seed", "seed"}, {"ema", "ema"}, {"ema_rate", "ema_rate"}};
  for (const auto& [g, o] : same) {
    if (!run.contains(g)) continue;
    const auto& v = run[g];
    if (v.is_boolean()) root[o] = v.get<bool>();
    else if (v.is_number_integer()) root[o] = v.get<long long>();
    else if (v.is_number()) root[o] = v.get<double>();
  }
  if (auto it = meta.find("data.path"); it != meta.end()) root["data_paths"].push_back(it->second);
  YAML::Emitter e;
  e << root;
  return std::string("# written by gtrm export (gtrm ") + GTRM_VERSION + "): the config the official code saves beside a checkpoint\n" +
         e.c_str() + "\n";
}

}  // namespace export_detail

inline int run_export(const export_request& rq) {
  if (rq.format != "torch") throw cli_error("--format must be torch (the PyTorch checkpoint of the official code)");
  if (rq.out.empty()) throw cli_error("gtrm export needs --out FILE (e.g. --out checkpoints/step_1000)");
  fs::path path = rq.run;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw cli_error(path.string() + " does not exist");
  if (fs::is_directory(path, ec)) path /= "model.safetensors";
  const io::safetensors_reader f(path);
  const auto cfg_text = f.meta(io::meta_config);
  if (!cfg_text || f.meta(io::meta_format).value_or("") != "trm-state-dict-1")
    throw cli_error(path.string() + " is not a gtrm model checkpoint (no gtrm_format/config metadata)");
  const json c = io::with_config_defaults(json::parse(*cfg_text));
  for (const char* k : {"context_gate", "attention_gate", "recurrence_gate"})
    if (c.value(k, std::string("none")) != "none")
      throw cli_error(path.string() + " has a " + k + " (" + c[k].get<std::string>() +
                      "): the official PyTorch code has no gated model, so no official module would load it");
  if (c.value("mixer", std::string()) == "latent_meta")
    throw cli_error(path.string() + " uses the LMA mixer, which the official PyTorch code does not have");
  json run = json::object();
  if (auto rc = f.meta("train.run_config")) {
    try {
      run = json::parse(*rc);
    } catch (const std::exception&) {
    }
  }
  const std::string prefix = rq.orig_mod ? "_orig_mod." : "";
  std::vector<io::torch_tensor> tensors;
  for (const auto& name : f.names()) {
    if (name.find('/') != std::string::npos) continue;
    const auto& info = f.info(name);
    const auto raw = f.raw(name);
    tensors.push_back({prefix + io::detail::strip_prefix(name), info.type, info.shape, std::vector<std::byte>(raw.begin(), raw.end())});
  }
  const fs::path out = rq.out;
  if (!out.parent_path().empty()) fs::create_directories(out.parent_path(), ec);
  try {
    io::write_torch_checkpoint(out, tensors);
  } catch (const io::error& e) {
    throw cli_error(e.what());
  }
  std::printf("wrote %s: %zu tensors%s, readable by torch.load(..., weights_only=True)\n", out.string().c_str(), tensors.size(),
              rq.orig_mod ? " (keys prefixed _orig_mod.)" : "");
  if (!rq.no_config) {
    const fs::path yaml = (out.parent_path().empty() ? fs::path(".") : out.parent_path()) / "all_config.yaml";
    write_file_atomic(yaml, export_detail::all_config_yaml(c, run, f.metadata()));
    std::printf("wrote %s (arch %s; seq_len, vocab_size and the puzzle count come from the dataset, as in the official code)\n",
                yaml.string().c_str(), c.value("arch", std::string("trm")).c_str());
  }
  return 0;
}

}  // namespace gtrm::cli
