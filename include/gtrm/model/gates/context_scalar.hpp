// Context-injection gate, one scalar per call (GTRM main, docs/variants.md §1.1), site::inject:
//   h = z + s·u,  s = σ(g_k),  k = call index within the cycle (k = n: the z_H update)
//   backward:  dz += dh (left in place),  du = s·dh,  dg_k += s(1−s) Σ dh⊙u
// Parameter `model.inner.L_level.injection_gates` [n+1], init 2.0. s is read from the parameter inside the
// bodies (no host read), and dg_k is a deterministic reduction: column sums over rows, then their sum.
#pragma once
#include <algorithm>

#include "site.hpp"

namespace gtrm::gate {

struct context_scalar {
  using site = site::inject;
  static constexpr const char* config_name = "scalar";  // checkpoint config: context_gate
  template <class C>
  struct op {
    using T = typename C::scalar;
    using Be = typename C::backend;
    static constexpr int D = C::width;
    static constexpr bool active = true, keeps_u = true;
    static constexpr int tensors = 1;
    static constexpr double forward_flops = 0;  // element-wise only: no matrix product (model/flops.hpp)
    template <class Layout>
    static constexpr void add_params(Layout& l) { l.add_vector("model.inner.L_level.injection_gates", C::calls); }
    template <class Rng>
    static void init(const gate::tensors<T, tensors>& p, Rng&) { std::fill_n(p.at[0], C::calls, T(2)); }

    struct saved {
      view<T, D> u;  // (N, D) the injection
      void take(auto& a, index_t n) { u = a.template take<T, D>(n); }
    };
    struct work {
      view<T, D> du;       // (N, D)
      view<T, 1> colsum;   // (D) Σ_rows dh⊙u per column
      void take(auto& a, index_t batch, bool with_tape) {
        if (!with_tape) return;
        du = a.template take<T, D>(batch * C::rows);
        colsum = a.template take<T, 1>(D);
      }
    };

    static void forward(const Be& be, const gate::tensors<const T, tensors>& p, int call, cview<T, D> z, cview<T, D> u,
                        view<T, D> h, saved&, work&, index_t) {
      const T* g = p.at[0] + call;
      be.parallel_for(z.rows(), [=] GTRM_HD (index_t r) {
        const T s = sigmoid(*g);
        const T* a = z.row(r);
        const T* b = u.row(r);
        T* d = h.row(r);
        for (int c = 0; c < D; ++c) d[c] = a[c] + s * b[c];
      });
    }

    static view<T, D> backward(const Be& be, const gate::tensors<const T, tensors>& p,
                               const gate::tensors<T, tensors>& dp, int call, const saved& sv, work& w, view<T, D> dh,
                               index_t n) {
      const T* g = p.at[0] + call;
      T* dg = dp.at[0] + call;
      const view<T, D> du = w.du.slice(0, n);
      const cview<T, D> u = sv.u.slice(0, n);
      const view<T, 1> colsum = w.colsum;
      const cview<T, D> dhc = dh;
      be.parallel_for(n, [=] GTRM_HD (index_t r) {
        const T s = sigmoid(*g);
        const T* x = dhc.row(r);
        T* d = du.row(r);
        for (int c = 0; c < D; ++c) d[c] = s * x[c];
      });
      be.parallel_for(D, [=] GTRM_HD (index_t c) {
        T acc = 0;
        for (index_t r = 0; r < n; ++r) acc += dhc(r, static_cast<int>(c)) * u(r, static_cast<int>(c));
        colsum(c, 0) = acc;
      });
      be.parallel_for(1, [=] GTRM_HD (index_t) {
        T acc = 0;
        for (int c = 0; c < D; ++c) acc += colsum(c, 0);
        const T s = sigmoid(*g);
        *dg += acc * s * (T(1) - s);
      });
      return du;
    }
  };
};

}  // namespace gtrm::gate
