// The machinery every recursive-reasoning model shares (TRM, HRM, the transformer baseline, gated TRMs):
// embedding, a schedule of network applications recorded on a tape, the output heads, and backward.
//
//   x = √D · [puzzle prefix ; E[tokens]]   (learned positions: √D · 0.707106781 · (emb + pos))   (B·L, D)
//   application k of the schedule updates one state z ∈ {z_L, z_H}:
//     z_L update:  u = z_H + x,  h = z_L + u         z_H update:  u = z_L,  h = z_H + u
//     transformer: z_H update with u = x
//     z̃ = net(h);  z ← z̃
//   logits = (z_H W_lmᵀ)[:, P:]   (B·S, V);   q = z_H[:, 0] W_qᵀ + b_q   (B, 2) = (q_halt, q_continue)
//
// Arch (policy/policies.hpp) fixes the networks and the schedule:
//   arch::trm              one network `L_level`, T·(n+1) applications: n z_L updates then one z_H update, T times
//   arch::hrm<HL>          as trm, but z_H updates use a second network `H_level` of HL blocks (HRM, §7)
//   arch::transformer      one network `H_level`, one application per ACT step, z_H = f(z_H + x)
// Gate (gate::set_of<Gate>) changes an application (VARIANTS.md §1; ops in gates.hpp), TRM arch only:
//   context gate      h = z + s ⊙ u          scalar s = σ(g_k), k = call index in the cycle; or s = σ(z W_cᵀ + b_c)
//   attention gate    inside every block (block.hpp)
//   recurrent gate    z ← (1−u_g)⊙(r⊙z) + u_g⊙z̃ with u_g, r from [z ; z̃ ; ctx], one cell per state:
//                     ctx = z_H + mean_tokens(x) for z_L, ctx = z_L (the new one) for z_H
// With gate::none every line above is the plain TRM's, operation for operation (bit-identical results).
// Mixer mixer::latent_meta<Inner, cfg> (LMA, VARIANTS.md §3; lma.hpp) runs all of the above in a latent
// sequence: x is encoded once per ACT step from the token-level embedding (Lt = P + S rows of Dt = hidden)
// to L rows of D = cfg.width, the states, H_init/L_init and blocks live at (L, D), and the final z_H is
// decoded back to (Lt, Dt) for the heads. Without it Lt = L and Dt = D and the two levels are one.
//
// Applications selected by the Grad policy are recorded on a tape in the workspace; backward walks it in
// reverse. The carry entering the first recorded application is a constant. `forward` assigns logits/q in
// the workspace; `backward` accumulates (+=) into grads() and the workspace's puzzle-row gradient dlocal.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
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
#include "gates.hpp"
#include "init.hpp"
#include "lma.hpp"
#include "token_io.hpp"

namespace gtrm {

namespace detail {
// State-dict name patterns of one network's blocks ("{}" = layer).
struct net_names {
  std::string_view qkv, o, gu_t, down_t, gu, down;
};
inline constexpr net_names L_level_names{
    "model.inner.L_level.layers.{}.self_attn.qkv_proj.weight", "model.inner.L_level.layers.{}.self_attn.o_proj.weight",
    "model.inner.L_level.layers.{}.mlp_t.gate_up_proj.weight", "model.inner.L_level.layers.{}.mlp_t.down_proj.weight",
    "model.inner.L_level.layers.{}.mlp.gate_up_proj.weight", "model.inner.L_level.layers.{}.mlp.down_proj.weight"};
inline constexpr net_names H_level_names{
    "model.inner.H_level.layers.{}.self_attn.qkv_proj.weight", "model.inner.H_level.layers.{}.self_attn.o_proj.weight",
    "model.inner.H_level.layers.{}.mlp_t.gate_up_proj.weight", "model.inner.H_level.layers.{}.mlp_t.down_proj.weight",
    "model.inner.H_level.layers.{}.mlp.gate_up_proj.weight", "model.inner.H_level.layers.{}.mlp.down_proj.weight"};
constexpr double const_sqrt(double v) {  // constexpr Newton iteration; std::sqrt is not constexpr in C++20
  double x = v > 1 ? v : 1;
  for (int i = 0; i < 64; ++i) x = 0.5 * (x + v / x);
  return x;
}
}  // namespace detail

template <class Arch, dims Dims, cycles Cycles, mixer_policy Mixer, gate_policy Gate, halt_policy Halt, class Backend,
          grad_policy Grad, class T>
class recursive_model {
 public:
  static_assert(validate<Dims, Cycles>());
  static constexpr bool latent = latent_mixer<Mixer>;
  static constexpr bool check_token_heads() {
    if constexpr (!latent && Mixer::is_attention) return validate_heads<Dims>();
    else return true;
  }
  static_assert(check_token_heads());
  static constexpr mixer::lma_config lma_cfg = [] {
    if constexpr (latent_mixer<Mixer>) return Mixer::config;
    else return mixer::lma_config{};
  }();

