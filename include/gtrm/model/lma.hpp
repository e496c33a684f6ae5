// Latent Meta Attention encoder and decoder (docs/lma.md), forward next to backward.
//
// Token level: Y (B·Lt, Dt), the scaled input embedding. Latent level: (B·L', D'), where the whole recursion
// runs (states, init vectors and blocks at width D', sequence L').
//
//   1. head-view stacking: S[b, h·Lt + l, :] = Y[b, l, h·dk : (h+1)·dk],  dk = Dt / nh_s   (torch.cat(split))
//   2. flatten S row-major and re-chunk into L' rows of C = Lt·Dt / L' values:
//        Z0[b, i, c] = s·Y[b, l, h·dk + j]   with p = i·C + c,  h = p / (Lt·dk),  l = (p / dk) mod Lt,  j = p mod dk
//      (a permutation, done as a gather; no S is materialised); s = 1/√nh_s with stack_scale (BERT), else 1
//   3. E_chunk:  X' = act(Z0 W_cᵀ [+ b_c])                    act = ReLU or identity           (B·L', D')
//   4. E_resid (L' = Lt only):  X' += act(Y W_rᵀ [+ b_r]),  W_r = W_c (and b_r = b_c) when tied (the HRM port)
//   decoder, once per ACT step on the final z_H, to Y' (B·Lt, Dt):
//      proj_to_hidden:  Y' = z_H W_pᵀ [+ b_p]                     (L' = Lt; the HRM port's lma_final_proj)
//      reshape_linear:  chunks = (z_H W_oᵀ [+ b_o])·√(C/D')       (BERT's LMABertAttention)
//      reshape_gated:   chunks = σ(z_H W_gᵀ [+ b_g]) ⊙ (z_H W_vᵀ [+ b_v])   (ViT's inverse_transform)
//                       the reshape decoders' (B·L', C) chunks ARE Y' (B·Lt, Dt): the same row-major memory, the
//                       author's plain reshape (it does not undo the stacking)
//      inverse_linear:  chunks = z_H W_oᵀ [+ b_o], then the inverse of steps 1–2 (gtrm's own extra)
//   the output heads then read Y' as TRM's heads read z_H.
//
// L' is the divisor of Lt·Dt closest to the requested length, searched at compile time in the order target,
// target−1, target+1, target−2, … (the reference's find_closest_divisor order, unbounded).
//
// The module-level encoder/decoder (lma::encoder, lma::decoder) take their weights as views, so the model
// (recursive.hpp) and the module-level golden check (io/lma_reference_check.hpp) run the same code. Loop bodies are
// `[=] GTRM_HD` lambdas over views, as in ops/.
#pragma once
#include <type_traits>
#include <utility>

#include "../concepts.hpp"
#include "../core/view.hpp"
#include "../ops/activation.hpp"
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

// Z0 (B·L', C) ← scale · Y (B·Lt, Dt) resequenced (Accumulate: Z0 +=)
template <int Lt, int Dt, int NhS, int Lp, bool Accumulate = false, class Be, class T>
void gather(const Be& be, cview<T, Dt> y, view<T, Lt * Dt / Lp> z0, T scale = T(1)) {
  constexpr int C = Lt * Dt / Lp, dk = Dt / NhS;
  be.parallel_for(z0.rows(), [=] GTRM_HD (index_t r) {
    const index_t b = r / Lp;
    const int i = static_cast<int>(r % Lp);
    T* dst = z0.row(r);
    const T* base = y.row(b * Lt);
    for (int c = 0; c < C; ++c) {
      const long p = static_cast<long>(i) * C + c;
      const int h = static_cast<int>(p / (static_cast<long>(Lt) * dk)), l = static_cast<int>((p / dk) % Lt), j = static_cast<int>(p % dk);
      const T v = scale * base[static_cast<long>(l) * Dt + h * dk + j];
      if constexpr (Accumulate) dst[c] += v; else dst[c] = v;
    }
  });
}

