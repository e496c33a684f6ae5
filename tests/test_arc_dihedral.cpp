// Dihedral transforms against numpy's definitions, written out by hand for a non-square 2x3 grid, and the
// reference's inverse table checked by composition.
#include <doctest/doctest.h>

#include <gtrm/data/dihedral.hpp>

#include <vector>

using gtrm::data::dihedral;
using gtrm::data::dihedral_inverse;

namespace {
const std::vector<int> a = {1, 2, 3,
                            4, 5, 6};  // 2 x 3
struct expected { int h, w; std::vector<int> cells; };
// numpy: rot90(k=1) is counter-clockwise; 7 = fliplr(rot90(a, 1)).
const expected table[8] = {
    {2, 3, {1, 2, 3, 4, 5, 6}},  // identity
    {3, 2, {3, 6, 2, 5, 1, 4}},  // rot90 k=1
    {2, 3, {6, 5, 4, 3, 2, 1}},  // rot90 k=2
    {3, 2, {4, 1, 5, 2, 6, 3}},  // rot90 k=3
    {2, 3, {3, 2, 1, 6, 5, 4}},  // fliplr
    {2, 3, {4, 5, 6, 1, 2, 3}},  // flipud
    {3, 2, {1, 4, 2, 5, 3, 6}},  // transpose
    {3, 2, {6, 3, 5, 2, 4, 1}},  // anti-transpose
};
}  // namespace

TEST_CASE("dihedral: each transform matches numpy on a 2x3 grid") {
  for (int t = 0; t < 8; ++t) {
    CAPTURE(t);
    int h = 0, w = 0;
    const auto out = dihedral(a.data(), 2, 3, t, h, w);
    CHECK(h == table[t].h);
    CHECK(w == table[t].w);
    CHECK(out == table[t].cells);
  }
}

TEST_CASE("dihedral: dihedral_inverse[t] and only it undoes t") {
  for (int t = 0; t < 8; ++t) {
    int h1 = 0, w1 = 0;
    const auto fwd = dihedral(a.data(), 2, 3, t, h1, w1);
    for (int u = 0; u < 8; ++u) {
      CAPTURE(t);
      CAPTURE(u);
      int h2 = 0, w2 = 0;
      const auto back = dihedral(fwd.data(), h1, w1, u, h2, w2);
      const bool restores = h2 == 2 && w2 == 3 && back == a;
      CHECK(restores == (u == dihedral_inverse[t]));
    }
  }
}

TEST_CASE("dihedral: works on unsigned char grids and rejects a bad id") {
  const std::vector<unsigned char> g = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1};  // 3 x 4
  int h = 0, w = 0;
  const auto r = dihedral(g.data(), 3, 4, 3, h, w);
  CHECK(h == 4);
  CHECK(w == 3);
  int h2 = 0, w2 = 0;
  CHECK(dihedral(r.data(), h, w, dihedral_inverse[3], h2, w2) == g);
  CHECK_THROWS_AS(dihedral(g.data(), 3, 4, 8, h, w), std::invalid_argument);
}
