// The Hierarchical Reasoning Model as the TRM repository re-implements it (models/recursive_reasoning/hrm.py
// = sapientinc/HRM hrm_act_v1.py; docs/reference.md §1.10, §7):
//
//   two networks: `H_level` (HLayers blocks) and `L_level` (cycles.layers blocks), the same post-norm blocks
//   repeat H_cycles (= cycles.h) times:  repeat L_cycles (= cycles.l) times: z_L = f_L(z_L + (z_H + x));
//                                        z_H = f_H(z_H + z_L)
//   one-step gradient: only the last z_L update and the last z_H update are recorded (grad::one_step)
//   halting: q_halt > q_continue, with the Q-continue target from an extra forward pass (halt::q_head_continue)
//   puzzle prefix P = ceil(puzzle_emb_ndim / D): use dims with puzzle_emb_len = 0 (the reference's rule)
//
// It is the same model type family as trm (recursive.hpp), so act_step, the trainer and the state_dict
// functions work on it unchanged. State-dict names: model.inner.{H,L}_level.layers.{i}.…, H_init, L_init.
// Parameters (ARC: V 12, S 900, P 1, 4 + 4 layers): 2·V·D + 1026 + 8·3,407,872 = 27,276,290 (§4).
#pragma once
#include "recursive.hpp"

namespace gtrm {

template <dims Dims, cycles Cycles, int HLayers, mixer_policy Mixer, halt_policy Halt, class Backend,
          grad_policy Grad = grad::one_step, class T = float>
class hrm : public recursive_model<arch::hrm<HLayers>, Dims, Cycles, Mixer, gate::none, Halt, Backend, Grad, T> {
  using base = recursive_model<arch::hrm<HLayers>, Dims, Cycles, Mixer, gate::none, Halt, Backend, Grad, T>;

 public:
  using base::base;
};

// The reference HRM configuration: hidden 512, 8 heads, H_cycles = L_cycles = 2, 4 + 4 layers, 16 ACT steps.
inline constexpr cycles hrm_cycles{.h = 2, .l = 2, .layers = 4, .max_act_steps = 16};

}  // namespace gtrm
