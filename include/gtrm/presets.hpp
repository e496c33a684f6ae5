// Named configurations: the paper's runs (TRM_REFERENCE.md §4), and the golden-file test configurations
// (../shared/golden). A preset is a model type; pick the backend when you name it:
//   using model_t = gtrm::presets::sudoku_mlp<gtrm::cpu>;
#pragma once
#include "config.hpp"
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

}  // namespace gtrm::presets
