// fp32 parity with the reference implementation on the GPU: every golden file of tests/data/golden (TRM, and the
// optimizer file replayed through the trainer) and tests/data/golden_variants (every GTRM gate, HRM) checked on
// gtrm::cuda through io::check_reference, with the CPU tests' tolerances (test_golden_parity.cpp: tensors 1e-5,
// losses 1e-5, gradients 1e-4 norm_rel; 5e-5 on tensors of b_mlpt_sudoku, whose reference sits at a 1.56e-5 floor).
// The LMA module files (tests/data/golden_lma) check single modules on the CPU (test_golden_lma.cpp), not here.
// Each file prints one line "cuda golden <file> ... worst <x>" (scripts/gpu-check.sh collects them).
// Without a CUDA device every case prints "skipped: no CUDA device" (ctest: skipped, never passed).
#include <gtrm/cuda.cuh>
#include <gtrm/io/reference_check.hpp>
#include <gtrm/presets.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace {

using namespace gtrm;

bool cuda_device_or_skip() {
  if (cuda::device_count() > 0) return true;
  std::printf("skipped: no CUDA device\n");
  std::fflush(stdout);
  return false;
}

void report(const char* name, const io::reference_report& rep) {
  for (const auto& r : rep.rows) {
    INFO(name << ": " << r.name << " max_abs " << r.max_abs << " norm_rel " << r.norm_rel);
    CHECK(r.pass);
  }
  const double worst = std::max({rep.worst("step1/"), rep.worst("grad/"), rep.worst("step2/"), rep.worst("eval/"),
                                 rep.worst("iter1/"), rep.worst("iter2/")});
  std::printf("cuda golden %-28s %3zu quantities: step1 %.2e grads %.2e step2 %.2e eval %.2e worst %.2e %s\n", name,
              rep.rows.size(), rep.worst("step1/"), rep.worst("grad/"), rep.worst("step2/"), rep.worst("eval/"), worst,
              rep.pass() ? "pass" : "FAIL");
  std::fflush(stdout);
  CHECK(rep.pass());
}

template <class Model>
void check_file(const char* dir, const char* name, io::reference_tolerances tol = {}) {
  if (!cuda_device_or_skip()) return;
  io::safetensors_reader f(std::string(GTRM_TEST_DATA_DIR) + "/" + dir + "/" + name);
  const io::reference_report rep = io::check_reference<Model>(f, tol);
  CHECK(rep.rows.size() > 40);
  report(name, rep);
}

}  // namespace

TEST_CASE("cuda golden: a_rope") { check_file<presets::golden_rope<cuda>>("golden", "a_rope.safetensors"); }
TEST_CASE("cuda golden: a0_rope_official_init") {
  check_file<presets::golden_rope<cuda>>("golden", "a0_rope_official_init.safetensors");
}
TEST_CASE("cuda golden: b_mlpt_sudoku") {
  check_file<presets::golden_mlpt<cuda>>("golden", "b_mlpt_sudoku.safetensors",
                                         {.tensor = 5e-5, .loss = 1e-5, .gradient = 1e-4});
}
TEST_CASE("cuda golden: c_learned_pos") {
  check_file<presets::golden_learned<cuda>>("golden", "c_learned_pos.safetensors");
}
TEST_CASE("cuda golden: d_no_puzzle_emb") {
  check_file<presets::golden_no_puzzle<cuda>>("golden", "d_no_puzzle_emb.safetensors");
}
TEST_CASE("cuda golden: e_batch1") { check_file<presets::golden_rope<cuda>>("golden", "e_batch1.safetensors"); }
TEST_CASE("cuda golden: a_rope_optim (two training iterations through the trainer)") {
  if (!cuda_device_or_skip()) return;
  io::safetensors_reader f(std::string(GTRM_TEST_DATA_DIR) + "/golden/a_rope_optim.safetensors");
  REQUIRE(io::is_optimizer_reference(f));
  report("a_rope_optim.safetensors", io::check_optimizer_reference<presets::golden_rope<cuda>>(f));
}

TEST_CASE("cuda golden: g1_inject_scalar") {
  check_file<presets::golden_gate_scalar<cuda>>("golden_variants", "g1_inject_scalar.safetensors");
}
TEST_CASE("cuda golden: g1c_inject_channel") {
  check_file<presets::golden_gate_channel<cuda>>("golden_variants", "g1c_inject_channel.safetensors");
}
TEST_CASE("cuda golden: g2h_attn_headwise") {
  check_file<presets::golden_gate_headwise<cuda>>("golden_variants", "g2h_attn_headwise.safetensors");
}
TEST_CASE("cuda golden: g2e_attn_elementwise") {
  check_file<presets::golden_gate_elementwise<cuda>>("golden_variants", "g2e_attn_elementwise.safetensors");
}
TEST_CASE("cuda golden: g3_recurrence") {
  check_file<presets::golden_gate_recurrent<cuda>>("golden_variants", "g3_recurrence.safetensors");
}
TEST_CASE("cuda golden: g3r_recurrence_reset") {
  check_file<presets::golden_gate_recurrent_reset<cuda>>("golden_variants", "g3r_recurrence_reset.safetensors");
}
TEST_CASE("cuda golden: g4_hybrid_sudoku") {
  check_file<presets::golden_gate_hybrid<cuda>>("golden_variants", "g4_hybrid_sudoku.safetensors");
}
TEST_CASE("cuda golden: h_hrm") { check_file<presets::golden_hrm<cuda>>("golden_variants", "h_hrm.safetensors"); }
TEST_CASE("cuda golden: h2_hrm_sudoku") {
  check_file<presets::golden_hrm_sudoku<cuda>>("golden_variants", "h2_hrm_sudoku.safetensors");
}
