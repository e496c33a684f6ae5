// ARC grids <-> 30x30 token sequences (build_arc_dataset.py np_grid_to_seq_translational_augment; evaluators/arc.py
// _crop). Tokens: 0 PAD, 1 EOS, 2..11 colours 0..9 (vocab 12, seq_len 900).
// Encoding: the grid + 2 at offset (pad_r, pad_c) of a zero canvas; EOS on the row just below the grid over its
// columns and on the column just right of it over its rows, each only if inside the canvas; the corner stays PAD.
// Translation (train split only) draws pad_r = randint(0, 30 - max(h_in, h_out) + 1), then pad_c likewise with
// widths, shared by input and output.
// Crop: the largest rectangle anchored at (0, 0) holding only colour tokens (scan rows, shrinking the column bound
// at the first non-colour token, keep the largest area), minus 2. It inverts the encoding at offset (0, 0).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "arc_task.hpp"
#include "numpy_random.hpp"

namespace gtrm::data {

inline constexpr int arc_seq_len = arc_max_grid * arc_max_grid;
inline constexpr int arc_vocab_size = 12;
inline constexpr std::uint8_t arc_pad_token = 0;
inline constexpr std::uint8_t arc_eos_token = 1;
inline constexpr int arc_colour_offset = 2;

// Writes g into seq[0..900) at (pad_r, pad_c); the grid must fit there.
inline void arc_encode(const arc_grid& g, int pad_r, int pad_c, std::uint8_t* seq) {
  constexpr int N = arc_max_grid;
  if (pad_r < 0 || pad_c < 0 || pad_r + g.h > N || pad_c + g.w > N || g.h < 0 || g.w < 0)
    throw data_error("arc_encode: a " + std::to_string(g.h) + "x" + std::to_string(g.w) + " grid at (" +
                     std::to_string(pad_r) + ", " + std::to_string(pad_c) + ") does not fit 30x30");
  std::memset(seq, arc_pad_token, arc_seq_len);
  for (int r = 0; r < g.h; ++r)
    for (int c = 0; c < g.w; ++c)
      seq[(pad_r + r) * N + pad_c + c] =
          static_cast<std::uint8_t>(g.cells[static_cast<std::size_t>(r * g.w + c)] + arc_colour_offset);
  const int eos_r = pad_r + g.h, eos_c = pad_c + g.w;
  if (eos_r < N)
    for (int c = pad_c; c < eos_c; ++c) seq[eos_r * N + c] = arc_eos_token;
  if (eos_c < N)
    for (int r = pad_r; r < eos_r; ++r) seq[r * N + eos_c] = arc_eos_token;
}

// The translation offset of one (input, output) example: randint for rows, then for columns.
inline std::pair<int, int> arc_draw_translation(const arc_grid& in, const arc_grid& out, numpy_random& rng) {
  const int r = static_cast<int>(rng.randint(0, arc_max_grid - std::max(in.h, out.h) + 1));
  const int c = static_cast<int>(rng.randint(0, arc_max_grid - std::max(in.w, out.w) + 1));
  return {r, c};
}

// _crop of 900 tokens of any integer type (uint8 from a dataset, int32/int64 argmax predictions).
template <class T>
arc_grid arc_crop(const T* seq) {
  constexpr int N = arc_max_grid;
  const auto colour = [](T x) { return x >= T(arc_colour_offset) && x <= T(arc_colour_offset + 9); };
  int best_area = 0, best_r = 0, best_c = 0, num_c = N;
  for (int r = 1; r <= N; ++r) {
    for (int c = 1; c <= num_c; ++c)
      if (!colour(seq[(r - 1) * N + c - 1])) {
        num_c = c - 1;
        break;
      }
    if (r * num_c > best_area) {
      best_area = r * num_c;
      best_r = r;
      best_c = num_c;
    }
  }
  arc_grid g;
  g.h = best_r;
  g.w = best_c;
  g.cells.resize(static_cast<std::size_t>(best_r * best_c));
  for (int r = 0; r < best_r; ++r)
    for (int c = 0; c < best_c; ++c)
      g.cells[static_cast<std::size_t>(r * best_c + c)] = static_cast<std::uint8_t>(seq[r * N + c] - T(arc_colour_offset));
  return g;
}

}  // namespace gtrm::data
