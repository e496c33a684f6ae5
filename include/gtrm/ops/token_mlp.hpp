// Token-mixing MLP sub-layer (the reference's mlp_t block half, docs/reference.md §1.6):
//   u   = transpose(h)                      h (B*L, D) -> u (B*D, L)
//   t   = rms_norm(u + SwiGLU_L(u))          SwiGLU over the sequence axis, norm over L (not D!)
//   out = transpose(t)                      (B*L, D)
// with SwiGLU_L: W_gu (2·It, L), W_down (L, It), It = swiglu_intermediate(L, expansion).
// Saved for backward: u, gu (B*D, 2·It), t, rstd (B*D). Backward (accumulates into dh and the weights):
//   dt = transpose(dout);  dr = rms_norm_backward(t, rstd, dt);  du = dr + SwiGLU_Lᵀ(dr);  dh += transpose(du)
#pragma once
#include "../core/view.hpp"
#include "elementwise.hpp"
#include "rms_norm.hpp"
#include "swiglu.hpp"

namespace gtrm::ops {

template <class T, int L, int It>
struct token_mlp_saved {
  view<T, L> u;          // (B*D, L)
  view<T, 2 * It> gu;    // (B*D, 2·It)
  view<T, L> t;          // (B*D, L) normalised
  view<T, 1> rstd;       // (B*D)
};

template <class T, int L, int It>
struct token_mlp_scratch {
  view<T, It> s;         // (B*D, It)
  view<T, It> ds;        // (B*D, It)
  view<T, 2 * It> dgu;   // (B*D, 2·It)
  view<T, L> m;          // (B*D, L): MLP output, then dt
  view<T, L> dr;         // (B*D, L)
};

template <int L, int It, class Be, class T, int D>
void token_mlp_forward(const Be& be, cview<T, D> h, cview<T, L> w_gu, cview<T, It> w_down,
                       token_mlp_saved<T, L, It> sv, token_mlp_scratch<T, L, It> sc, view<T, D> out) {
  transpose<L>(be, h, sv.u);
  swiglu_mlp_forward<Be, T, L, It, L>(be, sv.u, w_gu, w_down, sv.gu, sc.s, sc.m);
  add<Be, T, L>(be, sv.u, sc.m, sc.m);
  rms_norm_forward<Be, T, L>(be, sc.m, sv.t, sv.rstd);
  transpose<D>(be, cview<T, L>(sv.t), out);
}

template <int L, int It, class Be, class T, int D>
void token_mlp_backward(const Be& be, cview<T, L> w_gu, cview<T, It> w_down, token_mlp_saved<T, L, It> sv,
                        token_mlp_scratch<T, L, It> sc, cview<T, D> dout, view<T, D> dh, view<T, L> dw_gu,
                        view<T, It> dw_down) {
  view<T, L> dt = sc.m;
  transpose<L>(be, dout, dt);
  fill<Be, T, L>(be, sc.dr, T(0));
  rms_norm_backward<Be, T, L>(be, sv.t, sv.rstd, dt, sc.dr);
  // du = dr (residual) + SwiGLU_Lᵀ(dr); dt is reused to hold du
  fill<Be, T, L>(be, dt, T(0));
  swiglu_mlp_backward<Be, T, L, It, L>(be, sv.u, w_gu, w_down, sv.gu, cview<T, L>(sc.dr), sc.s, sc.ds, sc.dgu,
                                       dt, dw_gu, dw_down);
  add<Be, T, L>(be, sc.dr, dt, dt);
  transpose<D, true>(be, cview<T, L>(dt), dh);
}

}  // namespace gtrm::ops
