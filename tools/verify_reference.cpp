// `gtrm verify-reference`: describes a golden file in gtrm's config vocabulary, finds the compiled golden preset
// with the same architecture and policies, runs the comparison and prints it. The models themselves are compiled
// in the tools/verify_golden_*.cpp translation units.
#include "verify_reference.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace gtrm::tools {

namespace {

using json = nlohmann::json;

// The golden file's model in the keys of io::model_config_json. The reference config classes name the sizes as
// gtrm does; the rest comes from what each reference model implies:
//   HRM (model_class …hrm_act_v1…): H_layers from its config, halting q_halt > q_continue with the Q-continue
//     target, one-step gradient, no mlp_t / puzzle_emb_len keys (attention; prefix ceil(ndim / hidden));
//   TRM and the GTRM models: last-cycle gradient, halting by no_ACT_continue;
//   gates: the injection gate by its tensors (g1 and g1c have the plain TRM config and model_class: only their
//     weights differ), the attention gate by attention_gate_mode, the recurrence gate by its tensors (and reset).
json describe_golden(const io::safetensors_reader& f, const json& cfg) {
  const std::string model_class = f.meta("model_class").value_or("");
  const bool hrm = model_class.find("hrm") != std::string::npos || model_class.find("Hierarchical") != std::string::npos;
  auto has = [&](const char* name) { return f.contains(name) || f.contains(std::string("_orig_mod.") + name); };
  json d = cfg;
  d["arch"] = hrm ? "hrm" : "trm";
  if (!hrm) d["H_layers"] = 0;  // the GTRM config classes have no H_layers; TRM's is unused (0)
  if (!d.contains("mlp_t")) d["mlp_t"] = false;
  if (!d.contains("puzzle_emb_len")) d["puzzle_emb_len"] = 0;
  if (hrm) d["no_ACT_continue"] = false;
  const bool mlp = d["mlp_t"].is_boolean() && d["mlp_t"].get<bool>();
  d["mixer"] = mlp ? "token_mlp" : "attention";
  d["context_gate"] = has("model.inner.L_level.injection_gates")    ? "scalar"
                      : has("model.inner.L_level.context_gate.weight") ? "channel"
                                                                       : "none";
  d["attention_gate"] = cfg.contains("attention_gate_mode") ? cfg["attention_gate_mode"] : json("none");
  d["recurrence_gate"] = has("model.inner.z_L_recurrence_gate.reset_gate.weight")    ? "update_reset"
                         : has("model.inner.z_L_recurrence_gate.update_gate.weight") ? "update"
                                                                                     : "none";
  const bool no_continue = d.value("no_ACT_continue", true);
  d["halt_rule"] = no_continue ? "q_head" : "q_head_continue";
  d["grad_rule"] = hrm ? "one_step" : "last_cycle";
  return d;
}

// The keys where a file's description differs from a compiled preset, as "key (file X, compiled Y)".
std::vector<std::string> differences(const json& compiled, const json& file) {
  std::vector<std::string> out;
  const bool mlp = compiled.value("mlp_t", false);
  for (const auto& [k, v] : compiled.items()) {
    if (k == "num_heads" && mlp) continue;  // mlp_t has no heads
    if (!file.contains(k)) {
      out.push_back(k + " (file: absent, compiled " + v.dump() + ")");
      continue;
    }
    const auto& w = file[k];
    const bool same = v.is_number() ? w.is_number() && w.get<double>() == v.get<double>() : w == v;
    if (!same) out.push_back(k + " (file " + w.dump() + ", compiled " + v.dump() + ")");
  }
  return out;
}

int print_report(const io::reference_report& rep) {
  std::printf("%-62s %12s %12s %10s\n", "quantity", "max_abs", "rel", "tolerance");
  int failed = 0;
  for (const auto& r : rep.rows) {
    std::printf("%-62s %12.3e %12.3e %10s %s\n", r.name.c_str(), r.max_abs, r.norm_rel,
                r.exact && r.tolerance == 0 ? "exact" : std::to_string(r.tolerance).substr(0, 7).c_str(), r.pass ? "ok" : "FAIL");
    failed += !r.pass;
  }
  std::string worst;  // the parts this kind of file has
  for (const char* part : {"step1/", "grad/", "step2/", "eval/", "iter1/", "iter2/", "enc/", "dec/", "decsat/"}) {
    const bool present = std::any_of(rep.rows.begin(), rep.rows.end(), [&](const auto& r) { return r.name.rfind(part, 0) == 0; });
    if (!present) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%.*s %.2e", worst.empty() ? "" : ", ", static_cast<int>(std::strlen(part) - 1), part,
                  rep.worst(part));
    worst += buf;
  }
  std::printf("worst norm_rel: %s\n", worst.c_str());
  if (rep.rows.empty()) {
    std::printf("no quantity of the file was compared\n");
    return 1;
  }
  if (failed) {
    std::printf("%d of %zu quantities outside tolerance\n", failed, rep.rows.size());
    return 1;
  }
  std::printf("%zu quantities, all within tolerance\n", rep.rows.size());
  return 0;
}

