// The Tiny Recursive Model (models/recursive_reasoning/trm.py, TRM_REFERENCE.md §1): one weight-shared
// network f of `layers` post-norm blocks, applied T·(n+1) times per ACT step:
//
//   x = √D · [puzzle prefix ; E[tokens]]   (learned positions: √D · 0.707106781 · (emb + pos))   (B·L, D)
//   repeat T times:  repeat n times: z_L = f(z_L + (z_H + x));   z_H = f(z_H + z_L)
//   logits = (z_H W_lmᵀ)[:, P:]   (B·S, V);   q = z_H[:, 0] W_qᵀ + b_q   (B, 2) = (q_halt, q_continue)
//
// Applications selected by the Grad policy (TRM: the last cycle) are recorded on a tape in the workspace;
// backward walks it in reverse. The carry entering the first recorded application is a constant.
// `forward` assigns logits/q in the workspace; `backward` accumulates (+=) into grads() and the workspace's
// puzzle-row gradient dlocal.
#pragma once
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "../concepts.hpp"
#include "../config.hpp"
#include "../core/arena.hpp"
#include "../core/buffer.hpp"
#include "../core/grad_mode.hpp"
#include "../core/param_layout.hpp"
#include "../ops/embedding.hpp"
#include "../ops/sparse_embedding.hpp"
#include "../policy/policies.hpp"
#include "block.hpp"
#include "init.hpp"

namespace gtrm {

template <dims Dims, cycles Cycles, mixer_policy Mixer, class Gate, halt_policy Halt, class Backend,
          grad_policy Grad = grad::last_cycle, class T = float>
class trm {
  static_assert(validate<Dims, Cycles>());
  static_assert(!Mixer::is_attention || validate_heads<Dims>());
  static_assert(std::is_same_v<Gate, gate::none>, "gate policies other than gate::none are not implemented yet");

 public:
  using scalar = T;
  using backend_type = Backend;
  using mixer_type = Mixer;
  using halt_type = Halt;
  using grad_type = Grad;
  using position = typename Mixer::position;
  static constexpr dims dims_v = Dims;
  static constexpr cycles cycles_v = Cycles;

  static constexpr int V = Dims.vocab, S = Dims.seq, P = Dims.prefix(), L = P + S, D = Dims.hidden;
  static constexpr int E = Dims.emb_ndim();                  // puzzle-table width (0: none)
  static constexpr int E_cols = E > 0 ? E : 1;               // view width for the (possibly absent) puzzle rows
  static constexpr bool attention = Mixer::is_attention;
  static constexpr int num_heads = attention ? Dims.heads : 0;
  static constexpr int head_dim = attention ? Dims.head_dim() : 2;
  static constexpr int I = swiglu_intermediate(D, Dims.expansion);
  static constexpr int It = attention ? 1 : swiglu_intermediate(L, Dims.expansion);
  static constexpr bool rope = attention && std::is_same_v<position, pos::rope>;
  static constexpr bool learned_pos = std::is_same_v<position, pos::learned>;
  static constexpr int layers = Cycles.layers;
  static constexpr int apps_per_step = Cycles.h * (Cycles.l + 1);
  static constexpr int first_recorded = Grad::first_recorded(Cycles.h, Cycles.l);
  static constexpr int recorded_apps = apps_per_step - first_recorded;
  static_assert(first_recorded >= 0 && first_recorded < apps_per_step, "the grad policy must record at least one application");

  using shape = block_shape<L, D, num_heads, I, It, attention, rope>;

  // ---- parameter layout: the reference state_dict names (ACTLossHead's `model.` prefix included) ----
  static constexpr int idx_embed = 0, idx_lm = 1, idx_qw = 2, idx_qb = 3, idx_pos = 4;
  static constexpr int idx_layer0 = learned_pos ? 5 : 4, per_layer = 4;
  static constexpr auto make_layout() {
    param_layout<5 + per_layer * layers> l;
    l.add("model.inner.embed_tokens.embedding_weight", V, D);
    l.add("model.inner.lm_head.weight", V, D);
    l.add("model.inner.q_head.weight", 2, D);
    l.add_vector("model.inner.q_head.bias", 2);
    if (learned_pos) l.add("model.inner.embed_pos.embedding_weight", L, D);
    for (int i = 0; i < layers; ++i) {
      if (attention) {
        l.add("model.inner.L_level.layers.{}.self_attn.qkv_proj.weight", 3 * D, D, i);
        l.add("model.inner.L_level.layers.{}.self_attn.o_proj.weight", D, D, i);
      } else {
        l.add("model.inner.L_level.layers.{}.mlp_t.gate_up_proj.weight", 2 * It, L, i);
        l.add("model.inner.L_level.layers.{}.mlp_t.down_proj.weight", L, It, i);
      }
      l.add("model.inner.L_level.layers.{}.mlp.gate_up_proj.weight", 2 * I, D, i);
      l.add("model.inner.L_level.layers.{}.mlp.down_proj.weight", D, I, i);
    }
    return l;
  }
  static constexpr auto layout = make_layout();
  static constexpr index_t param_count = layout.scalar_count();  // = sum(p.numel()) of model.parameters()

