// The GTRM gates as ops, forward next to backward (VARIANTS.md §1.1–§1.3, §2). Rows are tokens (N = B·L),
// σ is the logistic sigmoid. Backward functions accumulate (+=) into input and parameter gradients unless
// a comment says "assigns".
//
// Context-injection gate, scalar per call (GTRM main):   h = z + s·u,            s = σ(g_k)
//   backward:  dz += dh,  du += s·dh,  dg_k += s(1−s) Σ dh⊙u
// Context-injection gate, per channel (GTRM inputGate):   h = z + s⊙u,            s = σ(z W_cᵀ + b_c)   (N, D)
//   backward:  e = dh⊙u⊙s(1−s);  du += s⊙dh;  dz += dh + e W_c;  dW_c += eᵀ z;  db_c += Σ_n e
// Attention output gate (Qwen G1):                        y = o ⊙ s,  s = σ(G)   headwise: s (N, heads) is
//   broadcast over each head's head_dim channels; elementwise: s (N, D)
//   backward:  dG = Σ_(head channels) dy⊙o · s(1−s)  (assigns);  do = dy⊙s (assigns, in place on dy)
// Recurrent update cell (GRU-style):  c = [z_prev ; z̃ ; ctx]  (N, 3D)
//   u = σ(c W_uᵀ + b_u),  r = σ(c W_rᵀ + b_r) (Reset only, else r = 1)
//   z = (1−u)⊙(r⊙z_prev) + u⊙z̃
//   backward:  a_u = dz⊙(z̃ − r⊙z_prev)⊙u(1−u);  a_r = dz⊙(1−u)⊙z_prev⊙r(1−r)
//              dc = a_u W_u + a_r W_r  (N, 3D);  dW_u += a_uᵀ c;  db_u += Σ a_u  (and r likewise)
//              dz_prev = dz⊙(1−u)⊙r + dc[:, 0:D];  dz̃ = dz⊙u + dc[:, D:2D];  dctx = dc[:, 2D:3D]  (assign)
#pragma once
#include <cmath>

#include "../concepts.hpp"
#include "../core/view.hpp"
#include "../ops/activation.hpp"
#include "../ops/elementwise.hpp"
#include "../ops/linear.hpp"

