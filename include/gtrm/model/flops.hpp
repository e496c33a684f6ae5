// Matrix-product FLOPs of one ACT step, per example, beside param_count: a constexpr function of the model type
// (any recursive_model: TRM, gated TRM, HRM, transformer baseline, LMA). A multiply-add is 2 FLOPs, so an (m×k)·(k×n)
// product is 2·m·n·k. Element-wise work (norms, activations, RoPE, softmax exponentials, residual adds, the scalar
// context gate, the loss) is left out, as in the usual "model FLOPs" convention.
//
// With L, D the rows and width the blocks run at (latent ones under LMA), Lt, Dt the token level's, S the
// sequence, V the vocabulary, I = SwiGLU(D) and It = SwiGLU(L) intermediates, R the rows of qkv_proj (3D, plus
// the attention gate's heads or D rows):
//   attention mixer   2·L·D·R (qkv) + 2·L·L·D (q kᵀ, all heads) + 2·L·L·D (p v) + 2·L·D·D (o_proj)
//   token-MLP mixer   2·D·L·2It (gate_up over the sequence) + 2·D·It·L (down)          = 6·D·L·It
//   channel SwiGLU    2·L·D·2I + 2·L·I·D                                               = 6·L·D·I
//   block             mixer + channel SwiGLU
//   application k     blocks of its network (HRM: H_level's or L_level's) · block
//                     + context_channel gate 2·L·D·D  + recurrent gate 2·L·3D·D (update) [+ 2·L·3D·D (reset)]
//   LMA               encoder 2·L·C·D [+ residual encoder 2·Lt·Dt·D], decoder 2·L·D·C or 2·Lt·D·Dt, once per step
//   heads             2·S·Dt·V (lm_head) + 2·Dt·2 (q_head)
//
//   forward  (one ACT step, inference)  = LMA + Σ_k application k + heads            k < apps_per_step
//   backward                            = 2 · (LMA + Σ_{k ≥ first_recorded} application k + heads)
//   continue_target (HRM-style halting) = forward: the extra no-grad pass for the Q-continue target (training,
//                                         when max_act_steps > 1)
//   training step                       = forward + continue_target + backward
//
// Backward counts 2× the forward of what it differentiates (input and weight gradients); the flash-style
// recompute of attention scores in gtrm's attention backward is not counted, so FLOP/s stays comparable with an
// implementation that stores the probabilities. LMA sizes are read from the model's parameter layout by state-dict
// name (a tensor that is absent costs nothing); a gate's products are what its op declares (forward_flops).
#pragma once
#include <string_view>

namespace gtrm {

struct act_step_flops {
  double block = 0;            // one block of the network(s), one example
  double lma = 0;              // LMA encoder + decoder, once per ACT step (0 without LMA)
  double heads = 0;            // lm_head + q_head
  double forward = 0;          // one ACT step forward: all apps_per_step applications, LMA, heads
  double backward = 0;         // backward of one training ACT step: the recorded applications, LMA, heads
  double continue_target = 0;  // HRM-style Q-continue target: one more forward pass per training step (else 0)
  constexpr double inference() const { return forward; }
  constexpr double train() const { return forward + continue_target + backward; }
};

namespace detail {
// rows × cols of the layout tensor `name` (a per-layer pattern with its layer), 0 when the model has none.
template <class Layout>
constexpr double layout_numel(const Layout& layout, std::string_view name, int layer = -1) {
  for (const auto& s : layout)
    if (s.name == name && s.layer == layer) return static_cast<double>(s.rows) * static_cast<double>(s.cols);
  return 0;
}
template <class Layout>
constexpr double layout_rows(const Layout& layout, std::string_view name, int layer = -1) {
  for (const auto& s : layout)
    if (s.name == name && s.layer == layer) return static_cast<double>(s.rows);
  return 0;
}
}  // namespace detail

// M is a recursive_model instantiation (trm, hrm, transformer, ...).
template <class M>
constexpr act_step_flops model_flops() {
  constexpr auto& layout = M::layout;
  constexpr double L = M::L, D = M::D, Lt = M::Lt, S = M::S;
  using detail::layout_numel;
  using detail::layout_rows;

  act_step_flops f{};
  if constexpr (M::attention) {
    // qkv_proj rows: 3D, plus the attention gate's logits (one per head or per channel)
    double qkv_rows = layout_rows(layout, "model.inner.L_level.layers.{}.self_attn.qkv_proj.weight", 0);
    if (qkv_rows == 0) qkv_rows = layout_rows(layout, "model.inner.H_level.layers.{}.self_attn.qkv_proj.weight", 0);
    f.block = 2 * L * D * qkv_rows + 2 * L * L * D + 2 * L * L * D + 2 * L * D * D;
  } else {
    f.block = 6 * D * L * M::It;
  }
  f.block += 6 * L * D * M::I;

  // gates, per application: each gate declares its matrix-product FLOPs (model/gates/*.hpp: the channel context
  // gate's σ(z W_cᵀ + b_c), the recurrent cells' [z; z̃; ctx] products); the attention gate's are its qkv rows above
  const double gates = M::inject_gate::forward_flops + M::update_gate::forward_flops;

  // LMA (model/lma.hpp): E_chunk on L' rows, E_resid on Lt rows (the tied one reuses E_chunk's matrix), the decoder
  // on L' rows (its gate's matrix too)
  const double proj = layout_numel(layout, "model.inner.lma_transform.proj.weight");
  f.lma = 2 * L * proj + 2 * Lt * layout_numel(layout, "model.inner.lma_transform.residual_proj.weight") +
          (M::latent && M::lma_cfg.residual && M::lma_cfg.tied ? 2 * Lt * proj : 0) +
          2 * L * layout_numel(layout, "model.inner.lma_transform.from_latent.weight") +
          2 * L * layout_numel(layout, "model.inner.lma_transform.from_latent_gate.weight") +
          2 * L * layout_numel(layout, "model.inner.lma.inverse_decoder.weight") +
          2 * L * layout_numel(layout, "model.inner.lma_final_proj.weight");
  f.heads = 2 * S * layout_numel(layout, "model.inner.lm_head.weight") + 2 * layout_numel(layout, "model.inner.q_head.weight");

  double all_apps = 0, recorded_apps = 0;
  for (int k = 0; k < M::apps_per_step; ++k) {
    const double app = M::net_layers(M::net_of(k)) * f.block + gates;
    all_apps += app;
    if (k >= M::first_recorded) recorded_apps += app;
  }
  f.forward = f.lma + all_apps + f.heads;
  f.backward = 2 * (f.lma + recorded_apps + f.heads);
  if constexpr (M::halt_type::continue_target && M::cycles_v.max_act_steps > 1) f.continue_target = f.forward;
  return f;
}

}  // namespace gtrm
