// One post-norm block of the reasoning network (docs/reference.md §1.6):
//   attention mixer:  h1 = rms(h + Attn(h)),            h2 = rms(h1 + SwiGLU_D(h1))
//   token-MLP mixer:  h1 = rms_L(hᵀ + SwiGLU_L(hᵀ))ᵀ,    h2 = rms(h1 + SwiGLU_D(h1))
// All activations are (N, D) with N = B·L rows. `block_saved` is what backward needs (the tape holds one
// per layer per recorded application); `block_scratch` is shared by every block and overwritten.
//
// Attention output gate (site::attn_out, model/gates/attention_output.hpp): the site's op declares G logits per
// token; qkv_proj then has 3D + G output rows laid out [Q (D) | G | K (D) | V (D)] as GTRM's
// GatedAttentionQwenStyle, so a checkpoint maps one to one. The gate logits come from the block input (the same
// tensor as Q, K, V); the op gates the attention output before o_proj. With G = 0 the code is the plain block.
#pragma once
#include "../core/arena.hpp"
#include "../core/view.hpp"
#include "../ops/attention.hpp"
#include "../ops/elementwise.hpp"
#include "../ops/linear.hpp"
#include "../ops/rms_norm.hpp"
#include "../ops/rope.hpp"
#include "../ops/swiglu.hpp"
#include "../ops/token_mlp.hpp"
#include "gates/site.hpp"

namespace gtrm {

// The compile-time shape of a block.
// AttnGate: the op at site::attn_out (gate::no_attn_out: none); it declares `logits`, G.
template <int L_, int D_, int Heads_, int I_, int It_, bool Attention_, bool Rope_,
          class AttnGate = gate::no_attn_out<void>>
struct block_shape {
  static constexpr int L = L_, D = D_, heads = Heads_, head_dim = Heads_ > 0 ? D_ / Heads_ : 2;  // 2: unused tables
  static constexpr int I = I_, It = It_;
  static constexpr bool attention = Attention_, rope = Rope_;
  static constexpr int heads_or_1 = Heads_ > 0 ? Heads_ : 1;
  using attn_gate = AttnGate;
  static constexpr int G = AttnGate::logits;         // attention-gate logits per token: 0, heads or D
  static constexpr bool gated = G > 0;
  static constexpr int G_or_1 = G > 0 ? G : 1;
  static constexpr int qkv_rows = 3 * D_ + G;
  static_assert(G == 0 || Attention_, "an attention gate needs the attention mixer");
};

// Weights of one block, as views into the flat parameter buffer (or its gradient).
template <class T, class S>
struct block_weights {
  view<T, S::D> qkv;      // (3D + G, D)   attention only, rows [Q | G | K | V]
  view<T, S::D> o;        // (D, D)        attention only
  view<T, S::L> gu_t;     // (2·It, L)     token-MLP only
  view<T, S::It> down_t;  // (L, It)       token-MLP only
  view<T, S::D> gu;       // (2I, D)
  view<T, S::I> down;     // (D, I)
};

template <class T, class S>
struct block_saved {
  view<T, 3 * S::D> qkv;                 // (N, 3D) after RoPE
  view<T, S::D> o;                       // (N, D) attention output before o_proj
  view<T, S::heads_or_1> lse;            // (N, H)
  view<T, S::G_or_1> gs;                 // (N, G) attention gate σ(G), gated blocks only
  ops::token_mlp_saved<T, S::L, S::It> tok;
  view<T, S::D> h1;                      // (N, D) after the mixer's norm
  view<T, 1> rstd1;                      // (N)
  view<T, 2 * S::I> gu;                  // (N, 2I)
  view<T, S::D> h2;                      // (N, D) block output
  view<T, 1> rstd2;                      // (N)

