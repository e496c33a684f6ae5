// HRM (model/hrm.hpp) and the transformer baseline (model/transformer.hpp): gradchecks in double of the
// whole recursion, the one-step gradient checked structurally (finite differences see through the no-grad
// applications, the one-step gradient by design does not), parameter counts (docs/reference.md §4), names,
// the halting rules and the Q-continue target through act_step, and training through the unchanged trainer.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/model/act.hpp>
#include <gtrm/model/hrm.hpp>
#include <gtrm/model/transformer.hpp>
#include <gtrm/train/trainer.hpp>

#include <cmath>
#include <random>

#include "gradcheck.hpp"

#include "reversal_task.hpp"

using namespace gtrm;

namespace {

// P = ceil(6 / 4) = 2 prefix slots by HRM's rule (puzzle_emb_len 0)
inline constexpr dims tiny{.vocab = 5, .seq = 4, .puzzle_emb_len = 0, .puzzle_emb_ndim = 6, .hidden = 4, .heads = 2, .expansion = 1};

template <cycles C, class Grad, int HL = 2, class Halt = halt::q_head_continue, class Mixer = mixer::attention<pos::rope>>
using tiny_hrm = hrm<tiny, C, HL, Mixer, Halt, cpu, Grad, double>;

struct problem {
  static constexpr index_t B = 2;
  std::vector<std::int32_t> inputs{1, 2, 3, 4, 0, 4, 4, 2}, pids{2, 0};
  std::vector<double> zh0, zl0, wl, wq;
  template <class M>
  explicit problem(const M&, std::uint64_t seed = 3) {
    std::mt19937_64 rng(seed);
    zh0 = testing::random_vector(B * M::L * M::D, rng);
    zl0 = testing::random_vector(B * M::L * M::D, rng);
    wl = testing::random_vector(B * M::S * M::V, rng);
    wq = testing::random_vector(2 * B, rng);
  }
  template <class M>
  double loss(const M& m, typename M::workspace& ws, std::vector<double> h, std::vector<double> l) const {
    const index_t n = B * M::L;
    m.forward(no_grad, ws, view<double, M::D>(h.data(), n), view<double, M::D>(l.data(), n), inputs.data(), pids.data(), B);
    double acc = 0;
    for (index_t i = 0; i < B * M::S * M::V; ++i) acc += wl[i] * ws.logits[i];
    for (index_t i = 0; i < 2 * B; ++i) acc += wq[i] * ws.q[i];
    return acc;
  }
  // grads of the model, then dlocal
  template <class M>
  std::vector<double> grads(M& m, std::vector<double> h, std::vector<double> l) const {
    typename M::workspace ws(B);
    const index_t n = B * M::L;
    m.forward(with_grad, ws, view<double, M::D>(h.data(), n), view<double, M::D>(l.data(), n), inputs.data(), pids.data(), B);
    std::copy(wl.begin(), wl.end(), ws.dlogits.begin());
    std::copy(wq.begin(), wq.end(), ws.dq.begin());
    m.zero_grads();
    for (auto& v : ws.dlocal) v = 0;
    m.backward(ws, inputs.data(), B);
    std::vector<double> out(m.grads().begin(), m.grads().end());
    out.insert(out.end(), ws.dlocal.begin(), ws.dlocal.begin() + B * M::E);
    return out;
  }
};

template <class M>
void perturb(M& m, std::uint64_t seed, double spread) {
  m.init(seed);
  std::mt19937_64 rng(seed + 50);
  std::normal_distribution<double> nd(0.0, spread), nd5(0.0, 0.5);
  for (auto& v : m.params()) v += nd(rng);
  for (auto& v : m.puzzle_table()) v += nd5(rng);
}

template <class M>
void check_gradient(double tol = 1e-6) {
  M m(3);
  perturb(m, 7, 0.05);
  problem pr(m);
  typename M::workspace ws(problem::B);
  const auto g = pr.grads(m, pr.zh0, pr.zl0);
  auto loss = [&] { return pr.loss(m, ws, pr.zh0, pr.zl0); };
  auto r = testing::gradcheck_spans({m.params().span()}, loss, {std::span<const double>(g.data(), m.params().size())}, 1e-6);
  INFO("params: rel = " << r.rel << ", |g| = " << r.norm);
  CHECK(r.rel < tol);
  std::vector<double> dtable(m.puzzle_table().size(), 0.0);
  const double* dlocal = g.data() + m.params().size();
  for (index_t b = 0; b < problem::B; ++b)
    for (int e = 0; e < M::E; ++e) dtable[pr.pids[b] * M::E + e] += dlocal[b * M::E + e];
  auto rp = testing::gradcheck_spans({m.puzzle_table().span()}, loss, {std::span<const double>(dtable)}, 1e-6);
  INFO("puzzle table: rel = " << rp.rel);
  CHECK(rp.rel < tol);
  std::printf("gradcheck %-14s params rel %.2e  puzzle rel %.2e\n", M::nets == 2 ? "hrm" : "transformer", r.rel, rp.rel);
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
TEST_CASE("gradcheck: hrm (H_level 2 blocks, L_level 1 block), grad::full_bptt") {
  check_gradient<tiny_hrm<cycles{.h = 2, .l = 2, .layers = 1, .max_act_steps = 3}, grad::full_bptt>>();
}
TEST_CASE("gradcheck: hrm with the token-MLP mixer, grad::full_bptt") {
  check_gradient<tiny_hrm<cycles{.h = 2, .l = 1, .layers = 2, .max_act_steps = 3}, grad::full_bptt, 1, halt::q_head_continue,
                          mixer::token_mlp<pos::none>>>();
}
TEST_CASE("gradcheck: transformer baseline (3 blocks), one application per ACT step") {
  check_gradient<transformer<tiny, cycles{.layers = 3, .max_act_steps = 3}, mixer::attention<pos::rope>, halt::q_compare, cpu, double>>();
}

TEST_CASE("hrm: the one-step gradient equals full back-propagation through the last z_L and z_H updates") {
  // With n = 1 the last two applications are exactly one cycle: advance T−1 cycles without gradient, then
  // back-propagate fully through a one-cycle model. Both networks are on the recorded path.
  tiny_hrm<cycles{.h = 3, .l = 1, .layers = 1}, grad::one_step> one(3);
  perturb(one, 4, 0.3);
  tiny_hrm<cycles{.h = 2, .l = 1, .layers = 1}, grad::full_bptt> first(3);
  tiny_hrm<cycles{.h = 1, .l = 1, .layers = 1}, grad::full_bptt> last(3);
  for (auto* m : {&first.params(), &last.params()}) std::copy(one.params().begin(), one.params().end(), m->begin());
  for (auto* m : {&first.puzzle_table(), &last.puzzle_table()}) std::copy(one.puzzle_table().begin(), one.puzzle_table().end(), m->begin());
  problem pr(one);
  const auto g_one = pr.grads(one, pr.zh0, pr.zl0);
  auto h = pr.zh0, l = pr.zl0;
  {
    using F = decltype(first);
    typename F::workspace ws(problem::B, false);
    first.forward(no_grad, ws, view<double, F::D>(h.data(), problem::B * F::L), view<double, F::D>(l.data(), problem::B * F::L),
                  pr.inputs.data(), pr.pids.data(), problem::B);
  }
  const auto g_full = pr.grads(last, h, l);
  CHECK(max_diff(g_one, g_full) < 1e-12);
  // and it is a truncation: the full-BPTT gradient of the same 3-cycle model differs
  tiny_hrm<cycles{.h = 3, .l = 1, .layers = 1}, grad::full_bptt> full(3);
  std::copy(one.params().begin(), one.params().end(), full.params().begin());
  std::copy(one.puzzle_table().begin(), one.puzzle_table().end(), full.puzzle_table().begin());
  CHECK(max_diff(pr.grads(full, pr.zh0, pr.zl0), g_one) > 1e-6);
  // both networks receive gradient
  using M = decltype(one);
  auto tensor_norm = [&](int idx) {
    const auto& s = M::layout[static_cast<std::size_t>(idx)];
    double a = 0;
    for (index_t i = 0; i < s.size(); ++i) a += std::abs(g_one[static_cast<std::size_t>(s.offset + i)]);
    return a;
  };
  CHECK(tensor_norm(M::layer_index(0, 0)) > 0);  // H_level
  CHECK(tensor_norm(M::layer_index(1, 0)) > 0);  // L_level
}

TEST_CASE("hrm: schedule, names and parameter count (docs/reference.md §4: 27,276,290 for ARC)") {
  static constexpr dims arc{.vocab = 12, .seq = 900, .puzzle_emb_len = 0, .hidden = 512, .heads = 8};
  using M = hrm<arc, hrm_cycles, 4, mixer::attention<pos::rope>, halt::q_head_continue, cpu>;
  CHECK(M::P == 1);
  CHECK(M::L == 901);
  CHECK(M::param_count == 27276290);
  CHECK(M::apps_per_step == 6);
  CHECK(M::recorded_apps == 2);   // the last z_L update and the last z_H update
  CHECK(M::first_recorded == 4);
  CHECK(M::layout.find("model.inner.H_level.layers.3.self_attn.qkv_proj.weight") >= 0);
  CHECK(M::layout.find("model.inner.L_level.layers.3.mlp.down_proj.weight") >= 0);
  CHECK(M::layout.find("model.inner.L_level.layers.4.mlp.down_proj.weight") < 0);
  CHECK(M::layout.count == 4 + 8 * 4);
  // net of each application: z_L updates on L_level (net 1), z_H updates on H_level (net 0)
  CHECK(M::net_of(0) == 1);
  CHECK(M::net_of(2) == 0);
  CHECK(M::net_of(5) == 0);
  // Sudoku (S 81, V 11): 2·11·512 + 1026 + 8 · 3,407,872
  static constexpr dims sudoku{.vocab = 11, .seq = 81, .puzzle_emb_len = 0, .hidden = 512, .heads = 8};
  CHECK(hrm<sudoku, hrm_cycles, 4, mixer::attention<pos::rope>, halt::q_head_continue, cpu>::param_count == 27275266);
  // the transformer baseline with 8 layers has the same parameter count as HRM's two 4-layer nets
  CHECK(transformer<sudoku, cycles{.layers = 8}, mixer::attention<pos::rope>, halt::q_compare, cpu>::param_count == 27275266);
  using X = transformer<sudoku, cycles{.layers = 8}, mixer::attention<pos::rope>, halt::q_compare, cpu>;
  CHECK(X::layout.find("model.inner.H_level.layers.7.self_attn.o_proj.weight") >= 0);
  CHECK(X::layout.find("model.inner.L_level.layers.0.self_attn.o_proj.weight") < 0);
  CHECK(X::apps_per_step == 1);
  CHECK(X::recorded_apps == 1);
}

TEST_CASE("transformer: one ACT step is z_H = f(z_H + x) through H_level; z_L is untouched") {
  using M = transformer<tiny, cycles{.layers = 2, .max_act_steps = 3}, mixer::attention<pos::rope>, halt::q_compare, cpu, double>;
  M m(3);
  perturb(m, 2, 0.2);
  problem pr(m);
  constexpr index_t B = problem::B, n = B * M::L;
  typename M::workspace ws(B);
  auto h = pr.zh0, l = pr.zl0;
  m.forward(no_grad, ws, view<double, M::D>(h.data(), n), view<double, M::D>(l.data(), n), pr.inputs.data(), pr.pids.data(), B);
  CHECK(l == pr.zl0);
  // recompute with the blocks directly
  arena a(1 << 20);
  std::array<block_saved<double, M::shape>, 2> sv;
  for (auto& s : sv) s.take(a, n);
  block_scratch<double, M::shape> sc;
  sc.take(a, n);
  auto in = a.take<double, M::D>(n);
  for (index_t i = 0; i < n * M::D; ++i) in[i] = pr.zh0[static_cast<std::size_t>(i)] + ws.x[i];
  std::vector<double> cosb(M::L * M::head_dim), sinb(cosb.size());
  ops::rope_tables<double, M::head_dim>(view<double, M::head_dim>(cosb.data(), M::L), view<double, M::head_dim>(sinb.data(), M::L),
                                        pos::rope::theta);
  cview<double, M::D> cur = in;
  for (int layer = 0; layer < 2; ++layer) {
    block_forward<M::shape>(cpu{}, M::block_views<const double>(m.params().data(), layer), cur, sv[layer], sc,
                            cview<double, M::head_dim>(cosb.data(), M::L), cview<double, M::head_dim>(sinb.data(), M::L));
    cur = sv[layer].h2;
  }
  double d = 0;
  for (index_t i = 0; i < n * M::D; ++i) d = std::max(d, std::abs(cur[i] - h[static_cast<std::size_t>(i)]));
  CHECK(d == 0.0);
}

// ---------------------------------------------------------------------------------------------------------
TEST_CASE("halting rules: q_head (q_halt > 0), q_head_continue and q_compare (q_halt > q_continue)") {
  // q_head weight 0, so q = bias for every row. (−1, −2): q_halt < 0 but q_halt > q_continue.
  auto halted_after_one_step = [](auto m) {
    using M = decltype(m);
    m.init(1);
    const auto& b = M::layout[static_cast<std::size_t>(M::idx_qb)];
    m.params()[b.offset] = -1;
    m.params()[b.offset + 1] = -2;
    constexpr index_t B = 2;
    typename M::workspace ws(B), extra(B, false);
    act_carry<M> c(B);
    act_scratch<M> sc(B);
    std::vector<std::int32_t> in{1, 2, 3, 4, 4, 3, 2, 1}, lab{4, 3, 2, 1, 1, 2, 3, 4}, pid{0, 1};
    std::mt19937_64 rng(0);
    m.zero_grads();
    const auto r = act_step(m, ws, c, batch_ref{in.data(), lab.data(), pid.data(), B}, sc,
                            act_options{.training = true, .exploration_prob = 0.0}, rng, &extra);
    return std::pair{r.all_halted, r.metrics.q_continue_loss};
  };
  using Tq = trm<tiny, cycles{.h = 1, .l = 1, .layers = 1, .max_act_steps = 4}, mixer::attention<>, gate::none, halt::q_head, cpu, grad::last_cycle, double>;
  using Hq = tiny_hrm<cycles{.h = 1, .l = 1, .layers = 1, .max_act_steps = 4}, grad::one_step, 1, halt::q_head_continue>;
  using Xq = transformer<tiny, cycles{.layers = 1, .max_act_steps = 4}, mixer::attention<>, halt::q_compare, cpu, double>;
  const auto [t_halted, t_qc] = halted_after_one_step(Tq(3));
  const auto [h_halted, h_qc] = halted_after_one_step(Hq(3));
  const auto [x_halted, x_qc] = halted_after_one_step(Xq(3));
  CHECK_FALSE(t_halted);
  CHECK(h_halted);
  CHECK(x_halted);
  CHECK(t_qc == 0.0);
  CHECK(x_qc == 0.0);  // the baseline computes no target
  // HRM: target = σ(max(q_halt', q_cont')) of the extra pass = σ(−1) (weight 0 ⇒ q' = bias), not the last step
  const double tgt = 1 / (1 + std::exp(1.0));                         // σ(−1)
  const double bce = std::log1p(std::exp(-2.0)) + 2.0 * tgt;           // BCE(logit −2, target tgt)
  CHECK(h_qc == doctest::Approx(2 * bce).epsilon(1e-9));              // two rows
}

namespace {
// The reversal task (reversal_task.hpp), as test_train_trainer.cpp.
inline constexpr dims toy_dims{.vocab = 6, .seq = 6, .puzzle_emb_len = 0, .puzzle_emb_ndim = 16, .hidden = 16, .heads = 2, .expansion = 2};
using toy_data = testing::reversal_task;

template <class M>
std::pair<double, double> train_toy(int steps) {
  toy_data data(1, steps);
  M m(1);
  m.init(0);
  train::train_config cfg{.global_batch_size = toy_data::B, .total_steps = steps, .lr = 3e-3, .lr_warmup_steps = 20,
                          .weight_decay = 0.01, .puzzle_emb_lr = 1e-2, .halt_exploration_prob = 0.1, .ema = false, .seed = 3};
  train::trainer<M> tr(m, cfg);
  double first = 0, last = 0;
  for (int k = 0; k < steps; ++k) {
    const auto r = tr.train_batch(data.batch(k));
    REQUIRE(std::isfinite(r.loss));
    if (k < 20) first += r.metrics.lm_loss;
    if (k >= steps - 20) last += r.metrics.lm_loss;
  }
  return {first, last};
}
}  // namespace

TEST_CASE("hrm and transformer train through the unchanged trainer (reversal task)") {
  using H = hrm<toy_dims, cycles{.h = 2, .l = 1, .layers = 1, .max_act_steps = 2}, 1, mixer::attention<pos::rope>,
                halt::q_head_continue, cpu>;
  using X = transformer<toy_dims, cycles{.layers = 2, .max_act_steps = 2}, mixer::attention<pos::rope>, halt::q_compare, cpu>;
  const auto [h0, h1] = train_toy<H>(800);
  const auto [x0, x1] = train_toy<X>(800);
  std::printf("reversal task, lm_loss over the first/last 20 steps: hrm %.3f -> %.3f, transformer %.3f -> %.3f\n",
              h0, h1, x0, x1);
  CHECK(h1 < 0.5 * h0);
  CHECK(x1 < 0.5 * x0);
}
