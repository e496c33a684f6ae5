// gate::context_headwise (model/gates/context_headwise.hpp): one injection gate per call and attention head.
// A double-precision whole-model gradcheck (grad::full_bptt, as tests/test_variants_gates.cpp), alone and
// composed with the other sites' gates; with equal values across heads it is gate::context_scalar; its tensor's
// name, shape and initial value.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/model/gates/context_headwise.hpp>
#include <gtrm/model/trm.hpp>

#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "gradcheck.hpp"
#include "model_gradcheck.hpp"

using namespace gtrm;

namespace {

inline constexpr dims tiny{.vocab = 5, .seq = 4, .puzzle_emb_len = 2, .puzzle_emb_ndim = 6, .hidden = 4, .heads = 2, .expansion = 1};
inline constexpr cycles tiny_cycles{.h = 2, .l = 2, .layers = 2, .max_act_steps = 3};

template <class Gate>
using gated = trm<tiny, tiny_cycles, mixer::attention<pos::rope>, Gate, halt::q_head, cpu, grad::full_bptt, double>;

constexpr const char* gate_name = "model.inner.L_level.injection_head_gates";

template <class Model>
void check_gradient(const char* label) {
  testing::model_gradcheck<Model> g;
  const auto r = g.params();
  INFO("params: rel = " << r.rel);
  CHECK(r.rel < 1e-6);
  const auto& s = Model::layout[static_cast<std::size_t>(Model::layout.find(gate_name))];
  const auto rg = g.params(s.offset, s.size());  // the gate tensor on its own
  INFO("injection_head_gates: rel = " << rg.rel << ", |g| = " << rg.norm);
  CHECK(rg.norm > 0);
  CHECK(rg.rel < 1e-6);
  const auto rp = g.puzzle_table();
  CHECK(rp.rel < 1e-6);
  std::printf("gradcheck %-58s rel %.2e (gate tensor %.2e)\n", label, r.rel, rg.rel);
}

template <class M>
std::vector<double> params_of(const M& m, const char* name) {
  const auto& s = M::layout[static_cast<std::size_t>(M::layout.find(name))];
  return {m.params().data() + s.offset, m.params().data() + s.offset + s.size()};
}

}  // namespace

TEST_CASE("gradcheck: context gate, per head") { check_gradient<gated<gate::context_headwise>>("context gate, per head"); }
TEST_CASE("gradcheck: context gate per head + elementwise attention + recurrent with reset") {
  check_gradient<gated<gate::all<gate::context_headwise, gate::attention<gate::elementwise>, gate::recurrent<true>>>>(
      "per-head context + elementwise + recurrent/reset");
}

TEST_CASE("context_headwise: name, shape [n+1, heads], init 2.0") {
  using M = gated<gate::context_headwise>;
  const long i = M::layout.find(gate_name);
  REQUIRE(i >= 0);
  CHECK(M::layout[static_cast<std::size_t>(i)].rows == tiny_cycles.l + 1);
  CHECK(M::layout[static_cast<std::size_t>(i)].cols == tiny.heads);
  CHECK(M::param_count - gated<gate::none>::param_count == (tiny_cycles.l + 1) * tiny.heads);
  M m(3);
  m.init(0);
  const auto g = params_of(m, gate_name);
  CHECK(std::all_of(g.begin(), g.end(), [](double v) { return v == 2.0; }));
}

TEST_CASE("context_headwise: equal values across heads give context_scalar") {
  using H = gated<gate::context_headwise>;
  using S = gated<gate::context_scalar>;
  H h(3);
  S s(3);
  s.init(7);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> nd(0.0, 0.3);
  for (auto& v : s.params()) v += nd(rng);
  for (auto& v : s.puzzle_table()) v = nd(rng);
  // every tensor but the gate is shared by name; row k of the per-head gate = g_k of the scalar gate
  for (std::size_t i = 0; i < H::layout.count; ++i) {
    const auto& d = H::layout[i];
    if (static_cast<int>(i) == H::idx_inject) continue;
    const auto& src = S::layout[static_cast<std::size_t>(S::layout.find(d.full_name()))];
    std::copy_n(s.params().data() + src.offset, src.size(), h.params().data() + d.offset);
  }
  std::copy(s.puzzle_table().begin(), s.puzzle_table().end(), h.puzzle_table().begin());
  const auto& hs = H::layout[static_cast<std::size_t>(H::idx_inject)];
  const auto& ss = S::layout[static_cast<std::size_t>(S::idx_inject)];
  for (int k = 0; k <= tiny_cycles.l; ++k)
    for (int hd = 0; hd < tiny.heads; ++hd) h.params()[hs.offset + k * tiny.heads + hd] = s.params()[ss.offset + k];

  constexpr index_t B = 2, n = B * H::L;
  std::vector<std::int32_t> inputs{1, 2, 3, 4, 0, 4, 4, 2}, pids{1, 2};
  const auto zh0 = testing::random_vector(n * H::D, rng), zl0 = testing::random_vector(n * H::D, rng);
  const auto wl = testing::random_vector(B * H::S * H::V, rng), wq = testing::random_vector(2 * B, rng);
  struct result { std::vector<double> logits, zh, zl, grads; };
  auto step = [&](auto& m) {
    using M = std::remove_reference_t<decltype(m)>;
    typename M::workspace ws(B);
    result r{{}, zh0, zl0, {}};
    m.forward(with_grad, ws, view<double, M::D>(r.zh.data(), n), view<double, M::D>(r.zl.data(), n), inputs.data(),
              pids.data(), B);
    r.logits.assign(ws.logits.begin(), ws.logits.begin() + B * M::S * M::V);
    std::copy(wl.begin(), wl.end(), ws.dlogits.begin());
    std::copy(wq.begin(), wq.end(), ws.dq.begin());
    m.zero_grads();
    for (auto& v : ws.dlocal) v = 0;
    m.backward(ws, inputs.data(), B);
    r.grads.assign(m.grads().begin(), m.grads().end());
    return r;
  };
  const result rh = step(h), rs = step(s);
  CHECK(rh.logits == rs.logits);  // the same forward, bit for bit
  CHECK(rh.zh == rs.zh);
  CHECK(rh.zl == rs.zl);
  for (std::size_t i = 0; i < H::layout.count; ++i) {  // every other gradient is the same too
    if (static_cast<int>(i) == H::idx_inject) continue;
    const auto& d = H::layout[i];
    const auto& src = S::layout[static_cast<std::size_t>(S::layout.find(d.full_name()))];
    INFO(d.full_name());
    CHECK(std::equal(rh.grads.begin() + d.offset, rh.grads.begin() + d.offset + d.size(), rs.grads.begin() + src.offset));
  }
  for (int k = 0; k <= tiny_cycles.l; ++k) {  // and the scalar gate's gradient is the sum over heads
    double sum = 0;
    for (int hd = 0; hd < tiny.heads; ++hd) sum += rh.grads[static_cast<std::size_t>(hs.offset + k * tiny.heads + hd)];
    CHECK(sum == doctest::Approx(rs.grads[static_cast<std::size_t>(ss.offset + k)]).epsilon(1e-12));
  }
}
