// fp32 parity with the official GTRM code for every gate (tests/data/golden_variants g1 … g4; see PROVENANCE.md
// there), within the tolerances of tests/test_golden_parity.cpp: step 1, every parameter gradient (the gate
// parameters included), step 2 and the evaluation run.
#include "test_golden_check.hpp"

#include <gtrm/presets.hpp>

using namespace gtrm;

namespace {
template <class Model>
void check(const char* name) { testing::check_golden_file<Model>("golden_variants", name); }
}  // namespace

TEST_CASE("golden: g1_inject_scalar (injection gate, one scalar per call)") {
  check<presets::golden_gate_scalar<cpu>>("g1_inject_scalar.safetensors");
}
TEST_CASE("golden: g1c_inject_channel (injection gate per token and channel)") {
  check<presets::golden_gate_channel<cpu>>("g1c_inject_channel.safetensors");
}
TEST_CASE("golden: g2h_attn_headwise (attention output gate, headwise)") {
  check<presets::golden_gate_headwise<cpu>>("g2h_attn_headwise.safetensors");
}
TEST_CASE("golden: g2e_attn_elementwise (attention output gate, elementwise)") {
  check<presets::golden_gate_elementwise<cpu>>("g2e_attn_elementwise.safetensors");
}
TEST_CASE("golden: g3_recurrence (recurrence gate, update only)") {
  check<presets::golden_gate_recurrent<cpu>>("g3_recurrence.safetensors");
}
TEST_CASE("golden: g3r_recurrence_reset (recurrence gate with reset)") {
  check<presets::golden_gate_recurrent_reset<cpu>>("g3r_recurrence_reset.safetensors");
}
TEST_CASE("golden: g4_hybrid_sudoku (elementwise attention gate + recurrence gate, Sudoku shapes)") {
  check<presets::golden_gate_hybrid<cpu>>("g4_hybrid_sudoku.safetensors");
}