// A module-level LMA file (tests/data/golden_lma): the compiled module of its kind and sizes, or an error listing them.
int verify_lma_module(const io::safetensors_reader& f, const std::string& file, const json& cfg, double tensor_tol,
                      double grad_tol) {
  const auto num = [&](const char* k) { return cfg.contains(k) && cfg[k].is_number_integer() ? cfg[k].get<int>() : -1; };
  const std::string kind = cfg["kind"].is_string() ? cfg["kind"].get<std::string>() : "";
  int l_new = -1;
  try {
    l_new = std::stoi(f.meta("L_new").value_or("-1"));
  } catch (const std::exception&) {
    throw io::error(file + ": its `L_new` metadata is not an integer");
  }
  const auto all = golden_lma_candidates();
  const auto* c = io::find_lma_golden(all, kind, num("L"), num("d0"), num("nh_s"), num("d_new"), l_new);
  if (!c) {
    std::string compiled;
    for (const auto& m : all)
      compiled += (compiled.empty() ? "" : ", ") + std::string(m.kind) + " L " + std::to_string(m.L) + " L' " + std::to_string(m.L_new);
    throw io::error(file + ": an LMA module file (kind " + kind + ", L " + std::to_string(num("L")) + ", d0 " +
                    std::to_string(num("d0")) + ", nh_s " + std::to_string(num("nh_s")) + ", d_new " +
                    std::to_string(num("d_new")) + ", L_new " + std::to_string(l_new) +
                    ") no compiled module matches (d0 64, nh_s 4, d_new 32 and: " + compiled +
                    "). Add it to io::lma_golden_candidates (include/gtrm/io/lma_reference_check.hpp)");
  }
  std::printf("%s: LMA module %s (L %d, L' %d, d0 %d, nh_s %d, d' %d) matches the compiled module "
              "(include/gtrm/io/lma_reference_check.hpp)\n", file.c_str(), c->kind, c->L, c->L_new, c->d0, c->nh_s, c->d_new);
  return print_report(c->check(f, io::reference_tolerances{.tensor = tensor_tol, .loss = 1e-5, .gradient = grad_tol}));
}

}  // namespace

