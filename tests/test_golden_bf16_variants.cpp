// Every HRM and gated-TRM golden file (tests/data/golden_variants) in precision::bf16_mixed: gtrm::cpu_bf16 against
// the reference's fp32 figures (tolerances and figures: see below).
#include "golden_bf16_check.hpp"

#include <gtrm/presets.hpp>

using namespace gtrm;

// Tolerances, per tensor class (include/gtrm/io/reference_bf16.hpp), about 1.5-2x the worst figure measured with oneDNN on
// AVX512-BF16, with oneDNN limited to AVX-512 without bf16 units (DNNL_MAX_CPU_ISA=AVX512_CORE) and with the
// emulation (DNNL_MAX_CPU_ISA=AVX2, where oneDNN 2.6 has no bf16 matmul): the bf16 rounding of every product operand,
// compounded through the recursion, sets these figures, not the summation order, so they hold on AMX too.
// Measured worst (AVX512-BF16): tensors 3.2e-2, Q logits 0.06 absolute, losses 9.0e-3, gradients 3.3e-2, predictions
// 4.7 % of tokens, one sample's halting decision.
namespace {
const io::bf16_tolerances tol{.tensor = 6e-2, .q = 0.12, .loss = 2e-2, .gradient = 6e-2, .decisions = 0.1, .samples = 1};
template <class Model>
void check(const char* name) { testing::check_golden_bf16<Model>("golden_variants", name, tol); }
}  // namespace

TEST_CASE("golden bf16: g1_inject_scalar") { check<presets::golden_gate_scalar<cpu_bf16>>("g1_inject_scalar.safetensors"); }
TEST_CASE("golden bf16: g1c_inject_channel") { check<presets::golden_gate_channel<cpu_bf16>>("g1c_inject_channel.safetensors"); }
TEST_CASE("golden bf16: g2h_attn_headwise") { check<presets::golden_gate_headwise<cpu_bf16>>("g2h_attn_headwise.safetensors"); }
TEST_CASE("golden bf16: g2e_attn_elementwise") { check<presets::golden_gate_elementwise<cpu_bf16>>("g2e_attn_elementwise.safetensors"); }
TEST_CASE("golden bf16: g3_recurrence") { check<presets::golden_gate_recurrent<cpu_bf16>>("g3_recurrence.safetensors"); }
TEST_CASE("golden bf16: g3r_recurrence_reset") { check<presets::golden_gate_recurrent_reset<cpu_bf16>>("g3r_recurrence_reset.safetensors"); }
TEST_CASE("golden bf16: g4_hybrid_sudoku") { check<presets::golden_gate_hybrid<cpu_bf16>>("g4_hybrid_sudoku.safetensors"); }
TEST_CASE("golden bf16: h_hrm") { check<presets::golden_hrm<cpu_bf16>>("h_hrm.safetensors"); }
TEST_CASE("golden bf16: h2_hrm_sudoku") { check<presets::golden_hrm_sudoku<cpu_bf16>>("h2_hrm_sudoku.safetensors"); }