// Y (B·Lt, Dt) ← scale · Z0 (B·L', C), the inverse permutation (Accumulate: Y +=). One sample per task, so the
// scattered writes of different tasks never meet.
template <int Lt, int Dt, int NhS, int Lp, bool Accumulate = false, class Be, class T>
void scatter(const Be& be, cview<T, Lt * Dt / Lp> z0, view<T, Dt> y, T scale = T(1)) {
  constexpr int C = Lt * Dt / Lp, dk = Dt / NhS;
  be.parallel_for(z0.rows() / Lp, [=] GTRM_HD (index_t b) {
    T* base = y.row(b * Lt);
    for (int i = 0; i < Lp; ++i) {
      const T* src = z0.row(b * Lp + i);
      for (int c = 0; c < C; ++c) {
        const long p = static_cast<long>(i) * C + c;
        const int h = static_cast<int>(p / (static_cast<long>(Lt) * dk)), l = static_cast<int>((p / dk) % Lt), j = static_cast<int>(p % dk);
        T& d = base[static_cast<long>(l) * Dt + h * dk + j];
        const T v = scale * src[c];  // captured outside the if constexpr: nvcc refuses a first capture inside one
        if constexpr (Accumulate) d += v; else d = v;
      }
    }
  });
}

// A Linear's weight (Out, In) and bias (Out; empty when the layer has none), and their gradients.
template <class T, int In>
struct linear_weights {
  cview<T, In> w;
  cview<T, 1> b;
};
template <class T, int In>
struct linear_grads {
  view<T, In> w;
  view<T, 1> b;
};

// y = x Wᵀ (+ b) (assigns)
template <class Be, class T, int In, int Out>
void affine(const Be& be, cview<T, In> x, linear_weights<T, In> p, view<T, Out> y) {
  if (p.b.empty()) ops::linear_forward<Be, T, In, Out>(be, x, p.w, y);
  else ops::linear_forward<Be, T, In, Out>(be, x, p.w, p.b, y);
}

// a = act(x Wᵀ + b) (assigns)
template <bool Relu, class Be, class T, int In, int Out>
void linear_act_forward(const Be& be, cview<T, In> x, linear_weights<T, In> p, view<T, Out> a) {
  affine<Be, T, In, Out>(be, x, p, a);
  if constexpr (Relu)
    be.parallel_for(a.rows(), [=] GTRM_HD (index_t r) {
      T* q = a.row(r);
      for (int c = 0; c < Out; ++c) q[c] = q[c] > T(0) ? q[c] : T(0);
    });
}

// Backward of a = act(x Wᵀ + b) given da and the forward's a: g = da ⊙ [a > 0] (scratch, assigns);
// dx += g W (dx may be empty); dW, db accumulate (db may be empty).
template <bool Relu, class Be, class T, int In, int Out>
void linear_act_backward(const Be& be, cview<T, In> x, linear_weights<T, In> p, cview<T, Out> a, cview<T, Out> da,
                         view<T, In> dx, linear_grads<T, In> dp, view<T, Out> g) {
  be.parallel_for(da.rows(), [=] GTRM_HD (index_t r) {
    const T* s = da.row(r);
    const T* y = a.row(r);
    T* d = g.row(r);
    for (int c = 0; c < Out; ++c) d[c] = (!Relu || y[c] > T(0)) ? s[c] : T(0);
  });
  ops::linear_backward<Be, T, In, Out>(be, x, p.w, g, dx, dp.w, dp.b);
}

constexpr double sqrt_newton(double x) {
  double r = x > 1 ? x : 1;
  for (int i = 0; i < 64; ++i) r = 0.5 * (r + x / r);
  return r;
}

