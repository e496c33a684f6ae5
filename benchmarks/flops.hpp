// FLOP counts of one TRM ACT step, per example, in one place (bench_model, bench_ops and the README
// quote these formulas). Only matrix products are counted, a multiply-add being 2 FLOPs; element-wise
// passes (norms, SwiGLU activation, RoPE, residual adds, softmax exponentials, the loss) are left out, as
// in the usual "model FLOPs" convention.
//
// With L = P + S rows per example, D = hidden, I = SwiGLU(D) intermediate, It = SwiGLU(L) intermediate:
//
//   attention mixer   2·L·D·3D (qkv) + 2·L·L·D (q kᵀ, all heads) + 2·L·L·D (p v) + 2·L·D·D (o_proj)
//   token-MLP mixer   2·D·L·2It (gate_up over the sequence) + 2·D·It·L (down)          = 6·D·L·It
//   channel SwiGLU    2·L·D·2I + 2·L·I·D                                               = 6·L·D·I
//   block             mixer + channel SwiGLU
//   application of f  layers · block
//   heads             2·S·D·V (lm_head) + 2·D·2 (q_head)
//
//   forward  (one ACT step)  = T·(n+1) · application + heads
//   backward (one ACT step)  = 2 · (recorded · application + heads)      recorded = n+1 under grad::last_cycle
//   training step            = forward + backward
//
// Backward counts 2× the forward of what it differentiates (dX and dW products); the flash-style recompute
// of attention scores in gtrm's attention backward is not counted (so FLOP/s stays comparable with an
// implementation that stores the probabilities).
#pragma once

namespace gtrm::bench {

struct step_flops {
  double block;        // one block, one example
  double application;  // one application of the network f
  double heads;        // lm_head + q_head
  double forward;      // one ACT step forward (all T·(n+1) applications)
  double backward;     // backward of one ACT step (the recorded applications and the heads)
  double train() const { return forward + backward; }
};

constexpr double attention_mixer_flops(double L, double D) {
  return 2 * L * D * 3 * D + 2 * L * L * D + 2 * L * L * D + 2 * L * D * D;
}
constexpr double token_mlp_flops(double L, double D, double It) { return 6 * D * L * It; }
constexpr double channel_mlp_flops(double L, double D, double I) { return 6 * L * D * I; }

// M is a gtrm::trm instantiation.
template <class M>
constexpr step_flops flops_per_example() {
  constexpr double L = M::L, D = M::D, S = M::S, V = M::V;
  step_flops f{};
  f.block = (M::attention ? attention_mixer_flops(L, D) : token_mlp_flops(L, D, M::It)) +
            channel_mlp_flops(L, D, M::I);
  f.application = M::layers * f.block;
  f.heads = 2 * S * D * V + 2 * D * 2;
  f.forward = M::apps_per_step * f.application + f.heads;
  f.backward = 2 * (M::recorded_apps * f.application + f.heads);
  return f;
}

}  // namespace gtrm::bench
