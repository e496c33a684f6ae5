// numpy's legacy global RNG (np.random.seed / randint / shuffle / permutation, i.e. RandomState) reproduced draw
// for draw, so that a builder seeded like the reference's (np.random.seed(42)) makes the same choices.
// Why this is possible: RandomState is MT19937 seeded by init_genrand (the same as std::mt19937(seed)); randint
// draws 32-bit words with a bit mask and rejection (numpy keeps the "masked" method for RandomState for backward
// compatibility), and shuffle walks i = n-1 .. 1 swapping with random_interval(i), the same masked rejection.
// A range of 0 (randint(a, a+1)) draws nothing, as numpy. Ranges wider than 32 bits are refused: numpy would switch
// to 64-bit words there and nothing here needs them.
#pragma once
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

namespace gtrm::data {

class numpy_random {
 public:
  explicit numpy_random(std::uint32_t seed) : mt_(seed) {}

  std::uint32_t next_uint32() { return static_cast<std::uint32_t>(mt_()); }

  // A value in [0, max], numpy's random_interval / buffered_bounded_masked_uint32.
  std::uint32_t interval(std::uint32_t max) {
    if (max == 0) return 0;
    std::uint32_t mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    std::uint32_t v = 0;
    while ((v = next_uint32() & mask) > max) {
    }
    return v;
  }

  // np.random.randint(low, high): a value in [low, high).
  std::int64_t randint(std::int64_t low, std::int64_t high) {
    if (high <= low) throw std::invalid_argument("numpy_random::randint: empty range (low >= high)");
    const std::uint64_t range = static_cast<std::uint64_t>(high - low - 1);
    if (range > 0xFFFFFFFFull) throw std::invalid_argument("numpy_random::randint: range wider than 32 bits");
    if (range == 0xFFFFFFFFull) return low + next_uint32();
    return low + interval(static_cast<std::uint32_t>(range));
  }

  // np.random.shuffle of a sequence (list or 1-d array): Fisher-Yates from the back.
  template <class RandomIt>
  void shuffle(RandomIt first, RandomIt last) {
    const auto n = last - first;
    if (n > 0xFFFFFFFFll) throw std::invalid_argument("numpy_random::shuffle: sequence too long");
    for (auto i = n - 1; i >= 1; --i) {
      const auto j = static_cast<decltype(n)>(interval(static_cast<std::uint32_t>(i)));
      using std::swap;
      swap(first[i], first[j]);
    }
  }

  // np.random.permutation(n): a shuffled arange(n).
  std::vector<int> permutation(int n) {
    std::vector<int> p(static_cast<std::size_t>(n));
    std::iota(p.begin(), p.end(), 0);
    shuffle(p.begin(), p.end());
    return p;
  }

 private:
  std::mt19937 mt_;
};

}  // namespace gtrm::data
