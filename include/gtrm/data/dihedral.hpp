// The 8 dihedral transforms of a row-major grid, numbered as the reference's dataset/common.py
// (dihedral_transform), so that augmentation names ("t<tid>") and the evaluator's inverse agree with it:
//   0 identity          1 np.rot90(k=1), counter-clockwise: out[i,j] = a[j, W-1-i]     (W x H)
//   2 np.rot90(k=2):  out[i,j] = a[H-1-i, W-1-j]   3 np.rot90(k=3), clockwise: out[i,j] = a[H-1-j, i]   (W x H)
//   4 np.fliplr:      out[i,j] = a[i, W-1-j]       5 np.flipud:   out[i,j] = a[H-1-i, j]
//   6 transpose:      out[i,j] = a[j, i]   (W x H) 7 fliplr(rot90(k=1)), anti-transpose: out[i,j] = a[H-1-j, W-1-i]
// dihedral_inverse[t] undoes t (the reference's DIHEDRAL_INVERSE): rotations by ±90° swap, the rest are involutions.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace gtrm::data {

inline constexpr int dihedral_inverse[8] = {0, 3, 2, 1, 4, 5, 6, 7};

// Transform grid (h rows, w columns) by tid; out_h/out_w receive the result's shape (swapped for 1, 3, 6, 7).
template <class T>
std::vector<T> dihedral(const T* grid, int h, int w, int tid, int& out_h, int& out_w) {
  if (tid < 0 || tid > 7) throw std::invalid_argument("dihedral: transform id " + std::to_string(tid) + " not in 0..7");
  if (h < 0 || w < 0) throw std::invalid_argument("dihedral: negative grid shape");
  const bool swap = tid == 1 || tid == 3 || tid == 6 || tid == 7;
  out_h = swap ? w : h;
  out_w = swap ? h : w;
  std::vector<T> out(static_cast<std::size_t>(h) * static_cast<std::size_t>(w));
  const auto at = [&](int r, int c) { return grid[static_cast<std::size_t>(r) * w + c]; };
  std::size_t k = 0;
  // One loop per transform: the switch sits outside the hot loops, and each line reads as its formula above.
  for (int i = 0; i < out_h; ++i) {
    switch (tid) {
      case 0: for (int j = 0; j < out_w; ++j) out[k++] = at(i, j); break;
      case 1: for (int j = 0; j < out_w; ++j) out[k++] = at(j, w - 1 - i); break;
      case 2: for (int j = 0; j < out_w; ++j) out[k++] = at(h - 1 - i, w - 1 - j); break;
      case 3: for (int j = 0; j < out_w; ++j) out[k++] = at(h - 1 - j, i); break;
      case 4: for (int j = 0; j < out_w; ++j) out[k++] = at(i, w - 1 - j); break;
      case 5: for (int j = 0; j < out_w; ++j) out[k++] = at(h - 1 - i, j); break;
      case 6: for (int j = 0; j < out_w; ++j) out[k++] = at(j, i); break;
      default: for (int j = 0; j < out_w; ++j) out[k++] = at(h - 1 - j, w - 1 - i); break;
    }
  }
  return out;
}

}  // namespace gtrm::data
