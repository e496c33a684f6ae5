// A symmetry of a task's puzzles as a token-level map, for voting at test time (gtrm::solve_voting):
//   apply:  out[i] = token_map[in[source[i]]]                   (S positions, V tokens)
//   invert: out[source[i]] = token_map^-1[pred[i]]               maps a prediction of the transformed puzzle back
// Tasks build these from the dataset builders' own transforms (data/dihedral.hpp, data/sudoku.hpp), so a version
// seen at test time is one the builders could have made.
#pragma once
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "../data/dihedral.hpp"

namespace gtrm::tasks {

struct token_augmentation {
  std::vector<int> source;              // a permutation of 0..S-1
  std::vector<std::int32_t> token_map;  // a permutation of 0..V-1

  std::vector<std::int32_t> apply(std::span<const std::int32_t> in) const {
    std::vector<std::int32_t> out(source.size());
    for (std::size_t i = 0; i < source.size(); ++i) out[i] = map(in[static_cast<std::size_t>(source[i])]);
    return out;
  }
  std::vector<std::int32_t> invert(std::span<const std::int32_t> pred) const {
    std::vector<std::int32_t> inv(token_map.size());
    for (std::size_t t = 0; t < token_map.size(); ++t) inv[static_cast<std::size_t>(token_map[t])] = static_cast<std::int32_t>(t);
    std::vector<std::int32_t> out(source.size());
    for (std::size_t i = 0; i < source.size(); ++i) {
      const auto p = pred[i];
      out[static_cast<std::size_t>(source[i])] = p >= 0 && static_cast<std::size_t>(p) < inv.size() ? inv[static_cast<std::size_t>(p)] : p;
    }
    return out;
  }

 private:
  std::int32_t map(std::int32_t t) const {
    return t >= 0 && static_cast<std::size_t>(t) < token_map.size() ? token_map[static_cast<std::size_t>(t)] : t;
  }
};

inline token_augmentation identity_augmentation(int seq, int vocab) {
  token_augmentation a;
  a.source.resize(static_cast<std::size_t>(seq));
  a.token_map.resize(static_cast<std::size_t>(vocab));
  std::iota(a.source.begin(), a.source.end(), 0);
  std::iota(a.token_map.begin(), a.token_map.end(), 0);
  return a;
}

// The first `count` (at most 8) dihedral transforms of a side x side grid, tokens unchanged, in data/dihedral.hpp's
// numbering (0 identity, 1-3 rotations, 4 fliplr, 5 flipud, 6 transpose, 7 anti-transpose): the transform applied
// to the grid of cell indices is the source map.
inline std::vector<token_augmentation> dihedral_augmentations(int side, int vocab, int count = 8) {
  std::vector<int> cells(static_cast<std::size_t>(side) * static_cast<std::size_t>(side));
  std::iota(cells.begin(), cells.end(), 0);
  std::vector<token_augmentation> out;
  for (int t = 0; t < std::min(count, 8); ++t) {
    token_augmentation a = identity_augmentation(side * side, vocab);
    int h = 0, w = 0;
    a.source = data::dihedral(cells.data(), side, side, t, h, w);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace gtrm::tasks
