// Latent Meta Attention front end and decoder (VARIANTS.md §3), forward next to backward.
//
// Token level: Y (B·Lt, Dt), the scaled input embedding. Latent level: (B·L', D'), where the whole recursion
// runs (states, init vectors and blocks at width D', sequence L').
//
//   1. head-view stacking: S[b, h·Lt + l, :] = Y[b, l, h·dk : (h+1)·dk],  dk = Dt / nh_s   (torch.cat(split))
//   2. flatten S row-major and re-chunk into L' rows of C = Lt·Dt / L' values:
//        Z0[b, i, c] = Y[b, l, h·dk + j]   with p = i·C + c,  h = p / (Lt·dk),  l = (p / dk) mod Lt,  j = p mod dk
//      (a permutation, done as a gather; no S is materialised)
//   3. E_chunk:  X' = act(Z0 W_cᵀ + b_c)                      act = ReLU or identity           (B·L', D')
//   4. E_resid (optional, L' = Lt only):  X' += act(Y W_rᵀ + b_r)
//   decoder, once per ACT step on the final z_H:
//      chunk_linear:    chunks = z_H W_oᵀ + b_o (B·L', C), then the inverse of steps 1–2 back to (B·Lt, Dt)
//      proj_to_hidden:  Y' = z_H W_pᵀ (L' = Lt only; the HRM port's lma_final_proj, no bias)
//   the output heads then read Y' as TRM's heads read z_H.
//
// L' is the divisor of Lt·Dt closest to the requested length, searched at compile time in the order target,
// target−1, target+1, target−2, … (the reference's find_closest_divisor order, unbounded).
#pragma once
#include "../concepts.hpp"
#include "../core/view.hpp"
#include "../ops/elementwise.hpp"
#include "../ops/linear.hpp"
#include "../policy/policies.hpp"

namespace gtrm::lma {

constexpr int closest_divisor(long total, int target) {
  if (target < 1) target = 1;
  for (long k = 0;; ++k) {
    if (target - k >= 1 && total % (target - k) == 0) return static_cast<int>(target - k);
    if (target + k <= total && total % (target + k) == 0) return static_cast<int>(target + k);
  }
}

// Z0 (B·L', C) ← Y (B·Lt, Dt) (Accumulate: Z0 +=)
template <int Lt, int Dt, int NhS, int Lp, bool Accumulate = false, class Be, class T>
void gather(const Be& be, cview<T, Dt> y, view<T, Lt * Dt / Lp> z0) {
  constexpr int C = Lt * Dt / Lp, dk = Dt / NhS;
  const index_t rows = z0.rows();
  be.parallel_for(rows, [&](index_t r) {
    const index_t b = r / Lp;
    const int i = static_cast<int>(r % Lp);
    T* dst = z0.row(r);
    const T* base = y.row(b * Lt);
    for (int c = 0; c < C; ++c) {
      const long p = static_cast<long>(i) * C + c;
      const int h = static_cast<int>(p / (static_cast<long>(Lt) * dk)), l = static_cast<int>((p / dk) % Lt), j = static_cast<int>(p % dk);
      const T v = base[static_cast<long>(l) * Dt + h * dk + j];
      if constexpr (Accumulate) dst[c] += v; else dst[c] = v;
    }
  });
}

// Y (B·Lt, Dt) ← Z0 (B·L', C), the inverse permutation (Accumulate: Y +=). One sample per task, so the
// scattered writes of different tasks never meet.
template <int Lt, int Dt, int NhS, int Lp, bool Accumulate = false, class Be, class T>
void scatter(const Be& be, cview<T, Lt * Dt / Lp> z0, view<T, Dt> y) {
  constexpr int C = Lt * Dt / Lp, dk = Dt / NhS;
  const index_t batch = z0.rows() / Lp;
  be.parallel_for(batch, [&](index_t b) {
    T* base = y.row(b * Lt);
    for (int i = 0; i < Lp; ++i) {
      const T* src = z0.row(b * Lp + i);
      for (int c = 0; c < C; ++c) {
        const long p = static_cast<long>(i) * C + c;
        const int h = static_cast<int>(p / (static_cast<long>(Lt) * dk)), l = static_cast<int>((p / dk) % Lt), j = static_cast<int>(p % dk);
        T& d = base[static_cast<long>(l) * Dt + h * dk + j];
        if constexpr (Accumulate) d += src[c]; else d = src[c];
      }
    }
  });
}

// a = act(x Wᵀ + b) (assigns)
template <bool Relu, class Be, class T, int In, int Out>
void linear_act_forward(const Be& be, cview<T, In> x, cview<T, In> w, cview<T, 1> b, view<T, Out> a) {
  ops::linear_forward<Be, T, In, Out>(be, x, w, b, a);
  if constexpr (Relu)
    be.parallel_for(a.rows(), [&](index_t r) {
      T* p = a.row(r);
      for (int c = 0; c < Out; ++c) p[c] = p[c] > T(0) ? p[c] : T(0);
    });
}

// Backward of a = act(x Wᵀ + b) given da and the forward's a: g = da ⊙ [a > 0] (scratch, assigns);
// dx += g W (dx may be empty); dW, db accumulate.
template <bool Relu, class Be, class T, int In, int Out>
void linear_act_backward(const Be& be, cview<T, In> x, cview<T, In> w, cview<T, Out> a, cview<T, Out> da, view<T, In> dx,
                         view<T, In> dw, view<T, 1> db, view<T, Out> g) {
  be.parallel_for(da.rows(), [&](index_t r) {
    const T* s = da.row(r);
    const T* y = a.row(r);
    T* d = g.row(r);
    for (int c = 0; c < Out; ++c) d[c] = (!Relu || y[c] > T(0)) ? s[c] : T(0);
  });
  ops::linear_backward<Be, T, In, Out>(be, x, w, g, dx, dw, db);
}

}  // namespace gtrm::lma

