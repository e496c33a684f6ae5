// The op tests that run on both backends. Each body builds its inputs on the host from fixed seeds, hands them to a
// harness H (host memory for cpu, device memory for cuda), runs the op's forward and backward (or an optimizer's
// steps) and returns every output and gradient as doubles. Gradient buffers start from random values, not zero, so
// the check covers backward's accumulate (+=) semantics.
// test_cuda_ops.cu runs each body with the cuda harness and compares with the same body run by the cpu harness in
// cuda_parity_cpu.cpp, a g++ translation unit (Eigen never meets nvcc).
// Include before or after the backend's umbrella header (<gtrm/cpu.hpp> or <gtrm/cuda.cuh>): ops find their backend
// bodies by argument-dependent lookup on the tag.
//
// A harness H provides:
//   using backend_type;  backend_type be;
//   tensor<T> put(const std::vector<T>&)     memory the backend's ops read and write, holding a copy
//   std::vector<T> get(tensor<T>)            back to the host, after all work queued so far
//   make_adam_atan2<T>(hparams, n), make_adamw<T>(hparams, n)
//                                            optimizer objects with step(be, span params, span grads, lr)
//   make_ema<T>(rate), make_sign_sgd<T>(hparams, width, max_batch)
//                                            the EMA (register_params(be, θ) / update(be, θ) / shadow) and the
//                                            puzzle table's optimizer (step(be, table, grads, host ids, lr))
// The optimizers are the same classes on both backends (train/optimizer.hpp), with the backend's storage.
#pragma once
#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtrm/gtrm.hpp>

namespace gtrm::parity {

template <class T>
struct tensor {
  T* p = nullptr;
  index_t n = 0;
  template <int C>
  view<T, C> v() const { return view<T, C>(p, n / C); }
  template <int C>
  cview<T, C> c() const { return cview<T, C>(p, n / C); }
  std::span<T> span() const { return {p, static_cast<std::size_t>(n)}; }
};

struct output {
  std::string name;
  std::vector<double> values;
  double tolerance = 0;  // the relative bound of test_cuda_ops.cu's metric for this output (0: the default, 1e-5)
};
using outputs = std::vector<output>;

template <class T = float>
std::vector<T> randn(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(0.0, scale);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng));
  return v;
}

template <class H, class T>
output fetch(H& h, const char* name, tensor<T> t) {
  const std::vector<T> v = h.get(t);
  return {name, std::vector<double>(v.begin(), v.end())};
}

// ---------------------------------------------------------------------------------------------------------------
// linear, with and without bias; a double one checks gemm<double>

template <class H>
outputs body_linear(H& h) {
  using Be = typename H::backend_type;
  constexpr int In = 24, Out = 40, N = 37;
  auto x = h.put(randn(N * In, 1)), w = h.put(randn(Out * In, 2)), dy = h.put(randn(N * Out, 3));
  auto y = h.put(std::vector<float>(N * Out, 7.0f));  // forward assigns: the 7s must go
  auto dx = h.put(randn(N * In, 4)), dw = h.put(randn(Out * In, 5));
  ops::linear_forward<Be, float, In, Out>(h.be, x.template c<In>(), w.template c<In>(), y.template v<Out>());
  ops::linear_backward<Be, float, In, Out>(h.be, x.template c<In>(), w.template c<In>(), dy.template c<Out>(),
                                           dx.template v<In>(), dw.template v<In>());
  return {fetch(h, "y", y), fetch(h, "dx", dx), fetch(h, "dw", dw)};
}

template <class H>
outputs body_linear_bias(H& h) {
  using Be = typename H::backend_type;
  constexpr int In = 16, Out = 33, N = 300;
  auto x = h.put(randn(N * In, 11)), w = h.put(randn(Out * In, 12)), b = h.put(randn(Out, 13));
  auto dy = h.put(randn(N * Out, 14)), y = h.put(std::vector<float>(N * Out));
  auto dx = h.put(randn(N * In, 15)), dw = h.put(randn(Out * In, 16)), db = h.put(randn(Out, 17));
  ops::linear_forward<Be, float, In, Out>(h.be, x.template c<In>(), w.template c<In>(), b.template c<1>(),
                                          y.template v<Out>());
  ops::linear_backward<Be, float, In, Out>(h.be, x.template c<In>(), w.template c<In>(), dy.template c<Out>(),
                                           dx.template v<In>(), dw.template v<In>(), db.template v<1>());
  // transposed-A GEMM with k = 0 rows: dW unchanged, as BLAS defines it
  ops::linear_backward<Be, float, In, Out>(h.be, x.template c<In>().slice(0, 0), w.template c<In>(),
                                           dy.template c<Out>().slice(0, 0), view<float, In>(),
                                           dw.template v<In>(), db.template v<1>());
  return {fetch(h, "y", y), fetch(h, "dx", dx), fetch(h, "dw", dw), fetch(h, "db", db)};
}

