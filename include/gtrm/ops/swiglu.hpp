// SwiGLU (models/layers.py:SwiGLU):
//   [g, u] = x W_guᵀ             x (N, In), W_gu (2I, In): rows [0, I) gate, [I, 2I) up
//   s = silu(g) ∘ u              (N, I)
//   y = s W_downᵀ                W_down (Out, I), y (N, Out)
// with I = swiglu_intermediate(In, expansion) (config.hpp). This header holds the activation and the
// whole MLP; the MLP saves gu (N, 2I) for backward and recomputes s from it.
// backward of the activation: dg += dy ∘ u ∘ σ(g)(1 + g(1 − σ(g))),  du += dy ∘ silu(g)
#pragma once
#include <cmath>

#include "../core/view.hpp"
#include "activation.hpp"
#include "elementwise.hpp"
#include "linear.hpp"

namespace gtrm::ops {

template <class Be, class T, int I>
void swiglu_forward(const Be& be, cview<T, 2 * I> gu, view<T, I> s) {
  be.parallel_for(gu.rows(), [=] GTRM_HD (index_t n) {
    const T* g = gu.row(n);
    const T* u = g + I;
    T* o = s.row(n);
    for (int i = 0; i < I; ++i) o[i] = g[i] * sigmoid(g[i]) * u[i];
  });
}

template <class Be, class T, int I>
void swiglu_backward(const Be& be, cview<T, 2 * I> gu, cview<T, I> ds, view<T, 2 * I> dgu) {
  be.parallel_for(gu.rows(), [=] GTRM_HD (index_t n) {
    const T* g = gu.row(n);
    const T* u = g + I;
    const T* d = ds.row(n);
    T* dg = dgu.row(n);
    T* du = dg + I;
    for (int i = 0; i < I; ++i) {
      const T sg = sigmoid(g[i]);
      const T silu = g[i] * sg;
      dg[i] += d[i] * u[i] * sg * (T(1) + g[i] * (T(1) - sg));
      du[i] += d[i] * silu;
    }
  });
}

// The whole MLP. Workspace: gu (N, 2I) is saved, s (N, I) is scratch.
template <class Be, class T, int In, int I, int Out>
void swiglu_mlp_forward(const Be& be, cview<T, In> x, cview<T, In> w_gu, cview<T, I> w_down, view<T, 2 * I> gu,
                        view<T, I> s, view<T, Out> y) {
  linear_forward<Be, T, In, 2 * I>(be, x, w_gu, gu);
  swiglu_forward<Be, T, I>(be, gu, s);
  linear_forward<Be, T, I, Out>(be, s, w_down, y);
}

// dgu and s are scratch (overwritten); dx, dw_gu, dw_down accumulate.
template <class Be, class T, int In, int I, int Out>
void swiglu_mlp_backward(const Be& be, cview<T, In> x, cview<T, In> w_gu, cview<T, I> w_down, cview<T, 2 * I> gu,
                         cview<T, Out> dy, view<T, I> s, view<T, I> ds, view<T, 2 * I> dgu, view<T, In> dx,
                         view<T, In> dw_gu, view<T, I> dw_down) {
  swiglu_forward<Be, T, I>(be, gu, s);
  fill<Be, T, I>(be, ds, T(0));
  fill<Be, T, 2 * I>(be, dgu, T(0));
  linear_backward<Be, T, I, Out>(be, s, w_down, dy, ds, dw_down);
  swiglu_backward<Be, T, I>(be, gu, ds, dgu);
  linear_backward<Be, T, In, 2 * I>(be, x, w_gu, dgu, dx, dw_gu);
}

}  // namespace gtrm::ops
