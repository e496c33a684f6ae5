// `gtrm verify-reference FILE`: run a golden file of the reference implementation through the compiled model
// whose configuration matches the file's `config` metadata, print every stored quantity's error, and exit
// non-zero above tolerance. The configurations compiled in are the golden files' (presets.hpp); a file with
// another configuration gets an error that names the preset to add.
#pragma once
#include <gtrm/cpu.hpp>
#include <gtrm/io/reference_check.hpp>
#include <gtrm/presets.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

namespace gtrm::tools {

template <class Model>
bool config_matches(const nlohmann::json& cfg) {
  const auto ours = nlohmann::json::parse(io::model_config_json<Model>());
  for (const auto& [k, v] : ours.items()) {
    if (k == "num_heads" && !Model::attention) continue;  // mlp_t ignores heads
    if (k == "no_ACT_continue" && !cfg.contains(k)) continue;
    if (!cfg.contains(k)) return false;
    const bool same = v.is_number() ? cfg[k].is_number() && cfg[k].template get<double>() == v.template get<double>() : cfg[k] == v;
    if (!same) return false;
  }
  return true;
}

template <class Model>
int verify_with(const io::safetensors_reader& f, const char* preset, const io::reference_tolerances& tol) {
  std::printf("%s: configuration matches preset %s\n", f.path().string().c_str(), preset);
  const auto rep = io::check_reference<Model>(f, tol);
  std::printf("%-62s %12s %12s %10s\n", "quantity", "max_abs", "rel", "tolerance");
  int failed = 0;
  for (const auto& r : rep.rows) {
    std::printf("%-62s %12.3e %12.3e %10s %s\n", r.name.c_str(), r.max_abs, r.norm_rel,
                r.exact ? "exact" : std::to_string(r.tolerance).substr(0, 7).c_str(), r.pass ? "ok" : "FAIL");
    failed += !r.pass;
  }
  if (failed) {
    std::printf("%d of %zu quantities outside tolerance\n", failed, rep.rows.size());
    return 1;
  }
  std::printf("%zu quantities, all within tolerance\n", rep.rows.size());
  return 0;
}

inline int verify_reference(const std::string& file, double tensor_tol, double grad_tol) {
  io::safetensors_reader f(file);
  const auto cfg_text = f.meta("config");
  if (!cfg_text) throw io::error(file + " has no `config` metadata: it is not a golden file of the reference");
  const auto cfg = nlohmann::json::parse(*cfg_text);
  io::reference_tolerances tol{.tensor = tensor_tol, .loss = 1e-5, .gradient = grad_tol};
  // The mlp_t file's own fp32 floor is 1.56e-5 (see tests/test_golden_parity.cpp): default 5e-5 there.
  io::reference_tolerances mlpt_tol = tol;
  if (tensor_tol == 1e-5) mlpt_tol.tensor = 5e-5;
  if (config_matches<presets::golden_rope<cpu>>(cfg)) return verify_with<presets::golden_rope<cpu>>(f, "golden_rope", tol);
  if (config_matches<presets::golden_mlpt<cpu>>(cfg)) return verify_with<presets::golden_mlpt<cpu>>(f, "golden_mlpt", mlpt_tol);
  if (config_matches<presets::golden_learned<cpu>>(cfg)) return verify_with<presets::golden_learned<cpu>>(f, "golden_learned", tol);
  if (config_matches<presets::golden_no_puzzle<cpu>>(cfg)) return verify_with<presets::golden_no_puzzle<cpu>>(f, "golden_no_puzzle", tol);
  throw io::error(file + ": no compiled configuration matches its config " + cfg.dump() +
                  ". Compiled: golden_rope, golden_mlpt, golden_learned, golden_no_puzzle. Add a preset with these "
                  "numbers to include/gtrm/presets.hpp and a line for it in tools/verify_reference.hpp");
}

}  // namespace gtrm::tools