template <class H>
outputs body_linear_double(H& h) {
  using Be = typename H::backend_type;
  constexpr int In = 9, Out = 5, N = 11;
  auto x = h.put(randn<double>(N * In, 21)), w = h.put(randn<double>(Out * In, 22));
  auto dy = h.put(randn<double>(N * Out, 23)), y = h.put(std::vector<double>(N * Out));
  auto dx = h.put(randn<double>(N * In, 24)), dw = h.put(randn<double>(Out * In, 25));
  ops::linear_forward<Be, double, In, Out>(h.be, x.template c<In>(), w.template c<In>(), y.template v<Out>());
  ops::linear_backward<Be, double, In, Out>(h.be, x.template c<In>(), w.template c<In>(), dy.template c<Out>(),
                                            dx.template v<In>(), dw.template v<In>());
  return {fetch(h, "y", y), fetch(h, "dx", dx), fetch(h, "dw", dw)};
}

// ---------------------------------------------------------------------------------------------------------------
// rms_norm, SwiGLU activation and MLP, RoPE

template <class H>
outputs body_rms_norm(H& h) {
  using Be = typename H::backend_type;
  constexpr int C = 48, N = 70;
  auto x = h.put(randn(N * C, 31, 2.0)), dy = h.put(randn(N * C, 32)), dx = h.put(randn(N * C, 33));
  auto y = h.put(std::vector<float>(N * C)), r = h.put(std::vector<float>(N));
  ops::rms_norm_forward<Be, float, C>(h.be, x.template c<C>(), y.template v<C>(), r.template v<1>());
  ops::rms_norm_backward<Be, float, C>(h.be, y.template c<C>(), r.template c<1>(), dy.template c<C>(),
                                       dx.template v<C>());
  return {fetch(h, "y", y), fetch(h, "rstd", r), fetch(h, "dx", dx)};
}

template <class H>
outputs body_swiglu(H& h) {
  using Be = typename H::backend_type;
  constexpr int I = 20, N = 31;
  auto gu = h.put(randn(N * 2 * I, 41, 3.0)), ds = h.put(randn(N * I, 42)), dgu = h.put(randn(N * 2 * I, 43));
  auto s = h.put(std::vector<float>(N * I));
  ops::swiglu_forward<Be, float, I>(h.be, gu.template c<2 * I>(), s.template v<I>());
  ops::swiglu_backward<Be, float, I>(h.be, gu.template c<2 * I>(), ds.template c<I>(), dgu.template v<2 * I>());
  return {fetch(h, "s", s), fetch(h, "dgu", dgu)};
}

template <class H>
outputs body_swiglu_mlp(H& h) {
  using Be = typename H::backend_type;
  constexpr int In = 16, I = 24, Out = 12, N = 45;
  auto x = h.put(randn(N * In, 51)), wgu = h.put(randn(2 * I * In, 52, 0.3)), wd = h.put(randn(Out * I, 53, 0.3));
  auto dy = h.put(randn(N * Out, 54)), dx = h.put(randn(N * In, 55));
  auto dwgu = h.put(randn(2 * I * In, 56)), dwd = h.put(randn(Out * I, 57));
  auto gu = h.put(std::vector<float>(N * 2 * I)), s = h.put(std::vector<float>(N * I));
  auto y = h.put(std::vector<float>(N * Out)), ds = h.put(std::vector<float>(N * I));
  auto dgu = h.put(std::vector<float>(N * 2 * I));
  ops::swiglu_mlp_forward<Be, float, In, I, Out>(h.be, x.template c<In>(), wgu.template c<In>(), wd.template c<I>(),
                                                 gu.template v<2 * I>(), s.template v<I>(), y.template v<Out>());
  ops::swiglu_mlp_backward<Be, float, In, I, Out>(h.be, x.template c<In>(), wgu.template c<In>(), wd.template c<I>(),
                                                  gu.template c<2 * I>(), dy.template c<Out>(), s.template v<I>(),
                                                  ds.template v<I>(), dgu.template v<2 * I>(), dx.template v<In>(),
                                                  dwgu.template v<In>(), dwd.template v<I>());
  return {fetch(h, "y", y), fetch(h, "gu", gu), fetch(h, "dx", dx), fetch(h, "dw_gu", dwgu), fetch(h, "dw_down", dwd)};
}

