// Every op's backward against central finite differences in double: ‖g − ĝ‖/‖g + ĝ‖ < 1e-6.
// The scalar checked is ⟨w, forward(θ)⟩ for a fixed random w, so backward is called with dy = w.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>

#include "gradcheck.hpp"

using namespace gtrm;
using gtrm::testing::gradcheck;
using gtrm::testing::random_vector;
using vecd = std::vector<double>;

namespace {
const cpu be{};
constexpr double tol = 1e-6;
std::mt19937_64 rng_for(int seed) { return std::mt19937_64(1234 + seed); }

template <int C>
cview<double, C> cv(const vecd& v) { return cview<double, C>(v.data(), static_cast<index_t>(v.size()) / C); }
template <int C>
view<double, C> mv(vecd& v) { return view<double, C>(v.data(), static_cast<index_t>(v.size()) / C); }
}  // namespace

TEST_CASE("gradcheck: linear") {
  constexpr int In = 5, Out = 3, N = 4;
  auto rng = rng_for(1);
  vecd x = random_vector(N * In, rng), w = random_vector(Out * In, rng), b = random_vector(Out, rng);
  vecd proj = random_vector(N * Out, rng), y(N * Out);
  auto loss = [&] {
    ops::linear_forward<cpu, double, In, Out>(be, cv<In>(x), cv<In>(w), cv<1>(b), mv<Out>(y));
    return gtrm::testing::dot(y, proj);
  };
  vecd dx(x.size()), dw(w.size()), db(b.size());
  ops::linear_backward<cpu, double, In, Out>(be, cv<In>(x), cv<In>(w), cv<Out>(proj), mv<In>(dx), mv<In>(dw),
                                             mv<1>(db));
  auto r = gradcheck({&x, &w, &b}, loss, {dx, dw, db});
  CHECK(r.rel < tol);
  CHECK(r.norm > 0);
}

TEST_CASE("gradcheck: embedding") {
  constexpr int D = 4, V = 6, N = 7;
  auto rng = rng_for(2);
  vecd w = random_vector(V * D, rng), proj = random_vector(N * D, rng), y(N * D);
  std::vector<std::int32_t> ids{0, 3, 3, 5, 1, 0, 3};  // repeats must accumulate
  const double scale = 1.7;
  auto loss = [&] {
    ops::embedding_forward<cpu, double, D>(be, cv<D>(w), ids.data(), scale, mv<D>(y));
    return gtrm::testing::dot(y, proj);
  };
  vecd dw(w.size());
  ops::embedding_backward<cpu, double, D>(be, ids.data(), scale, cv<D>(proj), mv<D>(dw));
  auto r = gradcheck({&w}, loss, {dw});
  CHECK(r.rel < tol);
}

TEST_CASE("gradcheck: sparse puzzle embedding (zero-padded prefix)") {
  constexpr int E = 6, P = 3, D = 4, B = 3;  // 6 values in 3 slots of 4: slot 0 full, slot 1 half, slot 2 zero
  auto rng = rng_for(3);
  vecd table = random_vector(5 * E, rng), proj = random_vector(B * P * D, rng), prefix(B * P * D), local(B * E);
  std::vector<std::int32_t> ids{4, 1, 4};
  const double scale = 2.0;
  // The gradient is taken with respect to each row's local copy, as in the reference.
  vecd loc_in(B * E);
  auto loss = [&] {
    // forward from the local copies: equals the table path, whose rows were copied into loc_in
    for (int b = 0; b < B; ++b)
      for (int e = 0; e < P * D; ++e) prefix[b * P * D + e] = e < E ? scale * loc_in[b * E + e] : 0.0;
    return gtrm::testing::dot(prefix, proj);
  };
  ops::puzzle_prefix_forward<E, P, D, P, cpu, double>(be, cv<E>(table), ids.data(), mv<E>(local), scale, mv<D>(prefix));
  loc_in = local;
  for (int b = 0; b < B; ++b)
    for (int e = 0; e < E; ++e) CHECK(local[b * E + e] == table[ids[b] * E + e]);
  for (int b = 0; b < B; ++b)
    for (int e = E; e < P * D; ++e) CHECK(prefix[b * P * D + e] == 0.0);
  vecd dlocal(B * E);
  ops::puzzle_prefix_backward<E, P, D, P, cpu, double>(be, cv<D>(proj), scale, mv<E>(dlocal));
  auto r = gradcheck({&loc_in}, loss, {dlocal});
  CHECK(r.rel < tol);
}