  void take(auto& a, index_t n) {
    if constexpr (S::attention) {
      qkv = a.template take<T, 3 * S::D>(n);
      o = a.template take<T, S::D>(n);
      lse = a.template take<T, S::heads_or_1>(n);
      if constexpr (S::gated) gs = a.template take<T, S::G_or_1>(n);
    } else {
      const index_t bd = n / S::L * S::D;
      tok.u = a.template take<T, S::L>(bd);
      tok.gu = a.template take<T, 2 * S::It>(bd);
      tok.t = a.template take<T, S::L>(bd);
      tok.rstd = a.template take<T, 1>(bd);
    }
    h1 = a.template take<T, S::D>(n);
    rstd1 = a.template take<T, 1>(n);
    gu = a.template take<T, 2 * S::I>(n);
    h2 = a.template take<T, S::D>(n);
    rstd2 = a.template take<T, 1>(n);
  }
  // The same views cut to the first n rows (the workspace is planned for the largest batch).
  block_saved first(index_t n) const { return rows(0, n); }
  // The same views cut to rows [r0, r0 + n) of whole samples (r0, n multiples of L): one thread's share when the
  // batch is split across threads (schedule.hpp's run_network); the token-MLP views are cut at the same samples.
  block_saved rows(index_t r0, index_t n) const {
    block_saved r = *this;
    if constexpr (S::attention) {
      r.qkv = qkv.slice(r0, n);
      r.o = o.slice(r0, n);
      r.lse = lse.slice(r0, n);
      if constexpr (S::gated) r.gs = gs.slice(r0, n);
    } else {
      const index_t b0 = r0 / S::L * S::D, bd = n / S::L * S::D;
      r.tok = {tok.u.slice(b0, bd), tok.gu.slice(b0, bd), tok.t.slice(b0, bd), tok.rstd.slice(b0, bd)};
    }
    r.h1 = h1.slice(r0, n);
    r.rstd1 = rstd1.slice(r0, n);
    r.gu = gu.slice(r0, n);
    r.h2 = h2.slice(r0, n);
    r.rstd2 = rstd2.slice(r0, n);
    return r;
  }
};

template <class T, class S>
struct block_scratch {
  view<T, S::D> t0, t1, t2;              // (N, D)
  view<T, S::I> s, ds;                   // (N, I)
  view<T, 2 * S::I> dgu;                 // (N, 2I)
  view<T, 3 * S::D> dqkv;                // (N, 3D) attention only
  view<T, S::D> og;                      // (N, D) gated attention output (gated blocks)
  view<T, S::G_or_1> dgs;                // (N, G) gate-logit gradient (gated blocks)
  ops::token_mlp_scratch<T, S::L, S::It> tok;