template <class H>
outputs body_rope(H& h) {
  constexpr int L = 11, Heads = 2, HeadDim = 8, W = 3 * Heads * HeadDim, B = 3;
  std::vector<float> cos_h(L * HeadDim), sin_h(L * HeadDim);
  ops::rope_tables<float, HeadDim>(view<float, HeadDim>(cos_h.data(), L), view<float, HeadDim>(sin_h.data(), L));
  auto cs = h.put(cos_h), sn = h.put(sin_h);
  auto a = h.put(randn(B * L * W, 61)), g = h.put(randn(B * L * W, 62));
  ops::rope_apply<L, Heads, HeadDim, false>(h.be, a.template v<W>(), cs.template c<HeadDim>(),
                                            sn.template c<HeadDim>());
  ops::rope_apply<L, Heads, HeadDim, true>(h.be, g.template v<W>(), cs.template c<HeadDim>(), sn.template c<HeadDim>());
  return {fetch(h, "rotated", a), fetch(h, "inverse", g)};
}

// ---------------------------------------------------------------------------------------------------------------
// attention: a short sequence, and one longer than a CUDA block (the kernels' strided loops)

template <int L, int Heads, int HeadDim, int B, class H>
outputs attention_case(H& h, std::uint64_t seed) {
  using Be = typename H::backend_type;
  constexpr int D = Heads * HeadDim, W = 3 * D;
  auto qkv = h.put(randn(B * L * W, seed)), dout = h.put(randn(B * L * D, seed + 1));
  auto dqkv = h.put(randn(B * L * W, seed + 2));
  auto o = h.put(std::vector<float>(B * L * D)), lse = h.put(std::vector<float>(B * L * Heads));
  ops::attention_forward<L, Heads, HeadDim, Be, float>(h.be, qkv.template c<W>(), o.template v<D>(),
                                                      lse.template v<Heads>());
  ops::attention_backward<L, Heads, HeadDim, Be, float>(h.be, qkv.template c<W>(), o.template c<D>(),
                                                       lse.template c<Heads>(), dout.template c<D>(),
                                                       dqkv.template v<W>());
  return {fetch(h, "o", o), fetch(h, "lse", lse), fetch(h, "dqkv", dqkv)};
}
template <class H>
outputs body_attention(H& h) { return attention_case<13, 2, 8, 3>(h, 71); }
template <class H>
outputs body_attention_long(H& h) { return attention_case<150, 2, 32, 2>(h, 75); }

// ---------------------------------------------------------------------------------------------------------------
// token-mixing MLP