TEST_CASE("gradcheck: rms_norm") {
  constexpr int C = 7, N = 5;
  auto rng = rng_for(4);
  vecd x = random_vector(N * C, rng), proj = random_vector(N * C, rng), y(N * C), rstd(N);
  auto loss = [&] {
    ops::rms_norm_forward<cpu, double, C>(be, cv<C>(x), mv<C>(y), mv<1>(rstd));
    return gtrm::testing::dot(y, proj);
  };
  loss();
  vecd dx(x.size());
  ops::rms_norm_backward<cpu, double, C>(be, cv<C>(y), cv<1>(rstd), cv<C>(proj), mv<C>(dx));
  auto r = gradcheck({&x}, loss, {dx});
  CHECK(r.rel < tol);
}

TEST_CASE("gradcheck: swiglu activation") {
  constexpr int I = 6, N = 3;
  auto rng = rng_for(5);
  vecd gu = random_vector(N * 2 * I, rng), proj = random_vector(N * I, rng), s(N * I);
  auto loss = [&] {
    ops::swiglu_forward<cpu, double, I>(be, cv<2 * I>(gu), mv<I>(s));
    return gtrm::testing::dot(s, proj);
  };
  vecd dgu(gu.size());
  ops::swiglu_backward<cpu, double, I>(be, cv<2 * I>(gu), cv<I>(proj), mv<2 * I>(dgu));
  CHECK(gradcheck({&gu}, loss, {dgu}).rel < tol);
}

TEST_CASE("gradcheck: swiglu mlp") {
  constexpr int In = 5, I = 8, Out = 4, N = 3;
  auto rng = rng_for(6);
  vecd x = random_vector(N * In, rng), wgu = random_vector(2 * I * In, rng, 0.5), wd = random_vector(Out * I, rng, 0.5);
  vecd proj = random_vector(N * Out, rng), y(N * Out), gu(N * 2 * I), s(N * I), ds(N * I), dgu(N * 2 * I);
  auto loss = [&] {
    ops::swiglu_mlp_forward<cpu, double, In, I, Out>(be, cv<In>(x), cv<In>(wgu), cv<I>(wd), mv<2 * I>(gu), mv<I>(s),
                                                     mv<Out>(y));
    return gtrm::testing::dot(y, proj);
  };
  loss();
  vecd dx(x.size()), dwgu(wgu.size()), dwd(wd.size());
  ops::swiglu_mlp_backward<cpu, double, In, I, Out>(be, cv<In>(x), cv<In>(wgu), cv<I>(wd), cv<2 * I>(gu), cv<Out>(proj),
                                                    mv<I>(s), mv<I>(ds), mv<2 * I>(dgu), mv<In>(dx), mv<In>(dwgu),
                                                    mv<I>(dwd));
  CHECK(gradcheck({&x, &wgu, &wd}, loss, {dx, dwgu, dwd}).rel < tol);
}

TEST_CASE("gradcheck: rope") {
  constexpr int L = 5, Heads = 2, Hd = 4, W = 3 * Heads * Hd, B = 2;
  auto rng = rng_for(7);
  vecd cos_t(L * Hd), sin_t(L * Hd);
  ops::rope_tables<double, Hd>(mv<Hd>(cos_t), mv<Hd>(sin_t));
  vecd x = random_vector(B * L * W, rng), proj = random_vector(B * L * W, rng), y;
  auto loss = [&] {
    y = x;
    ops::rope_apply<L, Heads, Hd>(be, mv<W>(y), cv<Hd>(cos_t), cv<Hd>(sin_t));
    return gtrm::testing::dot(y, proj);
  };
  vecd dx = proj;
  ops::rope_apply<L, Heads, Hd, true>(be, mv<W>(dx), cv<Hd>(cos_t), cv<Hd>(sin_t));
  CHECK(gradcheck({&x}, loss, {dx}).rel < tol);
  // V is not rotated, position 0 is the identity
  loss();
  for (int c = 0; c < W; ++c) CHECK(y[c] == doctest::Approx(x[c]).epsilon(1e-15));
  for (int r = 0; r < B * L; ++r)
    for (int c = 2 * Heads * Hd; c < W; ++c) CHECK(y[r * W + c] == x[r * W + c]);
}

TEST_CASE("gradcheck: attention") {
  constexpr int L = 5, Heads = 2, Hd = 3, D = Heads * Hd, B = 2;
  auto rng = rng_for(8);
  vecd qkv = random_vector(B * L * 3 * D, rng), proj = random_vector(B * L * D, rng), o(B * L * D), lse(B * L * Heads);
  auto loss = [&] {
    ops::attention_forward<L, Heads, Hd, cpu, double>(be, cv<3 * D>(qkv), mv<D>(o), mv<Heads>(lse));
    return gtrm::testing::dot(o, proj);
  };
  loss();
  vecd dqkv(qkv.size());
  ops::attention_backward<L, Heads, Hd, cpu, double>(be, cv<3 * D>(qkv), cv<D>(o), cv<Heads>(lse), cv<D>(proj),
                                                    mv<3 * D>(dqkv));
  CHECK(gradcheck({&qkv}, loss, {dqkv}).rel < tol);
}

