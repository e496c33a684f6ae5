// Compile-time model configuration: the numbers of a model are template data.
//
//   inline constexpr dims   d{.vocab = 11, .seq = 81, .hidden = 512, .heads = 8};
//   inline constexpr cycles c{.h = 3, .l = 6, .layers = 2, .max_act_steps = 16};
//
// Derived sizes follow the reference (docs/reference.md §1): L = puzzle_emb_len + seq, head_dim = hidden/heads,
// SwiGLU intermediate = find_multiple(round(expansion * n * 2/3), 256) with Python's round-half-to-even.
#pragma once
#include "core/types.hpp"

namespace gtrm {

struct dims {
  int vocab = 0;               // V: token ids are 0..vocab-1
  int seq = 0;                 // S: the dataset's sequence length (81 Sudoku, 900 Maze/ARC)
  int puzzle_emb_len = 16;     // P: prefix slots; 0 with puzzle_emb_ndim 0 means no puzzle embedding
  int puzzle_emb_ndim = -1;    // width of one puzzle-table row; -1 means "= hidden" (the reference yaml)
  int hidden = 512;            // D
  int heads = 8;               // H (attention mixer only)
  int expansion = 4;           // SwiGLU expansion factor

  constexpr int emb_ndim() const { return puzzle_emb_ndim < 0 ? hidden : puzzle_emb_ndim; }
  // Reference rule: puzzle_emb_len if non-zero, else ceil(ndim / hidden) (HRM's rule).
  constexpr int prefix() const {
    return puzzle_emb_len != 0 ? puzzle_emb_len : (emb_ndim() + hidden - 1) / hidden;
  }
  constexpr int total_seq() const { return prefix() + seq; }   // L = P + S
  constexpr int head_dim() const { return heads > 0 ? hidden / heads : 0; }
};

struct cycles {
  int h = 3;                   // T: outer recursions per ACT step (H_cycles)
  int l = 6;                   // n: z_L updates per outer recursion (L_cycles)
  int layers = 2;              // blocks in the weight-shared network (L_layers)
  int max_act_steps = 16;      // N_sup: halt_max_steps
};

// find_multiple(round(expansion * n * 2 / 3), 256), round-half-to-even on the exact rational.
constexpr int swiglu_intermediate(int n, int expansion) {
  const long num = 2L * expansion * n;         // value = num / 3
  long q = num / 3;
  const long r = num % 3;                      // remainder 0, 1 or 2 thirds: never a tie at .5
  if (r * 2 > 3) ++q;
  return static_cast<int>((q + 255) / 256 * 256);
}

// Checks a configuration; every failure is a sentence naming what to change.
template <dims D, cycles C>
constexpr bool validate() {
  static_assert(D.vocab >= 2, "dims.vocab must be at least 2 (token ids 0..vocab-1, 0 is PAD)");
  static_assert(D.seq >= 1, "dims.seq must be at least 1: set it to the dataset's seq_len");
  static_assert(D.hidden >= 1, "dims.hidden must be positive");
  static_assert(D.expansion >= 1, "dims.expansion must be at least 1");
  static_assert(D.puzzle_emb_len >= 0, "dims.puzzle_emb_len must be 0 or more");
  static_assert(D.emb_ndim() <= D.prefix() * D.hidden,
                "dims.puzzle_emb_ndim must fit in puzzle_emb_len * hidden prefix slots");
  static_assert(!(D.emb_ndim() == 0 && D.puzzle_emb_len != 0),
                "a model without puzzle embeddings (puzzle_emb_ndim = 0) needs puzzle_emb_len = 0, "
                "as the reference (otherwise carry and input lengths disagree)");
  static_assert(C.h >= 1, "cycles.h (H_cycles, T) must be at least 1");
  static_assert(C.l >= 1, "cycles.l (L_cycles, n) must be at least 1");
  static_assert(C.layers >= 1, "cycles.layers (L_layers) must be at least 1");
  static_assert(C.max_act_steps >= 1, "cycles.max_act_steps (halt_max_steps) must be at least 1");
  return true;
}

// Attention needs whole heads of even width (RoPE rotates halves).
template <dims D>
constexpr bool validate_heads() {
  static_assert(D.heads >= 1, "dims.heads must be at least 1 for an attention mixer");
  static_assert(D.hidden % D.heads == 0,
                "dims.hidden must be divisible by dims.heads: choose heads so that hidden / heads is an integer");
  static_assert(D.head_dim() % 2 == 0,
                "hidden / heads (the head dimension) must be even, because RoPE rotates the two halves of a head");
  return true;
}

}  // namespace gtrm
