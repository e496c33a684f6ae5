// fp32 parity with the official HRM code (tests/data/golden_variants h, h2; see PROVENANCE.md there), within the
// tolerances of tests/test_golden_parity.cpp: step 1 with the one-step gradient, every parameter gradient, step 2,
// the evaluation run, and the Q-continue target of the extra forward pass (target_q_continue, the second pass's
// Q logits, q_continue_loss), checked at both training steps.
#include "test_golden_check.hpp"

#include <gtrm/presets.hpp>

using namespace gtrm;

namespace {
void check_continue_target_compared(const io::reference_report& rep) {
  for (const char* k : {"step1/target_q_continue", "step1/next_q_halt_logits", "step1/next_q_continue_logits",
                        "step1/metrics.q_continue_loss", "step2/target_q_continue", "step2/metrics.q_continue_loss"}) {
    INFO(k);
    CHECK(rep.find(k) != nullptr);
  }
}
}  // namespace

TEST_CASE("golden: h_hrm (HRM, 2 + 2 layers, RoPE)") {
  check_continue_target_compared(testing::check_golden_file<presets::golden_hrm<cpu>>("golden_variants", "h_hrm.safetensors"));
}
TEST_CASE("golden: h2_hrm_sudoku (HRM, 1 + 2 layers, L_cycles 3, learned positions, Sudoku shapes)") {
  check_continue_target_compared(
      testing::check_golden_file<presets::golden_hrm_sudoku<cpu>>("golden_variants", "h2_hrm_sudoku.safetensors"));
}
