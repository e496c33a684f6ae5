// Named configurations: the paper's runs (docs/reference.md §4), and the golden-file test configurations
// (tests/data/golden and tests/data/golden_variants, see their PROVENANCE.md). A preset is a model type; pick the
// backend when you name it:
//   using model_t = gtrm::presets::sudoku_mlp<gtrm::cpu>;
#pragma once
#include "config.hpp"
#include "model/hrm.hpp"
#include "model/trm.hpp"
#include "policy/policies.hpp"

namespace gtrm::presets {

// ---- the paper's runs (hidden 512, 8 heads, expansion 4, P = 16, halt_max_steps 16) ----
inline constexpr dims sudoku_dims{.vocab = 11, .seq = 81, .hidden = 512, .heads = 8};
inline constexpr dims maze_dims{.vocab = 6, .seq = 900, .hidden = 512, .heads = 8};
inline constexpr dims arc_dims{.vocab = 12, .seq = 900, .hidden = 512, .heads = 8};
inline constexpr cycles sudoku_cycles{.h = 3, .l = 6, .layers = 2, .max_act_steps = 16};
inline constexpr cycles maze_arc_cycles{.h = 3, .l = 4, .layers = 2, .max_act_steps = 16};

template <class Be> using sudoku_mlp = trm<sudoku_dims, sudoku_cycles, mixer::token_mlp<pos::none>, gate::none, halt::q_head, Be>;
template <class Be> using sudoku_att = trm<sudoku_dims, sudoku_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, Be>;
template <class Be> using maze_att = trm<maze_dims, maze_arc_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, Be>;
template <class Be> using arc_att = trm<arc_dims, maze_arc_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, Be>;

// ---- the golden-file configurations (hidden 64, 4 heads, T = 3, n = 2, halt_max_steps 4) ----
inline constexpr dims golden_dims{.vocab = 11, .seq = 16, .puzzle_emb_len = 16, .puzzle_emb_ndim = 64, .hidden = 64, .heads = 4};
inline constexpr dims golden_sudoku_dims{.vocab = 11, .seq = 81, .puzzle_emb_len = 16, .puzzle_emb_ndim = 64, .hidden = 64, .heads = 4};
inline constexpr dims golden_no_puzzle_dims{.vocab = 11, .seq = 16, .puzzle_emb_len = 0, .puzzle_emb_ndim = 0, .hidden = 64, .heads = 4};
inline constexpr cycles golden_cycles{.h = 3, .l = 2, .layers = 2, .max_act_steps = 4};

template <class Be, class T = float> using golden_rope = trm<golden_dims, golden_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, Be, grad::last_cycle, T>;
template <class Be, class T = float> using golden_mlpt = trm<golden_sudoku_dims, golden_cycles, mixer::token_mlp<pos::none>, gate::none, halt::q_head, Be, grad::last_cycle, T>;
template <class Be, class T = float> using golden_learned = trm<golden_dims, golden_cycles, mixer::attention<pos::learned>, gate::none, halt::q_head, Be, grad::last_cycle, T>;
template <class Be, class T = float> using golden_no_puzzle = trm<golden_no_puzzle_dims, golden_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, Be, grad::last_cycle, T>;

// ---- the HRM golden configurations (tests/data/golden_variants h, h2): the prefix is ceil(64 / 64) = 1 slot ----
inline constexpr dims golden_hrm_dims{.vocab = 11, .seq = 16, .puzzle_emb_len = 0, .puzzle_emb_ndim = 64, .hidden = 64, .heads = 4};
inline constexpr dims golden_hrm_sudoku_dims{.vocab = 11, .seq = 81, .puzzle_emb_len = 0, .puzzle_emb_ndim = 64, .hidden = 64, .heads = 4};
inline constexpr cycles golden_hrm_cycles{.h = 2, .l = 2, .layers = 2, .max_act_steps = 4};
inline constexpr cycles golden_hrm_sudoku_cycles{.h = 2, .l = 3, .layers = 2, .max_act_steps = 4};

// (h) H_level 2 blocks, RoPE;  (h2) H_level 1 block, learned positions, Sudoku shapes
template <class Be, class T = float> using golden_hrm = hrm<golden_hrm_dims, golden_hrm_cycles, 2, mixer::attention<pos::rope>, halt::q_head_continue, Be, grad::one_step, T>;
template <class Be, class T = float> using golden_hrm_sudoku = hrm<golden_hrm_sudoku_dims, golden_hrm_sudoku_cycles, 1, mixer::attention<pos::learned>, halt::q_head_continue, Be, grad::one_step, T>;

// ---- the GTRM golden configurations (tests/data/golden_variants g*): config (a) plus one gate each ----
template <class Gate, class Be, class T = float> using golden_gated = trm<golden_dims, golden_cycles, mixer::attention<pos::rope>, Gate, halt::q_head, Be, grad::last_cycle, T>;
template <class Be, class T = float> using golden_gate_scalar = golden_gated<gate::context_scalar, Be, T>;                   // g1
template <class Be, class T = float> using golden_gate_channel = golden_gated<gate::context_channel, Be, T>;                 // g1c
template <class Be, class T = float> using golden_gate_headwise = golden_gated<gate::attention<gate::headwise>, Be, T>;      // g2h
template <class Be, class T = float> using golden_gate_elementwise = golden_gated<gate::attention<gate::elementwise>, Be, T>;// g2e
template <class Be, class T = float> using golden_gate_recurrent = golden_gated<gate::recurrent<false>, Be, T>;              // g3
template <class Be, class T = float> using golden_gate_recurrent_reset = golden_gated<gate::recurrent<true>, Be, T>;         // g3r
// (g4) the hybrid: elementwise attention gate + recurrence gate, Sudoku shapes
template <class Be, class T = float> using golden_gate_hybrid =
    trm<golden_sudoku_dims, golden_cycles, mixer::attention<pos::rope>, gate::all<gate::attention<gate::elementwise>, gate::recurrent<false>>,
        halt::q_head, Be, grad::last_cycle, T>;

}  // namespace gtrm::presets