TEST_CASE("gradcheck: token_mlp (mlp_t, norm over the sequence axis)") {
  constexpr int L = 5, D = 3, It = 4, B = 2;
  auto rng = rng_for(9);
  vecd h = random_vector(B * L * D, rng), wgu = random_vector(2 * It * L, rng, 0.5), wd = random_vector(L * It, rng, 0.5);
  vecd proj = random_vector(B * L * D, rng), out(B * L * D);
  vecd u(B * D * L), gu(B * D * 2 * It), t(B * D * L), rstd(B * D), s(B * D * It), ds(B * D * It), dgu(B * D * 2 * It),
      m(B * D * L), dr(B * D * L);
  ops::token_mlp_saved<double, L, It> sv{mv<L>(u), mv<2 * It>(gu), mv<L>(t), mv<1>(rstd)};
  ops::token_mlp_scratch<double, L, It> sc{mv<It>(s), mv<It>(ds), mv<2 * It>(dgu), mv<L>(m), mv<L>(dr)};
  auto loss = [&] {
    ops::token_mlp_forward<L, It, cpu, double, D>(be, cv<D>(h), cv<L>(wgu), cv<It>(wd), sv, sc, mv<D>(out));
    return gtrm::testing::dot(out, proj);
  };
  loss();
  vecd dh(h.size()), dwgu(wgu.size()), dwd(wd.size());
  ops::token_mlp_backward<L, It, cpu, double, D>(be, cv<L>(wgu), cv<It>(wd), sv, sc, cv<D>(proj), mv<D>(dh),
                                                 mv<L>(dwgu), mv<It>(dwd));
  CHECK(gradcheck({&h, &wgu, &wd}, loss, {dh, dwgu, dwd}).rel < tol);
  // the norm runs over the sequence axis: every (sample, channel) column of the output has unit RMS
  loss();
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < D; ++c) {
      double ss = 0;
      for (int l = 0; l < L; ++l) ss += out[(b * L + l) * D + c] * out[(b * L + l) * D + c];
      CHECK(ss / L == doctest::Approx(1.0).epsilon(1e-4));
    }
}

TEST_CASE("gradcheck: transpose") {
  constexpr int R = 3, C = 4, B = 2;
  auto rng = rng_for(10);
  vecd x = random_vector(B * R * C, rng), proj = random_vector(B * R * C, rng), y(B * R * C);
  auto loss = [&] {
    ops::transpose<R>(be, cv<C>(x), mv<R>(y));
    return gtrm::testing::dot(y, proj);
  };
  vecd dx(x.size());
  ops::transpose<C, true>(be, cv<R>(proj), mv<C>(dx));
  CHECK(gradcheck({&x}, loss, {dx}).rel < tol);
}

template <bool Stable>
static void check_xent() {
  constexpr int V = 5, N = 6;
  auto rng = rng_for(11);
  vecd x = random_vector(N * V, rng, 2.0), ce(N);
  std::vector<std::int32_t> labels{0, 4, ignore_label, 2, 2, 1};
  vecd w = random_vector(N, rng);
  auto loss = [&] {
    if constexpr (Stable) ops::stablemax_xent_forward<cpu, double, V>(be, cv<V>(x), labels.data(), ce.data());
    else ops::softmax_xent_forward<cpu, double, V>(be, cv<V>(x), labels.data(), ce.data());
    return gtrm::testing::dot(ce, w);
  };
  vecd dx(x.size());
  if constexpr (Stable) ops::stablemax_xent_backward<cpu, double, V>(be, cv<V>(x), labels.data(), w.data(), mv<V>(dx));
  else ops::softmax_xent_backward<cpu, double, V>(be, cv<V>(x), labels.data(), w.data(), mv<V>(dx));
  CHECK(gradcheck({&x}, loss, {dx}).rel < tol);
  loss();
  CHECK(ce[2] == 0.0);  // ignored label
  for (int v = 0; v < V; ++v) CHECK(dx[2 * V + v] == 0.0);
}

TEST_CASE("gradcheck: stablemax_xent") { check_xent<true>(); }
TEST_CASE("gradcheck: softmax_xent") { check_xent<false>(); }

