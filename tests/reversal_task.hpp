// The reversal task the trainer tests learn: labels are the inputs reversed, tokens 1..5 (no PAD), six per example,
// one puzzle id (0). Batches of 16, generated from a seed.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include <gtrm/model/act.hpp>

namespace gtrm::testing {

struct reversal_task {
  static constexpr int B = 16, seq = 6;
  std::vector<std::int32_t> inputs, labels, ids;
  reversal_task(std::uint64_t seed, int n_batches) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> tok(1, 5);
    for (int i = 0; i < n_batches * B; ++i) {
      std::int32_t x[seq];
      for (auto& t : x) t = tok(rng);
      for (int s = 0; s < seq; ++s) {
        inputs.push_back(x[s]);
        labels.push_back(x[seq - 1 - s]);
      }
      ids.push_back(0);
    }
  }
  batch_ref batch(int k) const { return {inputs.data() + k * B * seq, labels.data() + k * B * seq, ids.data() + k * B, B}; }
};

}  // namespace gtrm::testing