// ---- the encoder: Y (B·Lt, Dt) -> X' (B·L', D') ----
template <int Lt_, int Dt_, int Lp_, int Dp_, mixer::lma_config Cfg>
struct encoder {
  static constexpr int Lt = Lt_, Dt = Dt_, Lp = Lp_, Dp = Dp_, C = Lt * Dt / Lp, nh = Cfg.stack_heads;
  static constexpr bool residual = Cfg.residual, tied = Cfg.residual && Cfg.tied;
  static_assert(nh >= 1 && Dt % nh == 0, "hidden must be divisible by lma_config.stack_heads");
  static_assert((static_cast<long>(Lt) * Dt) % Lp == 0, "L' must divide L·D");
  static_assert(!residual || Lp == Lt, "lma_config.residual (E_resid) needs the latent length equal to L: set length to 0");
  static constexpr double stack_scale = Cfg.stack_scale ? 1.0 / sqrt_newton(static_cast<double>(nh)) : 1.0;

  template <class T>
  struct weights {
    linear_weights<T, C> chunk;   // E_chunk (the HRM port's `proj`)
    linear_weights<T, Dt> resid;  // E_resid; when tied, the same memory as chunk (C = Dt)
  };
  template <class T>
  struct grads {
    linear_grads<T, C> chunk;
    linear_grads<T, Dt> resid;    // when tied, the same memory as chunk: the two paths' gradients sum there
  };
  // What forward keeps for backward: z0 (B·L', C) the chunks, a (B·L', D') E_chunk's output, r (B·Lt, D')
  // E_resid's output (residual only).
  template <class T>
  struct saved {
    view<T, C> z0;
    view<T, Dp> a, r;
  };

  // out = act(E_chunk(z0)) [+ act(E_resid(y))] (assigns)
  template <class Be, class T>
  static void forward(const Be& be, cview<T, Dt> y, weights<T> p, saved<T> s, view<T, Dp> out) {
    gather<Lt, Dt, nh, Lp>(be, y, s.z0, static_cast<T>(stack_scale));
    linear_act_forward<Cfg.relu, Be, T, C, Dp>(be, s.z0, p.chunk, s.a);
    if constexpr (residual) {
      linear_act_forward<Cfg.relu, Be, T, Dt, Dp>(be, y, p.resid, s.r);
      ops::add<Be, T, Dp>(be, s.a, s.r, out);
    } else {
      ops::copy<Be, T, Dp>(be, s.a, out);
    }
  }

  // dy += ∂/∂y (may be empty), weight gradients accumulate. Scratch: g (B·L', D'), dz0 (B·L', C).
  template <class Be, class T>
  static void backward(const Be& be, cview<T, Dt> y, weights<T> p, saved<T> s, cview<T, Dp> dout, view<T, Dt> dy,
                       grads<T> dp, view<T, Dp> g, view<T, C> dz0) {
    ops::fill<Be, T, C>(be, dz0, T(0));
    linear_act_backward<Cfg.relu, Be, T, C, Dp>(be, s.z0, p.chunk, s.a, dout, dz0, dp.chunk, g);
    if (!dy.empty()) scatter<Lt, Dt, nh, Lp, true>(be, cview<T, C>(dz0), dy, static_cast<T>(stack_scale));
    if constexpr (residual) linear_act_backward<Cfg.relu, Be, T, Dt, Dp>(be, y, p.resid, s.r, dout, dy, dp.resid, g);
  }
};

// ---- the decoder: z (B·L', D') -> Y' (B·Lt, Dt) ----
template <int Lt_, int Dt_, int Lp_, int Dp_, mixer::lma_config Cfg>
struct decoder {
  static constexpr int Lt = Lt_, Dt = Dt_, Lp = Lp_, Dp = Dp_, C = Lt * Dt / Lp, nh = Cfg.stack_heads;
  static constexpr mixer::lma_decoder kind = Cfg.decoder;
  static constexpr bool gated = kind == mixer::lma_decoder::reshape_gated;
  static constexpr int out_width = kind == mixer::lma_decoder::proj_to_hidden ? Dt : C;  // rows of W
  static_assert(kind != mixer::lma_decoder::proj_to_hidden || Lp == Lt,
                "the proj_to_hidden decoder maps latent rows to tokens one to one: it needs length 0 (= L)");
  static constexpr double out_scale =
      kind == mixer::lma_decoder::reshape_linear ? sqrt_newton(static_cast<double>(C) / Dp) : 1.0;  // BERT's √(C'/d')

