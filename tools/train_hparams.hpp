// `gtrm train`'s hyper-parameters: their table (names, kinds, ranges, --help words), the reference's defaults and
// each preset's recommendations, their resolution (defaults < preset < --config < flags; --resume: the run's
// config.json) and their conversion to the trainer's train_config. Every value is checked against its documented
// range before any work, with the flag and the config key named.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtrm/train/trainer.hpp>

#include "common.hpp"
#include "registry.hpp"

namespace gtrm::cli {

// ---- hyper-parameters ----

struct hparam_def {
  const char* key;    // config.json key
  const char* flag;   // command-line flag
  char kind;          // 'i' integer, 'f' number, 'b' boolean, 's' text
  const char* help;
};

inline const std::vector<hparam_def>& hparam_defs() {
  static const std::vector<hparam_def> defs = {
      {"steps", "--steps", 'i', "Optimizer steps in total (one ACT step and one update per batch); 0 to 10^12"},
      {"epochs", "--epochs", 'i', "Instead of --steps: passes over the training groups, steps = epochs x groups x mean examples / batch; 0 to 10^9"},
      {"batch", "--batch", 'i', "Global batch size (rows per step); 1 to 65536"},
      {"lr", "--lr", 'f', "Peak learning rate; in (0, 10]"},
      {"lr_min_ratio", "--lr-min-ratio", 'f', "Final learning rate of the cosine schedule, as a fraction of --lr (1: constant); in [0, 1]"},
      {"lr_warmup_steps", "--warmup", 'i', "Linear warm-up steps; 0 to 10^12"},
      {"beta1", "--beta1", 'f', "Adam beta1; in [0, 1)"},
      {"beta2", "--beta2", 'f', "Adam beta2; in [0, 1)"},
      {"weight_decay", "--weight-decay", 'f', "Weight decay; in [0, 1000]"},
      {"optimizer", "--optimizer", 's', "adam_atan2 (the reference's) or adamw"},
      {"puzzle_emb_lr", "--puzzle-emb-lr", 'f', "Learning rate of the puzzle embeddings (sign-SGD); in [0, 10]"},
      {"puzzle_emb_weight_decay", "--puzzle-emb-weight-decay", 'f', "Weight decay of the puzzle embeddings; in [0, 1000]"},
      {"halt_exploration_prob", "--exploration", 'f', "Probability that a row must run a random minimum number of ACT steps; in [0, 1]"},
      {"ema", "--ema", 'b', "Evaluate and save an exponential moving average of the weights (true/false)"},
      {"ema_rate", "--ema-rate", 'f', "EMA rate; in (0, 1)"},
      {"loss", "--loss", 's', "stablemax (the reference's) or softmax cross-entropy"},
      {"seed", "--seed", 'i', "Seed of the initial weights, the data order and the halting exploration; 0 to 2^63-1"},
      {"eval_every", "--eval-every", 'i', "Evaluate and checkpoint every N steps (0: at the end only); 0 to 10^12"},
      {"log_every", "--log-every", 'i', "Progress report (metrics.jsonl, log line) every N steps (0: none); 0 to 10^12"},
      {"eval_batch", "--eval-batch", 'i', "Batch size of evaluation (0: the training batch); 0 to 65536"},
      {"eval_examples", "--eval-examples", 'i', "Evaluate on at most N test examples during training (0: all); 0 to 10^12"},
      {"keep_checkpoints", "--keep-checkpoints", 'b', "Keep checkpoints/step_N.safetensors of every evaluation (true/false)"},
  };
  return defs;
}

// The reference's defaults (docs/reference.md §4), with EMA on as its README runs.
inline ojson default_hparams() {
  return ojson{{"steps", 0}, {"epochs", 0}, {"batch", 768}, {"lr", 1e-4}, {"lr_min_ratio", 1.0}, {"lr_warmup_steps", 2000},
               {"beta1", 0.9}, {"beta2", 0.95}, {"weight_decay", 0.1}, {"optimizer", "adam_atan2"},
               {"puzzle_emb_lr", 1e-2}, {"puzzle_emb_weight_decay", 0.1}, {"halt_exploration_prob", 0.1}, {"ema", true},
               {"ema_rate", 0.999}, {"loss", "stablemax"}, {"seed", 0}, {"eval_every", 0}, {"log_every", 100},
               {"eval_batch", 0}, {"eval_examples", 0}, {"keep_checkpoints", true}};
}

// What each preset recommends on top of the defaults: the paper's runs (the README's command lines) and the sizes
// tuned for a CPU.
inline ojson preset_hparams(const std::string& preset) {
  if (preset == "sudoku-mlp" || preset == "sudoku-att" || preset == "maze-att")
    return {{"epochs", 50000}, {"lr", 1e-4}, {"puzzle_emb_lr", 1e-4}, {"weight_decay", 1.0}, {"puzzle_emb_weight_decay", 1.0}};
  if (preset == "arc-att") return {{"epochs", 100000}, {"lr", 1e-4}, {"puzzle_emb_lr", 1e-2}};
  if (preset == "sudoku6-demo")  // tuned: 6x6 Sudoku with 11 givens, >= 95% held-out exact in ~1000 steps
    return {{"steps", 1200}, {"batch", 64}, {"lr", 2e-3}, {"lr_min_ratio", 0.1}, {"lr_warmup_steps", 100}, {"weight_decay", 0.1},
            {"ema_rate", 0.99}, {"loss", "softmax"}, {"log_every", 50}, {"eval_batch", 256}};
  // starting points for the CPU sizes, not tuned per task: the demo's recipe, longer, with a slower EMA
  if (preset == "sudoku-small" || preset == "maze-small" || preset == "arc-small")
    return {{"steps", 20000}, {"batch", 64}, {"lr", 2e-3}, {"lr_min_ratio", 0.1}, {"lr_warmup_steps", 200}, {"weight_decay", 0.1},
            {"ema_rate", 0.999}, {"loss", "softmax"}, {"log_every", 100}, {"eval_every", 2000}, {"eval_batch", 256}};
  if (preset == "sudoku-medium" || preset == "maze-medium" || preset == "arc-medium")
    return {{"steps", 100000}, {"batch", 128}, {"lr", 5e-4}, {"lr_min_ratio", 0.1}, {"lr_warmup_steps", 1000},
            {"weight_decay", 0.1}, {"log_every", 100}, {"eval_every", 5000}};
  if (preset == "sudoku4-test")
    return {{"steps", 300}, {"batch", 32}, {"lr", 3e-3}, {"lr_warmup_steps", 20}, {"weight_decay", 0.01}, {"ema_rate", 0.95},
            {"loss", "softmax"}, {"log_every", 50}, {"eval_batch", 128}};
  if (preset == "arc-test")
    return {{"steps", 20}, {"batch", 4}, {"lr", 1e-3}, {"lr_warmup_steps", 2}, {"ema_rate", 0.9}, {"loss", "softmax"},
            {"log_every", 5}, {"eval_batch", 16}};
  return ojson::object();
}

inline const hparam_def* find_hparam(const std::string& key) {
  for (const auto& d : hparam_defs())
    if (key == d.key) return &d;
  return nullptr;
}

// Converts a flag's text or checks a config value against the parameter's kind.
// Finite, by the exponent bits (immune to -ffast-math, which may fold std::isfinite to true).
inline bool finite_bits(double x) { return ((std::bit_cast<std::uint64_t>(x) >> 52) & 0x7ff) != 0x7ff; }

// `name` says where the value came from in messages: "--lr" or "config file F: lr".
inline ojson hparam_value(const hparam_def& d, const ojson& v, const std::string& name) {
  const auto bad = [&](const char* what) { return cli_error(name + " must be " + what + ", got " + v.dump()); };
  if (v.is_string() && d.kind != 's') {
    const std::string s = v.get<std::string>();
    try {
      std::size_t used = 0;
      if (d.kind == 'i') {
        const long long x = std::stoll(s, &used);
        if (used != s.size()) throw bad("an integer");
        return hparam_value(d, ojson(x), name);
      }
      if (d.kind == 'f') {
        const double x = std::stod(s, &used);
        if (used != s.size()) throw bad("a number");
        return hparam_value(d, ojson(x), name);
      }
    } catch (const cli_error&) {
      throw;
    } catch (const std::exception&) {
      throw bad(d.kind == 'i' ? "an integer" : "a number");
    }
    if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "0" || s == "no" || s == "off") return false;
    throw bad("true or false");
  }
  switch (d.kind) {
    case 'i':
      if (!v.is_number_integer()) throw bad("an integer");
      if (v.get<long long>() < 0) throw bad("zero or more");
      return v;
    case 'f':
      if (!v.is_number() || !finite_bits(v.get<double>())) throw bad("a number");
      return ojson(v.get<double>());
    case 'b':
      if (!v.is_boolean()) throw bad("true or false");
      return v;
    default:
      if (!v.is_string()) throw bad("a string");
      return v;
  }
}