  using scalar = T;
  using backend_type = Backend;
  using mixer_type = Mixer;
  using gate_type = Gate;
  using halt_type = Halt;
  using grad_type = Grad;
  using arch_type = Arch;
  using position = typename Mixer::position;
  static constexpr dims dims_v = Dims;
  static constexpr cycles cycles_v = Cycles;
  static constexpr gate::gate_set gates = gate::set_of<Gate>;
  static_assert(!gates.duplicate, "gate::all<...> names two gates of the same kind (context, attention or recurrent)");
  static_assert(!gates.any() || std::is_same_v<Arch, arch::trm>, "the GTRM gates are defined for the TRM architecture only");
  static_assert(gates.attention == 0 || Mixer::is_attention, "gate::attention needs the attention mixer (mixer::attention)");

  static constexpr int V = Dims.vocab, S = Dims.seq, P = Dims.prefix();
  static constexpr int Lt = P + S, Dt = Dims.hidden;         // token level: embedding and heads
  // recursion level: the states, the blocks, H_init/L_init (= token level without LMA)
  static constexpr int L = latent ? lma::closest_divisor(static_cast<long>(Lt) * Dt, lma_cfg.length > 0 ? lma_cfg.length : Lt) : Lt;
  static constexpr int D = latent ? (lma_cfg.width > 0 ? lma_cfg.width : Dt / 2) : Dt;
  static constexpr int C = Lt * Dt / L;                       // LMA chunk width C'
  static constexpr int E = Dims.emb_ndim();                  // puzzle-table width (0: none)
  static constexpr int E_cols = E > 0 ? E : 1;               // view width for the (possibly absent) puzzle rows
  static constexpr bool attention = Mixer::is_attention;
  static constexpr int num_heads = attention ? (latent && lma_cfg.heads > 0 ? lma_cfg.heads : Dims.heads) : 0;
  static constexpr int head_dim = attention ? D / num_heads : 2;
  static_assert(!latent || !std::is_same_v<typename Mixer::position, pos::rope>,
                "LMA runs the recursion in a latent sequence without positions: use pos::none or pos::learned "
                "(added to the token-level embedding); RoPE would have to be recomputed for the latent length");
  static_assert(!latent || (lma_cfg.stack_heads >= 1 && Dt % lma_cfg.stack_heads == 0),
                "dims.hidden must be divisible by lma_config.stack_heads (head-view stacking cuts hidden into equal slices)");
  static_assert(!latent || !attention || (num_heads >= 1 && D % num_heads == 0),
                "lma_config.width must be divisible by the latent attention heads (lma_config.heads, or dims.heads)");
  static_assert(!latent || !lma_cfg.residual || L == Lt,
                "lma_config.residual (E_resid) needs the latent length equal to L = puzzle_emb_len + seq: set length to 0");
  static_assert(!latent || lma_cfg.decoder != mixer::lma_decoder::proj_to_hidden || L == Lt,
                "the proj_to_hidden decoder maps latent rows to tokens one to one: it needs length 0 (= L)");
  static constexpr int I = swiglu_intermediate(D, Dims.expansion);
  static constexpr int It = attention ? 1 : swiglu_intermediate(L, Dims.expansion);
  static constexpr bool rope = attention && std::is_same_v<position, pos::rope>;
  static constexpr bool learned_pos = std::is_same_v<position, pos::learned>;
  static constexpr int attn_gate_cols = gates.attention == 1 ? num_heads : gates.attention == 2 ? D : 0;

  // ---- networks and schedule ----
  static constexpr bool recursive = Arch::recursive;
  static constexpr int nets = Arch::h_layers > 0 ? 2 : 1;    // hrm: net 0 = H_level, net 1 = L_level
  static constexpr int layers = Cycles.layers;                // blocks of L_level (transformer: of H_level)
  static constexpr int net_layers(int net) { return nets == 2 && net == 0 ? Arch::h_layers : Cycles.layers; }
  static constexpr int max_layers = std::max(Arch::h_layers, Cycles.layers);
  static constexpr int apps_per_step = recursive ? Cycles.h * (Cycles.l + 1) : 1;
  static constexpr int first_recorded = recursive ? Grad::first_recorded(Cycles.h, Cycles.l) : 0;
  static constexpr int recorded_apps = apps_per_step - first_recorded;
  static_assert(first_recorded >= 0 && first_recorded < apps_per_step, "the grad policy must record at least one application");
  static constexpr bool updates_h(int k) { return !recursive || k % (Cycles.l + 1) == Cycles.l; }
  static constexpr int call_index(int k) { return recursive ? k % (Cycles.l + 1) : 0; }  // k within its cycle
  static constexpr int net_of(int k) { return nets == 2 && !updates_h(k) ? 1 : 0; }