namespace gtrm::gates {

using ops::sigmoid;

// ---- context-injection gate, scalar ----

// h = z + s·u (h may alias z or u)
template <class Be, class T, int D>
void scalar_inject_forward(const Be& be, cview<T, D> z, cview<T, D> u, T s, view<T, D> h) {
  be.parallel_for(z.rows(), [&](index_t r) {
    const T* a = z.row(r);
    const T* b = u.row(r);
    T* d = h.row(r);
    for (int c = 0; c < D; ++c) d[c] = a[c] + s * b[c];
  });
}

// du += s·dh; returns d g = s(1−s) Σ dh⊙u (dz += dh is left to the caller, who owns the state gradient).
template <class Be, class T, int D>
T scalar_inject_backward(const Be& be, cview<T, D> u, cview<T, D> dh, T s, view<T, D> du) {
  T acc = 0;
  for (index_t r = 0; r < dh.rows(); ++r) {
    const T* g = dh.row(r);
    const T* x = u.row(r);
    T* d = du.row(r);
    for (int c = 0; c < D; ++c) { acc += g[c] * x[c]; d[c] += s * g[c]; }
  }
  (void)be;
  return acc * s * (T(1) - s);
}

// ---- context-injection gate, per channel ----

// s = σ(z W_cᵀ + b_c) (assigns s); h = z + s⊙u (h may alias u, not z)
template <class Be, class T, int D>
void channel_inject_forward(const Be& be, cview<T, D> z, cview<T, D> u, cview<T, D> w, cview<T, 1> b, view<T, D> s,
                            view<T, D> h) {
  ops::linear_forward<Be, T, D, D>(be, z, w, b, s);
  be.parallel_for(z.rows(), [&](index_t r) {
    T* sr = s.row(r);
    const T* zr = z.row(r);
    const T* ur = u.row(r);
    T* hr = h.row(r);
    for (int c = 0; c < D; ++c) {
      sr[c] = sigmoid(sr[c]);
      hr[c] = zr[c] + sr[c] * ur[c];
    }
  });
}

// du += s⊙dh; dz += e W_c (the identity part dz += dh is left to the caller); dW_c, db_c accumulate.
// e is scratch (N, D).
template <class Be, class T, int D>
void channel_inject_backward(const Be& be, cview<T, D> z, cview<T, D> u, cview<T, D> s, cview<T, D> w, cview<T, D> dh,
                             view<T, D> du, view<T, D> dz, view<T, D> dw, view<T, 1> db, view<T, D> e) {
  be.parallel_for(dh.rows(), [&](index_t r) {
    const T* g = dh.row(r);
    const T* x = u.row(r);
    const T* sr = s.row(r);
    T* er = e.row(r);
    T* d = du.row(r);
    for (int c = 0; c < D; ++c) {
      er[c] = g[c] * x[c] * sr[c] * (T(1) - sr[c]);
      d[c] += sr[c] * g[c];
    }
  });
  ops::linear_backward<Be, T, D, D>(be, z, w, e, dz, dw, db);
}

// ---- attention output gate ----

// s = σ(g) in place; y = o ⊙ s (broadcast per head when G == Heads)
template <int Heads, int HeadDim, int G, class Be, class T>
void attention_gate_forward(const Be& be, cview<T, Heads * HeadDim> o, view<T, G> g, view<T, Heads * HeadDim> y) {
  constexpr int D = Heads * HeadDim;
  static_assert(G == Heads || G == D, "an attention gate has one logit per head or one per channel");
  be.parallel_for(o.rows(), [&](index_t r) {
    T* s = g.row(r);
    for (int c = 0; c < G; ++c) s[c] = sigmoid(s[c]);
    const T* a = o.row(r);
    T* d = y.row(r);
    if constexpr (G == D) {
      for (int c = 0; c < D; ++c) d[c] = a[c] * s[c];
    } else {
      for (int h = 0; h < Heads; ++h)
        for (int c = 0; c < HeadDim; ++c) d[h * HeadDim + c] = a[h * HeadDim + c] * s[h];
    }
  });
}

// Assigns dg (the logits' gradient) and turns dy into do = dy ⊙ s in place.
template <int Heads, int HeadDim, int G, class Be, class T>
void attention_gate_backward(const Be& be, cview<T, Heads * HeadDim> o, cview<T, G> s, view<T, Heads * HeadDim> dy,
                             view<T, G> dg) {
  constexpr int D = Heads * HeadDim;
  be.parallel_for(o.rows(), [&](index_t r) {
    const T* a = o.row(r);
    const T* sr = s.row(r);
    T* d = dy.row(r);
    T* gr = dg.row(r);
    if constexpr (G == D) {
      for (int c = 0; c < D; ++c) {
        gr[c] = d[c] * a[c] * sr[c] * (T(1) - sr[c]);
        d[c] *= sr[c];
      }
    } else {
      for (int h = 0; h < Heads; ++h) {
        T acc = 0;
        for (int c = 0; c < HeadDim; ++c) {
          acc += d[h * HeadDim + c] * a[h * HeadDim + c];
          d[h * HeadDim + c] *= sr[h];
        }
        gr[h] = acc * sr[h] * (T(1) - sr[h]);
      }
    }
  });
}

// ---- recurrent update cell ----

// Assigns c = [a ; b ; ctx] (N, 3D).
template <class Be, class T, int D>
void concat3(const Be& be, cview<T, D> a, cview<T, D> b, cview<T, D> ctx, view<T, 3 * D> c) {
  be.parallel_for(a.rows(), [&](index_t r) {
    T* d = c.row(r);
    const T* x = a.row(r);
    const T* y = b.row(r);
    const T* w = ctx.row(r);
    for (int k = 0; k < D; ++k) { d[k] = x[k]; d[D + k] = y[k]; d[2 * D + k] = w[k]; }
  });
}

// c = [z_prev ; z̃ ; ctx] is filled by the caller. Assigns u (and r), and z (may alias neither c nor u/r).
template <bool Reset, class Be, class T, int D>
void recurrent_forward(const Be& be, cview<T, 3 * D> c, cview<T, 3 * D> wu, cview<T, 1> bu, cview<T, 3 * D> wr,
                       cview<T, 1> br, view<T, D> u, view<T, D> rg, view<T, D> z) {
  ops::linear_forward<Be, T, 3 * D, D>(be, c, wu, bu, u);
  if constexpr (Reset) ops::linear_forward<Be, T, 3 * D, D>(be, c, wr, br, rg);
  else { (void)wr; (void)br; (void)rg; }
  be.parallel_for(c.rows(), [&](index_t n) {
    const T* cr = c.row(n);
    T* ur = u.row(n);
    T* zr = z.row(n);
    T* rr = Reset ? rg.row(n) : nullptr;
    for (int k = 0; k < D; ++k) {
      ur[k] = sigmoid(ur[k]);
      T keep = cr[k];
      if constexpr (Reset) { rr[k] = sigmoid(rr[k]); keep *= rr[k]; }
      zr[k] = (T(1) - ur[k]) * keep + ur[k] * cr[D + k];
    }
  });
}

// dz (N, D) is the gradient of the new state. Assigns dz_prev, dcand, dctx; accumulates dW/db.
// au, ar (N, D) and dc (N, 3D) are scratch.
template <bool Reset, class Be, class T, int D>
void recurrent_backward(const Be& be, cview<T, 3 * D> c, cview<T, D> u, cview<T, D> rg, cview<T, 3 * D> wu,
                        cview<T, 3 * D> wr, cview<T, D> dz, view<T, D> dz_prev, view<T, D> dcand, view<T, D> dctx,
                        view<T, 3 * D> dwu, view<T, 1> dbu, view<T, 3 * D> dwr, view<T, 1> dbr, view<T, D> au,
                        view<T, D> ar, view<T, 3 * D> dc) {
  be.parallel_for(c.rows(), [&](index_t n) {
    const T* cr = c.row(n);
    const T* ur = u.row(n);
    const T* rr = Reset ? rg.row(n) : nullptr;
    const T* g = dz.row(n);
    T* a = au.row(n);
    T* b = Reset ? ar.row(n) : nullptr;
    T* dp = dz_prev.row(n);
    T* dd = dcand.row(n);
    for (int k = 0; k < D; ++k) {
      const T r = Reset ? rr[k] : T(1);
      const T keep = r * cr[k];
      a[k] = g[k] * (cr[D + k] - keep) * ur[k] * (T(1) - ur[k]);
      if constexpr (Reset) b[k] = g[k] * (T(1) - ur[k]) * cr[k] * r * (T(1) - r);
      dp[k] = g[k] * (T(1) - ur[k]) * r;
      dd[k] = g[k] * ur[k];
    }
  });
  ops::fill<Be, T, 3 * D>(be, dc, T(0));
  ops::linear_backward<Be, T, 3 * D, D>(be, c, wu, au, dc, dwu, dbu);
  if constexpr (Reset) ops::linear_backward<Be, T, 3 * D, D>(be, c, wr, ar, dc, dwr, dbr);
  else { (void)wr; (void)dwr; (void)dbr; (void)ar; (void)rg; }
  be.parallel_for(c.rows(), [&](index_t n) {
    const T* d = dc.row(n);
    T* dp = dz_prev.row(n);
    T* dd = dcand.row(n);
    T* dx = dctx.row(n);
    for (int k = 0; k < D; ++k) { dp[k] += d[k]; dd[k] += d[D + k]; dx[k] = d[2 * D + k]; }
  });
}

}  // namespace gtrm::gates