  template <class T>
  struct weights {
    linear_weights<T, Dp> value;  // W_p, W_o or W_v
    linear_weights<T, Dp> gate;   // W_g (reshape_gated only)
  };
  template <class T>
  struct grads {
    linear_grads<T, Dp> value, gate;
  };
  // Kept for backward by reshape_gated: g = σ(z W_gᵀ + b_g), v = z W_vᵀ + b_v (B·L', C).
  template <class T>
  struct saved {
    view<T, C> g, v;
  };

  // y (B·Lt, Dt) = decoder(z) (assigns). chunks (B·L', C): scratch of inverse_linear.
  template <class Be, class T>
  static void forward(const Be& be, cview<T, Dp> z, weights<T> p, saved<T> s, view<T, Dt> y, view<T, C> chunks) {
    if constexpr (kind == mixer::lma_decoder::proj_to_hidden) {
      affine<Be, T, Dp, Dt>(be, z, p.value, y);
    } else if constexpr (kind == mixer::lma_decoder::inverse_linear) {
      affine<Be, T, Dp, C>(be, z, p.value, chunks);
      scatter<Lt, Dt, nh, Lp>(be, cview<T, C>(chunks), y);
    } else if constexpr (kind == mixer::lma_decoder::reshape_linear) {
      const view<T, C> yc = y.template reshape<C>();
      affine<Be, T, Dp, C>(be, z, p.value, yc);
      const T k = static_cast<T>(out_scale);
      be.parallel_for(yc.rows(), [=] GTRM_HD (index_t r) {
        T* q = yc.row(r);
        for (int c = 0; c < C; ++c) q[c] *= k;
      });
    } else {
      const view<T, C> yc = y.template reshape<C>(), g = s.g, v = s.v;
      affine<Be, T, Dp, C>(be, z, p.gate, g);
      affine<Be, T, Dp, C>(be, z, p.value, v);
      be.parallel_for(yc.rows(), [=] GTRM_HD (index_t r) {
        T* gr = g.row(r);
        const T* vr = v.row(r);
        T* q = yc.row(r);
        for (int c = 0; c < C; ++c) {
          gr[c] = ops::sigmoid(gr[c]);
          q[c] = gr[c] * vr[c];
        }
      });
    }
  }