  void take(auto& a, index_t n) {
    t0 = a.template take<T, S::D>(n);
    t1 = a.template take<T, S::D>(n);
    t2 = a.template take<T, S::D>(n);
    s = a.template take<T, S::I>(n);
    ds = a.template take<T, S::I>(n);
    dgu = a.template take<T, 2 * S::I>(n);
    if constexpr (S::attention) {
      dqkv = a.template take<T, 3 * S::D>(n);
      if constexpr (S::gated) {
        og = a.template take<T, S::D>(n);
        dgs = a.template take<T, S::G_or_1>(n);
      }
    } else {
      const index_t bd = n / S::L * S::D;
      tok.s = a.template take<T, S::It>(bd);
      tok.ds = a.template take<T, S::It>(bd);
      tok.dgu = a.template take<T, 2 * S::It>(bd);
      tok.m = a.template take<T, S::L>(bd);
      tok.dr = a.template take<T, S::L>(bd);
    }
  }
  block_scratch first(index_t n) const { return rows(0, n); }
  // Rows [r0, r0 + n) of whole samples, as block_saved::rows: each thread of a split batch has its own scratch rows.
  block_scratch rows(index_t r0, index_t n) const {
    block_scratch r = *this;
    r.t0 = t0.slice(r0, n);
    r.t1 = t1.slice(r0, n);
    r.t2 = t2.slice(r0, n);
    r.s = s.slice(r0, n);
    r.ds = ds.slice(r0, n);
    r.dgu = dgu.slice(r0, n);
    if constexpr (S::attention) {
      r.dqkv = dqkv.slice(r0, n);
      if constexpr (S::gated) {
        r.og = og.slice(r0, n);
        r.dgs = dgs.slice(r0, n);
      }
    } else {
      const index_t b0 = r0 / S::L * S::D, bd = n / S::L * S::D;
      r.tok = {tok.s.slice(b0, bd), tok.ds.slice(b0, bd), tok.dgu.slice(b0, bd), tok.m.slice(b0, bd),
               tok.dr.slice(b0, bd)};
    }
    return r;
  }
};

// Forward: `in` (N, D) -> sv.h2. `rope_cos/sin` are (L, head_dim) tables (unused without RoPE).
template <class S, class Be, class T>
void block_forward(const Be& be, const block_weights<const T, S>& w, cview<T, S::D> in, block_saved<T, S>& sv,
                   block_scratch<T, S>& sc, cview<T, S::head_dim> rope_cos, cview<T, S::head_dim> rope_sin) {
  constexpr int D = S::D;
  if constexpr (S::attention) {
    if constexpr (S::gated) {  // rows [Q | G | K | V] of qkv_proj: three products into qkv (N, 3D) and gs (N, G)
      constexpr int G = S::G;
      const index_t n = in.rows();
      be.gemm(trans::no, trans::yes, n, D, D, T(1), in.data(), D, w.qkv.data(), D, T(0), sv.qkv.data(), 3 * D);
      be.gemm(trans::no, trans::yes, n, G, D, T(1), in.data(), D, w.qkv.data() + D * D, D, T(0), sv.gs.data(), G);
      be.gemm(trans::no, trans::yes, n, 2 * D, D, T(1), in.data(), D, w.qkv.data() + (D + G) * D, D, T(0),
              sv.qkv.data() + D, 3 * D);
    } else {
      ops::linear_forward<Be, T, D, 3 * D>(be, in, w.qkv, sv.qkv);
    }
    if constexpr (S::rope) ops::rope_apply<S::L, S::heads, S::head_dim>(be, sv.qkv, rope_cos, rope_sin);
    ops::attention_forward<S::L, S::heads, S::head_dim, Be, T>(be, sv.qkv, sv.o, sv.lse);
    if constexpr (S::gated) {
      S::attn_gate::forward(be, cview<T, D>(sv.o), sv.gs, sc.og);
      ops::linear_forward<Be, T, D, D>(be, sc.og, w.o, sc.t0);
    } else {
      ops::linear_forward<Be, T, D, D>(be, sv.o, w.o, sc.t0);
    }
    ops::add_rms_norm_forward<Be, T, D>(be, in, sc.t0, sv.h1, sv.rstd1);
  } else {
    (void)rope_cos; (void)rope_sin;
    ops::token_mlp_forward<S::L, S::It, Be, T, D>(be, in, w.gu_t, w.down_t, sv.tok, sc.tok, sv.h1);
  }
  ops::swiglu_mlp_forward<Be, T, D, S::I, D>(be, sv.h1, w.gu, w.down, sv.gu, sc.s, sc.t0);
  ops::add_rms_norm_forward<Be, T, D>(be, sv.h1, sc.t0, sv.h2, sv.rstd2);
}

// Backward: dout (N, D) is the gradient of sv.h2; din += d in; weight gradients accumulate into dw.
// Uses sc.t0, sc.t1 (dout must not alias them).
template <class S, class Be, class T>
void block_backward(const Be& be, const block_weights<const T, S>& w, const block_weights<T, S>& dw,
                    cview<T, S::D> in, const block_saved<T, S>& sv, block_scratch<T, S>& sc, cview<T, S::D> dout,
                    view<T, S::D> din, cview<T, S::head_dim> rope_cos, cview<T, S::head_dim> rope_sin) {
  constexpr int D = S::D;
  // channel SwiGLU half: dr2 = rms'(dout); dh1 = dr2 + SwiGLUᵀ(dr2)
  view<T, D> dr = sc.t0, dh1 = sc.t1;
  ops::rms_norm_backward<Be, T, D, false>(be, sv.h2, sv.rstd2, dout, dr);
  ops::copy<Be, T, D>(be, dr, dh1);
  ops::swiglu_mlp_backward<Be, T, D, S::I, D>(be, sv.h1, w.gu, w.down, sv.gu, dr, sc.s, sc.ds, sc.dgu, dh1, dw.gu,
                                              dw.down);
  if constexpr (S::attention) {
    // mixer half: dr1 = rms'(dh1); din += dr1 (residual) + Attnᵀ(dr1)
    ops::rms_norm_backward<Be, T, D, false>(be, sv.h1, sv.rstd1, dh1, dr);
    ops::accumulate<Be, T, D>(be, dr, din);
    view<T, D> d_o = sc.t1;
    ops::fill<Be, T, D>(be, d_o, T(0));
    if constexpr (S::gated) {
      // o_proj saw o ⊙ s: recompute it, then d_o ⊙ s and the gate logits' gradient
      S::attn_gate::apply(be, cview<T, D>(sv.o), cview<T, S::G>(sv.gs), sc.og);
      ops::linear_backward<Be, T, D, D>(be, sc.og, w.o, dr, d_o, dw.o);
      S::attn_gate::backward(be, cview<T, D>(sv.o), cview<T, S::G>(sv.gs), d_o, sc.dgs);
    } else {
      ops::linear_backward<Be, T, D, D>(be, sv.o, w.o, dr, d_o, dw.o);
    }
    ops::fill<Be, T, 3 * D>(be, sc.dqkv, T(0));
    ops::attention_backward<S::L, S::heads, S::head_dim, Be, T>(be, sv.qkv, sv.o, sv.lse, d_o, sc.dqkv);
    if constexpr (S::rope) ops::rope_apply<S::L, S::heads, S::head_dim, true>(be, sc.dqkv, rope_cos, rope_sin);
    if constexpr (S::gated) {  // din += [dQ | dG | dK dV] W; dW rows [Q | G | K | V] += [..]ᵀ in
      constexpr int G = S::G;
      const index_t n = in.rows();
      const T* W = w.qkv.data();
      T* dW = dw.qkv.data();
      be.gemm(trans::no, trans::no, n, D, D, T(1), sc.dqkv.data(), 3 * D, W, D, T(1), din.data(), D);
      be.gemm(trans::no, trans::no, n, D, G, T(1), sc.dgs.data(), G, W + D * D, D, T(1), din.data(), D);
      be.gemm(trans::no, trans::no, n, D, 2 * D, T(1), sc.dqkv.data() + D, 3 * D, W + (D + G) * D, D, T(1), din.data(), D);
      be.gemm(trans::yes, trans::no, D, D, n, T(1), sc.dqkv.data(), 3 * D, in.data(), D, T(1), dW, D);
      be.gemm(trans::yes, trans::no, G, D, n, T(1), sc.dgs.data(), G, in.data(), D, T(1), dW + D * D, D);
      be.gemm(trans::yes, trans::no, 2 * D, D, n, T(1), sc.dqkv.data() + D, 3 * D, in.data(), D, T(1), dW + (D + G) * D, D);
    } else {
      ops::linear_backward<Be, T, D, 3 * D>(be, in, w.qkv, sc.dqkv, din, dw.qkv);
    }
  } else {
    (void)in; (void)rope_cos; (void)rope_sin;
    ops::token_mlp_backward<S::L, S::It, Be, T, D>(be, w.gu_t, w.down_t, sv.tok, sc.tok, dh1, din, dw.gu_t,
                                                   dw.down_t);
  }
}

}  // namespace gtrm