  using shape = block_shape<L, D, num_heads, I, It, attention, rope, attn_gate_cols>;

  // ---- parameter layout: the reference state_dict names (ACTLossHead's `model.` prefix included) ----
  static constexpr int idx_embed = 0, idx_lm = 1, idx_qw = 2, idx_qb = 3, idx_pos = 4;
  static constexpr int idx_layer0 = learned_pos ? 5 : 4, per_layer = 4;
  static constexpr int total_layers = Arch::h_layers + Cycles.layers;
  static constexpr int layer_index(int net, int layer) {
    return idx_layer0 + per_layer * ((nets == 2 && net == 1 ? Arch::h_layers : 0) + layer);
  }
  static constexpr int idx_gate0 = idx_layer0 + per_layer * total_layers;
  static constexpr int idx_ctx = idx_gate0;                                      // injection_gates | context_gate W, b
  static constexpr int idx_rec = idx_gate0 + (gates.context == 1 ? 1 : gates.context == 2 ? 2 : 0);
  static constexpr int rec_tensors = gates.recurrent == 2 ? 4 : 2;               // per cell: W_u, b_u[, W_r, b_r]
  static constexpr int rec_index(int cell) { return idx_rec + cell * rec_tensors; }  // cell 0 = z_L, 1 = z_H
  static constexpr int idx_lma = rec_index(gates.recurrent ? 2 : 0);          // E_chunk W, b [, E_resid W, b], decoder
  static constexpr int idx_lma_dec = idx_lma + (lma_cfg.residual ? 4 : 2);
  static constexpr auto make_layout() {
    param_layout<5 + per_layer * total_layers + 16> l;
    l.add("model.inner.embed_tokens.embedding_weight", V, Dt);
    l.add("model.inner.lm_head.weight", V, Dt);
    l.add("model.inner.q_head.weight", 2, Dt);
    l.add_vector("model.inner.q_head.bias", 2);
    if (learned_pos) l.add("model.inner.embed_pos.embedding_weight", Lt, Dt);
    for (int net = 0; net < nets; ++net) {
      const detail::net_names& nm = (Arch::h_layers > 0 && net == 0) || !recursive ? detail::H_level_names
                                                                                   : detail::L_level_names;
      for (int i = 0; i < net_layers(net); ++i) {
        if (attention) {
          l.add(nm.qkv, shape::qkv_rows, D, i);
          l.add(nm.o, D, D, i);
        } else {
          l.add(nm.gu_t, 2 * It, L, i);
          l.add(nm.down_t, L, It, i);
        }
        l.add(nm.gu, 2 * I, D, i);
        l.add(nm.down, D, I, i);
      }
    }
    if (gates.context == 1) l.add_vector("model.inner.L_level.injection_gates", Cycles.l + 1);
    if (gates.context == 2) {
      l.add("model.inner.L_level.context_gate.weight", D, D);
      l.add_vector("model.inner.L_level.context_gate.bias", D);
    }
    if (gates.recurrent) {
      for (int cell = 0; cell < 2; ++cell) {
        l.add(cell == 0 ? "model.inner.z_L_recurrence_gate.update_gate.weight" : "model.inner.z_H_recurrence_gate.update_gate.weight", D, 3 * D);
        l.add_vector(cell == 0 ? "model.inner.z_L_recurrence_gate.update_gate.bias" : "model.inner.z_H_recurrence_gate.update_gate.bias", D);
        if (gates.recurrent == 2) {
          l.add(cell == 0 ? "model.inner.z_L_recurrence_gate.reset_gate.weight" : "model.inner.z_H_recurrence_gate.reset_gate.weight", D, 3 * D);
          l.add_vector(cell == 0 ? "model.inner.z_L_recurrence_gate.reset_gate.bias" : "model.inner.z_H_recurrence_gate.reset_gate.bias", D);
        }
      }
    }
    if (latent) {
      l.add("model.inner.lma.chunk_encoder.weight", D, C);
      l.add_vector("model.inner.lma.chunk_encoder.bias", D);
      if (lma_cfg.residual) {
        l.add("model.inner.lma.residual_encoder.weight", D, Dt);
        l.add_vector("model.inner.lma.residual_encoder.bias", D);
      }
      if (lma_cfg.decoder == mixer::lma_decoder::chunk_linear) {
        l.add("model.inner.lma.chunk_decoder.weight", C, D);
        l.add_vector("model.inner.lma.chunk_decoder.bias", C);
      } else {
        l.add("model.inner.lma_final_proj.weight", Dt, D);
      }
    }
    return l;
  }
  static constexpr auto layout = make_layout();
  static constexpr index_t param_count = layout.scalar_count();  // = sum(p.numel()) of model.parameters()