  // dz += ∂/∂z; weight gradients accumulate. dch (B·L', C): scratch.
  template <class Be, class T>
  static void backward(const Be& be, cview<T, Dp> z, weights<T> p, saved<T> s, cview<T, Dt> dy, view<T, Dp> dz,
                       grads<T> dp, view<T, C> dch) {
    if constexpr (kind == mixer::lma_decoder::proj_to_hidden) {
      ops::linear_backward<Be, T, Dp, Dt>(be, z, p.value.w, dy, dz, dp.value.w, dp.value.b);
    } else if constexpr (kind == mixer::lma_decoder::inverse_linear) {
      gather<Lt, Dt, nh, Lp>(be, dy, dch);
      ops::linear_backward<Be, T, Dp, C>(be, z, p.value.w, dch, dz, dp.value.w, dp.value.b);
    } else if constexpr (kind == mixer::lma_decoder::reshape_linear) {
      const cview<T, C> dyc = dy.template reshape<C>();
      const T k = static_cast<T>(out_scale);
      be.parallel_for(dch.rows(), [=] GTRM_HD (index_t r) {
        const T* a = dyc.row(r);
        T* d = dch.row(r);
        for (int c = 0; c < C; ++c) d[c] = k * a[c];
      });
      ops::linear_backward<Be, T, Dp, C>(be, z, p.value.w, dch, dz, dp.value.w, dp.value.b);
    } else {
      const cview<T, C> dyc = dy.template reshape<C>(), g = s.g, v = s.v;
      be.parallel_for(dch.rows(), [=] GTRM_HD (index_t r) {  // ∂/∂v = dy ⊙ g
        const T* a = dyc.row(r);
        const T* gr = g.row(r);
        T* d = dch.row(r);
        for (int c = 0; c < C; ++c) d[c] = a[c] * gr[c];
      });
      ops::linear_backward<Be, T, Dp, C>(be, z, p.value.w, dch, dz, dp.value.w, dp.value.b);
      be.parallel_for(dch.rows(), [=] GTRM_HD (index_t r) {  // ∂/∂(gate pre-activation) = dy ⊙ v ⊙ g(1 − g)
        const T* a = dyc.row(r);
        const T* gr = g.row(r);
        const T* vr = v.row(r);
        T* d = dch.row(r);
        for (int c = 0; c < C; ++c) d[c] = a[c] * vr[c] * gr[c] * (T(1) - gr[c]);
      });
      ops::linear_backward<Be, T, Dp, C>(be, z, p.gate.w, dch, dz, dp.gate.w, dp.gate.b);
    }
  }
};

}  // namespace gtrm::lma