TEST_CASE("gradcheck: bce_logits") {
  auto rng = rng_for(12);
  vecd x = random_vector(6, rng, 3.0), t{0, 1, 0.5, 1, 0, 0.25};
  const double w = 0.7;
  auto loss = [&] { return w * ops::bce_logits_forward(x.data(), t.data(), 6); };
  vecd dx(6);
  ops::bce_logits_backward(x.data(), t.data(), w, 6, dx.data());
  CHECK(gradcheck({&x}, loss, {dx}).rel < tol);
}

// ---- forward values against hand-computed numbers ----

TEST_CASE("forward: swiglu intermediate size follows the reference rule") {
  CHECK(swiglu_intermediate(512, 4) == 1536);   // round(1365.33) = 1365 -> 1536
  CHECK(swiglu_intermediate(97, 4) == 512);     // 258.67 -> 259 -> 512
  CHECK(swiglu_intermediate(916, 4) == 2560);   // 2442.67 -> 2443 -> 2560
  CHECK(swiglu_intermediate(64, 4) == 256);
  CHECK(swiglu_intermediate(32, 4) == 256);
}

TEST_CASE("forward: stablemax, softmax and bce on hand-computed values") {
  // logits (0, 1, -1): s = (1, 2, 0.5), sum 3.5; label 1 -> -log(2/3.5)
  const double x[3] = {0, 1, -1};
  std::int32_t y = 1;
  double ce = 0;
  ops::stablemax_xent_forward<cpu, double, 3>(be, cview<double, 3>(x, 1), &y, &ce);
  CHECK(ce == doctest::Approx(-std::log(2.0 / 3.5)).epsilon(1e-14));
  ops::softmax_xent_forward<cpu, double, 3>(be, cview<double, 3>(x, 1), &y, &ce);
  CHECK(ce == doctest::Approx(std::log(1 + std::exp(1.0) + std::exp(-1.0)) - 1.0).epsilon(1e-14));
  CHECK(ops::bce_logits_forward(0.0, 1.0) == doctest::Approx(std::log(2.0)));
  CHECK(ops::bce_logits_forward(-5.0, 0.0) == doctest::Approx(std::log1p(std::exp(-5.0))));
}

TEST_CASE("forward: rms_norm and rope tables") {
  const double x[4] = {1, 2, 3, 4};
  double y[4], r;
  ops::rms_norm_forward<cpu, double, 4>(be, cview<double, 4>(x, 1), view<double, 4>(y, 1), view<double, 1>(&r, 1));
  const double expect = 1.0 / std::sqrt(30.0 / 4 + 1e-5);
  CHECK(r == doctest::Approx(expect).epsilon(1e-14));
  CHECK(y[3] == doctest::Approx(4 * expect).epsilon(1e-14));
  double c[3 * 4], s[3 * 4];
  ops::rope_tables<double, 4>(view<double, 4>(c, 3), view<double, 4>(s, 3));
  CHECK(c[2 * 4 + 0] == doctest::Approx(std::cos(2.0)));          // k = 0: inv_freq 1
  CHECK(s[2 * 4 + 1] == doctest::Approx(std::sin(2.0 / 100.0)));  // k = 1: 10000^(-2/4) = 1/100
  CHECK(c[2 * 4 + 3] == c[2 * 4 + 1]);                             // duplicated halves
}

TEST_CASE("forward: attention equals a naive softmax(QKᵀ/√d)V") {
  constexpr int L = 4, Heads = 2, Hd = 2, D = 4;
  auto rng = rng_for(13);
  vecd qkv = random_vector(L * 3 * D, rng), o(L * D), lse(L * Heads);
  ops::attention_forward<L, Heads, Hd, cpu, double>(be, cv<3 * D>(qkv), mv<D>(o), mv<Heads>(lse));
  for (int h = 0; h < Heads; ++h)
    for (int i = 0; i < L; ++i) {
      double sc[L], mx = -1e300, sum = 0;
      for (int j = 0; j < L; ++j) {
        sc[j] = 0;
        for (int c = 0; c < Hd; ++c) sc[j] += qkv[i * 3 * D + h * Hd + c] * qkv[j * 3 * D + D + h * Hd + c];
        sc[j] /= std::sqrt(double(Hd));
        mx = std::max(mx, sc[j]);
      }
      for (int j = 0; j < L; ++j) sum += std::exp(sc[j] - mx);
      for (int c = 0; c < Hd; ++c) {
        double acc = 0;
        for (int j = 0; j < L; ++j) acc += std::exp(sc[j] - mx) / sum * qkv[j * 3 * D + 2 * D + h * Hd + c];
        CHECK(o[i * D + h * Hd + c] == doctest::Approx(acc).epsilon(1e-12));
      }
    }
}
