// Structural facts of the model: truncated gradients equal full back-propagation from the detached carry,
// no-grad and with-grad forwards agree exactly, smaller batches than planned work, parameter counts.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/model/trm.hpp>

#include <random>

using namespace gtrm;

namespace {

inline constexpr dims tiny{.vocab = 5, .seq = 4, .puzzle_emb_len = 2, .puzzle_emb_ndim = 6, .hidden = 4, .heads = 2, .expansion = 1};

template <cycles C, class G>
using tiny_trm = trm<tiny, C, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu, G, double>;

struct fixture {
  static constexpr index_t B = 2;
  std::vector<std::int32_t> inputs{1, 2, 3, 4, 0, 4, 4, 2}, pids{2, 0};
  std::vector<double> zh, zl, wl, wq;
  std::mt19937_64 rng{5};
  template <class M>
  void setup(M& m) {
    m.init(11);
    std::normal_distribution<double> nd(0.0, 0.3);
    for (auto& v : m.params()) v += nd(rng);
    for (auto& v : m.puzzle_table()) v += nd(rng);
    const index_t n = B * M::L;
    zh.resize(n * M::D);
    zl.resize(n * M::D);
    for (auto& v : zh) v = nd(rng);
    for (auto& v : zl) v = nd(rng);
    wl.resize(B * M::S * M::V);
    wq.resize(B * 2);
    for (auto& v : wl) v = nd(rng);
    for (auto& v : wq) v = nd(rng);
  }
  // One with-grad step; returns grads and dlocal.
  template <class M>
  std::pair<std::vector<double>, std::vector<double>> grads(M& m, std::vector<double> h, std::vector<double> l) {
    typename M::workspace ws(B);
    const index_t n = B * M::L;
    m.forward(with_grad, ws, view<double, M::D>(h.data(), n), view<double, M::D>(l.data(), n), inputs.data(), pids.data(), B);
    for (index_t i = 0; i < B * M::S * M::V; ++i) ws.dlogits[i] = wl[i];
    for (index_t i = 0; i < B * 2; ++i) ws.dq[i] = wq[i];
    m.zero_grads();
    for (auto& v : ws.dlocal) v = 0;
    m.backward(ws, inputs.data(), B);
    return {std::vector<double>(m.grads().begin(), m.grads().end()),
            std::vector<double>(ws.dlocal.begin(), ws.dlocal.begin() + B * M::E)};
  }
  // Runs C's cycles without gradient, advancing zh, zl.
  template <class M>
  void advance(M& m, std::vector<double>& h, std::vector<double>& l) {
    typename M::workspace ws(B);
    const index_t n = B * M::L;
    m.forward(no_grad, ws, view<double, M::D>(h.data(), n), view<double, M::D>(l.data(), n), inputs.data(), pids.data(), B);
  }
};

template <class A, class B>
void copy_weights(const A& a, B& b) {
  std::copy(a.params().begin(), a.params().end(), b.params().begin());
  std::copy(a.puzzle_table().begin(), a.puzzle_table().end(), b.puzzle_table().begin());
}

double rel(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0, n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) { d += (a[i] - b[i]) * (a[i] - b[i]); n += b[i] * b[i]; }
  return std::sqrt(d / n);
}

}  // namespace

TEST_CASE("grad::last_cycle equals full back-propagation through one cycle from the detached carry") {
  fixture f;
  tiny_trm<cycles{.h = 3, .l = 2}, grad::last_cycle> trunc(3);
  f.setup(trunc);
  tiny_trm<cycles{.h = 2, .l = 2}, grad::full_bptt> first_cycles(3);   // the T−1 cycles, no grad
  tiny_trm<cycles{.h = 1, .l = 2}, grad::full_bptt> last_cycle(3);     // the last one, full grad
  copy_weights(trunc, first_cycles);
  copy_weights(trunc, last_cycle);
  auto [g_trunc, l_trunc] = f.grads(trunc, f.zh, f.zl);
  auto h = f.zh, l = f.zl;
  f.advance(first_cycles, h, l);
  auto [g_full, l_full] = f.grads(last_cycle, h, l);
  CHECK(rel(g_trunc, g_full) < 1e-12);
  CHECK(rel(l_trunc, l_full) < 1e-12);
}

