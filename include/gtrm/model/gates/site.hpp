// Gate sites: where a gate acts on one application of the recursion (docs/variants.md §1, docs/architecture.md).
//
//   site::inject     the network input h = z + u (u = z_H + x on z_L updates, z_L on z_H updates)
//   site::attn_out   the attention output o before o_proj, inside every block (extra logits in qkv_proj)
//   site::update     the state update z ← net(h)
//
// A gate is a tag type with `using site = gate::site::X;` and `template <class C> struct op`, C = gate::context
// of the model (scalar type, backend, shapes). The op declares everything the model needs from it:
//   tensors, add_params(layout), init(params, rng)    its own parameters (state-dict names, shapes, init)
//   saved { take(arena, n) }                          what one application keeps for backward (on the tape)
//   work { take(arena, batch, with_tape) }            its scratch and per-step values in the workspace
//   forward / backward                                the math (see each gate's header)
//   forward_flops                                     FLOPs per application per sample (attn_out: per block)
// gate::all<G...> composes gates of different sites; an empty site gets the `none` op below, whose forward
// is the plain TRM's, operation for operation. Adding a gate is one header: nothing here lists the gates.
#pragma once
#include <cstddef>
#include <type_traits>

#include "../../core/arena.hpp"
#include "../../core/view.hpp"
#include "../../ops/activation.hpp"
#include "../../ops/elementwise.hpp"
#include "../../policy/policies.hpp"

namespace gtrm::gates {
using ops::sigmoid;
}  // namespace gtrm::gates

namespace gtrm::gate {
using ops::sigmoid;

// What a gate may know about the model it sits in. Calls: applications per cycle (n + 1).
template <class T, class Be, int L, int D, int Heads, int Calls>
struct context {
  using scalar = T;
  using backend = Be;
  static constexpr int rows = L;                          // rows (tokens) per sample
  static constexpr int width = D;                         // state width
  static constexpr int heads = Heads;                     // attention heads (0: token-MLP mixer)
  static constexpr int head_dim = Heads > 0 ? D / Heads : 1;
  static constexpr int calls = Calls;
};

// The tensors a gate owns, as pointers into a flat buffer (parameters or gradients), in the order it added them.
template <class U, int N>
struct tensors {
  U* at[N > 0 ? N : 1] = {};
};

struct no_state {
  void take(auto&, index_t) {}
  void take(auto&, index_t, bool) {}
};

// ---- the empty sites ----
template <class C>
struct no_inject {  // h = z + u
  using T = typename C::scalar;
  using Be = typename C::backend;
  static constexpr int D = C::width;
  static constexpr bool active = false, keeps_u = false;
  static constexpr int tensors = 0;
  static constexpr double forward_flops = 0;
  using saved = no_state;
  using work = no_state;
  template <class Layout> static constexpr void add_params(Layout&) {}
  template <class Rng> static void init(const gate::tensors<T, 0>&, Rng&) {}
  static void forward(const Be& be, const gate::tensors<const T, 0>&, int, cview<T, D> z, cview<T, D> u, view<T, D> h,
                      saved&, work&, index_t) {
    ops::add<Be, T, D>(be, z, u, h);
  }
  // d h is both dz's identity part and du: returned as du, left in place as dz.
  static view<T, D> backward(const Be&, const gate::tensors<const T, 0>&, const gate::tensors<T, 0>&, int, const saved&,
                             work&, view<T, D> dh, index_t) {
    return dh;
  }
};

template <class C>
struct no_attn_out {  // o unchanged; no extra qkv_proj rows
  static constexpr bool active = false;
  static constexpr int logits = 0;
  static constexpr double forward_flops = 0;
};

template <class C>
struct no_update {  // z ← net(h)
  using T = typename C::scalar;
  using Be = typename C::backend;
  static constexpr int D = C::width;
  static constexpr bool active = false;
  static constexpr int tensors = 0;
  static constexpr double forward_flops = 0;
  using saved = no_state;
  using work = no_state;
  template <class Layout> static constexpr void add_params(Layout&) {}
  template <class Rng> static void init(const gate::tensors<T, 0>&, Rng&) {}
  static void begin_forward(const Be&, work&, cview<T, D>, index_t) {}
  static void forward(const Be& be, const gate::tensors<const T, 0>&, bool, view<T, D> z, cview<T, D> cand, cview<T, D>,
                      saved&, work&, index_t) {
    ops::copy<Be, T, D>(be, cand, z);
  }
  static void begin_backward(const Be&, work&, index_t) {}
  static view<T, D> backward(const Be&, const gate::tensors<const T, 0>&, const gate::tensors<T, 0>&, bool, const saved&,
                             work&, view<T, D> dz, index_t) {
    return dz;
  }
  static void finish_backward(const Be&, bool, work&, view<T, D>, view<T, D>, index_t, index_t) {}
  static void end_backward(const Be&, work&, view<T, D>, index_t) {}
};

namespace detail {
template <class Site> struct empty_site;
template <> struct empty_site<site::inject> { template <class C> using op = no_inject<C>; };
template <> struct empty_site<site::attn_out> { template <class C> using op = no_attn_out<C>; };
template <> struct empty_site<site::update> { template <class C> using op = no_update<C>; };

template <class Site, class G> constexpr int count_at() {
  if constexpr (requires { typename G::site; }) return std::is_same_v<typename G::site, Site> ? 1 : 0;
  else return 0;
}
template <class Site, class... G> struct first_at { using type = empty_site<Site>; };
template <class Site, class G0, class... G> struct first_at<Site, G0, G...> {
  using type = std::conditional_t<count_at<Site, G0>() == 1, G0, typename first_at<Site, G...>::type>;
};
template <class Site, class G> struct pick : first_at<Site, G> {};
template <class Site, class... G> struct pick<Site, all<G...>> : first_at<Site, G...> {
  static_assert((count_at<Site, G>() + ... + 0) <= 1,
                "gate::all<...> names two gates for the same site (input injection, attention output or recurrent "
                "update): a site takes at most one gate");
};
}  // namespace detail

// The op of the gate that policy G puts at Site (the empty site's op if none does).
template <class Site, class G, class C>
using site_op = typename detail::pick<Site, G>::type::template op<C>;

}  // namespace gtrm::gate
