// The token level of a recursive model (recursive.hpp): the input embedding and the output heads, with their
// backward. Free functions over the model's public interface, so the recursion machinery stays separate.
//
//   x = √Dt · [puzzle prefix ; E[tokens]]   (learned positions: √Dt · 0.707106781 · (emb + pos))   (B·Lt, Dt)
//   logits = (z W_lmᵀ)[:, P:]   (B·S, V);   q = z[:, 0] W_qᵀ + b_q   (B, 2) = (q_halt, q_continue)
// where z is the token-level z_H (the state itself, or LMA's decoded z_H).
#pragma once
#include <cstdint>

#include "../concepts.hpp"
#include "../core/view.hpp"
#include "../ops/elementwise.hpp"
#include "../ops/linear.hpp"
#include "../ops/sparse_embedding.hpp"
#include "../policy/policies.hpp"

namespace gtrm::token_io {

// ws.xt ← the scaled input embedding (and ws.local ← each row's puzzle-table row).
template <class M>
void embed(const M& m, typename M::workspace& ws, const std::int32_t* inputs, const std::int32_t* puzzle_ids, index_t batch) {
  using T = typename M::scalar;
  using Backend = typename M::backend_type;
  constexpr int S = M::S, P = M::P, Lt = M::Lt, Dt = M::Dt, E = M::E;
  const Backend& be = m.backend();
  const T* p = m.params().data();
  auto x = ws.xt.slice(0, batch * Lt);
  if constexpr (E > 0)
    ops::puzzle_prefix_forward<E, P, Dt, Lt, Backend, T>(be, cview<T, E>(m.puzzle_table().data(), m.num_puzzle_ids()), puzzle_ids,
                                                        ws.local.slice(0, batch), T(1), x);
  const auto emb = M::template tensor<Dt>(p, M::idx_embed);
  be.parallel_for(batch, [=] GTRM_HD(index_t b) {
    for (int s = 0; s < S; ++s) {
      const T* src = emb.row(inputs[b * S + s]);
      T* dst = x.row(b * Lt + P + s);
      for (int c = 0; c < Dt; ++c) dst[c] = src[c];
    }
  });
  const T scale = M::embed_scale();
  const auto pos_table = M::template tensor<Dt>(p, M::learned_pos ? M::idx_pos : M::idx_embed);
  const T f = static_cast<T>(pos::learned::factor);
  be.parallel_for(batch * Lt, [=] GTRM_HD(index_t r) {
    T* row = x.row(r);
    if (M::learned_pos) {   // not `if constexpr`: nvcc's device lambdas may not first-capture inside one
      const T* pos = pos_table.row(r % Lt);
      for (int c = 0; c < Dt; ++c) row[c] = scale * (f * (row[c] + pos[c]));
    } else {
      for (int c = 0; c < Dt; ++c) row[c] = scale * row[c];
    }
  });
}

// From ws.dxt (B·Lt, Dt): token rows scatter into the embedding table's gradient, positions into embed_pos,
// the prefix into each row's puzzle copy (ws.dlocal).
template <class M>
void embed_backward(M& m, typename M::workspace& ws, const std::int32_t* ids, index_t batch) {
  using T = typename M::scalar;
  using Backend = typename M::backend_type;
  constexpr int S = M::S, P = M::P, Lt = M::Lt, Dt = M::Dt, E = M::E;
  const Backend& be = m.backend();
  T* g = m.grads().data();
  T scale = M::embed_scale();
  if constexpr (M::learned_pos) scale *= static_cast<T>(pos::learned::factor);
  auto dx = ws.dxt.slice(0, batch * Lt);
  auto de = M::template tensor<Dt>(g, M::idx_embed);
  if constexpr (device_memory_backend<Backend>) {
    // one thread per (vocabulary row, column) walks the tokens in the host loop's order: no atomics, the same sums
    be.parallel_for(de.rows() * Dt, [=] GTRM_HD(index_t vc) {
      const index_t v = vc / Dt;
      const int c = static_cast<int>(vc % Dt);
      T acc = de(v, c);
      for (index_t b = 0; b < batch; ++b)
        for (int s = 0; s < S; ++s)
          if (ids[b * S + s] == v) acc += scale * dx(b * Lt + P + s, c);
      de(v, c) = acc;
    });
  } else {
    for (index_t b = 0; b < batch; ++b)
      for (int s = 0; s < S; ++s) {
        T* dst = de.row(ids[b * S + s]);
        const T* src = dx.row(b * Lt + P + s);
        for (int c = 0; c < Dt; ++c) dst[c] += scale * src[c];
      }
  }
  if constexpr (M::learned_pos) {
    auto dpos = M::template tensor<Dt>(g, M::idx_pos);
    be.parallel_for(Lt, [=] GTRM_HD(index_t l) {
      T* dst = dpos.row(l);
      for (index_t b = 0; b < batch; ++b) {
        const T* src = dx.row(b * Lt + l);
        for (int c = 0; c < Dt; ++c) dst[c] += scale * src[c];
      }
    });
  }
  if constexpr (E > 0) ops::puzzle_prefix_backward<E, P, Dt, Lt, Backend, T>(be, dx, scale, ws.dlocal.slice(0, batch));
}

// ws.logits, ws.q from the token-level z (B·Lt, Dt); keeps the heads' inputs (ws.zt, ws.qin) for backward.
template <class M>
void heads(const M& m, typename M::workspace& ws, view<typename M::scalar, M::Dt> z, index_t batch) {
  using T = typename M::scalar;
  using Backend = typename M::backend_type;
  constexpr int S = M::S, P = M::P, Lt = M::Lt, Dt = M::Dt, V = M::V;
  const Backend& be = m.backend();
  const T* p = m.params().data();
  auto zt = ws.zt.slice(0, batch * S);
  auto qin = ws.qin.slice(0, batch);
  be.parallel_for(batch, [=] GTRM_HD(index_t b) {
    for (int s = 0; s < S; ++s) {
      const T* src = z.row(b * Lt + P + s);
      T* dst = zt.row(b * S + s);
      for (int c = 0; c < Dt; ++c) dst[c] = src[c];
    }
    const T* src = z.row(b * Lt);
    T* dst = qin.row(b);
    for (int c = 0; c < Dt; ++c) dst[c] = src[c];
  });
  ops::linear_forward<Backend, T, Dt, V>(be, zt, M::template tensor<Dt>(p, M::idx_lm), ws.logits.slice(0, batch * S));
  ops::linear_forward<Backend, T, Dt, 2>(be, qin, M::template tensor<Dt>(p, M::idx_qw), M::template tensor<1>(p, M::idx_qb),
                                         ws.q.slice(0, batch));
}

// From ws.dlogits, ws.dq: head weight gradients accumulate; dz (B·Lt, Dt) is assigned the gradient of the
// token-level z (zero on prefix rows other than row 0).
template <class M>
void heads_backward(M& m, typename M::workspace& ws, view<typename M::scalar, M::Dt> dz, index_t batch) {
  using T = typename M::scalar;
  using Backend = typename M::backend_type;
  constexpr int S = M::S, P = M::P, Lt = M::Lt, Dt = M::Dt, V = M::V;
  const Backend& be = m.backend();
  const T* p = m.params().data();
  T* g = m.grads().data();
  const index_t bs = batch * S;
  auto dzt = ws.dzt.slice(0, bs);
  ops::fill<Backend, T, Dt>(be, dzt, T(0));
  ops::linear_backward<Backend, T, Dt, V>(be, ws.zt.slice(0, bs), M::template tensor<Dt>(p, M::idx_lm), ws.dlogits.slice(0, bs),
                                          dzt, M::template tensor<Dt>(g, M::idx_lm));
  auto dqin = ws.dqin.slice(0, batch);
  ops::fill<Backend, T, Dt>(be, dqin, T(0));
  ops::linear_backward<Backend, T, Dt, 2>(be, ws.qin.slice(0, batch), M::template tensor<Dt>(p, M::idx_qw), ws.dq.slice(0, batch),
                                          dqin, M::template tensor<Dt>(g, M::idx_qw), M::template tensor<1>(g, M::idx_qb));
  be.parallel_for(batch, [=] GTRM_HD(index_t b) {
    for (int r = 0; r < Lt; ++r) {
      T* dst = dz.row(b * Lt + r);
      const T* src = r >= P ? dzt.row(b * S + r - P) : nullptr;
      for (int c = 0; c < Dt; ++c) dst[c] = src ? src[c] : T(0);
    }
    T* d0 = dz.row(b * Lt);
    const T* s0 = dqin.row(b);
    for (int c = 0; c < Dt; ++c) d0[c] += s0[c];
  });
}

}  // namespace gtrm::token_io