  static constexpr T embed_scale() { return static_cast<T>(detail::const_sqrt(static_cast<double>(Dt))); }  // √hidden

  static constexpr const char* h_init_name = "model.inner.H_init";
  static constexpr const char* l_init_name = "model.inner.L_init";
  static constexpr const char* puzzle_table_name = "model.inner.puzzle_emb.weights";

  // num_puzzle_ids: rows of the puzzle-embedding table (a dataset property, hence run-time).
  explicit recursive_model(index_t num_puzzle_ids = 1, Backend be = {})
      : be_(be), params_(layout.total), grads_(layout.total), h_init_(D), l_init_(D),
        puzzle_table_(E > 0 ? num_puzzle_ids * E : 0), num_puzzle_ids_(E > 0 ? num_puzzle_ids : 0),
        rope_cos_(L * head_dim), rope_sin_(L * head_dim) {
    if (E > 0 && num_puzzle_ids < 1) throw std::invalid_argument("model: the puzzle table needs at least one row");
    if constexpr (rope)
      ops::rope_tables<T, head_dim>(view<T, head_dim>(rope_cos_.data(), L), view<T, head_dim>(rope_sin_.data(), L),
                                    pos::rope::theta);
  }

  // The reference initialisation (§1.3), seeded: trunc-normal weights with std 1/sqrt(fan_in), q_head
  // weight 0 and bias −5, puzzle table 0, H_init/L_init trunc-normal std 1. Gates as their sources do:
  // injection_gates 2.0; context_gate weight 0, bias 2.0; recurrence update bias 0, reset bias 1.0 (weights
  // trunc-normal 1/sqrt(3D)); attention-gate rows of qkv_proj as the rest of qkv_proj. LMA: weights
  // trunc-normal 1/sqrt(fan_in), biases 0 (a choice; nn.Linear would draw them uniformly).
  void init(std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    params_.zero();
    for (std::size_t i = 0; i < layout.count; ++i) {
      const auto& s = layout[i];
      std::span<T> p(params_.data() + s.offset, static_cast<std::size_t>(s.size()));
      const int idx = static_cast<int>(i);
      if (idx == idx_qw) continue;                                                   // zeros
      if (idx == idx_qb) { std::fill(p.begin(), p.end(), T(-5)); continue; }
      if (idx >= idx_gate0) {
        if (gates.context == 1 && idx == idx_ctx) { std::fill(p.begin(), p.end(), T(2)); continue; }
        if (gates.context == 2 && idx == idx_ctx) continue;                          // weight 0
        if (gates.context == 2 && idx == idx_ctx + 1) { std::fill(p.begin(), p.end(), T(2)); continue; }
        if (s.ndim == 1 && idx >= idx_lma) continue;                                 // LMA biases: 0
        if (s.ndim == 1) {                                                           // recurrence biases
          const bool reset = (idx - idx_rec) % rec_tensors == 3;
          std::fill(p.begin(), p.end(), reset ? T(1) : T(0));
          continue;
        }
      }
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
  static block_weights<U, shape> block_views(U* base, int layer, int net = 0) {
    block_weights<U, shape> w{};
    const int b = layer_index(net, layer);
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
    std::array<block_saved<T, shape>, max_layers> blocks;
    view<T, D> z, u, s;                              // context gates: state before the update, injection, σ
    view<T, 3 * D> cat;                              // recurrent gate: [z_prev ; z̃ ; ctx]
    view<T, D> ug, rg;                               // recurrent gate: update and reset gates
    view<T, D> out(int net) const { return blocks[static_cast<std::size_t>(net_layers(net) - 1)].h2; }
  };

  // with_tape = false plans an inference workspace: no tape and no backward buffers (forward(no_grad) only).
  class workspace {
   public:
    explicit workspace(index_t max_batch, bool with_tape = true) : max_batch_(max_batch), with_tape_(with_tape) {
      if (max_batch < 1) throw std::invalid_argument("model workspace: max_batch must be at least 1");
      arena measure;
      plan(measure, max_batch);
      mem_ = arena(measure.used());
      plan(mem_, max_batch);
    }
    index_t max_batch() const { return max_batch_; }
    bool with_tape() const { return with_tape_; }
    std::size_t bytes() const { return mem_.capacity(); }

    view<T, D> x, inj;                    // (N, D)
    view<T, Dt> xt, dxt;                  // (B·Lt, Dt) token-level embedding and its gradient (= x, dx without LMA)
    view<T, Dt> zt;                       // (B·S, Dt) z_H token rows, gathered for lm_head
    view<T, Dt> qin, dqin;                // (B, Dt) z_H[:, 0]
    view<T, V> logits, dlogits;           // (B·S, V)
    view<T, 2> q, dq;                     // (B, 2)
    view<T, E_cols> local, dlocal;        // (B, E) each row's copy of its puzzle embedding, and its gradient
    std::array<application, recorded_apps> tape;
    application scratch_app;
    block_scratch<T, shape> sc;
    view<T, D> dzH, dzL, dx, gA, gB;      // (N, D)
    view<T, Dt> dzt;                      // (B·S, Dt)
    // LMA (latent models only)
    view<T, C> z0, chunks;                // (B·L, C) encoder input chunks; decoder output chunks / their gradient
    view<T, D> enc_a, enc_b, zfin, genc;  // (B·L, D) E_chunk / E_resid outputs, final z_H, backward scratch
    view<T, Dt> ydec, dyd;                // (B·Lt, Dt) decoded z_H for the heads, its gradient
    view<T, D> xbar, dxbar;               // (B, D) recurrent gate: token mean of x, and its gradient
    view<T, D> gC, gD, gE, gF, gG;        // (N, D) gate backward scratch
    view<T, 3 * D> dcat;                  // (N, 3D) recurrent gate backward scratch

   private:
    void plan(arena& a, index_t b) {
      const index_t n = b * L;
      x = a.take<T, D>(n);
      inj = a.take<T, D>(n);
      zt = a.take<T, Dt>(b * S);
      qin = a.take<T, Dt>(b);
      dqin = a.take<T, Dt>(b);
      if constexpr (latent) {
        xt = a.take<T, Dt>(b * Lt);
        z0 = a.take<T, C>(n);
        chunks = a.take<T, C>(n);
        enc_a = a.take<T, D>(n);
        if constexpr (lma_cfg.residual) enc_b = a.take<T, D>(n);
        zfin = a.take<T, D>(n);
        ydec = a.take<T, Dt>(b * Lt);
      } else {
        xt = x;
      }
      logits = a.take<T, V>(b * S);
      dlogits = a.take<T, V>(b * S);
      q = a.take<T, 2>(b);
      dq = a.take<T, 2>(b);
      local = a.take<T, E_cols>(b);
      dlocal = a.take<T, E_cols>(b);
      if constexpr (gates.recurrent > 0) xbar = a.take<T, D>(b);
      take_app(a, scratch_app, n);
      sc.take(a, n);
      if (!with_tape_) return;
      for (auto& app : tape) take_app(a, app, n);
      dzH = a.take<T, D>(n);
      dzL = a.take<T, D>(n);
      dx = a.take<T, D>(n);
      gA = a.take<T, D>(n);
      gB = a.take<T, D>(n);
      dzt = a.take<T, Dt>(b * S);
      if constexpr (latent) {
        dxt = a.take<T, Dt>(b * Lt);
        dyd = a.take<T, Dt>(b * Lt);
        genc = a.take<T, D>(n);
      } else {
        dxt = dx;
      }
      if constexpr (gates.context > 0) gF = a.take<T, D>(n);
      if constexpr (gates.context == 2) gG = a.take<T, D>(n);
      if constexpr (gates.recurrent > 0) {
        dxbar = a.take<T, D>(b);
        gC = a.take<T, D>(n);
        gD = a.take<T, D>(n);
        gE = a.take<T, D>(n);
        if constexpr (gates.context == 0) gF = a.take<T, D>(n);
        if constexpr (gates.context != 2) gG = a.take<T, D>(n);
        dcat = a.take<T, 3 * D>(n);
      }
    }
    static void take_app(arena& a, application& app, index_t n) {
      app.h0 = a.take<T, D>(n);
      for (auto& blk : app.blocks) blk.take(a, n);
      if constexpr (gates.context > 0) app.u = a.take<T, D>(n);
      if constexpr (gates.context == 2) {
        app.z = a.take<T, D>(n);
        app.s = a.take<T, D>(n);
      }
      if constexpr (gates.recurrent > 0) {
        app.cat = a.take<T, 3 * D>(n);
        app.ug = a.take<T, D>(n);
        if constexpr (gates.recurrent == 2) app.rg = a.take<T, D>(n);
      }
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
      throw std::logic_error("model forward(with_grad) needs a workspace planned with a tape");
    const index_t n = batch * L;
    token_io::embed(*this, ws, inputs, puzzle_ids, batch);
    if constexpr (latent) lma::encode(*this, ws, batch);
    if constexpr (gates.recurrent > 0) token_mean(ws, batch);
    for (int k = 0; k < apps_per_step; ++k) {
      application& app = (Mode::records && k >= first_recorded) ? ws.tape[k - first_recorded] : ws.scratch_app;
      apply(ws, app, k, z_h.slice(0, n), z_l.slice(0, n), batch);
    }
    if constexpr (latent) token_io::heads(*this, ws, lma::decode(*this, ws, z_h, batch), batch);
    else token_io::heads(*this, ws, z_h, batch);
  }

  // ---- backward: from ws.dlogits (B·S, V) and ws.dq (B, 2) to grads() and ws.dlocal ----
  // `inputs` are the token ids the forward saw (the embedding's scatter needs them).
  void backward(workspace& ws, const std::int32_t* inputs, index_t batch) {
    const index_t n = batch * L;
    auto dzh = ws.dzH.slice(0, n), dzl = ws.dzL.slice(0, n), dx = ws.dx.slice(0, n);
    if constexpr (latent) {   // heads -> token-level gradient -> decoder -> latent dz_H
      token_io::heads_backward(*this, ws, ws.dyd.slice(0, batch * Lt), batch);
      lma::decode_backward(*this, ws, dzh, batch);
    } else {
      token_io::heads_backward(*this, ws, dzh, batch);
    }
    ops::fill<Backend, T, D>(be_, dzl, T(0));
    ops::fill<Backend, T, D>(be_, dx, T(0));
    if constexpr (gates.recurrent > 0) ops::fill<Backend, T, D>(be_, ws.dxbar.slice(0, batch), T(0));
    // the recorded applications, last first
    for (int r = recorded_apps - 1; r >= 0; --r) apply_backward(ws, ws.tape[r], first_recorded + r, dzh, dzl, dx, batch);
    if constexpr (gates.recurrent > 0) {  // x̄ = mean over the L rows of each sample: dx[b, l] += dx̄[b] / L
      const T inv = T(1) / T(L);
      be_.parallel_for(n, [&](index_t r) {
        const T* s = ws.dxbar.row(r / L);
        T* d = dx.row(r);
        for (int c = 0; c < D; ++c) d[c] += s[c] * inv;
      });
    }
    if constexpr (latent) lma::encode_backward(*this, ws, batch);
    token_io::embed_backward(*this, ws, inputs, batch);
  }

 private:
  void check_batch(const workspace& ws, index_t batch, const std::int32_t* inputs, const std::int32_t* puzzle_ids) const {
    if (batch < 1 || batch > ws.max_batch())
      throw std::invalid_argument("model: batch of " + std::to_string(batch) + " rows, the workspace holds 1.." +
                                  std::to_string(ws.max_batch()));
    ops::check_token_ids(inputs, batch * S, V, "model: input token");
    if constexpr (E > 0) ops::check_token_ids(puzzle_ids, batch, static_cast<int>(num_puzzle_ids_), "model: puzzle identifier");
  }

  cview<T, head_dim> cos_table() const { return cview<T, head_dim>(rope_cos_.data(), L); }
  cview<T, head_dim> sin_table() const { return cview<T, head_dim>(rope_sin_.data(), L); }


  // One application of the schedule (n = B·L rows of z_h, z_l).
  void apply(workspace& ws, application& app, int k, view<T, D> z_h, view<T, D> z_l, index_t batch) const {
    const index_t n = z_h.rows();
    const bool uh = updates_h(k);
    const int net = net_of(k);
    const view<T, D> z = uh ? z_h : z_l, h0 = app.h0.slice(0, n), x = ws.x.slice(0, n);
    if constexpr (gates.context == 0) {
      if (!recursive) {        // transformer: z_H = f(z_H + x)
        ops::add<Backend, T, D>(be_, z_h, x, h0);
      } else if (!uh) {        // z_L = f(z_L + (z_H + x)); the reference adds z_H + x first
        ops::add<Backend, T, D>(be_, z_h, x, ws.inj.slice(0, n));
        ops::add<Backend, T, D>(be_, z_l, ws.inj.slice(0, n), h0);
      } else {                 // z_H = f(z_H + z_L), no input injection
        ops::add<Backend, T, D>(be_, z_h, z_l, h0);
      }
    } else {                   // h = z + s ⊙ u, u = z_H + x (z_L update) or z_L (z_H update)
      const view<T, D> u = app.u.slice(0, n);
      if (!uh) ops::add<Backend, T, D>(be_, z_h, x, u);
      else ops::copy<Backend, T, D>(be_, z_l, u);
      if constexpr (gates.context == 1) {
        const T s = gates::sigmoid(params_[layout[idx_ctx].offset + call_index(k)]);
        gates::scalar_inject_forward<Backend, T, D>(be_, z, u, s, h0);
      } else {
        ops::copy<Backend, T, D>(be_, z, app.z.slice(0, n));
        gates::channel_inject_forward<Backend, T, D>(be_, app.z.slice(0, n), u, tensor<D>(params_.data(), idx_ctx),
                                                     tensor<1>(params_.data(), idx_ctx + 1), app.s.slice(0, n), h0);
      }
    }
    run_network(ws, app, net, n);
    const view<T, D> cand = app.out(net).slice(0, n);
    if constexpr (gates.recurrent > 0) {
      // ctx = z_L for a z_H update (z_L is already the new one), z_H + x̄ for a z_L update
      view<T, D> ctx = z_l;
      if (!uh) {
        ctx = ws.inj.slice(0, n);
        be_.parallel_for(n, [&](index_t r) {
          const T* a = z_h.row(r);
          const T* m = ws.xbar.row(r / L);
          T* d = ctx.row(r);
          for (int c = 0; c < D; ++c) d[c] = a[c] + m[c];
        });
      }
      const view<T, 3 * D> cat = app.cat.slice(0, n);
      gates::concat3<Backend, T, D>(be_, z, cand, ctx, cat);
      const int cell = rec_index(uh ? 1 : 0);
      const T* p = params_.data();
      gates::recurrent_forward<gates.recurrent == 2, Backend, T, D>(
          be_, cat, tensor<3 * D>(p, cell), tensor<1>(p, cell + 1), tensor<3 * D>(p, gates.recurrent == 2 ? cell + 2 : cell),
          tensor<1>(p, gates.recurrent == 2 ? cell + 3 : cell + 1), app.ug.slice(0, n),
          gates.recurrent == 2 ? app.rg.slice(0, n) : view<T, D>{}, z);
    } else {
      ops::copy<Backend, T, D>(be_, cand, z);
    }
    (void)batch;
  }

  // Backward of application k: dzh, dzl hold the gradients of the states after it and are turned into the
  // gradients of the states before it; dx (and ws.dxbar) accumulate.
  void apply_backward(workspace& ws, application& app, int k, view<T, D> dzh, view<T, D> dzl, view<T, D> dx,
                      index_t batch) {
    const index_t n = dzh.rows();
    const bool uh = updates_h(k);
    const int net = net_of(k);
    const view<T, D> dz = uh ? dzh : dzl;   // gradient of the updated state
    T* g = grads_.data();
    const T* p = params_.data();
    view<T, D> dout = dz;
    if constexpr (gates.recurrent > 0) {
      const int cell = rec_index(uh ? 1 : 0);
      constexpr bool reset = gates.recurrent == 2;
      gates::recurrent_backward<reset, Backend, T, D>(
          be_, app.cat.slice(0, n), app.ug.slice(0, n), reset ? app.rg.slice(0, n) : view<T, D>{}, tensor<3 * D>(p, cell),
          tensor<3 * D>(p, reset ? cell + 2 : cell), dz, ws.gD.slice(0, n), ws.gC.slice(0, n), ws.gE.slice(0, n),
          tensor<3 * D>(g, cell), tensor<1>(g, cell + 1), tensor<3 * D>(g, reset ? cell + 2 : cell),
          tensor<1>(g, reset ? cell + 3 : cell + 1), ws.gF.slice(0, n), ws.gG.slice(0, n), ws.dcat.slice(0, n));
      dout = ws.gC.slice(0, n);
    }
    const view<T, D> d_h0 = network_backward(ws, app, net, dout, n);
    // injection: h0 = z + s ⊙ u; d_h0 becomes d z (identity part, plus the channel gate's), du = s ⊙ d_h0
    view<T, D> du = d_h0;
    if constexpr (gates.context > 0) {
      du = ws.gF.slice(0, n);
      ops::fill<Backend, T, D>(be_, du, T(0));
      if constexpr (gates.context == 1) {
        const std::size_t at = static_cast<std::size_t>(layout[idx_ctx].offset + call_index(k));
        const T s = gates::sigmoid(params_[at]);
        grads_[at] += gates::scalar_inject_backward<Backend, T, D>(be_, app.u.slice(0, n), d_h0, s, du);
      } else {
        gates::channel_inject_backward<Backend, T, D>(be_, app.z.slice(0, n), app.u.slice(0, n), app.s.slice(0, n),
                                                      tensor<D>(p, idx_ctx), d_h0, du, d_h0, tensor<D>(g, idx_ctx),
                                                      tensor<1>(g, idx_ctx + 1), ws.gG.slice(0, n));
      }
    }
    if (!recursive) {          // z_H' = f(z_H + x)
      ops::copy<Backend, T, D>(be_, d_h0, dzh);
      ops::accumulate<Backend, T, D>(be_, du, dx);
    } else if (uh) {           // z_H' = f(z_H + z_L)
      ops::copy<Backend, T, D>(be_, d_h0, dzh);
      ops::accumulate<Backend, T, D>(be_, du, dzl);
    } else {                   // z_L' = f(z_L + z_H + x)
      ops::copy<Backend, T, D>(be_, d_h0, dzl);
      ops::accumulate<Backend, T, D>(be_, du, dzh);
      ops::accumulate<Backend, T, D>(be_, du, dx);
    }
    if constexpr (gates.recurrent > 0) {   // the cell's paths to z_prev and to its context
      ops::accumulate<Backend, T, D>(be_, ws.gD.slice(0, n), dz);
      const view<T, D> dctx = ws.gE.slice(0, n);
      if (uh) {
        ops::accumulate<Backend, T, D>(be_, dctx, dzl);
      } else {
        ops::accumulate<Backend, T, D>(be_, dctx, dzh);
        be_.parallel_for(batch, [&](index_t b) {
          T* d = ws.dxbar.row(b);
          for (int l = 0; l < L; ++l) {
            const T* s = dctx.row(b * L + l);
            for (int c = 0; c < D; ++c) d[c] += s[c];
          }
        });
      }
    }
  }

  void token_mean(workspace& ws, index_t batch) const {
    const T inv = T(1) / T(L);
    be_.parallel_for(batch, [&](index_t b) {
      T* m = ws.xbar.row(b);
      for (int c = 0; c < D; ++c) m[c] = T(0);
      for (int l = 0; l < L; ++l) {
        const T* x = ws.x.row(b * L + l);
        for (int c = 0; c < D; ++c) m[c] += x[c];
      }
      for (int c = 0; c < D; ++c) m[c] *= inv;
    });
  }

  void run_network(workspace& ws, application& app, int net, index_t n) const {
    const T* p = params_.data();
    cview<T, D> in = app.h0.slice(0, n);
    for (int l = 0; l < net_layers(net); ++l) {
      auto& blk = app.blocks[static_cast<std::size_t>(l)];
      block_saved<T, shape> sv = blk.first(n);
      auto sc = ws.sc.first(n);
      block_forward<shape>(be_, block_views<const T>(p, l, net), in, sv, sc, cos_table(), sin_table());
      in = sv.h2;
    }
  }

  // Returns d h0 of the application in ws.gA or ws.gB.
  view<T, D> network_backward(workspace& ws, application& app, int net, view<T, D> dout, index_t n) {
    const T* p = params_.data();
    T* g = grads_.data();
    view<T, D> bufs[2] = {ws.gA.slice(0, n), ws.gB.slice(0, n)};
    cview<T, D> cur = dout;
    view<T, D> din{};
    for (int l = net_layers(net) - 1; l >= 0; --l) {
      din = bufs[l % 2];
      ops::fill<Backend, T, D>(be_, din, T(0));
      const block_saved<T, shape> sv = app.blocks[static_cast<std::size_t>(l)].first(n);
      cview<T, D> in = l == 0 ? app.h0.slice(0, n) : app.blocks[static_cast<std::size_t>(l - 1)].h2.slice(0, n);
      auto sc = ws.sc.first(n);
      block_backward<shape>(be_, block_views<const T>(p, l, net), block_views<T>(g, l, net), in, sv, sc, cur, din,
                            cos_table(), sin_table());
      cur = din;
    }
    return din;
  }

  Backend be_;
  buffer<T> params_, grads_;
  buffer<T> h_init_, l_init_;
  buffer<T> puzzle_table_;
  index_t num_puzzle_ids_ = 0;
  buffer<T> rope_cos_, rope_sin_;
};

}  // namespace gtrm