template <class H>
outputs body_token_mlp(H& h) {
  using Be = typename H::backend_type;
  constexpr int L = 10, D = 12, It = 16, B = 3;
  auto in = h.put(randn(B * L * D, 81)), wgu = h.put(randn(2 * It * L, 82, 0.4)), wd = h.put(randn(L * It, 83, 0.4));
  auto dout = h.put(randn(B * L * D, 84)), dh = h.put(randn(B * L * D, 85));
  auto dwgu = h.put(randn(2 * It * L, 86)), dwd = h.put(randn(L * It, 87));
  auto out = h.put(std::vector<float>(B * L * D));
  auto u = h.put(std::vector<float>(B * D * L)), gu = h.put(std::vector<float>(B * D * 2 * It));
  auto t = h.put(std::vector<float>(B * D * L)), rstd = h.put(std::vector<float>(B * D));
  auto s = h.put(std::vector<float>(B * D * It)), ds = h.put(std::vector<float>(B * D * It));
  auto dgu = h.put(std::vector<float>(B * D * 2 * It)), m = h.put(std::vector<float>(B * D * L));
  auto dr = h.put(std::vector<float>(B * D * L));
  const ops::token_mlp_saved<float, L, It> sv{u.template v<L>(), gu.template v<2 * It>(), t.template v<L>(),
                                              rstd.template v<1>()};
  const ops::token_mlp_scratch<float, L, It> sc{s.template v<It>(), ds.template v<It>(), dgu.template v<2 * It>(),
                                                m.template v<L>(), dr.template v<L>()};
  ops::token_mlp_forward<L, It, Be, float, D>(h.be, in.template c<D>(), wgu.template c<L>(), wd.template c<It>(), sv,
                                             sc, out.template v<D>());
  ops::token_mlp_backward<L, It, Be, float, D>(h.be, wgu.template c<L>(), wd.template c<It>(), sv, sc,
                                              dout.template c<D>(), dh.template v<D>(), dwgu.template v<L>(),
                                              dwd.template v<It>());
  return {fetch(h, "out", out), fetch(h, "dh", dh), fetch(h, "dw_gu", dwgu), fetch(h, "dw_down", dwd)};
}

// ---------------------------------------------------------------------------------------------------------------
// embeddings

template <class H>
outputs body_embedding(H& h) {
  using Be = typename H::backend_type;
  constexpr int D = 20, V = 7, N = 50;
  std::vector<std::int32_t> ids_h(N);
  for (int n = 0; n < N; ++n) ids_h[n] = (n * 5 + n / 3) % V;  // every row repeats
  auto ids = h.put(ids_h);
  auto w = h.put(randn(V * D, 91)), dy = h.put(randn(N * D, 92)), dw = h.put(randn(V * D, 93));
  auto y = h.put(std::vector<float>(N * D));
  ops::embedding_forward<Be, float, D>(h.be, w.template c<D>(), ids.p, 1.5f, y.template v<D>());
  ops::embedding_backward<Be, float, D>(h.be, ids.p, 1.5f, dy.template c<D>(), dw.template v<D>());
  return {fetch(h, "y", y), fetch(h, "dw", dw)};
}

template <class H>
outputs body_sparse_embedding(H& h) {
  using Be = typename H::backend_type;
  constexpr int E = 10, P = 3, D = 4, S = 5, Stride = P + S, B = 4, Rows = 6;
  auto ids = h.put(std::vector<std::int32_t>{5, 0, 5, 2});
  auto table = h.put(randn(Rows * E, 101)), local = h.put(std::vector<float>(B * E));
  auto x = h.put(randn(B * Stride * D, 102));  // the sequence rows after each prefix must survive
  auto dx = h.put(randn(B * Stride * D, 103)), dlocal = h.put(randn(B * E, 104));
  ops::puzzle_prefix_forward<E, P, D, Stride, Be, float>(h.be, table.template c<E>(), ids.p, local.template v<E>(),
                                                         2.0f, x.template v<D>());
  ops::puzzle_prefix_backward<E, P, D, Stride, Be, float>(h.be, dx.template c<D>(), 2.0f, dlocal.template v<E>());
  return {fetch(h, "local", local), fetch(h, "x", x), fetch(h, "dlocal", dlocal)};
}

// ---------------------------------------------------------------------------------------------------------------
// losses (float64 inside, as the reference)

