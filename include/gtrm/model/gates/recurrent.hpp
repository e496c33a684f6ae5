// Recurrent update gate (GRU-style, GTRM §1.3, docs/variants.md §1.3), site::update, one cell per state (z_L, z_H):
//   c = [z_prev ; z̃ ; ctx]  (N, 3D),  ctx = z_H + mean_tokens(x) for z_L,  ctx = z_L (the new one) for z_H
//   u = σ(c W_uᵀ + b_u),  r = σ(c W_rᵀ + b_r) (Reset only, else r = 1)
//   z = (1−u)⊙(r⊙z_prev) + u⊙z̃
//   backward:  a_u = dz⊙(z̃ − r⊙z_prev)⊙u(1−u);  a_r = dz⊙(1−u)⊙z_prev⊙r(1−r)
//              dc = a_u W_u + a_r W_r  (N, 3D);  dW_u += a_uᵀ c;  db_u += Σ a_u  (and r likewise)
//              dz_prev = dz⊙(1−u)⊙r + dc[:, 0:D];  dz̃ = dz⊙u + dc[:, D:2D];  dctx = dc[:, 2D:3D]
// Parameters `model.inner.z_{L,H}_recurrence_gate.{update_gate,reset_gate}.{weight [D, 3D], bias [D]}`;
// weights trunc-normal std 1/sqrt(3D), update bias 0, reset bias 1.0.
#pragma once
#include <algorithm>
#include <cmath>
#include <span>

#include "../../ops/linear.hpp"
#include "../init.hpp"
#include "site.hpp"

namespace gtrm::gate {

template <bool Reset = false>
struct recurrent {
  using site = site::update;
  static constexpr const char* config_name = Reset ? "update_reset" : "update";  // checkpoint config: recurrence_gate
  template <class C>
  struct op {
    using T = typename C::scalar;
    using Be = typename C::backend;
    static constexpr int D = C::width, L = C::rows;
    static constexpr bool active = true;
    static constexpr int per_cell = Reset ? 4 : 2;      // W_u, b_u[, W_r, b_r]
    static constexpr int tensors = 2 * per_cell;        // cell 0: z_L, cell 1: z_H
    static constexpr double forward_flops = (Reset ? 12.0 : 6.0) * L * D * D;
    template <class Layout>
    static constexpr void add_params(Layout& l) {
      for (int cell = 0; cell < 2; ++cell) {
        l.add(cell == 0 ? "model.inner.z_L_recurrence_gate.update_gate.weight" : "model.inner.z_H_recurrence_gate.update_gate.weight", D, 3 * D);
        l.add_vector(cell == 0 ? "model.inner.z_L_recurrence_gate.update_gate.bias" : "model.inner.z_H_recurrence_gate.update_gate.bias", D);
        if (Reset) {
          l.add(cell == 0 ? "model.inner.z_L_recurrence_gate.reset_gate.weight" : "model.inner.z_H_recurrence_gate.reset_gate.weight", D, 3 * D);
          l.add_vector(cell == 0 ? "model.inner.z_L_recurrence_gate.reset_gate.bias" : "model.inner.z_H_recurrence_gate.reset_gate.bias", D);
        }
      }
    }
    template <class Rng>
    static void init(const gate::tensors<T, tensors>& p, Rng& rng) {
      for (int i = 0; i < tensors; ++i) {
        if (i % 2 == 0) trunc_normal_fill(std::span<T>(p.at[i], 3 * D * D), 1.0 / std::sqrt(static_cast<double>(3 * D)), rng);
        else std::fill_n(p.at[i], D, i % per_cell == 3 ? T(1) : T(0));  // reset bias 1, update bias 0
      }
    }

