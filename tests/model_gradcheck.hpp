// The whole-model gradcheck fixture (double, tiny TRM-shaped models), shared by test_model_gradcheck and the variant
// tests: weights near the reference init plus a small spread, a fixed random carry, and
//   loss = ⟨w_logits, logits⟩ + ⟨w_q, q⟩ after one inner forward (one ACT step's recursion),
// with the analytic gradients from forward(with_grad) + backward, compared with central differences of loss().
// A small spread keeps the recursion well conditioned: with a large one the activations grow and central
// differences are dominated by their O(h²) truncation error (the error then falls 100× per 10× smaller h).
#pragma once
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include <gtrm/core/grad_mode.hpp>
#include <gtrm/core/view.hpp>

#include "gradcheck.hpp"

namespace gtrm::testing {

template <class Model>
class model_gradcheck {
 public:
  static constexpr index_t B = 2;
  static constexpr index_t n = B * Model::L;
  static_assert(Model::S == 4, "the fixture's batch is two puzzles of 4 tokens");

  // init(7), then N(0, spread) on every parameter and N(0, 0.5) on the puzzle table (which also breaks the q head's
  // zero init); analytic gradients are computed here.
  explicit model_gradcheck(double spread = 0.05, double fd_step = 1e-6) : m(3), ws(B), h_(fd_step) {
    m.init(7);
    std::normal_distribution<double> nd(0.0, spread), nd5(0.0, 0.5);
    for (auto& v : m.params()) v += nd(rng_);
    for (auto& v : m.puzzle_table()) v += nd5(rng_);
    zh0_ = random_vector(n * Model::D, rng_);
    zl0_ = random_vector(n * Model::D, rng_);
    wl_ = random_vector(B * Model::S * Model::V, rng_);
    wq_ = random_vector(B * 2, rng_);
    run(with_grad);
    for (index_t i = 0; i < B * Model::S * Model::V; ++i) ws.dlogits[i] = wl_[i];
    for (index_t i = 0; i < B * 2; ++i) ws.dq[i] = wq_[i];
    m.zero_grads();
    for (auto& v : ws.dlocal) v = 0;
    m.backward(ws, inputs.data(), B);
  }

  double loss() {
    run(no_grad);
    double acc = 0;
    for (index_t i = 0; i < B * Model::S * Model::V; ++i) acc += wl_[i] * ws.logits[i];
    for (index_t i = 0; i < B * 2; ++i) acc += wq_[i] * ws.q[i];
    return acc;
  }

  // Every parameter at once, or params [offset, offset + len) on their own (a wrong gradient of a small tensor
  // could hide in the norm of the whole buffer).
  gradcheck_result params() { return params(0, m.params().size()); }
  gradcheck_result params(index_t offset, index_t len) {
    std::span<double> p(m.params().data() + offset, static_cast<std::size_t>(len));
    std::span<const double> g(m.grads().data() + offset, p.size());
    return gradcheck_spans({p}, [this] { return loss(); }, {g}, h_);
  }
  // The puzzle-table rows: every id appears once in the batch, so d table[id] = dlocal[row].
  gradcheck_result puzzle_table() {
    std::vector<double> dtable(static_cast<std::size_t>(m.puzzle_table().size()), 0.0);
    for (index_t b = 0; b < B; ++b)
      for (int e = 0; e < Model::E; ++e) dtable[static_cast<std::size_t>(pids[b] * Model::E + e)] += ws.dlocal(b, e);
    return gradcheck_spans({m.puzzle_table().span()}, [this] { return loss(); }, {std::span<const double>(dtable)}, h_);
  }

  Model m;
  typename Model::workspace ws;
  std::vector<std::int32_t> inputs{1, 2, 3, 4, 0, 4, 4, 2}, pids{2, 0};

 private:
  template <class Mode>
  void run(Mode mode) {
    zh_ = zh0_;
    zl_ = zl0_;
    m.forward(mode, ws, view<double, Model::D>(zh_.data(), n), view<double, Model::D>(zl_.data(), n), inputs.data(),
              pids.data(), B);
  }

  double h_;
  std::mt19937_64 rng_{99};
  std::vector<double> zh0_, zl0_, wl_, wq_, zh_, zl_;
};

}  // namespace gtrm::testing
