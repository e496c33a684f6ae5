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
// Gate changes an application at three sites (docs/variants.md §1; model/gates/site.hpp; one header per gate under
// model/gates/), TRM arch only: the input injection h = z + u, the attention output inside every block, and
// the state update z ← z̃. The model asks each site's op (model/schedule.hpp); an empty site's op is the plain
// TRM's line above, operation for operation (bit-identical results).
// Mixer mixer::latent_meta<Inner, cfg> (LMA, docs/lma.md; lma.hpp) runs all of the above in a latent
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
#include <utility>
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
#include "schedule.hpp"
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
  static_assert(!latent || !attention || (num_heads >= 1 && D % (num_heads > 0 ? num_heads : 1) == 0),
                "lma_config.width must be divisible by the latent attention heads (lma_config.heads, or dims.heads)");
  static_assert(!latent || !lma_cfg.residual || L == Lt,
                "lma_config.residual (E_resid) needs the latent length equal to L = puzzle_emb_len + seq: set length to 0");
  static_assert(!latent || lma_cfg.decoder != mixer::lma_decoder::proj_to_hidden || L == Lt,
                "the proj_to_hidden decoder maps latent rows to tokens one to one: it needs length 0 (= L)");
  static constexpr int I = swiglu_intermediate(D, Dims.expansion);
  static constexpr int It = attention ? 1 : swiglu_intermediate(L, Dims.expansion);
  static constexpr bool rope = attention && std::is_same_v<position, pos::rope>;
  static constexpr bool learned_pos = std::is_same_v<position, pos::learned>;

  // ---- gates: one op per site (model/gates/site.hpp) ----
  using gate_context = gate::context<T, Backend, L, D, num_heads, Cycles.l + 1>;
  using inject_gate = gate::site_op<gate::site::inject, Gate, gate_context>;
  using attn_gate = gate::site_op<gate::site::attn_out, Gate, gate_context>;
  using update_gate = gate::site_op<gate::site::update, Gate, gate_context>;
  static constexpr bool gated = inject_gate::active || attn_gate::active || update_gate::active;
  static_assert(!gated || std::is_same_v<Arch, arch::trm>, "the GTRM gates are defined for the TRM architecture only");
  static_assert(!attn_gate::active || Mixer::is_attention, "gate::attention needs the attention mixer (mixer::attention)");
  static constexpr int attn_gate_cols = attn_gate::logits;   // extra qkv_proj rows [Q | G | K | V]

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

  using shape = block_shape<L, D, num_heads, I, It, attention, rope, attn_gate>;
  // FLOPs of the gates per application of the schedule, per sample (attention gates: every block of L_level)
  static constexpr double gate_flops_per_call() {
    return inject_gate::forward_flops + layers * attn_gate::forward_flops + update_gate::forward_flops;
  }

  // ---- parameter layout: the reference state_dict names (ACTLossHead's `model.` prefix included) ----
  static constexpr int idx_embed = 0, idx_lm = 1, idx_qw = 2, idx_qb = 3, idx_pos = 4;
  static constexpr int idx_layer0 = learned_pos ? 5 : 4, per_layer = 4;
  static constexpr int total_layers = Arch::h_layers + Cycles.layers;
  static constexpr int layer_index(int net, int layer) {
    return idx_layer0 + per_layer * ((nets == 2 && net == 1 ? Arch::h_layers : 0) + layer);
  }
  static constexpr int idx_gate0 = idx_layer0 + per_layer * total_layers;
  static constexpr int idx_inject = idx_gate0;                            // the injection gate's tensors
  static constexpr int idx_ctx = idx_inject;
  static constexpr int idx_update = idx_inject + inject_gate::tensors;    // the update gate's tensors
  // LMA (docs/lma.md): E_chunk W [, b] [, E_resid W [, b] unless tied], then the decoder W [, b] [, gate W [, b]]
  static constexpr int lma_encoder_tensors =
      !latent ? 0 : (1 + lma_cfg.encoder_bias) * (lma_cfg.residual && !lma_cfg.tied ? 2 : 1);
  static constexpr int lma_decoder_tensors =
      !latent ? 0 : (1 + lma_cfg.decoder_bias) * (lma_cfg.decoder == mixer::lma_decoder::reshape_gated ? 2 : 1);
  static constexpr int idx_lma = idx_update + update_gate::tensors;
  static constexpr int idx_lma_dec = idx_lma + lma_encoder_tensors;
  static constexpr auto make_layout() {
    param_layout<5 + per_layer * total_layers + inject_gate::tensors + update_gate::tensors + 8> l;
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
    inject_gate::add_params(l);
    update_gate::add_params(l);
    if (latent) {  // the HRM port's state_dict names (ACTLossHead's model.inner. prefix), docs/lma.md
      const auto linear = [&](const char* w, const char* b, int rows, int cols, bool bias) {
        l.add(w, rows, cols);
        if (bias) l.add_vector(b, rows);
      };
      linear("model.inner.lma_transform.proj.weight", "model.inner.lma_transform.proj.bias", D, C, lma_cfg.encoder_bias);
      if (lma_cfg.residual && !lma_cfg.tied)  // HRM commit d81f5e4's separate residual_proj
        linear("model.inner.lma_transform.residual_proj.weight", "model.inner.lma_transform.residual_proj.bias", D, Dt,
               lma_cfg.encoder_bias);
      switch (lma_cfg.decoder) {
        case mixer::lma_decoder::proj_to_hidden:
          linear("model.inner.lma_final_proj.weight", "model.inner.lma_final_proj.bias", Dt, D, lma_cfg.decoder_bias);
          break;
        case mixer::lma_decoder::reshape_linear:
          linear("model.inner.lma_transform.from_latent.weight", "model.inner.lma_transform.from_latent.bias", C, D,
                 lma_cfg.decoder_bias);
          break;
        case mixer::lma_decoder::reshape_gated:
          linear("model.inner.lma_transform.from_latent.weight", "model.inner.lma_transform.from_latent.bias", C, D,
                 lma_cfg.decoder_bias);
          linear("model.inner.lma_transform.from_latent_gate.weight", "model.inner.lma_transform.from_latent_gate.bias", C,
                 D, lma_cfg.decoder_bias);
          break;
        case mixer::lma_decoder::inverse_linear:
          linear("model.inner.lma.inverse_decoder.weight", "model.inner.lma.inverse_decoder.bias", C, D, lma_cfg.decoder_bias);
          break;
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
      : be_(std::move(be)), params_(layout.total), grads_(layout.total), h_init_(D), l_init_(D),
        puzzle_table_(E > 0 ? num_puzzle_ids * E : 0), num_puzzle_ids_(E > 0 ? num_puzzle_ids : 0),
        rope_cos_(L * head_dim), rope_sin_(L * head_dim) {
    if (E > 0 && num_puzzle_ids < 1) throw std::invalid_argument("model: the puzzle table needs at least one row");
    if constexpr (rope) {  // computed on the host, then uploaded (a no-op copy's worth on cpu)
      buffer<T> cos_host(L * head_dim), sin_host(L * head_dim);
      ops::rope_tables<T, head_dim>(view<T, head_dim>(cos_host.data(), L), view<T, head_dim>(sin_host.data(), L),
                                    pos::rope::theta);
      from_host(be_, rope_cos_, cos_host);
      from_host(be_, rope_sin_, sin_host);
    }
  }

  // The reference initialisation (§1.3), seeded: trunc-normal weights with std 1/sqrt(fan_in), q_head
  // weight 0 and bias −5, puzzle table 0, H_init/L_init trunc-normal std 1. Each gate initialises its own
  // tensors as its source does (model/gates/), in layout order, from the same generator; attention-gate rows of
  // qkv_proj as the rest of qkv_proj. LMA with lma_config::torch_init (the author's): nn.Linear's
  // U(±1/√fan_in) for weights and biases, lma_final_proj trunc-normal 1/√fan_in (CastedLinear); without it
  // trunc-normal weights and zero biases.
  // Computed on the host and uploaded, so every backend starts from the same numbers.
  void init(std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    buffer<T> params(layout.total), h_init(D), l_init(D);   // zero
    for (std::size_t i = 0; i < layout.count; ++i) {
      const auto& s = layout[i];
      std::span<T> p(params.data() + s.offset, static_cast<std::size_t>(s.size()));
      const int idx = static_cast<int>(i);
      if (idx == idx_qw) continue;                                                   // zeros
      if (idx == idx_qb) { std::fill(p.begin(), p.end(), T(-5)); continue; }
      if (idx == idx_inject) inject_gate::init(gate_tensors<inject_gate>(params.data(), idx_inject), rng);
      if (idx == idx_update) update_gate::init(gate_tensors<update_gate>(params.data(), idx_update), rng);
      if (idx >= idx_gate0 && idx < idx_lma) continue;                               // the gates' own
      if (idx >= idx_lma) {                                                          // LMA
        const auto& w = s.ndim == 1 ? layout[i - 1] : s;                             // a bias follows its weight
        const double bound = 1.0 / std::sqrt(static_cast<double>(w.cols));          // fan_in = cols
        const bool casted = lma_cfg.decoder == mixer::lma_decoder::proj_to_hidden && idx >= idx_lma_dec;
        if (lma_cfg.torch_init && !casted) {
          std::uniform_real_distribution<double> u(-bound, bound);
          for (auto& v : p) v = static_cast<T>(u(rng));
        } else if (s.ndim == 2) {
          trunc_normal_fill(p, bound, rng);
        }
        continue;
      }
      trunc_normal_fill(p, 1.0 / std::sqrt(static_cast<double>(s.cols)), rng);      // fan_in = cols
    }
    trunc_normal_fill(h_init.span(), 1.0, rng);
    trunc_normal_fill(l_init.span(), 1.0, rng);
    from_host(be_, params_, params);
    from_host(be_, h_init_, h_init);
    from_host(be_, l_init_, l_init);
    zero(be_, puzzle_table_);
  }

  // ---- storage ----
  const Backend& backend() const { return be_; }
  // Backend storage (device memory on cuda): the host reads and writes it through to_host/from_host.
  using storage = buffer_t<Backend, T>;
  storage& params() { return params_; }
  const storage& params() const { return params_; }
  storage& grads() { return grads_; }
  const storage& grads() const { return grads_; }
  storage& h_init() { return h_init_; }
  const storage& h_init() const { return h_init_; }
  storage& l_init() { return l_init_; }
  const storage& l_init() const { return l_init_; }
  storage& puzzle_table() { return puzzle_table_; }
  const storage& puzzle_table() const { return puzzle_table_; }
  index_t num_puzzle_ids() const { return num_puzzle_ids_; }
  void zero_grads() { zero(be_, grads_); }

  // A tensor of the flat buffer (params or grads) by layout index.
  template <int Cols, class U>
  static view<U, Cols> tensor(U* base, int idx) {
    return view<U, Cols>(base + layout[static_cast<std::size_t>(idx)].offset, layout[static_cast<std::size_t>(idx)].size() / Cols);
  }

  // The tensors of the gate op G whose first tensor has layout index `first`, in the flat buffer `base`.
  template <class G, class U>
  static gate::tensors<U, G::tensors> gate_tensors(U* base, int first) {
    gate::tensors<U, G::tensors> t;
    for (int i = 0; i < G::tensors; ++i) t.at[i] = base + layout[static_cast<std::size_t>(first + i)].offset;
    return t;
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
    typename inject_gate::saved inj;                 // what the sites' gates keep for backward
    typename update_gate::saved upd;
    view<T, D> out(int net) const { return blocks[static_cast<std::size_t>(net_layers(net) - 1)].h2; }
  };

  // with_tape = false plans an inference workspace: no tape and no backward buffers (forward(no_grad) only).
  class workspace {
   public:
    explicit workspace(index_t max_batch, bool with_tape = true) : max_batch_(max_batch), with_tape_(with_tape) {
      if (max_batch < 1) throw std::invalid_argument("model workspace: max_batch must be at least 1");
      arena_t<Backend> measure;   // a measuring arena of the backend's alignment
      plan(measure, max_batch);
      mem_ = arena_t<Backend>(measure.used());
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
    view<T, D> dzH, dzL, dx;              // (N, D)
    std::array<view<T, D>, 2> dnet;       // (N, D) the network's backward, alternating per block
    view<T, Dt> dzt;                      // (B·S, Dt)
    // LMA (latent models only)
    view<T, C> z0, chunks;                // (B·L, C) encoder input chunks; decoder output chunks / their gradient
    view<T, D> enc_a, enc_b, zfin, genc;  // (B·L, D) E_chunk / E_resid outputs, final z_H, backward scratch
    view<T, C> dec_g, dec_v;              // (B·L, C) the gated decoder's gate and value (reshape_gated only)
    view<T, Dt> ydec, dyd;                // (B·Lt, Dt) decoded z_H for the heads, its gradient
    typename inject_gate::work inj_work;  // the gates' scratch and per-step values
    typename update_gate::work upd_work;

   private:
    void plan(arena_t<Backend>& a, index_t b) {
      const index_t n = b * L;
      x = a.template take<T, D>(n);
      inj = a.template take<T, D>(n);
      zt = a.template take<T, Dt>(b * S);
      qin = a.template take<T, Dt>(b);
      dqin = a.template take<T, Dt>(b);
      if constexpr (latent) {
        xt = a.template take<T, Dt>(b * Lt);
        z0 = a.template take<T, C>(n);
        chunks = a.template take<T, C>(n);
        enc_a = a.template take<T, D>(n);
        if constexpr (lma_cfg.residual) enc_b = a.template take<T, D>(n);
        zfin = a.template take<T, D>(n);
        ydec = a.template take<T, Dt>(b * Lt);
        if constexpr (lma_cfg.decoder == mixer::lma_decoder::reshape_gated) {
          dec_g = a.template take<T, C>(n);
          dec_v = a.template take<T, C>(n);
        }
      } else {
        xt = x;
      }
      logits = a.template take<T, V>(b * S);
      dlogits = a.template take<T, V>(b * S);
      q = a.template take<T, 2>(b);
      dq = a.template take<T, 2>(b);
      local = a.template take<T, E_cols>(b);
      dlocal = a.template take<T, E_cols>(b);
      inj_work.take(a, b, with_tape_);
      upd_work.take(a, b, with_tape_);
      take_app(a, scratch_app, n);
      sc.take(a, n);
      if (!with_tape_) return;
      for (auto& app : tape) take_app(a, app, n);
      dzH = a.template take<T, D>(n);
      dzL = a.template take<T, D>(n);
      dx = a.template take<T, D>(n);
      dnet[0] = a.template take<T, D>(n);
      dnet[1] = a.template take<T, D>(n);
      dzt = a.template take<T, Dt>(b * S);
      if constexpr (latent) {
        dxt = a.template take<T, Dt>(b * Lt);
        dyd = a.template take<T, Dt>(b * Lt);
        genc = a.template take<T, D>(n);
      } else {
        dxt = dx;
      }
    }
    static void take_app(arena_t<Backend>& a, application& app, index_t n) {
      app.h0 = a.template take<T, D>(n);
      for (auto& blk : app.blocks) blk.take(a, n);
      app.inj.take(a, n);
      app.upd.take(a, n);
    }
    index_t max_batch_;
    bool with_tape_;
    arena_t<Backend> mem_;
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
    update_gate::begin_forward(be_, ws.upd_work, ws.x.slice(0, n), batch);
    for (int k = 0; k < apps_per_step; ++k) {
      application& app = (Mode::records && k >= first_recorded) ? ws.tape[k - first_recorded] : ws.scratch_app;
      schedule::apply(*this, ws, app, k, z_h.slice(0, n), z_l.slice(0, n));
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
    update_gate::begin_backward(be_, ws.upd_work, batch);
    // the recorded applications, last first
    for (int r = recorded_apps - 1; r >= 0; --r)
      schedule::apply_backward(*this, ws, ws.tape[r], first_recorded + r, dzh, dzl, dx, batch);
    update_gate::end_backward(be_, ws.upd_work, dx, n);
    if constexpr (latent) lma::encode_backward(*this, ws, batch);
    token_io::embed_backward(*this, ws, inputs, batch);
  }

  cview<T, head_dim> cos_table() const { return cview<T, head_dim>(rope_cos_.data(), L); }
  cview<T, head_dim> sin_table() const { return cview<T, head_dim>(rope_sin_.data(), L); }

 private:
  void check_batch(const workspace& ws, index_t batch, const std::int32_t* inputs, const std::int32_t* puzzle_ids) const {
    if (batch < 1 || batch > ws.max_batch())
      throw std::invalid_argument("model: batch of " + std::to_string(batch) + " rows, the workspace holds 1.." +
                                  std::to_string(ws.max_batch()));
    // Device ids cannot be read here: a device backend's callers check the host copy before the upload
    // (check_host_ids, act_step and batch_solver).
    if constexpr (!device_memory_backend<Backend>) check_host_ids(inputs, puzzle_ids, batch);
  }

 public:
  // The token and puzzle ids of `batch` rows, in host memory, against the vocabulary and the puzzle table (either
  // pointer may be null: not checked).
  void check_host_ids(const std::int32_t* inputs, const std::int32_t* puzzle_ids, index_t batch) const {
    if (inputs) ops::check_token_ids(inputs, batch * S, V, "model: input token");
    if constexpr (E > 0)
      if (puzzle_ids) ops::check_token_ids(puzzle_ids, batch, static_cast<int>(num_puzzle_ids_), "model: puzzle identifier");
  }

 private:


  Backend be_;
  storage params_, grads_;
  storage h_init_, l_init_;
  storage puzzle_table_;
  index_t num_puzzle_ids_ = 0;
  storage rope_cos_, rope_sin_;
};

}  // namespace gtrm