    struct saved {
      view<T, 3 * D> cat;  // (N, 3D) [z_prev ; z̃ ; ctx]
      view<T, D> ug, rg;   // (N, D) update and reset gates
      void take(auto& a, index_t n) {
        cat = a.template take<T, 3 * D>(n);
        ug = a.template take<T, D>(n);
        if constexpr (Reset) rg = a.template take<T, D>(n);
      }
    };
    struct work {
      view<T, D> xbar, dxbar;            // (B, D) token mean of x, its gradient
      view<T, D> dprev, dcand, dctx;     // (N, D) backward: gradients of z_prev, z̃, ctx
      view<T, D> au, ar;                 // (N, D) backward scratch
      view<T, 3 * D> dcat;               // (N, 3D)
      void take(auto& a, index_t batch, bool with_tape) {
        xbar = a.template take<T, D>(batch);
        if (!with_tape) return;
        const index_t n = batch * L;
        dxbar = a.template take<T, D>(batch);
        dprev = a.template take<T, D>(n);
        dcand = a.template take<T, D>(n);
        dctx = a.template take<T, D>(n);
        au = a.template take<T, D>(n);
        ar = a.template take<T, D>(n);
        dcat = a.template take<T, 3 * D>(n);
      }
    };

    static void begin_forward(const Be& be, work& w, cview<T, D> x, index_t batch) {  // x̄ = mean_tokens(x)
      const view<T, D> xbar = w.xbar;
      be.parallel_for(batch, [=] GTRM_HD (index_t b) {
        const T inv = T(1) / T(L);
        T* m = xbar.row(b);
        for (int c = 0; c < D; ++c) m[c] = T(0);
        for (int l = 0; l < L; ++l) {
          const T* xr = x.row(b * L + l);
          for (int c = 0; c < D; ++c) m[c] += xr[c];
        }
        for (int c = 0; c < D; ++c) m[c] *= inv;
      });
    }

    // z (the state, N rows) ← the gated update; other = the other state (z_H for a z_L update, z_L for z_H).
    static void forward(const Be& be, const gate::tensors<const T, tensors>& p, bool updates_h, view<T, D> z,
                        cview<T, D> cand, cview<T, D> other, saved& sv, work& w, index_t n) {
      const view<T, 3 * D> cat = sv.cat.slice(0, n);
      const cview<T, D> xbar = w.xbar, zc = z;
      be.parallel_for(n, [=] GTRM_HD (index_t r) {  // c = [z ; z̃ ; ctx]
        T* d = cat.row(r);
        const T* a = zc.row(r);
        const T* b = cand.row(r);
        const T* o = other.row(r);
        const T* m = updates_h ? nullptr : xbar.row(r / L);
        for (int k = 0; k < D; ++k) {
          d[k] = a[k];
          d[D + k] = b[k];
          d[2 * D + k] = updates_h ? o[k] : o[k] + m[k];
        }
      });
      const int c0 = updates_h ? per_cell : 0;
      const view<T, D> u = sv.ug.slice(0, n), rg = Reset ? sv.rg.slice(0, n) : view<T, D>{};
      ops::linear_forward<Be, T, 3 * D, D>(be, cat, cview<T, 3 * D>(p.at[c0], D), cview<T, 1>(p.at[c0 + 1], D), u);
      if constexpr (Reset)
        ops::linear_forward<Be, T, 3 * D, D>(be, cat, cview<T, 3 * D>(p.at[c0 + 2], D), cview<T, 1>(p.at[c0 + 3], D), rg);
      be.parallel_for(n, [=] GTRM_HD (index_t r) {
        const T* cr = cat.row(r);
        T* ur = u.row(r);
        T* zr = z.row(r);
        T* rr = Reset ? rg.row(r) : nullptr;
        for (int k = 0; k < D; ++k) {
          ur[k] = sigmoid(ur[k]);
          T keep = cr[k];
          if constexpr (Reset) { rr[k] = sigmoid(rr[k]); keep *= rr[k]; }
          zr[k] = (T(1) - ur[k]) * keep + ur[k] * cr[D + k];
        }
      });
    }

    static void begin_backward(const Be& be, work& w, index_t batch) {
      ops::fill<Be, T, D>(be, w.dxbar.slice(0, batch), T(0));
    }

