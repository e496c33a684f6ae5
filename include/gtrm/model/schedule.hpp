// One application of a recursive model's schedule (model/recursive.hpp), forward and backward:
//   u = z_H + x (z_L update) | z_L (z_H update) | x (transformer);   h = inject(z, u)   (site::inject)
//   z̃ = net(h)  (the blocks; site::attn_out inside them);             z ← update(z, z̃)  (site::update)
// With no gate at a site its op is the plain TRM's (h = z + u, z ← z̃), operation for operation.
// Backward turns the gradients of the states after application k into those before it; dx accumulates.
#pragma once
#include <concepts>
#include <cstddef>

#include "../core/view.hpp"
#include "../ops/elementwise.hpp"
#include "block.hpp"

namespace gtrm::schedule {

// A backend that can run one share of a batch per thread in a single region (cpu::parallel_chunks).
template <class Be>
concept chunked_backend = requires(const Be& be, void (*f)(index_t, index_t)) {
  { be.parallel_chunks(index_t{}, f) } -> std::same_as<bool>;
};

// The blocks of network `net` on rows [r0, r0 + n) of app.h0 (whole samples); the output is those rows of app.out(net).
template <class M>
void run_network_rows(const M& m, typename M::workspace& ws, typename M::application& app, int net, index_t r0,
                      index_t n) {
  using T = typename M::scalar;
  constexpr int D = M::D;
  const T* p = m.params().data();
  cview<T, D> in = app.h0.slice(r0, n);
  for (int l = 0; l < M::net_layers(net); ++l) {
    auto& blk = app.blocks[static_cast<std::size_t>(l)];
    block_saved<T, typename M::shape> sv = blk.rows(r0, n);
    auto sc = ws.sc.rows(r0, n);
    block_forward<typename M::shape>(m.backend(), M::template block_views<const T>(p, l, net), in, sv, sc,
                                     m.cos_table(), m.sin_table());
    in = sv.h2;
  }
}

// The blocks of network `net` on app.h0 (n = B·L rows); the output is app.out(net).
// A block's forward is row-local except attention and the token MLP, which mix the L rows of one sample only, so
// on a backend with parallel_chunks (the CPU's) the batch is split into one share of whole samples per thread and
// each thread runs every block of the network on its share, with single-threaded products: one parallel region per
// network application instead of ~20 (one per op and per product), which is what lets two threads scale and a busy
// neighbour cost only its share (issue #17). Every row goes through the same operations as on the per-op path;
// only the products' row count and threading change, which can move their rounding only where the GEMM library
// blocks the sum differently (tests/test_threads.cpp compares the two paths). Batch 1 (or one thread) keeps the
// per-op path, whose products are threaded inside.
template <class M>
void run_network(const M& m, typename M::workspace& ws, typename M::application& app, int net, index_t n) {
  if constexpr (chunked_backend<typename M::backend_type>) {
    constexpr index_t L = M::L;
    if (m.backend().parallel_chunks(n / L, [&](index_t b0, index_t b1) {
          run_network_rows(m, ws, app, net, b0 * L, (b1 - b0) * L);
        }))
      return;
  }
  run_network_rows(m, ws, app, net, 0, n);
}

// Returns d h0 of the application (in ws.dnet[0] or [1]).
template <class M>
view<typename M::scalar, M::D> network_backward(M& m, typename M::workspace& ws, typename M::application& app, int net,
                                                view<typename M::scalar, M::D> dout, index_t n) {
  using T = typename M::scalar;
  constexpr int D = M::D;
  const T* p = m.params().data();
  T* g = m.grads().data();
  view<T, D> bufs[2] = {ws.dnet[0].slice(0, n), ws.dnet[1].slice(0, n)};
  cview<T, D> cur = dout;
  view<T, D> din{};
  for (int l = M::net_layers(net) - 1; l >= 0; --l) {
    din = bufs[l % 2];
    ops::fill<typename M::backend_type, T, D>(m.backend(), din, T(0));
    const block_saved<T, typename M::shape> sv = app.blocks[static_cast<std::size_t>(l)].first(n);
    cview<T, D> in = l == 0 ? app.h0.slice(0, n) : app.blocks[static_cast<std::size_t>(l - 1)].h2.slice(0, n);
    auto sc = ws.sc.first(n);
    block_backward<typename M::shape>(m.backend(), M::template block_views<const T>(p, l, net),
                                      M::template block_views<T>(g, l, net), in, sv, sc, cur, din, m.cos_table(),
                                      m.sin_table());
    cur = din;
  }
  return din;
}

// Application k (n = B·L rows of z_h, z_l).
template <class M>
void apply(const M& m, typename M::workspace& ws, typename M::application& app, int k, view<typename M::scalar, M::D> z_h,
           view<typename M::scalar, M::D> z_l) {
  using T = typename M::scalar;
  using Be = typename M::backend_type;
  using inject = typename M::inject_gate;
  using update = typename M::update_gate;
  constexpr int D = M::D;
  const Be& be = m.backend();
  const T* p = m.params().data();
  const index_t n = z_h.rows();
  const bool uh = M::updates_h(k);
  const int net = M::net_of(k);
  const view<T, D> z = uh ? z_h : z_l, h0 = app.h0.slice(0, n), x = ws.x.slice(0, n);
  view<T, D> u = x;                        // transformer: z_H = f(z_H + x)
  if (M::recursive && !uh) {               // z_L = f(z_L + (z_H + x)); the reference adds z_H + x first
    if constexpr (inject::keeps_u) u = app.inj.u.slice(0, n);
    else u = ws.inj.slice(0, n);
    ops::add<Be, T, D>(be, z_h, x, u);
  } else if (M::recursive) {               // z_H = f(z_H + z_L), no input injection
    if constexpr (inject::keeps_u) {
      u = app.inj.u.slice(0, n);
      ops::copy<Be, T, D>(be, z_l, u);
    } else {
      u = z_l;
    }
  }
  inject::forward(be, M::template gate_tensors<inject>(p, M::idx_inject), M::call_index(k), z, u, h0, app.inj, ws.inj_work, n);
  run_network(m, ws, app, net, n);
  update::forward(be, M::template gate_tensors<update>(p, M::idx_update), uh, z, app.out(net).slice(0, n), uh ? z_l : z_h,
                  app.upd, ws.upd_work, n);
}

// Backward of application k: dzh, dzl hold the gradients of the states after it and are turned into the
// gradients of the states before it; dx accumulates.
template <class M>
void apply_backward(M& m, typename M::workspace& ws, typename M::application& app, int k,
                    view<typename M::scalar, M::D> dzh, view<typename M::scalar, M::D> dzl,
                    view<typename M::scalar, M::D> dx, index_t batch) {
  using T = typename M::scalar;
  using Be = typename M::backend_type;
  using inject = typename M::inject_gate;
  using update = typename M::update_gate;
  constexpr int D = M::D;
  const Be& be = m.backend();
  const T* p = m.params().data();
  T* g = m.grads().data();
  const index_t n = dzh.rows();
  const bool uh = M::updates_h(k);
  const int net = M::net_of(k);
  const view<T, D> dz = uh ? dzh : dzl;   // gradient of the updated state
  const view<T, D> dout = update::backward(be, M::template gate_tensors<update>(p, M::idx_update),
                                           M::template gate_tensors<update>(g, M::idx_update), uh, app.upd, ws.upd_work,
                                           dz, n);
  const view<T, D> d_h0 = network_backward(m, ws, app, net, dout, n);
  // h0 = inject(z, u): d_h0 becomes d z in place, du is returned
  const view<T, D> du = inject::backward(be, M::template gate_tensors<inject>(p, M::idx_inject),
                                         M::template gate_tensors<inject>(g, M::idx_inject), M::call_index(k), app.inj,
                                         ws.inj_work, d_h0, n);
  if (!M::recursive) {       // z_H' = f(z_H + x)
    ops::copy<Be, T, D>(be, d_h0, dzh);
    ops::accumulate<Be, T, D>(be, du, dx);
  } else if (uh) {           // z_H' = f(z_H + z_L)
    ops::copy<Be, T, D>(be, d_h0, dzh);
    ops::accumulate<Be, T, D>(be, du, dzl);
  } else {                   // z_L' = f(z_L + z_H + x)
    ops::copy<Be, T, D>(be, d_h0, dzl);
    ops::accumulate<Be, T, D>(be, du, dzh);
    ops::accumulate<Be, T, D>(be, du, dx);
  }
  update::finish_backward(be, uh, ws.upd_work, dz, uh ? dzl : dzh, n, batch);
}

}  // namespace gtrm::schedule