  static constexpr const char* h_init_name = "model.inner.H_init";
  static constexpr const char* l_init_name = "model.inner.L_init";
  static constexpr const char* puzzle_table_name = "model.inner.puzzle_emb.weights";

  // num_puzzle_ids: rows of the puzzle-embedding table (a dataset property, hence run-time).
  explicit trm(index_t num_puzzle_ids = 1, Backend be = {})
      : be_(be), params_(layout.total), grads_(layout.total), h_init_(D), l_init_(D),
        puzzle_table_(E > 0 ? num_puzzle_ids * E : 0), num_puzzle_ids_(E > 0 ? num_puzzle_ids : 0),
        rope_cos_(L * head_dim), rope_sin_(L * head_dim) {
    if (E > 0 && num_puzzle_ids < 1) throw std::invalid_argument("trm: the puzzle table needs at least one row");
    if constexpr (rope)
      ops::rope_tables<T, head_dim>(view<T, head_dim>(rope_cos_.data(), L), view<T, head_dim>(rope_sin_.data(), L),
                                    pos::rope::theta);
  }

  // The reference initialisation (§1.3), seeded: trunc-normal weights with std 1/sqrt(fan_in), q_head
  // weight 0 and bias −5, puzzle table 0, H_init/L_init trunc-normal std 1.
  void init(std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    params_.zero();
    for (std::size_t i = 0; i < layout.count; ++i) {
      const auto& s = layout[i];
      std::span<T> p(params_.data() + s.offset, static_cast<std::size_t>(s.size()));
      if (static_cast<int>(i) == idx_qw) continue;                                  // zeros
      if (static_cast<int>(i) == idx_qb) { for (auto& b : p) b = T(-5); continue; }
      trunc_normal_fill(p, 1.0 / std::sqrt(static_cast<double>(s.cols)), rng);      // fan_in = cols
    }
    puzzle_table_.zero();
    trunc_normal_fill(h_init_.span(), 1.0, rng);
    trunc_normal_fill(l_init_.span(), 1.0, rng);
  }

  // ---- storage ----
  const Backend& backend() const { return be_; }
  buffer<T>& params() { return params_; }
  const buffer<T>& params() const { return params_; }
  buffer<T>& grads() { return grads_; }
  const buffer<T>& grads() const { return grads_; }
  buffer<T>& h_init() { return h_init_; }
  const buffer<T>& h_init() const { return h_init_; }
  buffer<T>& l_init() { return l_init_; }
  const buffer<T>& l_init() const { return l_init_; }
  buffer<T>& puzzle_table() { return puzzle_table_; }
  const buffer<T>& puzzle_table() const { return puzzle_table_; }
  index_t num_puzzle_ids() const { return num_puzzle_ids_; }
  void zero_grads() { grads_.zero(); }

  // A tensor of the flat buffer (params or grads) by layout index.
  template <int Cols, class U>
  static view<U, Cols> tensor(U* base, int idx) {
    return view<U, Cols>(base + layout[static_cast<std::size_t>(idx)].offset, layout[static_cast<std::size_t>(idx)].size() / Cols);
  }

  template <class U>
  static block_weights<U, shape> block_views(U* base, int layer) {
    block_weights<U, shape> w{};
    const int b = idx_layer0 + per_layer * layer;
    if constexpr (attention) {
      w.qkv = tensor<D>(base, b);
      w.o = tensor<D>(base, b + 1);
    } else {
      w.gu_t = tensor<L>(base, b);
      w.down_t = tensor<It>(base, b + 1);
    }
    w.gu = tensor<D>(base, b + 2);
    w.down = tensor<I>(base, b + 3);
    return w;
  }

  // ---- workspace: every activation of one ACT step for up to max_batch rows, planned once ----
  struct application {
    view<T, D> h0;                                   // (N, D) the network input z + injection
    std::array<block_saved<T, shape>, layers> blocks;
    view<T, D> out() const { return blocks[layers - 1].h2; }
  };