    // dz: gradient of the new state. Returns d z̃ (for the network's backward); keeps d z_prev and d ctx in the
    // workspace for finish_backward.
    static view<T, D> backward(const Be& be, const gate::tensors<const T, tensors>& p,
                               const gate::tensors<T, tensors>& dp, bool updates_h, const saved& sv, work& w,
                               view<T, D> dz, index_t n) {
      const int c0 = updates_h ? per_cell : 0;
      const cview<T, 3 * D> cat = sv.cat.slice(0, n);
      const cview<T, D> u = sv.ug.slice(0, n), rg = Reset ? sv.rg.slice(0, n) : cview<T, D>{}, dzc = dz;
      const view<T, D> au = w.au.slice(0, n), ar = w.ar.slice(0, n), dprev = w.dprev.slice(0, n),
                       dcand = w.dcand.slice(0, n), dctx = w.dctx.slice(0, n);
      const view<T, 3 * D> dc = w.dcat.slice(0, n);
      be.parallel_for(n, [=] GTRM_HD (index_t r) {
        const T* cr = cat.row(r);
        const T* ur = u.row(r);
        const T* rr = Reset ? rg.row(r) : nullptr;
        const T* g = dzc.row(r);
        T* a = au.row(r);
        T* b = Reset ? ar.row(r) : nullptr;
        T* dpr = dprev.row(r);
        T* dd = dcand.row(r);
        for (int k = 0; k < D; ++k) {
          const T rk = Reset ? rr[k] : T(1);
          const T keep = rk * cr[k];
          a[k] = g[k] * (cr[D + k] - keep) * ur[k] * (T(1) - ur[k]);
          if constexpr (Reset) b[k] = g[k] * (T(1) - ur[k]) * cr[k] * rk * (T(1) - rk);
          dpr[k] = g[k] * (T(1) - ur[k]) * rk;
          dd[k] = g[k] * ur[k];
        }
      });
      ops::fill<Be, T, 3 * D>(be, dc, T(0));
      ops::linear_backward<Be, T, 3 * D, D>(be, cat, cview<T, 3 * D>(p.at[c0], D), au, dc,
                                            view<T, 3 * D>(dp.at[c0], D), view<T, 1>(dp.at[c0 + 1], D));
      if constexpr (Reset)
        ops::linear_backward<Be, T, 3 * D, D>(be, cat, cview<T, 3 * D>(p.at[c0 + 2], D), ar, dc,
                                              view<T, 3 * D>(dp.at[c0 + 2], D), view<T, 1>(dp.at[c0 + 3], D));
      be.parallel_for(n, [=] GTRM_HD (index_t r) {
        const T* d = dc.row(r);
        T* dpr = dprev.row(r);
        T* dd = dcand.row(r);
        T* dx = dctx.row(r);
        for (int k = 0; k < D; ++k) { dpr[k] += d[k]; dd[k] += d[D + k]; dx[k] = d[2 * D + k]; }
      });
      return dcand;
    }

    // After the injection's backward: dz += d z_prev; d other += d ctx (and d x̄ for a z_L update).
    static void finish_backward(const Be& be, bool updates_h, work& w, view<T, D> dz, view<T, D> dother, index_t n,
                                index_t batch) {
      ops::accumulate<Be, T, D>(be, w.dprev.slice(0, n), dz);
      const cview<T, D> dctx = w.dctx.slice(0, n);
      ops::accumulate<Be, T, D>(be, dctx, dother);
      if (updates_h) return;
      const view<T, D> dxbar = w.dxbar;
      be.parallel_for(batch, [=] GTRM_HD (index_t b) {
        T* d = dxbar.row(b);
        for (int l = 0; l < L; ++l) {
          const T* s = dctx.row(b * L + l);
          for (int c = 0; c < D; ++c) d[c] += s[c];
        }
      });
    }

    // x̄ = mean over the L rows of each sample: dx[b, l] += dx̄[b] / L
    static void end_backward(const Be& be, work& w, view<T, D> dx, index_t n) {
      const cview<T, D> dxbar = w.dxbar;
      be.parallel_for(n, [=] GTRM_HD (index_t r) {
        const T inv = T(1) / T(L);
        const T* s = dxbar.row(r / L);
        T* d = dx.row(r);
        for (int c = 0; c < D; ++c) d[c] += s[c] * inv;
      });
    }
  };
};

}  // namespace gtrm::gate