template <int Kind, class H>  // 0 stablemax, 1 softmax
outputs xent_case(H& h, std::uint64_t seed) {
  using Be = typename H::backend_type;
  constexpr int V = 11, N = 40;
  std::vector<std::int32_t> lab(N);
  std::vector<double> wt(N);
  for (int n = 0; n < N; ++n) {
    lab[n] = n % 9 == 4 ? ignore_label : (n * 7) % V;
    wt[n] = n % 13 == 6 ? 0.0 : 0.01 * (n + 1);
  }
  auto labels = h.put(lab);
  auto w = h.put(wt);
  auto x = h.put(randn(N * V, seed, 4.0)), dx = h.put(randn(N * V, seed + 1));
  auto ce = h.put(std::vector<double>(N, 9.0));
  if constexpr (Kind == 0) {
    ops::stablemax_xent_forward<Be, float, V>(h.be, x.template c<V>(), labels.p, ce.p);
    ops::stablemax_xent_backward<Be, float, V>(h.be, x.template c<V>(), labels.p, w.p, dx.template v<V>());
  } else {
    ops::softmax_xent_forward<Be, float, V>(h.be, x.template c<V>(), labels.p, ce.p);
    ops::softmax_xent_backward<Be, float, V>(h.be, x.template c<V>(), labels.p, w.p, dx.template v<V>());
  }
  return {fetch(h, "ce", ce), fetch(h, "dlogits", dx)};
}
template <class H>
outputs body_stablemax_xent(H& h) { return xent_case<0>(h, 111); }
template <class H>
outputs body_softmax_xent(H& h) { return xent_case<1>(h, 115); }

template <class H>
outputs body_bce_logits(H& h) {
  constexpr int N = 300, Stride = 2;
  std::vector<double> tgt(N);
  for (int n = 0; n < N; ++n) tgt[n] = n % 3 == 0 ? 1.0 : (n % 3 == 1 ? 0.0 : 0.25);
  auto t = h.put(tgt);
  auto x = h.put(randn(N, 121, 5.0)), dx = h.put(randn(N * Stride, 122));
  auto terms = h.put(std::vector<double>(N));
  const double sum = ops::bce_logits_forward(h.be, static_cast<const float*>(x.p), t.p, N, terms.p);
  ops::bce_logits_backward(h.be, static_cast<const float*>(x.p), t.p, 0.37, N, dx.p, Stride);
  return {{"sum", {sum}}, fetch(h, "terms", terms), fetch(h, "dx", dx)};
}

// ---------------------------------------------------------------------------------------------------------------
// element-wise helpers

template <class H>
outputs body_elementwise(H& h) {
  using Be = typename H::backend_type;
  constexpr int R = 6, C = 5, B = 4, N = B * R;
  auto x = h.put(randn(N * C, 131)), y = h.put(randn(N * C, 132)), z = h.put(std::vector<float>(N * C));
  auto f = h.put(randn(N * C, 133)), cp = h.put(std::vector<float>(N * C)), acc = h.put(randn(N * C, 134));
  auto tr = h.put(std::vector<float>(B * C * R)), tra = h.put(randn(B * C * R, 135));
  ops::fill<Be, float, C>(h.be, f.template v<C>(), 2.5f);
  ops::copy<Be, float, C>(h.be, x.template c<C>(), cp.template v<C>());
  ops::add<Be, float, C>(h.be, x.template c<C>(), y.template c<C>(), z.template v<C>());
  ops::accumulate<Be, float, C>(h.be, x.template c<C>(), acc.template v<C>());
  ops::transpose<R>(h.be, x.template c<C>(), tr.template v<R>());
  ops::transpose<R, true>(h.be, x.template c<C>(), tra.template v<R>());
  return {fetch(h, "fill", f), fetch(h, "copy", cp), fetch(h, "add", z), fetch(h, "accumulate", acc),
          fetch(h, "transpose", tr), fetch(h, "transpose_accumulate", tra)};
}

// ---------------------------------------------------------------------------------------------------------------
// optimizers and EMA on a flat buffer (three steps, a different gradient and learning rate each)

template <class H, class Opt>
outputs optimizer_case(H& h, Opt opt, std::uint64_t seed) {
  constexpr int N = 1000;
  auto p = h.put(randn(N, seed, 0.5));
  for (int k = 0; k < 3; ++k) {
    std::vector<float> gh = randn(N, seed + 1 + k, 1e-2);
    for (int i = 0; i < N; i += 97) gh[i] = 0.0f;  // never-seen coordinates only decay
    auto g = h.put(gh);
    opt.step(h.be, p.span(), std::span<const float>(g.p, N), 1e-3 * (k + 1));
  }
  return {fetch(h, "params", p), fetch(h, "m", tensor<float>{opt.state().m.data(), N}),
          fetch(h, "v", tensor<float>{opt.state().v.data(), N})};
}