int verify_reference(const std::string& file, double tensor_tol, double grad_tol, const std::string& dtype) {
  const bool bf16 = dtype == "bf16";
  if (!bf16 && dtype != "fp32") throw io::error("--dtype " + dtype + ": unknown (fp32 or bf16)");
  io::safetensors_reader f(file);
  const auto cfg_text = f.meta("config");
  if (!cfg_text) throw io::error(file + " has no `config` metadata: it is not a golden file of the reference");
  json cfg;
  try {
    cfg = json::parse(*cfg_text);
  } catch (const std::exception&) {
    throw io::error(file + ": its `config` metadata is not valid JSON");
  }
  if (!cfg.is_object()) throw io::error(file + ": its `config` metadata is not a JSON object");
  if (cfg.contains("kind") && f.contains("enc/x")) {
    if (bf16) throw io::error(file + ": an LMA module file; --dtype bf16 checks the TRM golden files (tests/data/golden)");
    return verify_lma_module(f, file, cfg, tensor_tol, grad_tol);
  }
  const json described = describe_golden(f, cfg);

  std::vector<golden_candidate> all;
  if (bf16) all = golden_trm_bf16_candidates();  // kept to one family: each bf16 model is compiled again
  else
    for (auto family : {&golden_trm_candidates, &golden_hrm_candidates, &golden_gate_candidates, &golden_recurrent_candidates})
      for (auto& c : family()) all.push_back(std::move(c));

  const golden_candidate* closest = nullptr;
  std::vector<std::string> closest_diff;
  for (const auto& c : all) {
    const auto diff = differences(json::parse(c.config_json), described);
    if (diff.empty()) {
      std::printf("%s: configuration matches preset %s (arch %s, mixer %s, positions %s, gates %s/%s/%s, halting %s, "
                  "gradient %s)\n", file.c_str(), c.name, described["arch"].get<std::string>().c_str(),
                  described["mixer"].get<std::string>().c_str(), described.value("pos_encodings", "?").c_str(),
                  described["context_gate"].get<std::string>().c_str(), described["attention_gate"].get<std::string>().c_str(),
                  described["recurrence_gate"].get<std::string>().c_str(), described["halt_rule"].get<std::string>().c_str(),
                  described["grad_rule"].get<std::string>().c_str());
      if (bf16) {
        std::printf("precision bf16 (%s); bounds per tensor class, include/gtrm/io/reference_bf16.hpp\n",
                    cpu_bf16::gemm_library().c_str());
        io::reference_report rep = c.check(f, {1e30, 1e30, 1e30});
        io::bf16_tolerances bt;  // the mlp_t file is the sensitive one (tests/test_golden_bf16.cpp)
        if (c.mlp_t_floor) bt = {.tensor = 0.12, .q = 0.4, .loss = 4e-2, .gradient = 0.2, .decisions = 0.25, .samples = 1};
        const char* ids = io::is_optimizer_reference(f) ? "iter1/batch/puzzle_identifiers" : "batch/puzzle_identifiers";
        io::apply_bf16_tolerances(rep, bt, f.info(ids).shape.at(0), c.max_act_steps);
        return print_report(rep);
      }
      io::reference_tolerances tol{.tensor = tensor_tol, .loss = 1e-5, .gradient = grad_tol};
      // The mlp_t file's own fp32 floor is 1.56e-5 (see tests/test_golden_parity.cpp): default 5e-5 there.
      if (c.mlp_t_floor && tensor_tol == 1e-5) tol.tensor = 5e-5;
      return print_report(c.check(f, tol));
    }
    if (!closest || diff.size() < closest_diff.size()) {
      closest = &c;
      closest_diff = diff;
    }
  }
  std::string names, what;
  for (const auto& c : all) names += (names.empty() ? "" : ", ") + std::string(c.name);
  for (const auto& d : closest_diff) what += (what.empty() ? "" : "; ") + d;
  std::string summary;  // what the file is, in the policy keys
  for (const char* k : {"arch", "H_layers", "mixer", "pos_encodings", "context_gate", "attention_gate", "recurrence_gate",
                        "halt_rule", "grad_rule"})
    summary += (summary.empty() ? "" : ", ") + std::string(k) + " " + described[k].dump();
  if (bf16) throw io::error(file + ": --dtype bf16 checks the TRM golden files (tests/data/golden) only; no bf16 golden "
                            "preset has this model (" + summary + "). Compiled in bf16: " + names);
  throw io::error(file + ": no compiled golden preset has its model (" + summary + "). Closest: " +
                  (closest ? closest->name : "(none)") + ", which differs in " + what + ". Compiled: " + names +
                  ". Add a preset with these values to include/gtrm/presets.hpp and list it in the family's "
                  "tools/verify_golden_*.cpp");
}

int run_verify_reference(const std::string& file, double tensor_tol, double grad_tol, const std::string& dtype) {
  return verify_reference(file, tensor_tol, grad_tol, dtype);
}

}  // namespace gtrm::tools
