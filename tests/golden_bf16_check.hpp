// The golden files run in precision::bf16_mixed (gtrm::cpu_bf16) against the reference's fp32 figures: every row
// judged by its class's bf16 bound (io::apply_bf16_tolerances, include/gtrm/io/reference_bf16.hpp), one CHECK each,
// and the worst figure of each class printed.
#pragma once
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/io/reference_bf16.hpp>
#include <gtrm/io/reference_check.hpp>

#include <cstdio>
#include <string>

namespace gtrm::testing {

template <class Model>
io::bf16_worst check_golden_bf16(const std::string& dir, const char* name, const io::bf16_tolerances& tol) {
  static_assert(std::is_same_v<typename Model::backend_type, cpu_bf16>);
  io::safetensors_reader f(std::string(GTRM_TEST_DATA_DIR) + "/" + dir + "/" + name);
  const bool optimizer = io::is_optimizer_reference(f);
  io::reference_report rep = optimizer ? io::check_optimizer_reference<Model>(f) : io::check_reference<Model>(f);
  const index_t B = f.info(optimizer ? "iter1/batch/puzzle_identifiers" : "batch/puzzle_identifiers").shape.at(0);
  const io::bf16_worst w = io::apply_bf16_tolerances(rep, tol, B, Model::cycles_v.max_act_steps);
  for (const auto& r : rep.rows) {
    INFO(name << ": " << r.name << " max_abs " << r.max_abs << " norm_rel " << r.norm_rel << " bound " << r.tolerance);
    CHECK(r.pass);
  }
  std::printf("%-33s bf16 %3zu rows: tensor %.2e q(abs) %.2e loss %.2e grad %.2e decisions %.3f samples %.0f\n", name,
              rep.rows.size(), w.tensor, w.q, w.loss, w.gradient, w.decisions, w.samples);
  CHECK(rep.rows.size() > 40);
  return w;
}

}  // namespace gtrm::testing