  // with_tape = false plans an inference workspace: no tape and no backward buffers (forward(no_grad) only).
  class workspace {
   public:
    explicit workspace(index_t max_batch, bool with_tape = true) : max_batch_(max_batch), with_tape_(with_tape) {
      if (max_batch < 1) throw std::invalid_argument("trm::workspace: max_batch must be at least 1");
      arena measure;
      plan(measure, max_batch);
      mem_ = arena(measure.used());
      plan(mem_, max_batch);
    }
    index_t max_batch() const { return max_batch_; }
    bool with_tape() const { return with_tape_; }
    std::size_t bytes() const { return mem_.capacity(); }

    view<T, D> x, inj;                    // (N, D)
    view<T, D> zt;                        // (B·S, D) z_H token rows, gathered for lm_head
    view<T, D> qin, dqin;                 // (B, D) z_H[:, 0]
    view<T, V> logits, dlogits;           // (B·S, V)
    view<T, 2> q, dq;                     // (B, 2)
    view<T, E_cols> local, dlocal;      // (B, E) each row's copy of its puzzle embedding, and its gradient
    std::array<application, recorded_apps> tape;
    application scratch_app;
    block_scratch<T, shape> sc;
    view<T, D> dzH, dzL, dx, gA, gB;      // (N, D)
    view<T, D> dzt;                       // (B·S, D)

   private:
    void plan(arena& a, index_t b) {
      const index_t n = b * L;
      x = a.take<T, D>(n);
      inj = a.take<T, D>(n);
      zt = a.take<T, D>(b * S);
      qin = a.take<T, D>(b);
      dqin = a.take<T, D>(b);
      logits = a.take<T, V>(b * S);
      dlogits = a.take<T, V>(b * S);
      q = a.take<T, 2>(b);
      dq = a.take<T, 2>(b);
      local = a.take<T, E_cols>(b);
      dlocal = a.take<T, E_cols>(b);
      take_app(a, scratch_app, n);
      sc.take(a, n);
      if (!with_tape_) return;
      for (auto& app : tape) take_app(a, app, n);
      dzH = a.take<T, D>(n);
      dzL = a.take<T, D>(n);
      dx = a.take<T, D>(n);
      gA = a.take<T, D>(n);
      gB = a.take<T, D>(n);
      dzt = a.take<T, D>(b * S);
    }
    static void take_app(arena& a, application& app, index_t n) {
      app.h0 = a.take<T, D>(n);
      for (auto& blk : app.blocks) blk.take(a, n);
    }
    index_t max_batch_;
    bool with_tape_;
    arena mem_;
  };

  // ---- forward: z_H, z_L (B·L, D) are updated in place; logits and q land in the workspace ----
  template <grad_mode Mode>
  void forward(Mode, workspace& ws, view<T, D> z_h, view<T, D> z_l, const std::int32_t* inputs,
               const std::int32_t* puzzle_ids, index_t batch) const {
    check_batch(ws, batch, inputs, puzzle_ids);
    if (Mode::records && !ws.with_tape())
      throw std::logic_error("trm::forward(with_grad) needs a workspace planned with a tape");
    const index_t n = batch * L;
    embed(ws, inputs, puzzle_ids, batch);
    int k = 0;
    for (int c = 0; c < Cycles.h; ++c) {
      for (int j = 0; j <= Cycles.l; ++j, ++k) {
        application& app = (Mode::records && k >= first_recorded) ? ws.tape[k - first_recorded] : ws.scratch_app;
        const view<T, D> h0 = app.h0.slice(0, n);
        if (j < Cycles.l) {  // z_L = f(z_L + (z_H + x)); the reference adds z_H + x first
          ops::add<Backend, T, D>(be_, z_h.slice(0, n), ws.x.slice(0, n), ws.inj.slice(0, n));
          ops::add<Backend, T, D>(be_, z_l.slice(0, n), ws.inj.slice(0, n), h0);
          run_network(ws, app, n);
          ops::copy<Backend, T, D>(be_, app.out().slice(0, n), z_l.slice(0, n));
        } else {             // z_H = f(z_H + z_L), no input injection
          ops::add<Backend, T, D>(be_, z_h.slice(0, n), z_l.slice(0, n), h0);
          run_network(ws, app, n);
          ops::copy<Backend, T, D>(be_, app.out().slice(0, n), z_h.slice(0, n));
        }
      }
    }
    output_heads(ws, z_h, batch);
  }

