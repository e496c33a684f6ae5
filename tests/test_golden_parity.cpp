// fp32 parity with the reference implementation on every golden file (tests/data/golden, see PROVENANCE.md):
// logits, Q logits, z_H/z_L, input embeddings and losses within 1e-5 relative (‖a−b‖/‖b‖), every parameter
// gradient within 1e-4, ACT step 2 and the evaluation run likewise; steps, halting, data and predictions exact.
// The optimizer file (a_rope_optim) is replayed through the trainer: losses, halting, gradients and the
// parameters after each of its two iterations. (HRM and GTRM: tests/test_golden_hrm.cpp, test_golden_gates.cpp.)
#include "test_golden_check.hpp"

#include <gtrm/presets.hpp>

#include <cstdio>

using namespace gtrm;

namespace {

std::string golden(const char* name) { return std::string(GTRM_TEST_DATA_DIR) + "/golden/" + name; }

template <class Model>
void check_file(const char* name, io::reference_tolerances tol = {}) {
  testing::check_golden_file<Model>("golden", name, tol);
}

}  // namespace

TEST_CASE("golden: a_rope (attention + RoPE)") { check_file<presets::golden_rope<cpu>>("a_rope.safetensors"); }
TEST_CASE("golden: a0_rope_official_init") { check_file<presets::golden_rope<cpu>>("a0_rope_official_init.safetensors"); }
// (b) is the file the golden README calls strongly sensitive: the same model computed in float64 lies 1.56e-5
// (norm_rel) from the stored fp32 q_halt logits, so the reference's own fp32 rounding sets a floor above 1e-5.
// Tensors get 5e-5 there (3x the floor, still 2x tighter than the README's suggested 1e-4); losses and
// gradients keep the tolerances.
TEST_CASE("golden: b_mlpt_sudoku (mlp_t, Sudoku shapes)") {
  check_file<presets::golden_mlpt<cpu>>("b_mlpt_sudoku.safetensors", {.tensor = 5e-5, .loss = 1e-5, .gradient = 1e-4});
}
TEST_CASE("golden: b_mlpt_sudoku in double sits at the reference's fp32 floor") {
  io::safetensors_reader f(golden("b_mlpt_sudoku.safetensors"));
  const auto rep = io::check_reference<presets::golden_mlpt<cpu, double>>(f, {.tensor = 5e-5, .loss = 1e-5, .gradient = 1e-4});
  CHECK(rep.pass());
  CHECK(rep.find("step1/q_halt_logits")->norm_rel > 1e-5);  // the floor is in the reference, not in float32 gtrm
}
TEST_CASE("golden: c_learned_pos") { check_file<presets::golden_learned<cpu>>("c_learned_pos.safetensors"); }
TEST_CASE("golden: d_no_puzzle_emb") { check_file<presets::golden_no_puzzle<cpu>>("d_no_puzzle_emb.safetensors"); }
TEST_CASE("golden: e_batch1") { check_file<presets::golden_rope<cpu>>("e_batch1.safetensors"); }
TEST_CASE("golden: a_rope_optim (two training iterations through the trainer)") {
  io::safetensors_reader f(golden("a_rope_optim.safetensors"));
  REQUIRE(io::is_optimizer_reference(f));
  const io::reference_report rep = io::check_optimizer_reference<presets::golden_rope<cpu>>(f);
  for (const auto& r : rep.rows) {
    INFO("a_rope_optim: " << r.name << " max_abs " << r.max_abs << " norm_rel " << r.norm_rel);
    CHECK(r.pass);
  }
  std::printf("%-34s %3zu quantities: iter1 %.2e  iter2 %.2e\n", "a_rope_optim.safetensors", rep.rows.size(),
              rep.worst("iter1/"), rep.worst("iter2/"));
  CHECK(rep.rows.size() == 2 * (2 + 2 * presets::golden_rope<cpu>::layout.count + 1));
  CHECK(rep.pass());
}