struct train_request {
  std::string preset;
  fs::path data, out;
  bool resume = false;        // out is an existing run to continue
  ojson hparams;              // resolved, every key of default_hparams()
  bool overwrite = false, quiet = false;
  std::int64_t stop_after = 0;
  ojson resolved() const {
    ojson j{{"preset", preset}, {"data", data.string()}};
    for (const auto& [k, v] : hparams.items()) j[k] = v;
    return j;
  }
};

// What the command line gave: flag values by config key, the preset, paths.
struct train_args {
  std::string preset, data, out, resume, config;
  std::map<std::string, std::string> flags;   // key -> text, only flags that were given
  bool overwrite = false, quiet = false;
  std::int64_t stop_after = 0;
};

// Every hyper-parameter's range (the same words as its --help): a value outside it is refused before any work, with
// the flag and the config key named, e.g. "--beta1 (beta1): expected a number in [0, 1), got 5".
inline void check_hparams(const ojson& h) {
  const auto where = [](const char* k) { return std::string(find_hparam(k)->flag) + " (" + k + ")"; };
  const auto real_in = [&](const char* k, double lo, double hi, bool lo_open, bool hi_open) {
    const double v = h[k].get<double>();
    if ((lo_open ? !(v > lo) : !(v >= lo)) || (hi_open ? !(v < hi) : !(v <= hi))) {
      char b[160];
      std::snprintf(b, sizeof b, ": expected a number in %s%g, %g%s, got %.17g", lo_open ? "(" : "[", lo, hi,
                    hi_open ? ")" : "]", v);
      throw cli_error(where(k) + b);
    }
  };
  const auto whole_in = [&](const char* k, long long lo, long long hi, const char* words) {
    const long long v = h[k].get<long long>();
    if (v < lo || v > hi) throw cli_error(where(k) + ": expected a whole number from " + words + ", got " + std::to_string(v));
  };
  whole_in("steps", 0, 1'000'000'000'000LL, "0 to 10^12");
  whole_in("epochs", 0, 1'000'000'000LL, "0 to 10^9");
  whole_in("batch", 1, 65536, "1 to 65536");
  real_in("lr", 0, 10, true, false);
  real_in("lr_min_ratio", 0, 1, false, false);
  whole_in("lr_warmup_steps", 0, 1'000'000'000'000LL, "0 to 10^12");
  real_in("beta1", 0, 1, false, true);
  real_in("beta2", 0, 1, false, true);
  real_in("weight_decay", 0, 1000, false, false);
  real_in("puzzle_emb_lr", 0, 10, false, false);
  real_in("puzzle_emb_weight_decay", 0, 1000, false, false);
  real_in("halt_exploration_prob", 0, 1, false, false);
  real_in("ema_rate", 0, 1, true, true);
  whole_in("eval_every", 0, 1'000'000'000'000LL, "0 to 10^12");
  whole_in("log_every", 0, 1'000'000'000'000LL, "0 to 10^12");
  whole_in("eval_batch", 0, 65536, "0 to 65536");
  whole_in("eval_examples", 0, 1'000'000'000'000LL, "0 to 10^12");
  // seed: hparam_value already refuses a negative integer; a JSON integer above 2^63-1 arrives unsigned
  if (!h["seed"].is_number_integer() || (h["seed"].is_number_unsigned() && h["seed"].get<std::uint64_t>() > 9'223'372'036'854'775'807ULL))
    throw cli_error(where("seed") + ": expected a whole number from 0 to 2^63-1, got " + h["seed"].dump());
  if (h["steps"].get<long long>() == 0 && h["epochs"].get<long long>() == 0)
    throw cli_error("give the training length: --steps N or --epochs N");
  const auto opt = h["optimizer"].get<std::string>();
  if (opt != "adam_atan2" && opt != "adamw") throw cli_error("--optimizer: expected adam_atan2 or adamw, got " + opt);
  const auto loss = h["loss"].get<std::string>();
  if (loss != "stablemax" && loss != "softmax") throw cli_error("--loss: expected stablemax or softmax, got " + loss);
}

// A text field of a JSON configuration ("" when absent); another type is refused with the file and key named.
inline std::string config_text(const ojson& cfg, const char* key, const std::string& file) {
  if (!cfg.contains(key)) return {};
  if (!cfg[key].is_string()) throw cli_error(file + ": " + key + ": expected a string, got " + cfg[key].dump());
  return cfg[key].get<std::string>();
}

// defaults < preset < --config < flags; --resume: the run's config.json, no other settings.
inline train_request resolve_train(const train_args& a) {
  train_request rq;
  rq.overwrite = a.overwrite;
  rq.quiet = a.quiet;
  rq.stop_after = a.stop_after;
  if (!a.resume.empty()) {
    if (!a.preset.empty() || !a.data.empty() || !a.out.empty() || !a.config.empty() || !a.flags.empty() || a.overwrite)
      throw cli_error("--resume RUNDIR continues a run with its own config.json; it takes no preset, data, --out, --config "
                      "or hyper-parameter flags (only --stop-after, --quiet, --threads)");
    rq.out = a.resume;
    rq.resume = true;
    const ojson cfg = read_json_file(rq.out / "config.json", "run configuration");
    const std::string cfg_name = "run configuration " + (rq.out / "config.json").string();
    if (!cfg.is_object()) throw cli_error(cfg_name + " must hold a JSON object");
    rq.preset = config_text(cfg, "preset", cfg_name);
    rq.data = config_text(cfg, "data", cfg_name);
    find_preset(rq.preset);
    rq.hparams = default_hparams();
    for (const auto& [k, v] : cfg.items())
      if (const auto* d = find_hparam(k)) rq.hparams[k] = hparam_value(*d, v, (rq.out / "config.json").string() + ": " + k);
    check_hparams(rq.hparams);
    return rq;
  }
  ojson file_cfg = ojson::object();
  if (!a.config.empty()) {
    file_cfg = read_json_file(a.config, "config file");
    if (!file_cfg.is_object()) throw cli_error("config file " + a.config + " must hold a JSON object");
  }
  rq.preset = !a.preset.empty() ? a.preset : config_text(file_cfg, "preset", "config file " + a.config);
  rq.data = !a.data.empty() ? a.data : config_text(file_cfg, "data", "config file " + a.config);
  if (rq.preset.empty()) throw cli_error("give a preset: --preset NAME (gtrm presets lists them)");
  find_preset(rq.preset);  // an unknown or left-out preset is the first thing to say
  if (rq.data.empty()) throw cli_error("give the training data: --data DIR");
  if (a.out.empty()) throw cli_error("give the run directory: --out RUNDIR (or continue one with --resume RUNDIR)");
  rq.out = a.out;
  rq.hparams = default_hparams();
  const ojson recommended = preset_hparams(rq.preset);  // a named object: items() refers into it
  for (const auto& [k, v] : recommended.items()) rq.hparams[k] = v;
  for (const auto& [k, v] : file_cfg.items()) {
    if (k == "preset" || k == "data" || k == "model" || k == "gtrm_version" || k == "created") continue;
    const auto* d = find_hparam(k);
    if (!d) throw cli_error("config file " + a.config + ": unknown key '" + k + "'");
    rq.hparams[k] = hparam_value(*d, v, "config file " + a.config + ": " + k);
  }
  // --steps and --epochs replace each other wherever they came from
  for (const auto& [k, text] : a.flags) {
    const auto* d = find_hparam(k);
    if (!d) throw cli_error("unknown hyper-parameter " + k);
    rq.hparams[k] = hparam_value(*d, ojson(text), d->flag);
    if (k == "steps") rq.hparams["epochs"] = 0;
    if (k == "epochs") rq.hparams["steps"] = 0;
  }
  check_hparams(rq.hparams);
  return rq;
}

inline train::train_config to_train_config(const ojson& h, std::int64_t total_steps) {
  train::train_config c;
  c.global_batch_size = h["batch"].get<index_t>();
  c.total_steps = total_steps;
  c.lr = h["lr"].get<double>();
  c.lr_min_ratio = h["lr_min_ratio"].get<double>();
  c.lr_warmup_steps = h["lr_warmup_steps"].get<std::int64_t>();
  c.beta1 = h["beta1"].get<double>();
  c.beta2 = h["beta2"].get<double>();
  c.weight_decay = h["weight_decay"].get<double>();
  c.optimizer = h["optimizer"].get<std::string>() == "adamw" ? train::optimizer_kind::adamw : train::optimizer_kind::adam_atan2;
  c.puzzle_emb_lr = h["puzzle_emb_lr"].get<double>();
  c.puzzle_emb_weight_decay = h["puzzle_emb_weight_decay"].get<double>();
  c.halt_exploration_prob = h["halt_exploration_prob"].get<double>();
  c.ema = h["ema"].get<bool>();
  c.ema_rate = h["ema_rate"].get<double>();
  c.loss = h["loss"].get<std::string>() == "softmax" ? lm_loss_kind::softmax : lm_loss_kind::stablemax;
  c.seed = h["seed"].get<std::uint64_t>();
  return c;
}

}  // namespace gtrm::cli