  // ---- backward: from ws.dlogits (B·S, V) and ws.dq (B, 2) to grads() and ws.dlocal ----
  // `inputs` are the token ids the forward saw (the embedding's scatter needs them).
  void backward(workspace& ws, const std::int32_t* inputs, index_t batch) {
    const index_t n = batch * L, bs = batch * S;
    T* g = grads_.data();
    const T* p = params_.data();
    // heads
    auto dzt = ws.dzt.slice(0, bs);
    ops::fill<Backend, T, D>(be_, dzt, T(0));
    ops::linear_backward<Backend, T, D, V>(be_, ws.zt.slice(0, bs), tensor<D>(p, idx_lm), ws.dlogits.slice(0, bs), dzt,
                                           tensor<D>(g, idx_lm));
    auto dqin = ws.dqin.slice(0, batch);
    ops::fill<Backend, T, D>(be_, dqin, T(0));
    ops::linear_backward<Backend, T, D, 2>(be_, ws.qin.slice(0, batch), tensor<D>(p, idx_qw), ws.dq.slice(0, batch), dqin,
                                           tensor<D>(g, idx_qw), tensor<1>(g, idx_qb));
    auto dzh = ws.dzH.slice(0, n), dzl = ws.dzL.slice(0, n), dx = ws.dx.slice(0, n);
    ops::fill<Backend, T, D>(be_, dzl, T(0));
    ops::fill<Backend, T, D>(be_, dx, T(0));
    be_.parallel_for(batch, [&](index_t b) {
      for (int r = 0; r < L; ++r) {
        T* dst = dzh.row(b * L + r);
        const T* src = r >= P ? dzt.row(b * S + r - P) : nullptr;
        for (int c = 0; c < D; ++c) dst[c] = src ? src[c] : T(0);
      }
      T* d0 = dzh.row(b * L);
      const T* s0 = dqin.row(b);
      for (int c = 0; c < D; ++c) d0[c] += s0[c];
    });
    // the recorded applications, last first
    for (int r = recorded_apps - 1; r >= 0; --r) {
      const int k = first_recorded + r;
      const bool updates_h = (k % (Cycles.l + 1)) == Cycles.l;
      view<T, D> d_h0 = network_backward(ws, ws.tape[r], updates_h ? dzh : dzl, n);
      if (updates_h) {   // z_H' = f(z_H + z_L)
        ops::copy<Backend, T, D>(be_, d_h0, dzh);
        ops::accumulate<Backend, T, D>(be_, d_h0, dzl);
      } else {           // z_L' = f(z_L + z_H + x)
        ops::copy<Backend, T, D>(be_, d_h0, dzl);
        ops::accumulate<Backend, T, D>(be_, d_h0, dzh);
        ops::accumulate<Backend, T, D>(be_, d_h0, dx);
      }
    }
    embed_backward(ws, inputs, batch);
  }

 private:
  void check_batch(const workspace& ws, index_t batch, const std::int32_t* inputs, const std::int32_t* puzzle_ids) const {
    if (batch < 1 || batch > ws.max_batch())
      throw std::invalid_argument("trm: batch of " + std::to_string(batch) + " rows, the workspace holds 1.." +
                                  std::to_string(ws.max_batch()));
    ops::check_token_ids(inputs, batch * S, V, "trm: input token");
    if constexpr (E > 0) ops::check_token_ids(puzzle_ids, batch, static_cast<int>(num_puzzle_ids_), "trm: puzzle identifier");
  }

  cview<T, head_dim> cos_table() const { return cview<T, head_dim>(rope_cos_.data(), L); }
  cview<T, head_dim> sin_table() const { return cview<T, head_dim>(rope_sin_.data(), L); }

  static constexpr T embed_scale() { return static_cast<T>(gcem_sqrt(static_cast<double>(D))); }
  static constexpr double gcem_sqrt(double v) {  // constexpr Newton iteration; std::sqrt is not constexpr in C++20
    double x = v > 1 ? v : 1;
    for (int i = 0; i < 64; ++i) x = 0.5 * (x + v / x);
    return x;
  }

  void embed(workspace& ws, const std::int32_t* inputs, const std::int32_t* puzzle_ids, index_t batch) const {
    const T* p = params_.data();
    auto x = ws.x.slice(0, batch * L);
    if constexpr (E > 0)
      ops::puzzle_prefix_forward<E, P, D, L, Backend, T>(be_, cview<T, E>(puzzle_table_.data(), num_puzzle_ids_), puzzle_ids,
                                                       ws.local.slice(0, batch), T(1), x);
    const auto emb = tensor<D>(p, idx_embed);
    be_.parallel_for(batch, [&](index_t b) {
      for (int s = 0; s < S; ++s) {
        const T* src = emb.row(inputs[b * S + s]);
        T* dst = x.row(b * L + P + s);
        for (int c = 0; c < D; ++c) dst[c] = src[c];
      }
    });
    const T scale = embed_scale();
    be_.parallel_for(batch * L, [&](index_t r) {
      T* row = x.row(r);
      if constexpr (learned_pos) {
        const T* pos = tensor<D>(p, idx_pos).row(r % L);
        const T f = static_cast<T>(pos::learned::factor);
        for (int c = 0; c < D; ++c) row[c] = scale * (f * (row[c] + pos[c]));
      } else {
        for (int c = 0; c < D; ++c) row[c] = scale * row[c];
      }
    });
  }