// ==== sizes and CLI presets ====
// Each task in three sizes: small (learns on a laptop CPU in minutes to hours), medium (a CPU day or a GPU hour),
// large (the paper's runs above). The `gtrm` program compiles the ones listed in tools/presets.cmake; to make a new
// model usable from `gtrm train/eval/solve`, define it here and add one gtrm_cli_preset(...) line there.
namespace gtrm::presets {

inline constexpr cycles small_cycles{.h = 2, .l = 2, .layers = 2, .max_act_steps = 8};
inline constexpr cycles medium_cycles{.h = 3, .l = 4, .layers = 2, .max_act_steps = 16};
inline constexpr cycles medium_sudoku_cycles{.h = 3, .l = 6, .layers = 2, .max_act_steps = 16};

// small: hidden 64, one puzzle-prefix slot; medium: hidden 256, 16 slots
inline constexpr dims sudoku_small_dims{.vocab = 11, .seq = 81, .puzzle_emb_len = 1, .hidden = 64, .heads = 4};
inline constexpr dims sudoku_medium_dims{.vocab = 11, .seq = 81, .hidden = 256, .heads = 4};
inline constexpr dims maze_small_dims{.vocab = 6, .seq = 900, .puzzle_emb_len = 1, .hidden = 64, .heads = 4};
inline constexpr dims maze_medium_dims{.vocab = 6, .seq = 900, .hidden = 256, .heads = 4};
inline constexpr dims arc_small_dims{.vocab = 12, .seq = 900, .puzzle_emb_len = 1, .hidden = 64, .heads = 4};
inline constexpr dims arc_medium_dims{.vocab = 12, .seq = 900, .hidden = 256, .heads = 4};

template <class Be> using sudoku_small = trm<sudoku_small_dims, small_cycles, mixer::token_mlp<pos::none>, gate::none, halt::q_head, Be>;
template <class Be> using sudoku_medium = trm<sudoku_medium_dims, medium_sudoku_cycles, mixer::token_mlp<pos::none>, gate::none, halt::q_head, Be>;
template <class Be> using sudoku_large = sudoku_mlp<Be>;
template <class Be> using maze_small = trm<maze_small_dims, small_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, Be>;
template <class Be> using maze_medium = trm<maze_medium_dims, medium_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, Be>;
template <class Be> using maze_large = maze_att<Be>;
template <class Be> using arc_small = trm<arc_small_dims, small_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, Be>;
template <class Be> using arc_medium = trm<arc_medium_dims, medium_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, Be>;
template <class Be> using arc_large = arc_att<Be>;

// The paper's Sudoku-MLP at hidden 128 (4 heads): the small configuration of the CPU benchmarks (issue #8).
inline constexpr dims sudoku_h128_dims{.vocab = 11, .seq = 81, .hidden = 128, .heads = 4};
template <class Be> using sudoku_mlp_h128 = trm<sudoku_h128_dims, sudoku_cycles, mixer::token_mlp<pos::none>, gate::none, halt::q_head, Be>;

// The README demo: 6x6 Sudoku (vocab 8 = PAD, blank, digits 1-6; 36 cells) with the MLP token mixer (the paper's
// better Sudoku model; on this task it reaches in 500 steps what attention does not in 1500). Learns on a CPU in
// minutes. One prefix slot holds the (single) puzzle embedding and feeds the Q head.
inline constexpr dims sudoku6_demo_dims{.vocab = 8, .seq = 36, .puzzle_emb_len = 1, .hidden = 64, .heads = 4};
template <class Be> using sudoku6_demo = trm<sudoku6_demo_dims, small_cycles, mixer::token_mlp<pos::none>, gate::none, halt::q_head, Be>;

// The CLI tests: 4x4 Sudoku (vocab 6, 16 cells), trains in seconds.
inline constexpr dims sudoku4_test_dims{.vocab = 6, .seq = 16, .puzzle_emb_len = 1, .hidden = 32, .heads = 2, .expansion = 2};
inline constexpr cycles sudoku4_test_cycles{.h = 2, .l = 1, .layers = 1, .max_act_steps = 4};
template <class Be> using sudoku4_test = trm<sudoku4_test_dims, sudoku4_test_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, Be>;

// The CLI tests' ARC path: the 30x30 canvas (vocab 12, 900 cells) with a per-version puzzle embedding, minimal width.
inline constexpr dims arc_test_dims{.vocab = 12, .seq = 900, .puzzle_emb_len = 1, .hidden = 16, .heads = 2, .expansion = 1};
inline constexpr cycles arc_test_cycles{.h = 1, .l = 1, .layers = 1, .max_act_steps = 2};
template <class Be> using arc_test = trm<arc_test_dims, arc_test_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, Be>;

}  // namespace gtrm::presets
