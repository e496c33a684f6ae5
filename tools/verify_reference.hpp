// `gtrm verify-reference FILE`: run a golden file of the reference implementation (tests/data/golden,
// tests/data/golden_variants) through the compiled model whose architecture and policies match the file, print
// every stored quantity's error, and exit non-zero above tolerance.
//
// The file is described in gtrm's config vocabulary (io::model_config_json: arch, mixer, positions, every gate,
// halting, gradient rule, sizes) from its `config` metadata, its `model_class` and the gate tensors it holds
// (describe_golden); the golden presets compiled in (include/gtrm/presets.hpp) are listed by family, one
// translation unit each (tools/verify_golden_*.cpp), so no single file compiles every model. A file no compiled
// preset matches gets an error naming the closest preset and every key that differs.
#pragma once
#include <gtrm/cpu.hpp>
#include <gtrm/io/lma_reference_check.hpp>
#include <gtrm/io/reference_bf16.hpp>
#include <gtrm/io/reference_check.hpp>
#include <gtrm/presets.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace gtrm::tools {

// One golden preset compiled into the program.
struct golden_candidate {
  const char* name;            // "golden_hrm"
  std::string config_json;     // io::model_config_json of its type
  bool mlp_t_floor;            // the mlp_t file's documented tensor floor (5e-5 by default instead of 1e-5)
  io::reference_report (*check)(const io::safetensors_reader&, const io::reference_tolerances&);
  int max_act_steps = 16;      // the model's halt_max_steps (bf16: judging the halting counters)
};

template <class Model>
io::reference_report check_golden(const io::safetensors_reader& f, const io::reference_tolerances& tol) {
  if (io::is_optimizer_reference(f)) return io::check_optimizer_reference<Model>(f, tol);
  return io::check_reference<Model>(f, tol);
}

template <class Model>
golden_candidate golden_entry(const char* name) {
  return {name, io::model_config_json<Model>(), !Model::attention, &check_golden<Model>, Model::cycles_v.max_act_steps};
}

// The families, each defined in its own translation unit.
std::vector<golden_candidate> golden_trm_candidates();       // verify_golden_trm.cpp: a0, a, a_rope_optim, b, c, d, e
std::vector<golden_candidate> golden_hrm_candidates();       // verify_golden_hrm.cpp: h, h2
std::vector<golden_candidate> golden_gate_candidates();      // verify_golden_gates.cpp: g1, g1c, g2h, g2e
std::vector<golden_candidate> golden_recurrent_candidates(); // verify_golden_recurrent.cpp: g3, g3r, g4
std::vector<io::lma_golden_candidate> golden_lma_candidates(); // verify_golden_lma.cpp: the golden_lma modules
// --dtype bf16: the TRM family on gtrm::cpu_bf16 (verify_golden_trm_bf16.cpp), judged by io::apply_bf16_tolerances
std::vector<golden_candidate> golden_trm_bf16_candidates();

// dtype: "fp32" (the parity check, tensor_tol/grad_tol) or "bf16" (the TRM golden files in precision::bf16_mixed,
// each quantity within its class's bf16 bound, include/gtrm/io/reference_bf16.hpp)
int verify_reference(const std::string& file, double tensor_tol, double grad_tol, const std::string& dtype = "fp32");
int run_verify_reference(const std::string& file, double tensor_tol, double grad_tol,
                         const std::string& dtype = "fp32");  // gtrm.cpp calls it

}  // namespace gtrm::tools
