// The Tiny Recursive Model (models/recursive_reasoning/trm.py, docs/reference.md §1): one weight-shared
// network f = `L_level` of `layers` post-norm blocks, applied T·(n+1) times per ACT step:
//
//   x = √D · [puzzle prefix ; E[tokens]]   (learned positions: √D · 0.707106781 · (emb + pos))   (B·L, D)
//   repeat T times:  repeat n times: z_L = f(z_L + (z_H + x));   z_H = f(z_H + z_L)
//   logits = (z_H W_lmᵀ)[:, P:]   (B·S, V);   q = z_H[:, 0] W_qᵀ + b_q   (B, 2) = (q_halt, q_continue)
//
// Gate adds the GTRM gates (policy/policies.hpp, docs/variants.md §1), alone or composed with gate::all<...>;
// gate::none is the plain TRM. The machinery (tape, workspace, backward) is in recursive.hpp.
//
//   using model_t = trm<dims, cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>;
//   using gtrm_hybrid = trm<dims, cycles, mixer::attention<pos::rope>,
//                           gate::all<gate::attention<gate::elementwise>, gate::recurrent<>>, halt::q_head, cpu>;
#pragma once
#include "recursive.hpp"

namespace gtrm {

template <dims Dims, cycles Cycles, mixer_policy Mixer, gate_policy Gate, halt_policy Halt, class Backend,
          grad_policy Grad = grad::last_cycle, class T = float>
class trm : public recursive_model<arch::trm, Dims, Cycles, Mixer, Gate, Halt, Backend, Grad, T> {
  using base = recursive_model<arch::trm, Dims, Cycles, Mixer, Gate, Halt, Backend, Grad, T>;

 public:
  using base::base;
};

}  // namespace gtrm
