// The paper's transformer baseline (models/recursive_reasoning/transformers_baseline.py, Model_ACTV2;
// docs/reference.md §1.10): no recursion. One network `H_level` of cycles.layers post-norm blocks is applied
// once per ACT step, z_H = f(z_H + x); depth comes from ACT (up to max_act_steps applications per puzzle).
//   carry: z_H only in the reference; gtrm's act_carry keeps a z_L that this model never reads or writes
//   halting: q_halt > q_continue, no Q-continue target (halt::q_compare)
//   puzzle prefix P = ceil(puzzle_emb_ndim / D): use dims with puzzle_emb_len = 0 (the reference's rule)
//   cycles.h and cycles.l are ignored; every application is recorded (the reference's "1-step grad" is
//   the whole stack of one step)
// The reference yaml uses 12 heads on hidden 512 (head_dim 42, attention width 504); gtrm's attention
// needs hidden divisible by heads, so use 8 (or 16) heads. The state dict also holds L_init (unused).
#pragma once
#include "recursive.hpp"

namespace gtrm {

template <dims Dims, cycles Cycles, mixer_policy Mixer, halt_policy Halt, class Backend, class T = float>
class transformer
    : public recursive_model<arch::transformer, Dims, Cycles, Mixer, gate::none, Halt, Backend, grad::full_bptt, T> {
  using base = recursive_model<arch::transformer, Dims, Cycles, Mixer, gate::none, Halt, Backend, grad::full_bptt, T>;

 public:
  using base::base;
};

}  // namespace gtrm
