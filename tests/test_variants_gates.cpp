// The GTRM gates (docs/variants.md §1, §2; one header per gate in model/gates/): gradchecks in double with grad::full_bptt for every
// gate and for compositions; the truncated gradient with gates equals full back-propagation through the last
// cycle from the detached carry; every gate in its saturated/neutral limit reproduces the plain TRM (which
// also checks the [Q | G | K | V] column layout); documented initial values; parameter counts equal the
// formulas of docs/variants.md §1.5; state-dict names.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/model/act.hpp>
#include <gtrm/model/trm.hpp>

#include <cmath>
#include <random>

#include "gradcheck.hpp"
#include "model_gradcheck.hpp"

using namespace gtrm;

namespace {

inline constexpr dims tiny{.vocab = 5, .seq = 4, .puzzle_emb_len = 2, .puzzle_emb_ndim = 6, .hidden = 4, .heads = 2, .expansion = 1};
inline constexpr cycles tiny_cycles{.h = 2, .l = 2, .layers = 2, .max_act_steps = 3};

template <class Gate, class Mixer = mixer::attention<pos::rope>, class Grad = grad::full_bptt, cycles C = tiny_cycles>
using gated = trm<tiny, C, Mixer, Gate, halt::q_head, cpu, Grad, double>;

using hw = gate::attention<gate::headwise>;
using ew = gate::attention<gate::elementwise>;

// Loss = ⟨w_logits, logits⟩ + ⟨w_q, q⟩ after one inner forward from a fixed carry; checks parameters and
// the puzzle rows against central differences (as test_model_gradcheck.cpp).
template <class Model>
void check_gradient(const char* label, double tol = 1e-6) {
  testing::model_gradcheck<Model> g;
  const auto r = g.params();
  INFO("params: rel = " << r.rel << ", |g| = " << r.norm);
  CHECK(r.rel < tol);
  // the gate tensors on their own (a wrong gate gradient could hide in the norm of the whole buffer)
  for (std::size_t i = Model::idx_gate0; i < Model::layout.count; ++i) {
    const auto& s = Model::layout[i];
    const auto rg = g.params(s.offset, s.size());
    INFO(s.full_name() << ": rel = " << rg.rel << ", |g| = " << rg.norm);
    CHECK(rg.rel < tol);
  }
  if constexpr (Model::attn_gate_cols > 0) {  // the gate rows of every qkv_proj
    for (int layer = 0; layer < Model::layers; ++layer) {
      const auto& s = Model::layout[static_cast<std::size_t>(Model::layer_index(0, layer))];
      const auto rg = g.params(s.offset + Model::D * Model::D, Model::attn_gate_cols * Model::D);
      INFO("gate rows of layer " << layer << ": rel = " << rg.rel << ", |g| = " << rg.norm);
      CHECK(rg.rel < tol);
    }
  }
  const auto rp = g.puzzle_table();
  INFO("puzzle table: rel = " << rp.rel);
  CHECK(rp.rel < tol);
  std::printf("gradcheck %-58s rel %.2e\n", label, r.rel);
}

// Forward of one ACT step's inner recursion from a fixed carry: logits, q, z_H, z_L.
struct outputs {
  std::vector<double> logits, q, zh, zl;
};
template <class M>
outputs run(const M& m, std::uint64_t seed = 5) {
  constexpr index_t B = 2, n = B * M::L;
  typename M::workspace ws(B, false);
  std::vector<std::int32_t> inputs{1, 2, 3, 4, 0, 4, 4, 2}, pids{1, 2};
  std::mt19937_64 rng(seed);
  outputs o{{}, {}, testing::random_vector(n * M::D, rng), testing::random_vector(n * M::D, rng)};
  m.forward(no_grad, ws, view<double, M::D>(o.zh.data(), n), view<double, M::D>(o.zl.data(), n), inputs.data(), pids.data(), B);
  o.logits.assign(ws.logits.begin(), ws.logits.begin() + B * M::S * M::V);
  o.q.assign(ws.q.begin(), ws.q.begin() + 2 * B);
  return o;
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

// Copies every tensor the plain model has from the gated one (qkv_proj: the Q, K, V rows).
template <class Gated, class Plain>
void copy_shared(const Gated& g, Plain& p) {
  for (std::size_t i = 0; i < Plain::layout.count; ++i) {
    const auto& dst = Plain::layout[i];
    const auto& src = Gated::layout[i];
    REQUIRE(dst.full_name() == src.full_name());
    const double* s = g.params().data() + src.offset;
    double* d = p.params().data() + dst.offset;
    if (src.rows != dst.rows) {  // [Q | G | K | V] -> [Q | K | V]
      constexpr int D = Plain::D, G = Gated::attn_gate_cols;
      std::copy(s, s + D * D, d);
      std::copy(s + (D + G) * D, s + (3 * D + G) * D, d + D * D);
    } else {
      std::copy(s, s + src.size(), d);
    }
  }
  std::copy(g.puzzle_table().begin(), g.puzzle_table().end(), p.puzzle_table().begin());
}

template <class M>
M perturbed_model(std::uint64_t seed = 1) {
  M m(3);
  m.init(seed);
  std::mt19937_64 rng(seed + 100);
  std::normal_distribution<double> nd(0.0, 0.3);
  for (auto& v : m.params()) v += nd(rng);
  for (auto& v : m.puzzle_table()) v = nd(rng);
  return m;
}

template <class M>
std::span<double> param(M& m, const char* name) {
  const long i = M::layout.find(name);
  REQUIRE(i >= 0);
  const auto& s = M::layout[static_cast<std::size_t>(i)];
  return {m.params().data() + s.offset, static_cast<std::size_t>(s.size())};
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
TEST_CASE("gradcheck: context gate, scalar per call (GTRM main)") { check_gradient<gated<gate::context_scalar>>("context gate, scalar per call (GTRM main)"); }
TEST_CASE("gradcheck: context gate, per channel (GTRM inputGate)") { check_gradient<gated<gate::context_channel>>("context gate, per channel (GTRM inputGate)"); }
TEST_CASE("gradcheck: attention output gate, headwise") { check_gradient<gated<hw>>("attention output gate, headwise"); }
TEST_CASE("gradcheck: attention output gate, elementwise") { check_gradient<gated<ew>>("attention output gate, elementwise"); }
TEST_CASE("gradcheck: attention gate with learned positions") { check_gradient<gated<ew, mixer::attention<pos::learned>>>("attention gate with learned positions"); }
TEST_CASE("gradcheck: recurrent update gate") { check_gradient<gated<gate::recurrent<false>>>("recurrent update gate"); }
TEST_CASE("gradcheck: recurrent update + reset gate") { check_gradient<gated<gate::recurrent<true>>>("recurrent update + reset gate"); }
TEST_CASE("gradcheck: recurrent gate with the token-MLP mixer") { check_gradient<gated<gate::recurrent<true>, mixer::token_mlp<pos::none>>>("recurrent gate with the token-MLP mixer"); }
TEST_CASE("gradcheck: GTRM hybrid (elementwise attention + recurrent)") { check_gradient<gated<gate::all<ew, gate::recurrent<>>>>("GTRM hybrid (elementwise attention + recurrent)"); }
TEST_CASE("gradcheck: all three kinds at once (channel + headwise + recurrent with reset)") {
  check_gradient<gated<gate::all<gate::context_channel, hw, gate::recurrent<true>>>>("channel + headwise + recurrent/reset");
}
TEST_CASE("gradcheck: scalar context + elementwise attention + recurrent") {
  check_gradient<gated<gate::all<gate::context_scalar, ew, gate::recurrent<false>>>>("scalar + elementwise + recurrent");
}

// ---------------------------------------------------------------------------------------------------------
TEST_CASE("gates: grad::last_cycle equals full back-propagation through the last cycle from the detached carry") {
  using G = gate::all<gate::context_channel, hw, gate::recurrent<true>>;
  using trunc_t = gated<G, mixer::attention<pos::rope>, grad::last_cycle, cycles{.h = 3, .l = 2}>;
  using first_t = gated<G, mixer::attention<pos::rope>, grad::full_bptt, cycles{.h = 2, .l = 2}>;
  using last_t = gated<G, mixer::attention<pos::rope>, grad::full_bptt, cycles{.h = 1, .l = 2}>;
  auto trunc = perturbed_model<trunc_t>(4);
  first_t first(3);
  last_t last(3);
  std::copy(trunc.params().begin(), trunc.params().end(), first.params().begin());
  std::copy(trunc.params().begin(), trunc.params().end(), last.params().begin());
  for (auto* m : {&first.puzzle_table(), &last.puzzle_table()}) std::copy(trunc.puzzle_table().begin(), trunc.puzzle_table().end(), m->begin());
  constexpr index_t B = 2, n = B * trunc_t::L;
  std::vector<std::int32_t> inputs{1, 2, 3, 4, 0, 4, 4, 2}, pids{2, 0};
  std::mt19937_64 rng(8);
  const auto zh0 = testing::random_vector(n * trunc_t::D, rng), zl0 = testing::random_vector(n * trunc_t::D, rng);
  const auto wl = testing::random_vector(B * trunc_t::S * trunc_t::V, rng), wq = testing::random_vector(2 * B, rng);
  auto grads = [&](auto& m, std::vector<double> h, std::vector<double> l) {
    using M = std::remove_reference_t<decltype(m)>;
    typename M::workspace ws(B);
    m.forward(with_grad, ws, view<double, M::D>(h.data(), n), view<double, M::D>(l.data(), n), inputs.data(), pids.data(), B);
    std::copy(wl.begin(), wl.end(), ws.dlogits.begin());
    std::copy(wq.begin(), wq.end(), ws.dq.begin());
    m.zero_grads();
    for (auto& v : ws.dlocal) v = 0;
    m.backward(ws, inputs.data(), B);
    std::vector<double> out(m.grads().begin(), m.grads().end());
    out.insert(out.end(), ws.dlocal.begin(), ws.dlocal.begin() + B * M::E);
    return out;
  };
  const auto g_trunc = grads(trunc, zh0, zl0);
  auto h = zh0, l = zl0;
  {
    typename first_t::workspace ws(B, false);
    first.forward(no_grad, ws, view<double, first_t::D>(h.data(), n), view<double, first_t::D>(l.data(), n), inputs.data(), pids.data(), B);
  }
  const auto g_full = grads(last, h, l);
  CHECK(max_diff(g_trunc, g_full) < 1e-12);
}

// ---------------------------------------------------------------------------------------------------------
// Limits in which a gate is the identity: the gated model computes what the plain TRM computes.
TEST_CASE("gates: context gates with σ = 1 are the plain TRM, bit for bit") {
  using plain_t = gated<gate::none>;
  SUBCASE("scalar") {
    auto g = perturbed_model<gated<gate::context_scalar>>();
    for (auto& v : param(g, "model.inner.L_level.injection_gates")) v = 800;  // σ = 1 exactly in double
    plain_t p(3);
    copy_shared(g, p);
    const auto a = run(g), b = run(p);
    CHECK(a.logits == b.logits);
    CHECK(a.zh == b.zh);
    CHECK(a.zl == b.zl);
  }
  SUBCASE("per channel") {
    auto g = perturbed_model<gated<gate::context_channel>>();
    for (auto& v : param(g, "model.inner.L_level.context_gate.weight")) v = 0;
    for (auto& v : param(g, "model.inner.L_level.context_gate.bias")) v = 800;
    plain_t p(3);
    copy_shared(g, p);
    const auto a = run(g), b = run(p);
    CHECK(a.logits == b.logits);
    CHECK(a.zl == b.zl);
  }
}

TEST_CASE("gates: a recurrent gate with u = 1 is the plain TRM, bit for bit") {
  using plain_t = gated<gate::none>;
  auto g = perturbed_model<gated<gate::recurrent<true>>>();
  for (const char* cell : {"z_L", "z_H"}) {
    const std::string p = std::string("model.inner.") + cell + "_recurrence_gate.";
    for (auto& v : param(g, (p + "update_gate.weight").c_str())) v = 0;
    for (auto& v : param(g, (p + "update_gate.bias").c_str())) v = 800;
  }
  plain_t p(3);
  copy_shared(g, p);
  const auto a = run(g), b = run(p);
  CHECK(a.logits == b.logits);
  CHECK(a.zh == b.zh);
  CHECK(a.zl == b.zl);
}

TEST_CASE("gates: an attention gate with zero gate rows halves the attention branch ([Q | G | K | V] layout)") {
  // σ(0) = 1/2 on every head/channel: o_proj(o/2) = (W_o/2) o, so the plain model with halved o_proj weights
  // must agree. Copying Q, K, V from rows [0, D) and [D + G, 3D + G) checks the column layout.
  auto check = [](auto g) {
    using G = decltype(g);
    using plain_t = gated<gate::none>;
    for (int layer = 0; layer < G::layers; ++layer) {
      const auto& s = G::layout[static_cast<std::size_t>(G::layer_index(0, layer))];
      CHECK(s.rows == 3 * G::D + G::attn_gate_cols);
      std::fill_n(g.params().data() + s.offset + G::D * G::D, G::attn_gate_cols * G::D, 0.0);
    }
    plain_t p(3);
    copy_shared(g, p);
    for (int layer = 0; layer < plain_t::layers; ++layer) {
      const auto& s = plain_t::layout[static_cast<std::size_t>(plain_t::layer_index(0, layer) + 1)];  // o_proj
      for (index_t i = 0; i < s.size(); ++i) p.params()[s.offset + i] *= 0.5;
    }
    const auto a = run(g), b = run(p);
    CHECK(max_diff(a.logits, b.logits) < 1e-12);
    CHECK(max_diff(a.zh, b.zh) < 1e-12);
  };
  check(perturbed_model<gated<hw>>());
  check(perturbed_model<gated<ew>>());
}

TEST_CASE("gates: the scalar gate uses g_k for call k of every cycle (g_n for the z_H update)") {
  // Changing g_n (the z_H gate) leaves every z_L of the first cycle unchanged but changes z_H; with T = 1 and
  // the z_L-update gates saturated, the model equals the plain one exactly when g_n is saturated too.
  using M = gated<gate::context_scalar, mixer::attention<pos::rope>, grad::full_bptt, cycles{.h = 1, .l = 2}>;
  using plain_t = gated<gate::none, mixer::attention<pos::rope>, grad::full_bptt, cycles{.h = 1, .l = 2}>;
  auto g = perturbed_model<M>();
  auto gs = param(g, "model.inner.L_level.injection_gates");
  REQUIRE(gs.size() == 3);
  gs[0] = gs[1] = 800;
  gs[2] = 0;  // the z_H update sees z_H + z_L / 2
  plain_t p(3);
  copy_shared(g, p);
  const auto a = run(g), b = run(p);
  CHECK(a.zl == b.zl);        // z_L updates are ungated in effect
  CHECK(a.zh != b.zh);        // the z_H update is not
  gs[2] = 800;
  CHECK(run(g).zh == b.zh);
}

// ---------------------------------------------------------------------------------------------------------
TEST_CASE("gates: initial values are the documented ones") {
  static constexpr dims d64{.vocab = 11, .seq = 16, .puzzle_emb_len = 16, .puzzle_emb_ndim = 64, .hidden = 64, .heads = 4};
  using M = trm<d64, cycles{.h = 3, .l = 6}, mixer::attention<pos::rope>,
                gate::all<gate::context_channel, ew, gate::recurrent<true>>, halt::q_head, cpu>;
  using S = trm<d64, cycles{.h = 3, .l = 6}, mixer::attention<pos::rope>, gate::context_scalar, halt::q_head, cpu>;
  auto m = std::make_unique<M>(1);
  m->init(0);
  auto all_equal = [](std::span<const float> s, float v) { return std::all_of(s.begin(), s.end(), [&](float x) { return x == v; }); };
  auto get = [&](const char* name) {
    const auto& s = M::layout[static_cast<std::size_t>(M::layout.find(name))];
    return std::span<const float>(m->params().data() + s.offset, static_cast<std::size_t>(s.size()));
  };
  CHECK(all_equal(get("model.inner.L_level.context_gate.weight"), 0.0f));
  CHECK(all_equal(get("model.inner.L_level.context_gate.bias"), 2.0f));
  auto stats = [](std::span<const float> s) {
    double m2 = 0, mx = 0;
    for (float v : s) { m2 += double(v) * v; mx = std::max(mx, std::abs(double(v))); }
    return std::pair{std::sqrt(m2 / double(s.size())), mx};
  };
  for (const char* cell : {"z_L", "z_H"}) {
    const std::string p = std::string("model.inner.") + cell + "_recurrence_gate.";
    CHECK(all_equal(get((p + "update_gate.bias").c_str()), 0.0f));
    CHECK(all_equal(get((p + "reset_gate.bias").c_str()), 1.0f));
    for (const char* w : {"update_gate.weight", "reset_gate.weight"}) {
      const auto [sd, mx] = stats(get((p + w).c_str()));
      const double want = 1.0 / std::sqrt(3.0 * 64);   // truncated LeCun normal, fan_in 3D
      CHECK(sd == doctest::Approx(want).epsilon(0.03));
      CHECK(mx <= 2.2736945 * want * 1.0001);
    }
  }
  for (int layer = 0; layer < 2; ++layer) {  // the gate rows share qkv_proj's init: std 1/sqrt(D)
    const auto& s = M::layout[static_cast<std::size_t>(M::layer_index(0, layer))];
    const auto [sd, mx] = stats(std::span<const float>(m->params().data() + s.offset + 64 * 64, 64 * 64));
    CHECK(sd == doctest::Approx(1.0 / 8).epsilon(0.05));
    CHECK(mx <= 2.2736945 / 8 * 1.0001);
  }
  S s(1);
  s.init(0);
  const auto& gs = S::layout[static_cast<std::size_t>(S::layout.find("model.inner.L_level.injection_gates"))];
  CHECK(gs.size() == 7);
  CHECK(all_equal(std::span<const float>(s.params().data() + gs.offset, 7), 2.0f));
  CHECK(gates::sigmoid(2.0) == doctest::Approx(0.8807970779778823));
  // the plain model's draws are not disturbed by the existence of gate policies: same init as before
  using P = trm<d64, cycles{.h = 3, .l = 6}, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>;
  P a(1), b(1);
  a.init(5);
  b.init(5);
  CHECK(std::equal(a.params().begin(), a.params().end(), b.params().begin()));
}

// ---------------------------------------------------------------------------------------------------------
TEST_CASE("gates: parameter counts equal docs/variants.md §1.5 at the paper's Sudoku config") {
  static constexpr dims sudoku{.vocab = 11, .seq = 81, .hidden = 512, .heads = 8};
  static constexpr cycles c{.h = 3, .l = 6, .layers = 2};
  constexpr index_t H = 512, nh = 8, n = 6, layers = 2;
  using A = mixer::attention<pos::rope>;
  constexpr index_t base = trm<sudoku, c, A, gate::none, halt::q_head, cpu>::param_count;
  CHECK(base == 6828034);
  CHECK(trm<sudoku, c, A, gate::context_scalar, halt::q_head, cpu>::param_count - base == n + 1);
  CHECK(trm<sudoku, c, A, gate::context_channel, halt::q_head, cpu>::param_count - base == H * H + H);
  CHECK(trm<sudoku, c, A, hw, halt::q_head, cpu>::param_count - base == layers * H * nh);
  CHECK(trm<sudoku, c, A, ew, halt::q_head, cpu>::param_count - base == layers * H * H);
  CHECK(trm<sudoku, c, A, gate::recurrent<false>, halt::q_head, cpu>::param_count - base == 2 * (3 * H * H + H));
  CHECK(trm<sudoku, c, A, gate::recurrent<true>, halt::q_head, cpu>::param_count - base == 4 * (3 * H * H + H));
  // the table's numbers
  CHECK(trm<sudoku, c, A, gate::context_channel, halt::q_head, cpu>::param_count - base == 262656);
  CHECK(trm<sudoku, c, A, hw, halt::q_head, cpu>::param_count - base == 8192);
  CHECK(trm<sudoku, c, A, ew, halt::q_head, cpu>::param_count - base == 524288);
  CHECK(trm<sudoku, c, A, gate::recurrent<false>, halt::q_head, cpu>::param_count - base == 1573888);
  CHECK(trm<sudoku, c, A, gate::recurrent<true>, halt::q_head, cpu>::param_count - base == 3147776);
  // a composition costs the sum of its parts
  CHECK(trm<sudoku, c, A, gate::all<ew, gate::recurrent<false>>, halt::q_head, cpu>::param_count - base == 524288 + 1573888);
  CHECK(trm<sudoku, c, A, gate::all<gate::context_scalar, hw, gate::recurrent<true>>, halt::q_head, cpu>::param_count - base ==
        7 + 8192 + 3147776);
  // the token-MLP model takes the context and recurrent gates too
  CHECK(trm<sudoku, c, mixer::token_mlp<>, gate::recurrent<false>, halt::q_head, cpu>::param_count == 5028866 + 1573888);
}

TEST_CASE("gates: state-dict names and shapes follow GTRM's modules") {
  using M = gated<gate::all<gate::context_channel, hw, gate::recurrent<true>>>;
  auto shape = [](const char* name) {
    const long i = M::layout.find(name);
    REQUIRE(i >= 0);
    return std::pair{M::layout[static_cast<std::size_t>(i)].rows, M::layout[static_cast<std::size_t>(i)].cols};
  };
  CHECK(shape("model.inner.L_level.layers.0.self_attn.qkv_proj.weight") == std::pair<index_t, index_t>{3 * 4 + 2, 4});
  CHECK(shape("model.inner.L_level.layers.1.self_attn.qkv_proj.weight") == std::pair<index_t, index_t>{3 * 4 + 2, 4});
  CHECK(shape("model.inner.L_level.context_gate.weight") == std::pair<index_t, index_t>{4, 4});
  CHECK(shape("model.inner.L_level.context_gate.bias") == std::pair<index_t, index_t>{4, 1});
  for (const char* cell : {"z_L", "z_H"})
    for (const char* g : {"update_gate", "reset_gate"}) {
      const std::string p = std::string("model.inner.") + cell + "_recurrence_gate." + g;
      CHECK(shape((p + ".weight").c_str()) == std::pair<index_t, index_t>{4, 12});
      CHECK(shape((p + ".bias").c_str()) == std::pair<index_t, index_t>{4, 1});
    }
  CHECK(gated<gate::context_scalar>::layout.find("model.inner.L_level.injection_gates") >= 0);
  CHECK(gated<gate::context_scalar>::layout[gated<gate::context_scalar>::idx_ctx].size() == tiny_cycles.l + 1);
  CHECK(gated<ew>::layout[0].full_name() == "model.inner.embed_tokens.embedding_weight");
  CHECK(M::layout.count == gated<gate::none>::layout.count + 2 + 8);
}

TEST_CASE("gates: one ACT step with every gate trains through act_step") {
  using M = trm<tiny, tiny_cycles, mixer::attention<pos::rope>, gate::all<gate::context_scalar, ew, gate::recurrent<true>>,
                halt::q_head, cpu, grad::last_cycle, float>;
  M m(3);
  m.init(1);
  constexpr index_t B = 2;
  typename M::workspace ws(B);
  act_carry<M> c(B);
  act_scratch<M> sc(B);
  std::vector<std::int32_t> in{1, 2, 3, 4, 4, 3, 2, 1}, lab{4, 3, 2, 1, 1, 2, 3, 4}, pid{0, 1};
  std::mt19937_64 rng(0);
  m.zero_grads();
  const auto r = act_step(m, ws, c, batch_ref{in.data(), lab.data(), pid.data(), B}, sc, act_options{}, rng);
  CHECK(std::isfinite(r.loss));
  double gnorm = 0;
  const auto& gs = M::layout[static_cast<std::size_t>(M::idx_ctx)];
  for (index_t i = 0; i < gs.size(); ++i) gnorm += std::abs(m.grads()[gs.offset + i]);
  CHECK(gnorm > 0);  // the injection gates receive gradient through the recorded cycle
}
