// Context-injection gate, one scalar per call and attention head, site::inject (a gate the GTRM family lacks;
// a per-head refinement of context_scalar.hpp):
//   h = z + s⊙u,  s[c] = σ(g[k, head(c)]),  head(c) = c / head_dim,  k = call index within the cycle
//   backward:  dz += dh (left in place),  du = s⊙dh,  dg[k, h] += s(1−s) Σ_rows Σ_(c of head h) dh⊙u
// Parameter `model.inner.L_level.injection_head_gates` [n+1, heads], init 2.0 (as injection_gates): with
// equal values across heads it is context_scalar. The gradient is deterministic: column sums over rows, then
// each head sums its columns.
#pragma once
#include <algorithm>

#include "site.hpp"

namespace gtrm::gate {

struct context_headwise {
  using site = site::inject;
  static constexpr const char* config_name = "headwise";  // checkpoint config: context_gate
  template <class C>
  struct op {
    static_assert(C::heads > 0, "gate::context_headwise needs attention heads (mixer::attention): it has one gate per head");
    using T = typename C::scalar;
    using Be = typename C::backend;
    static constexpr int D = C::width, heads = C::heads, head_dim = C::head_dim;
    static constexpr bool active = true, keeps_u = true;
    static constexpr int tensors = 1;
    static constexpr double forward_flops = 0;  // element-wise only: no matrix product (model/flops.hpp)
    template <class Layout>
    static constexpr void add_params(Layout& l) { l.add("model.inner.L_level.injection_head_gates", C::calls, heads); }
    template <class Rng>
    static void init(const gate::tensors<T, tensors>& p, Rng&) { std::fill_n(p.at[0], C::calls * heads, T(2)); }

    struct saved {
      view<T, D> u;  // (N, D) the injection
      void take(auto& a, index_t n) { u = a.template take<T, D>(n); }
    };
    struct work {
      view<T, D> du;      // (N, D)
      view<T, 1> colsum;  // (D) Σ_rows dh⊙u per column
      void take(auto& a, index_t batch, bool with_tape) {
        if (!with_tape) return;
        du = a.template take<T, D>(batch * C::rows);
        colsum = a.template take<T, 1>(D);
      }
    };

    static void forward(const Be& be, const gate::tensors<const T, tensors>& p, int call, cview<T, D> z, cview<T, D> u,
                        view<T, D> h, saved&, work&, index_t) {
      const T* g = p.at[0] + call * heads;
      be.parallel_for(z.rows(), [=] GTRM_HD (index_t r) {
        const T* a = z.row(r);
        const T* b = u.row(r);
        T* d = h.row(r);
        for (int c = 0; c < D; ++c) d[c] = a[c] + sigmoid(g[c / head_dim]) * b[c];
      });
    }

    static view<T, D> backward(const Be& be, const gate::tensors<const T, tensors>& p,
                               const gate::tensors<T, tensors>& dp, int call, const saved& sv, work& w, view<T, D> dh,
                               index_t n) {
      const T* g = p.at[0] + call * heads;
      T* dg = dp.at[0] + call * heads;
      const view<T, D> du = w.du.slice(0, n);
      const cview<T, D> u = sv.u.slice(0, n), dhc = dh;
      const view<T, 1> colsum = w.colsum;
      be.parallel_for(n, [=] GTRM_HD (index_t r) {
        const T* x = dhc.row(r);
        T* d = du.row(r);
        for (int c = 0; c < D; ++c) d[c] = sigmoid(g[c / head_dim]) * x[c];
      });
      be.parallel_for(D, [=] GTRM_HD (index_t c) {
        T acc = 0;
        for (index_t r = 0; r < n; ++r) acc += dhc(r, static_cast<int>(c)) * u(r, static_cast<int>(c));
        colsum(c, 0) = acc;
      });
      be.parallel_for(heads, [=] GTRM_HD (index_t hd) {
        T acc = 0;
        for (int c = 0; c < head_dim; ++c) acc += colsum(hd * head_dim + c, 0);
        const T s = sigmoid(g[hd]);
        dg[hd] += acc * s * (T(1) - s);
      });
      return du;
    }
  };
};

}  // namespace gtrm::gate