template <class H>
outputs body_adam_atan2(H& h) {
  train::adam_atan2_hparams hp;
  hp.weight_decay = 0.5;
  return optimizer_case(h, h.template make_adam_atan2<float>(hp, 1000), 141);
}

template <class H>
outputs body_adamw(H& h) {
  train::adamw_hparams hp;
  hp.eps = 1e-6;
  return optimizer_case(h, h.template make_adamw<float>(hp, 1000), 151);
}

template <class H>
outputs body_ema(H& h) {
  constexpr int N = 777;
  auto e = h.template make_ema<float>(0.9);
  auto theta = h.put(randn(N, 161));
  e.register_params(h.be, std::span<const float>(theta.p, N));
  for (int k = 0; k < 3; ++k) {
    auto next = h.put(randn(N, 162 + k));
    e.update(h.be, std::span<const float>(next.p, N));
  }
  return {fetch(h, "shadow", tensor<float>{e.shadow().data(), N})};
}

// the puzzle table's sign-SGD: repeated ids (summed before the sign), a zero gradient (sign 0), rows not in the batch
template <class H>
outputs body_sign_sgd(H& h) {
  constexpr int Rows = 9, E = 12, B = 10;
  train::sign_sgd_hparams hp;
  auto opt = h.template make_sign_sgd<float>(hp, E, B);
  auto table = h.put(randn(Rows * E, 171));
  const std::vector<std::int32_t> ids{3, 0, 3, 8, 5, 3, 0, 1, 8, 6};  // host memory for both backends
  for (int k = 0; k < 2; ++k) {
    std::vector<float> gh = randn(B * E, 172 + k);
    for (int e = 0; e < E; ++e) gh[4 * E + e] = 0.0f;  // row 4 (id 5, alone): no step, decay only
    auto g = h.put(gh);
    opt.step(h.be, table.span(), std::span<const float>(g.p, B * E), ids, 0.05 * (k + 1));
  }
  return {fetch(h, "table", table)};
}

// ---------------------------------------------------------------------------------------------------------------
// the whole model: one ACT step forward and backward, and trainer steps, of a small preset (the golden files'
// attention + RoPE TRM with a puzzle embedding: hidden 64, 4 heads, T = 3, n = 2). The model allocates on its own
// backend (a fresh tag: on cuda its own stream), so its memory is read back through that backend.
// Tolerance 1e-4 of each tensor's scale: nine network applications of fp32 sums in two orders, not one op.

inline constexpr double model_tolerance = 1e-4;

template <class Be, class T>
output grab(const Be& be, std::string name, const T* p, index_t n, double tol = model_tolerance) {
  std::vector<T> v(static_cast<std::size_t>(n));
  to_host(be, v, std::span<const T>(p, static_cast<std::size_t>(n)));
  return {std::move(name), std::vector<double>(v.begin(), v.end()), tol};
}

struct host_batch {
  std::vector<std::int32_t> inputs, labels, ids;
  batch_ref ref() const { return {inputs.data(), labels.data(), ids.data(), static_cast<index_t>(ids.size())}; }
};

template <class M>
host_batch random_batch(index_t rows, index_t puzzles, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  host_batch b;
  for (index_t i = 0; i < rows * M::S; ++i) {
    b.inputs.push_back(static_cast<std::int32_t>(rng() % M::V));
    b.labels.push_back(rng() % 5 == 0 ? ignore_label : static_cast<std::int32_t>(rng() % M::V));
  }
  for (index_t i = 0; i < rows; ++i) b.ids.push_back(static_cast<std::int32_t>(rng() % puzzles));
  return b;
}

// A model with the reference init plus a random puzzle table and q head (zero and constant at init), so that every
// path carries signal.
template <class M>
void init_parity_model(M& m, std::uint64_t seed) {
  m.init(seed);
  host_stage table(m.backend(), m.puzzle_table());
  const auto t = randn(static_cast<std::size_t>(m.puzzle_table().size()), seed + 1, 0.5);
  std::copy(t.begin(), t.end(), table.data());
  table.upload();
  host_stage params(m.backend(), m.params());
  params.download();
  const auto& qw = M::layout[static_cast<std::size_t>(M::idx_qw)];
  const auto q = randn(static_cast<std::size_t>(qw.size()), seed + 2, 0.1);
  std::copy(q.begin(), q.end(), params.data() + qw.offset);
  params.upload();
}

