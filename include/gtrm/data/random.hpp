// Seeded random numbers for the dataset builders, the generators and the loader.
// Why not std::uniform_int_distribution / std::shuffle: their algorithms are implementation-defined, so one seed would
// give different datasets under libstdc++ and libc++. std::mt19937_64's raw output is fixed by the standard, and
// everything drawn here is derived from it by fixed arithmetic, so a seed means the same data on every platform.
// (The reference draws from numpy's unseeded global stream; reproducing it is neither possible nor attempted.)
#pragma once
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

namespace gtrm::data {

class rng {
 public:
  explicit rng(std::uint64_t seed) : eng_(seed) {}

  std::uint64_t next() { return eng_(); }

  // Uniform in [0, n), n > 0. Rejection of the low 2^64 mod n values keeps it exactly uniform.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t threshold = (0 - n) % n;
    for (;;) {
      const std::uint64_t r = eng_();
      if (r >= threshold) return r % n;
    }
  }

  // Uniform in [lo, hi), lo < hi (numpy's Generator.integers(lo, hi) range convention).
  std::int64_t integers(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo)));
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(eng_() >> 11) * 0x1.0p-53; }

  // Fisher-Yates over [first, first + n).
  template <class T>
  void shuffle(T* first, std::size_t n) {
    for (std::size_t i = n; i > 1; --i) std::swap(first[i - 1], first[below(i)]);
  }

  // A random permutation of 0..n-1.
  std::vector<int> permutation(int n) {
    std::vector<int> p(static_cast<std::size_t>(n));
    std::iota(p.begin(), p.end(), 0);
    shuffle(p.data(), p.size());
    return p;
  }

 private:
  std::mt19937_64 eng_;
};

}  // namespace gtrm::data
