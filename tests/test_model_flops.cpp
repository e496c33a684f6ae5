// model_flops<M>() (include/gtrm/model/flops.hpp) against counts written out by hand from each architecture:
// every matrix product of the block, the gates, the heads, per application, with the schedule's application
// and recorded counts spelled out. A multiply-add is 2 FLOPs.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/model/flops.hpp>
#include <gtrm/model/hrm.hpp>
#include <gtrm/model/trm.hpp>

using namespace gtrm;

namespace {
// The paper's Sudoku shape: V 11, S 81, 16 prefix slots (L 97), hidden 512, 8 heads, T 3, n 6, 2 layers.
// SwiGLU(512) = 1536, SwiGLU over the sequence (97) = 512.
constexpr dims sudoku{.vocab = 11, .seq = 81, .hidden = 512, .heads = 8};
constexpr cycles paper{.h = 3, .l = 6, .layers = 2, .max_act_steps = 16};
using sudoku_att = trm<sudoku, paper, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>;
using sudoku_mlp = trm<sudoku, paper, mixer::token_mlp<pos::none>, gate::none, halt::q_head, cpu>;

// A small gated TRM: V 6, S 16, 4 prefix slots (L 20), hidden 64, 4 heads (SwiGLU(64) = 256), T 2, n 3, 1 layer,
// with the channel context gate, the head-wise attention gate and the recurrent gate with reset.
constexpr dims small{.vocab = 6, .seq = 16, .puzzle_emb_len = 4, .hidden = 64, .heads = 4};
constexpr cycles small_cycles{.h = 2, .l = 3, .layers = 1, .max_act_steps = 4};
using gated = trm<small, small_cycles, mixer::attention<pos::rope>,
                  gate::all<gate::context_channel, gate::attention<gate::headwise>, gate::recurrent<true>>, halt::q_head, cpu>;

// HRM: V 6, S 16, puzzle_emb_len 0 so P = ceil(64 / 64) = 1 (L 17), hidden 64, 4 heads, T 2, n 2, L_level 1 layer,
// H_level 2 layers, one-step gradient, Q-continue target.
constexpr dims hrm_dims{.vocab = 6, .seq = 16, .puzzle_emb_len = 0, .hidden = 64, .heads = 4};
constexpr cycles hrm_cycles_small{.h = 2, .l = 2, .layers = 1, .max_act_steps = 4};
using small_hrm = hrm<hrm_dims, hrm_cycles_small, 2, mixer::attention<pos::rope>, halt::q_head_continue, cpu>;
}  // namespace

TEST_CASE("model_flops: attention TRM at the paper's Sudoku shape") {
  constexpr auto f = model_flops<sudoku_att>();
  //                   qkv              q kᵀ and p v        o_proj           SwiGLU gate_up + down
  const double block = 2.0 * 97 * 512 * 1536 + 4.0 * 97 * 97 * 512 + 2.0 * 97 * 512 * 512 + 6.0 * 97 * 512 * 1536;
  const double heads = 2.0 * 81 * 512 * 11 + 2.0 * 512 * 2;  // lm_head on the 81 token rows, q_head on row 0
  CHECK(f.block == block);
  CHECK(f.heads == heads);
  CHECK(f.lma == 0);
  CHECK(f.forward == 21 * 2 * block + heads);                 // 3·(6+1) applications of 2 blocks
  CHECK(f.backward == 2 * (7 * 2 * block + heads));           // the last cycle: 7 applications
  CHECK(f.continue_target == 0);
  CHECK(f.train() == doctest::Approx(47.63e9).epsilon(1e-3));  // the figure benchmarks/results/cpu-baseline.md quotes
}

TEST_CASE("model_flops: token-MLP TRM at the paper's Sudoku shape") {
  constexpr auto f = model_flops<sudoku_mlp>();
  //                   token MLP over 97 rows (It 512)   channel SwiGLU
  const double block = 6.0 * 512 * 97 * 512 + 6.0 * 97 * 512 * 1536;
  const double heads = 2.0 * 81 * 512 * 11 + 2.0 * 512 * 2;
  CHECK(f.block == block);
  CHECK(f.forward == 21 * 2 * block + heads);
  CHECK(f.backward == 2 * (7 * 2 * block + heads));
  CHECK(f.train() == doctest::Approx(42.72e9).epsilon(1e-3));
}

TEST_CASE("model_flops: gated TRM counts the gates' products") {
  constexpr auto f = model_flops<gated>();
  //                   qkv with 4 gate rows   q kᵀ and p v        o_proj              SwiGLU
  const double block = 2.0 * 20 * 64 * 196 + 4.0 * 20 * 20 * 64 + 2.0 * 20 * 64 * 64 + 6.0 * 20 * 64 * 256;
  const double context = 2.0 * 20 * 64 * 64;                    // σ(z W_cᵀ + b_c), every application
  const double recurrent = 2.0 * 20 * 192 * 64 * 2;             // update and reset gates from [z; z̃; ctx]
  const double app = block + context + recurrent;
  const double heads = 2.0 * 16 * 64 * 6 + 2.0 * 64 * 2;
  CHECK(f.block == block);
  CHECK(f.forward == 8 * app + heads);                         // 2·(3+1) applications
  CHECK(f.backward == 2 * (4 * app + heads));                  // the last cycle: 4 applications
  CHECK(f.train() == f.forward + f.backward);
}

TEST_CASE("model_flops: HRM uses each network's depth and counts the Q-continue pass") {
  constexpr auto f = model_flops<small_hrm>();
  const double block = 2.0 * 17 * 64 * 192 + 4.0 * 17 * 17 * 64 + 2.0 * 17 * 64 * 64 + 6.0 * 17 * 64 * 256;
  const double heads = 2.0 * 16 * 64 * 6 + 2.0 * 64 * 2;
  CHECK(f.block == block);
  // per cycle: 2 z_L updates (L_level, 1 block) + 1 z_H update (H_level, 2 blocks); 2 cycles
  CHECK(f.forward == 2 * (2 * 1 + 2) * block + heads);
  // one-step gradient: the last z_L update (1 block) and the last z_H update (2 blocks)
  CHECK(f.backward == 2 * (3 * block + heads));
  CHECK(f.continue_target == f.forward);
  CHECK(f.train() == 2 * f.forward + f.backward);
}