template <class M>
void grab_grads(const M& m, outputs& out) {
  for (std::size_t i = 0; i < M::layout.count; ++i) {
    const auto& s = M::layout[i];
    out.push_back(grab(m.backend(), "grad/" + std::string(s.full_name()), m.grads().data() + s.offset, s.size()));
  }
}

template <class H>
outputs body_act_step(H&) {
  using Be = typename H::backend_type;
  using M = presets::golden_rope<Be>;
  constexpr index_t B = 3, puzzles = 4;
  M m(puzzles, Be{});
  init_parity_model(m, 181);
  typename M::workspace ws(B);
  act_carry<M> c(m.backend(), B);
  act_scratch<M> sc(B);
  const host_batch batch = random_batch<M>(B, puzzles, 182);
  m.zero_grads();
  ops::fill<Be, float, M::E_cols>(m.backend(), ws.dlocal, 0.0f);
  const act_options opt{.training = true, .exploration_prob = 0.0, .loss = lm_loss_kind::stablemax,
                        .loss_scale = 1.0 / B, .backward = true};
  std::mt19937_64 rng(0);
  const act_step_result r = act_step(m, ws, c, batch.ref(), sc, opt, rng);
  const auto& be = m.backend();
  outputs out{{"loss", {r.loss}, model_tolerance},
              grab(be, "logits", ws.logits.data(), B * M::S * M::V),
              grab(be, "q", ws.q.data(), B * 2),
              grab(be, "carry.z_H", c.z_h.data(), B * M::L * M::D),
              grab(be, "carry.z_L", c.z_l.data(), B * M::L * M::D),
              grab(be, "carry.steps", c.steps.data(), B, 0.0),
              grab(be, "dlocal", ws.dlocal.data(), B * M::E)};
  grab_grads(m, out);
  return out;
}

// Two trainer steps (the second restarts no row: all carry on), Adam-atan2 with EMA, exploration drawn on the
// host (the same draws on both backends). lr 1e-6: the first Adam steps are sign-like (atan2(g, |g|)), so a
// near-zero gradient whose sign differs between backends moves a weight by ~lr; the moments are compared as they are.
template <class H>
outputs body_trainer_step(H&) {
  using Be = typename H::backend_type;
  using M = presets::golden_rope<Be>;
  constexpr index_t B = 3, puzzles = 4;
  M m(puzzles, Be{});
  init_parity_model(m, 191);
  train::train_config cfg;
  cfg.global_batch_size = B;
  cfg.total_steps = 10;
  cfg.lr = 1e-6;
  cfg.lr_warmup_steps = 0;
  cfg.halt_exploration_prob = 0.5;
  cfg.seed = 5;
  train::trainer<M> tr(m, cfg);
  double loss = 0;
  for (int k = 0; k < 2; ++k) loss += tr.train_batch(random_batch<M>(B, puzzles, 192 + k).ref()).loss;
  M eval(puzzles, Be{});
  tr.copy_eval_weights(eval);
  const auto& be = m.backend();
  const index_t n = M::param_count;
  outputs out{{"loss", {loss}, model_tolerance},
              grab(be, "params", m.params().data(), n),
              grab(be, "optimizer.m", tr.optimizer_moments().m.data(), n),
              grab(be, "optimizer.v", tr.optimizer_moments().v.data(), n),
              grab(eval.backend(), "ema.shadow", eval.params().data(), n),
              grab(be, "puzzle_table", m.puzzle_table().data(), m.puzzle_table().size())};
  grab_grads(m, out);
  return out;
}

// Every body, for the two translation units to expand: X(name).
#define GTRM_PARITY_BODIES(X)                                                                                        \
  X(linear) X(linear_bias) X(linear_double) X(rms_norm) X(swiglu) X(swiglu_mlp) X(rope) X(attention)                 \
  X(attention_long) X(token_mlp) X(embedding) X(sparse_embedding) X(stablemax_xent) X(softmax_xent) X(bce_logits)  \
  X(elementwise) X(adam_atan2) X(adamw) X(ema) X(sign_sgd) X(act_step) X(trainer_step)

}  // namespace gtrm::parity
