// Context-injection gate, per channel (GTRM inputGate 998c2ec, docs/variants.md §1.1), site::inject:
//   h = z + s⊙u,  s = σ(z W_cᵀ + b_c)   (N, D)
//   backward:  e = dh⊙u⊙s(1−s);  du = s⊙dh;  dz += dh (left in place) + e W_c;  dW_c += eᵀ z;  db_c += Σ_n e
// Parameters `model.inner.L_level.context_gate.{weight [D, D], bias [D]}`, init weight 0, bias 2.0.
#pragma once
#include <algorithm>

#include "../../ops/linear.hpp"
#include "site.hpp"

namespace gtrm::gate {

struct context_channel {
  using site = site::inject;
  static constexpr const char* config_name = "channel";  // checkpoint config: context_gate
  template <class C>
  struct op {
    using T = typename C::scalar;
    using Be = typename C::backend;
    static constexpr int D = C::width;
    static constexpr bool active = true, keeps_u = true;
    static constexpr int tensors = 2;
    static constexpr double forward_flops = 2.0 * C::rows * D * D;
    template <class Layout>
    static constexpr void add_params(Layout& l) {
      l.add("model.inner.L_level.context_gate.weight", D, D);
      l.add_vector("model.inner.L_level.context_gate.bias", D);
    }
    template <class Rng>
    static void init(const gate::tensors<T, tensors>& p, Rng&) {
      std::fill_n(p.at[0], D * D, T(0));
      std::fill_n(p.at[1], D, T(2));
    }

    struct saved {
      view<T, D> z, u, s;  // (N, D) the state before the update, the injection, σ
      void take(auto& a, index_t n) {
        u = a.template take<T, D>(n);
        z = a.template take<T, D>(n);
        s = a.template take<T, D>(n);
      }
    };
    struct work {
      view<T, D> du, e;  // (N, D)
      void take(auto& a, index_t batch, bool with_tape) {
        if (!with_tape) return;
        du = a.template take<T, D>(batch * C::rows);
        e = a.template take<T, D>(batch * C::rows);
      }
    };

    // h may alias u, not z (z is copied to the tape first).
    static void forward(const Be& be, const gate::tensors<const T, tensors>& p, int, cview<T, D> z, cview<T, D> u,
                        view<T, D> h, saved& sv, work&, index_t n) {
      const view<T, D> zs = sv.z.slice(0, n), s = sv.s.slice(0, n);
      ops::copy<Be, T, D>(be, z, zs);
      ops::linear_forward<Be, T, D, D>(be, zs, cview<T, D>(p.at[0], D), cview<T, 1>(p.at[1], D), s);
      be.parallel_for(n, [=] GTRM_HD (index_t r) {
        T* sr = s.row(r);
        const T* zr = zs.row(r);
        const T* ur = u.row(r);
        T* hr = h.row(r);
        for (int c = 0; c < D; ++c) {
          sr[c] = sigmoid(sr[c]);
          hr[c] = zr[c] + sr[c] * ur[c];
        }
      });
    }

    static view<T, D> backward(const Be& be, const gate::tensors<const T, tensors>& p,
                               const gate::tensors<T, tensors>& dp, int, const saved& sv, work& w, view<T, D> dh,
                               index_t n) {
      const view<T, D> du = w.du.slice(0, n), e = w.e.slice(0, n);
      const cview<T, D> u = sv.u.slice(0, n), s = sv.s.slice(0, n);
      be.parallel_for(n, [=] GTRM_HD (index_t r) {
        const T* g = dh.row(r);
        const T* x = u.row(r);
        const T* sr = s.row(r);
        T* er = e.row(r);
        T* d = du.row(r);
        for (int c = 0; c < D; ++c) {
          er[c] = g[c] * x[c] * sr[c] * (T(1) - sr[c]);
          d[c] = T(0) + sr[c] * g[c];
        }
      });
      ops::linear_backward<Be, T, D, D>(be, sv.z.slice(0, n), cview<T, D>(p.at[0], D), e, dh, view<T, D>(dp.at[0], D),
                                        view<T, 1>(dp.at[1], D));
      return du;
    }
  };
};

}  // namespace gtrm::gate