TEST_CASE("grad::one_step records only the last z_L and z_H updates") {
  // With n = 1 a cycle is exactly one z_L and one z_H update, so one_step is the last cycle.
  fixture f;
  tiny_trm<cycles{.h = 3, .l = 1}, grad::one_step> one(3);
  f.setup(one);
  tiny_trm<cycles{.h = 2, .l = 1}, grad::full_bptt> first(3);
  tiny_trm<cycles{.h = 1, .l = 1}, grad::full_bptt> last(3);
  copy_weights(one, first);
  copy_weights(one, last);
  auto [g_one, l_one] = f.grads(one, f.zh, f.zl);
  auto h = f.zh, l = f.zl;
  f.advance(first, h, l);
  auto [g_full, l_full] = f.grads(last, h, l);
  CHECK(rel(g_one, g_full) < 1e-12);
  CHECK(tiny_trm<cycles{.h = 2, .l = 2}, grad::one_step>::recorded_apps == 2);
  CHECK(tiny_trm<cycles{.h = 3, .l = 6}, grad::last_cycle>::recorded_apps == 7);
}

TEST_CASE("model: no-grad and with-grad forwards give identical values") {
  using M = trm<tiny, cycles{.h = 2, .l = 2}, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu, grad::last_cycle, float>;
  M m(3);
  m.init(3);
  constexpr index_t B = 2, n = B * M::L;
  typename M::workspace ws(B);
  std::vector<std::int32_t> inputs{1, 2, 3, 4, 0, 4, 4, 2}, pids{1, 2};
  std::vector<float> zh1(n * M::D), zl1(n * M::D);
  for (index_t i = 0; i < n * M::D; ++i) { zh1[i] = float(std::sin(0.1 * i)); zl1[i] = float(std::cos(0.07 * i)); }
  auto zh2 = zh1, zl2 = zl1;
  m.forward(no_grad, ws, view<float, M::D>(zh1.data(), n), view<float, M::D>(zl1.data(), n), inputs.data(), pids.data(), B);
  std::vector<float> logits1(ws.logits.begin(), ws.logits.begin() + B * M::S * M::V), q1(ws.q.begin(), ws.q.begin() + 2 * B);
  m.forward(with_grad, ws, view<float, M::D>(zh2.data(), n), view<float, M::D>(zl2.data(), n), inputs.data(), pids.data(), B);
  CHECK(zh1 == zh2);
  CHECK(zl1 == zl2);
  CHECK(std::equal(logits1.begin(), logits1.end(), ws.logits.begin()));
  CHECK(std::equal(q1.begin(), q1.end(), ws.q.begin()));
}

TEST_CASE("model: a batch smaller than the workspace's gives the same rows as a full one") {
  using M = trm<tiny, cycles{.h = 2, .l = 2}, mixer::token_mlp<pos::none>, gate::none, halt::q_head, cpu, grad::last_cycle, double>;
  M m(3);
  m.init(4);
  typename M::workspace big(4), small(1);
  std::vector<std::int32_t> inputs{1, 2, 3, 4, 0, 4, 4, 2, 1, 1, 1, 1, 3, 3, 3, 3}, pids{1, 2, 0, 1};
  const index_t n = 4 * M::L;
  std::vector<double> zh(n * M::D, 0.1), zl(n * M::D, -0.2);
  auto zh1 = zh, zl1 = zl;
  m.forward(with_grad, big, view<double, M::D>(zh.data(), n), view<double, M::D>(zl.data(), n), inputs.data(), pids.data(), 4);
  m.forward(with_grad, small, view<double, M::D>(zh1.data(), M::L), view<double, M::D>(zl1.data(), M::L), inputs.data(), pids.data(), 1);
  for (index_t i = 0; i < M::S * M::V; ++i) CHECK(small.logits[i] == doctest::Approx(big.logits[i]).epsilon(1e-12));
  CHECK_THROWS_AS(m.forward(no_grad, small, view<double, M::D>(zh.data(), n), view<double, M::D>(zl.data(), n), inputs.data(), pids.data(), 2),
                  std::invalid_argument);
}

TEST_CASE("model: parameter counts equal the reference's (docs/reference.md §4)") {
  static constexpr dims sudoku{.vocab = 11, .seq = 81, .hidden = 512, .heads = 8};
  static constexpr dims maze{.vocab = 6, .seq = 900, .hidden = 512, .heads = 8};
  static constexpr dims arc{.vocab = 12, .seq = 900, .hidden = 512, .heads = 8};
  static constexpr cycles c{.h = 3, .l = 6};
  CHECK(trm<sudoku, c, mixer::attention<>, gate::none, halt::q_head, cpu>::param_count == 6828034);
  CHECK(trm<sudoku, c, mixer::token_mlp<>, gate::none, halt::q_head, cpu>::param_count == 5028866);
  CHECK(trm<maze, c, mixer::attention<>, gate::none, halt::q_head, cpu>::param_count == 6822914);
  CHECK(trm<maze, c, mixer::token_mlp<>, gate::none, halt::q_head, cpu>::param_count == 18795522);
  CHECK(trm<arc, c, mixer::attention<>, gate::none, halt::q_head, cpu>::param_count == 6829058);
  CHECK(trm<arc, c, mixer::token_mlp<>, gate::none, halt::q_head, cpu>::param_count == 18801666);
}
