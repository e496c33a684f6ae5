// Whole-model gradchecks in double: the whole recursion of one ACT step with grad::full_bptt (every
// application recorded) against central finite differences, for each mixer and positional encoding.
// The truncated policies (last_cycle, one_step) are checked structurally in test_model_structure.cpp:
// finite differences see through the no-grad cycles, the truncated gradient by design does not.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/model/trm.hpp>

#include "gradcheck.hpp"

using namespace gtrm;

namespace {
// Weights near the reference init plus a small spread keep the recursion well conditioned: with a large
// spread the activations grow and central differences are dominated by their O(h²) truncation error
// (measured: the error then falls 100× per 10× smaller h, the signature of truncation, not of a wrong gradient).
constexpr double H = 1e-6, SP = 0.05;

inline constexpr dims tiny{.vocab = 5, .seq = 4, .puzzle_emb_len = 2, .puzzle_emb_ndim = 6, .hidden = 4, .heads = 2, .expansion = 1};
inline constexpr cycles tiny_cycles{.h = 2, .l = 2, .layers = 2, .max_act_steps = 3};

// Loss = ⟨w_logits, logits⟩ + ⟨w_q, q⟩ after one inner forward from a fixed carry.
template <class Model>
void check_model_gradient(double tol, double fd_step, double spread) {
  constexpr index_t B = 2;
  Model m(3);
  m.init(7);
  std::mt19937_64 rng(99);
  auto perturb = [&](std::span<double> s, double scale) {
    std::normal_distribution<double> nd(0.0, scale);
    for (auto& v : s) v += nd(rng);
  };
  perturb(m.params().span(), spread);             // break the q_head zeros / bias −5 symmetry
  perturb(m.puzzle_table().span(), 0.5);
  typename Model::workspace ws(B);
  std::vector<std::int32_t> inputs{1, 2, 3, 4, 0, 4, 4, 2};
  std::vector<std::int32_t> pids{2, 0};
  const index_t n = B * Model::L;
  std::vector<double> zh0 = testing::random_vector(n * Model::D, rng), zl0 = testing::random_vector(n * Model::D, rng);
  std::vector<double> wl = testing::random_vector(B * Model::S * Model::V, rng), wq = testing::random_vector(B * 2, rng);
  std::vector<double> zh, zl;
  auto loss = [&] {
    zh = zh0;
    zl = zl0;
    m.forward(no_grad, ws, view<double, Model::D>(zh.data(), n), view<double, Model::D>(zl.data(), n), inputs.data(),
              pids.data(), B);
    double acc = 0;
    for (index_t i = 0; i < B * Model::S * Model::V; ++i) acc += wl[i] * ws.logits[i];
    for (index_t i = 0; i < B * 2; ++i) acc += wq[i] * ws.q[i];
    return acc;
  };
  zh = zh0;
  zl = zl0;
  m.forward(with_grad, ws, view<double, Model::D>(zh.data(), n), view<double, Model::D>(zl.data(), n), inputs.data(),
            pids.data(), B);
  for (index_t i = 0; i < B * Model::S * Model::V; ++i) ws.dlogits[i] = wl[i];
  for (index_t i = 0; i < B * 2; ++i) ws.dq[i] = wq[i];
  m.zero_grads();
  for (auto& v : ws.dlocal) v = 0;
  m.backward(ws, inputs.data(), B);
  auto r = testing::gradcheck_spans({m.params().span()}, loss, {std::span<const double>(m.grads().span())}, fd_step);
  INFO("params: rel = " << r.rel << ", |g| = " << r.norm);
  CHECK(r.rel < tol);
  // puzzle rows: every id appears once in this batch, so d table[id] = dlocal[row]
  if constexpr (Model::E > 0) {
    std::vector<double> dtable(m.puzzle_table().size(), 0.0);
    for (index_t b = 0; b < B; ++b)
      for (int e = 0; e < Model::E; ++e) dtable[pids[b] * Model::E + e] += ws.dlocal(b, e);
    auto rp = testing::gradcheck_spans({m.puzzle_table().span()}, loss, {std::span<const double>(dtable)}, fd_step);
    INFO("puzzle table: rel = " << rp.rel);
    CHECK(rp.rel < tol);
  }
}

}  // namespace

TEST_CASE("gradcheck: trm attention+rope, grad::full_bptt") {
  check_model_gradient<trm<tiny, tiny_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu, grad::full_bptt, double>>(1e-6, H, SP);
}
TEST_CASE("gradcheck: trm attention+learned positions, grad::full_bptt") {
  check_model_gradient<trm<tiny, tiny_cycles, mixer::attention<pos::learned>, gate::none, halt::q_head, cpu, grad::full_bptt, double>>(1e-6, H, SP);
}
TEST_CASE("gradcheck: trm token_mlp (mlp_t), grad::full_bptt") {
  check_model_gradient<trm<tiny, tiny_cycles, mixer::token_mlp<pos::none>, gate::none, halt::q_head, cpu, grad::full_bptt, double>>(1e-6, H, SP);
}

