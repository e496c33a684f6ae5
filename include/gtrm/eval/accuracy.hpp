// Exact and token accuracy over (predictions, labels) rows, as the reference's ACTLossHead metrics
// (docs/reference.md §2.3, §6.1): labels equal to the ignore label (-100 after collation) are not scored; a row with
// no scored token is not counted at all; a row is exact when every scored token matches; token accuracy is the mean
// over counted rows of (matching scored tokens / scored tokens). This is the paper's Sudoku / Maze metric.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../core/types.hpp"  // ignore_label

namespace gtrm::eval {

struct accuracy {
  std::size_t count = 0;     // rows with at least one scored token
  std::size_t exact = 0;     // rows whose scored tokens all match
  double token_sum = 0.0;    // sum over counted rows of their token accuracy
  std::size_t tokens = 0;    // scored tokens
  std::size_t correct = 0;   // matching scored tokens

  double exact_accuracy() const { return count ? static_cast<double>(exact) / static_cast<double>(count) : 0.0; }
  // The reference's "accuracy": the mean of per-row token accuracies.
  double token_accuracy() const { return count ? token_sum / static_cast<double>(count) : 0.0; }
  // Pooled over all scored tokens (rows weighted by length), for reports that want it.
  double pooled_token_accuracy() const { return tokens ? static_cast<double>(correct) / static_cast<double>(tokens) : 0.0; }

  // Adds `rows` rows of `seq_len` tokens; P and L are any integer types (argmax ids, int32 labels with -100).
  template <class P, class L>
  accuracy& add(const P* preds, const L* labels, std::size_t rows, std::size_t seq_len,
                long long ignore = ignore_label) {
    for (std::size_t r = 0; r < rows; ++r) {
      std::size_t n = 0, ok = 0;
      for (std::size_t t = 0; t < seq_len; ++t) {
        const auto l = static_cast<long long>(labels[r * seq_len + t]);
        if (l == ignore) continue;
        ++n;
        ok += static_cast<long long>(preds[r * seq_len + t]) == l;
      }
      if (n == 0) continue;
      ++count;
      exact += ok == n;
      token_sum += static_cast<double>(ok) / static_cast<double>(n);
      tokens += n;
      correct += ok;
    }
    return *this;
  }

  accuracy& operator+=(const accuracy& o) {
    count += o.count;
    exact += o.exact;
    token_sum += o.token_sum;
    tokens += o.tokens;
    correct += o.correct;
    return *this;
  }
  // As doubles, for summing over ranks with one all-reduce (counts are exact in doubles below 2^53).
  static constexpr std::size_t packed_size = 5;
  void pack(double* v) const {
    v[0] = static_cast<double>(count); v[1] = static_cast<double>(exact); v[2] = token_sum;
    v[3] = static_cast<double>(tokens); v[4] = static_cast<double>(correct);
  }
  void unpack(const double* v) {
    count = static_cast<std::size_t>(v[0]); exact = static_cast<std::size_t>(v[1]); token_sum = v[2];
    tokens = static_cast<std::size_t>(v[3]); correct = static_cast<std::size_t>(v[4]);
  }
};

}  // namespace gtrm::eval
