// Central finite differences in double for gtrm's gradchecks.
// A check perturbs every element of every input, evaluates loss() at θ ± h, and compares with the analytic
// gradient; the score is ‖g − ĝ‖ / ‖g + ĝ‖ over all inputs together (the criterion, < 1e-6).
#pragma once
#include <cmath>
#include <functional>
#include <random>
#include <span>
#include <vector>

namespace gtrm::testing {

inline std::vector<double> random_vector(std::size_t n, std::mt19937_64& rng, double scale = 1.0) {
  std::normal_distribution<double> d(0.0, scale);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

struct gradcheck_result {
  double rel = 0;        // ‖g − ĝ‖ / ‖g + ĝ‖
  double norm = 0;       // ‖ĝ‖, so a vanishing gradient is visible
};

inline gradcheck_result gradcheck_spans(const std::vector<std::span<double>>& inputs, const std::function<double()>& loss,
                                        const std::vector<std::span<const double>>& analytic, double h = 1e-5) {
  double diff2 = 0, sum2 = 0, norm2 = 0;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    auto x = inputs[k];
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double keep = x[i];
      x[i] = keep + h;
      const double lp = loss();
      x[i] = keep - h;
      const double lm = loss();
      x[i] = keep;
      const double fd = (lp - lm) / (2 * h);
      const double g = analytic[k][i];
      diff2 += (g - fd) * (g - fd);
      sum2 += (g + fd) * (g + fd);
      norm2 += fd * fd;
    }
  }
  if (norm2 == 0) return {1.0, 0.0};
  return {std::sqrt(diff2 / sum2), std::sqrt(norm2)};
}

// Vectors of op inputs: the same check over spans of them.
inline gradcheck_result gradcheck(const std::vector<std::vector<double>*>& inputs, const std::function<double()>& loss,
                                  const std::vector<std::vector<double>>& analytic, double h = 1e-5) {
  std::vector<std::span<double>> in;
  std::vector<std::span<const double>> an;
  for (auto* v : inputs) in.emplace_back(*v);
  for (const auto& a : analytic) an.emplace_back(a);
  return gradcheck_spans(in, loss, an, h);
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace gtrm::testing