  void embed_backward(workspace& ws, const std::int32_t* ids, index_t batch) {
    T* g = grads_.data();
    T scale = embed_scale();
    if constexpr (learned_pos) scale *= static_cast<T>(pos::learned::factor);
    auto dx = ws.dx.slice(0, batch * L);
    // d emb = scale · dx; tokens scatter into the embedding table, the prefix into each row's puzzle copy
    auto de = tensor<D>(g, idx_embed);
    for (index_t b = 0; b < batch; ++b)
      for (int s = 0; s < S; ++s) {
        T* dst = de.row(ids[b * S + s]);
        const T* src = dx.row(b * L + P + s);
        for (int c = 0; c < D; ++c) dst[c] += scale * src[c];
      }
    if constexpr (learned_pos) {
      auto dpos = tensor<D>(g, idx_pos);
      be_.parallel_for(L, [&](index_t l) {
        T* dst = dpos.row(l);
        for (index_t b = 0; b < batch; ++b) {
          const T* src = dx.row(b * L + l);
          for (int c = 0; c < D; ++c) dst[c] += scale * src[c];
        }
      });
    }
    if constexpr (E > 0) ops::puzzle_prefix_backward<E, P, D, L, Backend, T>(be_, dx, scale, ws.dlocal.slice(0, batch));
  }

  void run_network(workspace& ws, application& app, index_t n) const {
    const T* p = params_.data();
    cview<T, D> in = app.h0.slice(0, n);
    for (int l = 0; l < layers; ++l) {
      auto& blk = app.blocks[static_cast<std::size_t>(l)];
      block_saved<T, shape> sv = blk.first(n);
      auto sc = ws.sc.first(n);
      block_forward<shape>(be_, block_views<const T>(p, l), in, sv, sc, cos_table(), sin_table());
      in = sv.h2;
    }
  }

  // Returns d h0 of the application in ws.gA or ws.gB.
  view<T, D> network_backward(workspace& ws, application& app, view<T, D> dout, index_t n) {
    const T* p = params_.data();
    T* g = grads_.data();
    view<T, D> bufs[2] = {ws.gA.slice(0, n), ws.gB.slice(0, n)};
    cview<T, D> cur = dout;
    view<T, D> din{};
    for (int l = layers - 1; l >= 0; --l) {
      din = bufs[l % 2];
      ops::fill<Backend, T, D>(be_, din, T(0));
      const block_saved<T, shape> sv = app.blocks[static_cast<std::size_t>(l)].first(n);
      cview<T, D> in = l == 0 ? app.h0.slice(0, n) : app.blocks[static_cast<std::size_t>(l - 1)].h2.slice(0, n);
      auto sc = ws.sc.first(n);
      block_backward<shape>(be_, block_views<const T>(p, l), block_views<T>(g, l), in, sv, sc, cur, din, cos_table(),
                            sin_table());
      cur = din;
    }
    return din;
  }

  void output_heads(workspace& ws, view<T, D> z_h, index_t batch) const {
    const T* p = params_.data();
    auto zt = ws.zt.slice(0, batch * S);
    auto qin = ws.qin.slice(0, batch);
    be_.parallel_for(batch, [&](index_t b) {
      for (int s = 0; s < S; ++s) {
        const T* src = z_h.row(b * L + P + s);
        T* dst = zt.row(b * S + s);
        for (int c = 0; c < D; ++c) dst[c] = src[c];
      }
      const T* src = z_h.row(b * L);
      T* dst = qin.row(b);
      for (int c = 0; c < D; ++c) dst[c] = src[c];
    });
    ops::linear_forward<Backend, T, D, V>(be_, zt, tensor<D>(p, idx_lm), ws.logits.slice(0, batch * S));
    ops::linear_forward<Backend, T, D, 2>(be_, qin, tensor<D>(p, idx_qw), tensor<1>(p, idx_qb), ws.q.slice(0, batch));
  }

  Backend be_;
  buffer<T> params_, grads_;
  buffer<T> h_init_, l_init_;
  buffer<T> puzzle_table_;
  index_t num_puzzle_ids_ = 0;
  buffer<T> rope_cos_, rope_sin_;
};

}  // namespace gtrm