// ---- the encoder and decoder of a latent model M (recursive.hpp), over its public interface ----
namespace gtrm::lma {

template <class M>
using encoder_of = encoder<M::Lt, M::Dt, M::L, M::D, M::lma_cfg>;
template <class M>
using decoder_of = decoder<M::Lt, M::Dt, M::L, M::D, M::lma_cfg>;

// The encoder's weights (or, with P = the gradient buffer, their gradients) in M's parameter layout.
template <class M, class T>
auto encoder_tensors(T* p) {
  using E = encoder_of<M>;
  using U = std::remove_const_t<T>;
  constexpr int idx = M::idx_lma, eb = M::lma_cfg.encoder_bias ? 1 : 0;
  const auto chunk_w = M::template tensor<E::C>(p, idx);
  const view<T, 1> chunk_b = eb ? M::template tensor<1>(p, idx + 1) : view<T, 1>{};
  view<T, M::Dt> resid_w{};
  view<T, 1> resid_b{};
  if constexpr (E::tied) {
    resid_w = view<T, M::Dt>(chunk_w.data(), chunk_w.rows());
    resid_b = chunk_b;
  } else if constexpr (E::residual) {
    resid_w = M::template tensor<M::Dt>(p, idx + 1 + eb);
    if (eb) resid_b = M::template tensor<1>(p, idx + 2 + eb);
  }
  if constexpr (std::is_const_v<T>) return typename E::template weights<U>{{chunk_w, chunk_b}, {resid_w, resid_b}};
  else return typename E::template grads<U>{{chunk_w, chunk_b}, {resid_w, resid_b}};
}

template <class M, class T>
auto decoder_tensors(T* p) {
  using U = std::remove_const_t<T>;
  using Dec = decoder_of<M>;
  constexpr int idx = M::idx_lma_dec, db = M::lma_cfg.decoder_bias ? 1 : 0;
  const view<T, M::D> vw = M::template tensor<M::D>(p, idx);
  const view<T, 1> vb = db ? M::template tensor<1>(p, idx + 1) : view<T, 1>{};
  view<T, M::D> gw{};
  view<T, 1> gb{};
  if constexpr (Dec::gated) {
    gw = M::template tensor<M::D>(p, idx + 1 + db);
    if (db) gb = M::template tensor<1>(p, idx + 2 + db);
  }
  if constexpr (std::is_const_v<T>) return typename Dec::template weights<U>{{vw, vb}, {gw, gb}};
  else return typename Dec::template grads<U>{{vw, vb}, {gw, gb}};
}

// ws.x (latent) ← encoder(ws.xt); keeps z0, enc_a, enc_b for backward.
template <class M>
void encode(const M& m, typename M::workspace& ws, index_t batch) {
  using T = typename M::scalar;
  using E = encoder_of<M>;
  const index_t n = batch * M::L;
  E::forward(m.backend(), cview<T, M::Dt>(ws.xt.slice(0, batch * M::Lt)), encoder_tensors<M>(m.params().data()),
             typename E::template saved<T>{ws.z0.slice(0, n), ws.enc_a.slice(0, n),
                                           E::residual ? ws.enc_b.slice(0, batch * M::Lt) : view<T, M::D>{}},
             ws.x.slice(0, n));
}

// ws.dxt (token level) ← the encoder's backward of ws.dx (latent); encoder weight gradients accumulate.
template <class M>
void encode_backward(M& m, typename M::workspace& ws, index_t batch) {
  using T = typename M::scalar;
  using E = encoder_of<M>;
  const index_t n = batch * M::L;
  const auto dxt = ws.dxt.slice(0, batch * M::Lt);
  ops::fill<typename M::backend_type, T, M::Dt>(m.backend(), dxt, T(0));
  E::backward(m.backend(), cview<T, M::Dt>(ws.xt.slice(0, batch * M::Lt)), encoder_tensors<M>(std::as_const(m).params().data()),
              typename E::template saved<T>{ws.z0.slice(0, n), ws.enc_a.slice(0, n),
                                            E::residual ? ws.enc_b.slice(0, batch * M::Lt) : view<T, M::D>{}},
              cview<T, M::D>(ws.dx.slice(0, n)), dxt, encoder_tensors<M>(m.grads().data()), ws.genc.slice(0, n),
              ws.chunks.slice(0, n));
}

// ws.ydec (token level) ← decoder(z_H); keeps a copy of z_H (ws.zfin) for backward. Returns ws.ydec's rows.
template <class M>
view<typename M::scalar, M::Dt> decode(const M& m, typename M::workspace& ws, view<typename M::scalar, M::D> z_h, index_t batch) {
  using T = typename M::scalar;
  using Dec = decoder_of<M>;
  const index_t n = batch * M::L;
  ops::copy<typename M::backend_type, T, M::D>(m.backend(), z_h.slice(0, n), ws.zfin.slice(0, n));
  const auto y = ws.ydec.slice(0, batch * M::Lt);
  Dec::forward(m.backend(), cview<T, M::D>(ws.zfin.slice(0, n)), decoder_tensors<M>(m.params().data()),
               typename Dec::template saved<T>{Dec::gated ? ws.dec_g.slice(0, n) : view<T, M::C>{},
                                               Dec::gated ? ws.dec_v.slice(0, n) : view<T, M::C>{}},
               y, ws.chunks.slice(0, n));
  return y;
}

// dzh (latent) is assigned from ws.dyd (the token-level gradient the heads left there).
template <class M>
void decode_backward(M& m, typename M::workspace& ws, view<typename M::scalar, M::D> dzh, index_t batch) {
  using T = typename M::scalar;
  using Dec = decoder_of<M>;
  const index_t n = batch * M::L;
  ops::fill<typename M::backend_type, T, M::D>(m.backend(), dzh, T(0));
  Dec::backward(m.backend(), cview<T, M::D>(ws.zfin.slice(0, n)), decoder_tensors<M>(std::as_const(m).params().data()),
                typename Dec::template saved<T>{Dec::gated ? ws.dec_g.slice(0, n) : view<T, M::C>{},
                                                Dec::gated ? ws.dec_v.slice(0, n) : view<T, M::C>{}},
                cview<T, M::Dt>(ws.dyd.slice(0, batch * M::Lt)), dzh, decoder_tensors<M>(m.grads().data()),
                ws.chunks.slice(0, n));
}

}  // namespace gtrm::lma
