// The golden-parity check shared by tests/test_golden_*.cpp: one file through io::check_reference, every quantity
// a CHECK, and the worst figures printed (step 1, gradients, step 2, evaluation).
#pragma once
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/io/reference_check.hpp>

#include <cstdio>
#include <string>

namespace gtrm::testing {

template <class Model>
io::reference_report check_golden_file(const std::string& dir, const char* name, io::reference_tolerances tol = {}) {
  io::safetensors_reader f(std::string(GTRM_TEST_DATA_DIR) + "/" + dir + "/" + name);
  const io::reference_report rep = io::check_reference<Model>(f, tol);
  for (const auto& r : rep.rows) {
    INFO(name << ": " << r.name << " max_abs " << r.max_abs << " norm_rel " << r.norm_rel);
    CHECK(r.pass);
  }
  std::printf("%-34s %3zu quantities: step1 %.2e  grads %.2e  step2 %.2e  eval %.2e\n", name, rep.rows.size(),
              rep.worst("step1/"), rep.worst("grad/"), rep.worst("step2/"), rep.worst("eval/"));
  CHECK(rep.rows.size() > 40);
  CHECK(rep.pass());
  return rep;
}

}  // namespace gtrm::testing
