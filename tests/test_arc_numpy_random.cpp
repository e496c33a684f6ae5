// numpy_random against numbers printed by numpy 2.4.6's legacy global RNG (np.random.seed, randint, shuffle,
// permutation), so the ARC builder makes the reference builder's random choices.
#include <doctest/doctest.h>

#include <gtrm/data/numpy_random.hpp>

#include <numeric>
#include <vector>

using gtrm::data::numpy_random;

TEST_CASE("numpy_random: seed 42 -- shuffle(list(range(400))), then randint(0, 8) + permutation(arange(1, 10))") {
  numpy_random r(42);
  std::vector<int> v(400);
  std::iota(v.begin(), v.end(), 0);
  r.shuffle(v.begin(), v.end());
  CHECK(std::vector<int>(v.begin(), v.begin() + 10) == std::vector<int>{209, 280, 33, 210, 93, 84, 329, 94, 266, 126});
  const int tids[5] = {7, 7, 3, 4, 1};
  const std::vector<int> perms[5] = {{6, 1, 2, 3, 9, 7, 8, 4, 5}, {8, 2, 1, 5, 9, 3, 7, 6, 4}, {8, 5, 6, 2, 4, 9, 7, 1, 3},
                                     {3, 2, 9, 8, 4, 1, 7, 6, 5}, {8, 3, 5, 4, 9, 6, 2, 7, 1}};
  for (int t = 0; t < 5; ++t) {
    CAPTURE(t);
    CHECK(r.randint(0, 8) == tids[t]);
    auto p = r.permutation(9);
    for (int& x : p) x += 1;
    CHECK(p == perms[t]);
  }
  // randint(0, 1) draws nothing; the others reject with a bit mask.
  const int expect[5][3] = {{0, 0, 15}, {0, 4, 6}, {0, 4, 21}, {0, 4, 22}, {0, 2, 11}};
  for (int t = 0; t < 5; ++t) {
    CAPTURE(t);
    const auto a = r.randint(0, 1);
    const auto b = r.randint(0, 5);
    const auto c = r.randint(0, 23);
    CHECK(a == expect[t][0]);
    CHECK(b == expect[t][1]);
    CHECK(c == expect[t][2]);
  }
}

TEST_CASE("numpy_random: translation offsets randint(0, 30 - k + 1) with seed 7; permutation(10) with seed 0") {
  numpy_random r(7);
  std::vector<long> got;
  for (int k : {1, 5, 12, 30, 29, 17}) got.push_back(static_cast<long>(r.randint(0, 30 - k + 1)));
  CHECK(got == std::vector<long>{15, 4, 3, 0, 1, 7});
  numpy_random r0(0);
  CHECK(r0.permutation(10) == std::vector<int>{2, 8, 4, 9, 1, 6, 7, 3, 0, 5});
  CHECK_THROWS_AS(r0.randint(3, 3), std::invalid_argument);
}