// ---- the encoder and decoder of a latent model M (recursive.hpp), over its public interface ----
namespace gtrm::lma {

template <class M>
inline constexpr int stack_heads_of = M::lma_cfg.stack_heads > 0 ? M::lma_cfg.stack_heads : 1;

// ws.x (latent) ← E_chunk(chunks of ws.xt) [+ E_resid(ws.xt)]; keeps z0, enc_a, enc_b for backward.
template <class M>
void encode(const M& m, typename M::workspace& ws, index_t batch) {
  using T = typename M::scalar;
  using Backend = typename M::backend_type;
  constexpr int Lt = M::Lt, Dt = M::Dt, L = M::L, D = M::D, C = M::C, idx = M::idx_lma;
  constexpr bool relu = M::lma_cfg.relu;
  const Backend& be = m.backend();
  const T* p = m.params().data();
  const index_t n = batch * L;
  const auto xt = ws.xt.slice(0, batch * Lt);
  gather<Lt, Dt, stack_heads_of<M>, L>(be, cview<T, Dt>(xt), ws.z0.slice(0, n));
  linear_act_forward<relu, Backend, T, C, D>(be, ws.z0.slice(0, n), M::template tensor<C>(p, idx), M::template tensor<1>(p, idx + 1),
                                             ws.enc_a.slice(0, n));
  if constexpr (M::lma_cfg.residual) {  // L = Lt: latent rows are token rows
    linear_act_forward<relu, Backend, T, Dt, D>(be, xt, M::template tensor<Dt>(p, idx + 2), M::template tensor<1>(p, idx + 3),
                                                ws.enc_b.slice(0, n));
    ops::add<Backend, T, D>(be, ws.enc_a.slice(0, n), ws.enc_b.slice(0, n), ws.x.slice(0, n));
  } else {
    ops::copy<Backend, T, D>(be, ws.enc_a.slice(0, n), ws.x.slice(0, n));
  }
}

// ws.dxt (token level) ← the encoder's backward of ws.dx (latent); encoder weight gradients accumulate.
template <class M>
void encode_backward(M& m, typename M::workspace& ws, index_t batch) {
  using T = typename M::scalar;
  using Backend = typename M::backend_type;
  constexpr int Lt = M::Lt, Dt = M::Dt, L = M::L, D = M::D, C = M::C, idx = M::idx_lma;
  constexpr bool relu = M::lma_cfg.relu;
  const Backend& be = m.backend();
  const T* p = m.params().data();
  T* g = m.grads().data();
  const index_t n = batch * L;
  const auto dxt = ws.dxt.slice(0, batch * Lt), dz0 = ws.chunks.slice(0, n);
  ops::fill<Backend, T, Dt>(be, dxt, T(0));
  ops::fill<Backend, T, C>(be, dz0, T(0));
  linear_act_backward<relu, Backend, T, C, D>(be, ws.z0.slice(0, n), M::template tensor<C>(p, idx), ws.enc_a.slice(0, n),
                                              ws.dx.slice(0, n), dz0, M::template tensor<C>(g, idx), M::template tensor<1>(g, idx + 1),
                                              ws.genc.slice(0, n));
  scatter<Lt, Dt, stack_heads_of<M>, L, true>(be, cview<T, C>(dz0), dxt);
  if constexpr (M::lma_cfg.residual)
    linear_act_backward<relu, Backend, T, Dt, D>(be, ws.xt.slice(0, batch * Lt), M::template tensor<Dt>(p, idx + 2),
                                                 ws.enc_b.slice(0, n), ws.dx.slice(0, n), dxt, M::template tensor<Dt>(g, idx + 2),
                                                 M::template tensor<1>(g, idx + 3), ws.genc.slice(0, n));
}

// ws.ydec (token level) ← decoder(z_H); keeps a copy of z_H (ws.zfin) for backward. Returns ws.ydec's rows.
template <class M>
view<typename M::scalar, M::Dt> decode(const M& m, typename M::workspace& ws, view<typename M::scalar, M::D> z_h, index_t batch) {
  using T = typename M::scalar;
  using Backend = typename M::backend_type;
  constexpr int Lt = M::Lt, Dt = M::Dt, L = M::L, D = M::D, C = M::C, idx = M::idx_lma_dec;
  const Backend& be = m.backend();
  const T* p = m.params().data();
  const index_t n = batch * L;
  ops::copy<Backend, T, D>(be, z_h.slice(0, n), ws.zfin.slice(0, n));
  const auto y = ws.ydec.slice(0, batch * Lt);
  if constexpr (M::lma_cfg.decoder == mixer::lma_decoder::chunk_linear) {
    ops::linear_forward<Backend, T, D, C>(be, ws.zfin.slice(0, n), M::template tensor<D>(p, idx), M::template tensor<1>(p, idx + 1),
                                          ws.chunks.slice(0, n));
    scatter<Lt, Dt, stack_heads_of<M>, L>(be, cview<T, C>(ws.chunks.slice(0, n)), y);
  } else {
    ops::linear_forward<Backend, T, D, Dt>(be, ws.zfin.slice(0, n), M::template tensor<D>(p, idx), y);
  }
  return y;
}

// dzh (latent) is assigned from ws.dyd (the token-level gradient the heads left there).
template <class M>
void decode_backward(M& m, typename M::workspace& ws, view<typename M::scalar, M::D> dzh, index_t batch) {
  using T = typename M::scalar;
  using Backend = typename M::backend_type;
  constexpr int Lt = M::Lt, Dt = M::Dt, L = M::L, D = M::D, C = M::C, idx = M::idx_lma_dec;
  const Backend& be = m.backend();
  const T* p = m.params().data();
  T* g = m.grads().data();
  const index_t n = batch * L;
  ops::fill<Backend, T, D>(be, dzh, T(0));
  if constexpr (M::lma_cfg.decoder == mixer::lma_decoder::chunk_linear) {
    const auto dch = ws.chunks.slice(0, n);
    gather<Lt, Dt, stack_heads_of<M>, L>(be, cview<T, Dt>(ws.dyd.slice(0, batch * Lt)), dch);
    ops::linear_backward<Backend, T, D, C>(be, ws.zfin.slice(0, n), M::template tensor<D>(p, idx), dch, dzh,
                                           M::template tensor<D>(g, idx), M::template tensor<1>(g, idx + 1));
  } else {
    ops::linear_backward<Backend, T, D, Dt>(be, ws.zfin.slice(0, n), M::template tensor<D>(p, idx), ws.dyd.slice(0, batch * Lt), dzh,
                                            M::template tensor<D>(g, idx));
  }
}

}  // namespace gtrm::lma
