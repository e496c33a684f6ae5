// Behaviours of a model are types. Each policy is an empty tag (with its compile-time data); the model
// reads them with `if constexpr`, so an unused behaviour costs nothing.
//
//   pos::rope / pos::learned / pos::none        positional encoding (docs/reference.md §1.5)
//   mixer::attention<Pos> / mixer::token_mlp<Pos> the token mixer of each block (§1.6)
//   mixer::latent_meta<Inner, lma_config>         LMA: the recursion in a latent sequence (docs/lma.md)
//   gate::none                                    no gating: the plain TRM
//   gate::context_scalar                          GTRM input gate (a): h = z + σ(g_k)·u, one scalar per call index
//   gate::context_channel                         GTRM input gate (b): h = z + σ(z W_cᵀ + b_c) ⊙ u
//   gate::attention<gate::headwise|elementwise>   Qwen G1 output gate: o ⊙ σ(G), G from extra qkv_proj columns
//   gate::recurrent<Reset>                        GRU-style update z = (1−u)⊙(r⊙z_prev) + u⊙net(…)
//   gate::all<G...>                               several gates in one model (at most one per site)
//                                                 (docs/variants.md §1, §2; one header per gate in model/gates/)
//   halt::q_head                                  TRM: halt when q_halt > 0, no continue loss
//   halt::q_head_continue                         HRM: halt when q_halt > q_continue, Q-continue target from an
//                                                 extra forward pass (the reference's path for TRM is broken; this works)
//   halt::q_compare                               transformer baseline: halt when q_halt > q_continue, no target
//   grad::last_cycle / one_step / full_bptt       which applications of the network get gradient (§1.7)
//   arch::trm / arch::hrm<HLayers> / arch::transformer   how many networks and applications (model/recursive.hpp)
#pragma once
#include <concepts>
#include <type_traits>

namespace gtrm {

namespace pos {
struct rope { static constexpr double theta = 10000.0; };
struct learned { static constexpr double factor = 0.707106781; };  // the reference's literal, not 1/sqrt(2)
struct none {};
}  // namespace pos

template <class P>
concept position_policy = std::same_as<P, pos::rope> || std::same_as<P, pos::learned> || std::same_as<P, pos::none>;

namespace mixer {
template <position_policy Pos = pos::rope>
struct attention { using position = Pos; static constexpr bool is_attention = true; };
template <position_policy Pos = pos::none>
struct token_mlp { using position = Pos; static constexpr bool is_attention = false; };
}  // namespace mixer

// Latent Meta Attention (model/lma.hpp, docs/lma.md): the recursion runs in a latent sequence of
// L' ≈ length rows of width `width`, built once per ACT step from the input embedding by head-view stacking
// (stack_heads slices), flatten, re-chunk and a chunk encoder; a decoder maps the final z_H back to tokens.
// Every field is one of the LMA author's choices; `lma_config{}` is his HRM port (HRM_LMA @118bcb5:
// LMAInitialTransform + lma_final_proj), also named lma_hrm_port. docs/lma.md lists which of the author's modules
// each setting reproduces; tests/test_golden_lma.cpp checks them against his code.
namespace mixer {
enum class lma_decoder {
  proj_to_hidden,  // Y' = z_H W_pᵀ per latent row: the HRM port's lma_final_proj (needs L' = L)
  reshape_linear,  // chunks = (z_H W_oᵀ + b_o)·√(C'/d'), viewed row-major as (L, D): BERT's LMABertAttention
  reshape_gated,   // chunks = σ(z_H W_gᵀ + b_g) ⊙ (z_H W_vᵀ + b_v), viewed row-major: ViT's inverse_transform
  inverse_linear,  // gtrm's own extra (no author's module): chunks = z_H W_oᵀ + b_o, then the true inverse of the
                   // stacking and re-chunking. Not a default.
};
struct lma_config {
  int stack_heads = 4;        // nh_s (lma_heads): channel slices stacked along the sequence
  int length = 0;             // target latent length L' (0: L); the closest divisor of L·D is taken
  int width = 0;              // latent width d' (0: hidden / 2, the port's default)
  int heads = 0;              // attention heads in latent space (0: dims.heads)
  bool relu = true;           // encoder activation on each path before the sum: ReLU (HRM/RL) or identity (BERT/ViT)
  bool residual = true;       // E_resid: X' += act(Y W_rᵀ [+ b_r]), needs L' = L (HRM port)
  bool tied = true;           // E_resid uses E_chunk's matrix (HRM port: one `proj` for both paths; needs C' = D)
  bool encoder_bias = false;  // E_chunk/E_resid biases (HRM, BERT: none; RL, ViT: nn.Linear's)
  bool decoder_bias = false;  // decoder biases (HRM's lma_final_proj: none; BERT, ViT: nn.Linear's)
  bool stack_scale = false;   // the stacked input times 1/√nh_s before E_chunk (BERT's LMABertAttention)
  bool torch_init = true;     // nn.Linear's init, weights and biases U(±1/√fan_in) (lma_final_proj: trunc-normal
                              // std 1/√fan_in as CastedLinear); false: trunc-normal weights, zero biases
  lma_decoder decoder = lma_decoder::proj_to_hidden;
};
// The author's modules as presets (docs/lma.md). The HRM port is the default.
inline constexpr lma_config lma_hrm_port{};
// RL_Tracking LMA_InitialTransform_RL stage 2 (encoder only there; a decoder must still be chosen: reshape_linear).
constexpr lma_config lma_rl(int length, int width = 0) {
  return {.length = length, .width = width, .relu = true, .residual = false, .encoder_bias = true, .decoder_bias = true,
          .decoder = lma_decoder::reshape_linear};
}
// ViT-LMA's LMABertAttention: bias-free encoder without activation on the 1/√nh_s-scaled stack, scaled decoder.
constexpr lma_config lma_bert(int length, int width = 0) {
  return {.length = length, .width = width, .relu = false, .residual = false, .encoder_bias = false, .decoder_bias = true,
          .stack_scale = true, .decoder = lma_decoder::reshape_linear};
}
// ViT-LMA's InitialLatentTransform: encoder with bias, no activation; gated decoder (inverse_transform).
constexpr lma_config lma_vit(int length, int width = 0) {
  return {.length = length, .width = width, .relu = false, .residual = false, .encoder_bias = true, .decoder_bias = true,
          .decoder = lma_decoder::reshape_gated};
}
template <class Inner, lma_config Config = lma_config{}>
struct latent_meta {
  using inner = Inner;                        // the mixer of the latent blocks
  using position = typename Inner::position;  // pos::none or pos::learned (added at token level); no RoPE
  static constexpr bool is_attention = Inner::is_attention;
  static constexpr lma_config config = Config;
};
}  // namespace mixer

template <class M>
concept mixer_policy = requires {
  typename M::position;
  { M::is_attention } -> std::convertible_to<bool>;
};

template <class M>
concept latent_mixer = mixer_policy<M> && requires {
  typename M::inner;
  { M::config } -> std::convertible_to<mixer::lma_config>;
};

// Gates act at one of three sites of an application (model/gates/site.hpp). Each gate is a tag type that names
// its site and brings its op (parameters, saved activations, forward, backward) in its own header under
// model/gates/: context_scalar.hpp, context_channel.hpp, attention_output.hpp, recurrent.hpp.
namespace gate {
namespace site {
struct inject {};    // input injection: h = z + u
struct attn_out {};  // attention output, before o_proj
struct update {};    // recurrent state update
}  // namespace site
struct none {};
// Forms of the attention output gate (model/gates/attention_output.hpp).
struct headwise {};
struct elementwise {};
// Several gates in one model, e.g. GTRM's hybrid: gate::all<gate::attention<gate::elementwise>, gate::recurrent<>>.
template <class... G>
struct all {};
namespace detail {
template <class G> struct is_all : std::false_type {};
template <class... G> struct is_all<all<G...>> : std::true_type {};
}  // namespace detail
}  // namespace gate

// none, a gate (a type naming its site), or a composition of gates.
template <class G>
concept gate_policy = std::same_as<G, gate::none> || gate::detail::is_all<G>::value || requires { typename G::site; };

namespace halt {
// continue_target: train q_continue on the target from an extra forward pass;
// compare_continue: halt when q_halt > q_continue (else when q_halt > 0).
struct q_head { static constexpr bool continue_target = false, compare_continue = false; };
struct q_head_continue { static constexpr bool continue_target = true, compare_continue = true; };
struct q_compare { static constexpr bool continue_target = false, compare_continue = true; };
}  // namespace halt

template <class H>
concept halt_policy = requires { { H::continue_target } -> std::convertible_to<bool>; };

// Whether the halt rule compares q_halt with q_continue (a policy without the field: as continue_target).
template <class H>
constexpr bool halt_compares_continue() {
  if constexpr (requires { { H::compare_continue } -> std::convertible_to<bool>; }) return H::compare_continue;
  else return H::continue_target;
}

// Applications of the shared network are numbered k = 0 .. T·(n+1)−1 in execution order; those with
// k >= first_recorded(T, n) are recorded on the tape and receive gradient. The carry entering the first
// recorded application is a constant: TRM's detach falls out of where recording starts.
namespace grad {
struct last_cycle {  // TRM: the last full cycle (n z_L updates + 1 z_H update)
  static constexpr int first_recorded(int t, int n) { return (t - 1) * (n + 1); }
};
struct one_step {    // HRM: only the last z_L update and the last z_H update
  static constexpr int first_recorded(int t, int n) { return t * (n + 1) - 2; }
};
struct full_bptt {   // every application (for gradchecks and ablations)
  static constexpr int first_recorded(int, int) { return 0; }
};
}  // namespace grad

template <class G>
concept grad_policy = requires { { G::first_recorded(1, 1) } -> std::convertible_to<int>; };

// Which networks a model has and how it applies them per ACT step (model/recursive.hpp).
namespace arch {
// TRM: one network `L_level` (cycles.layers blocks) applied T·(n+1) times.
struct trm { static constexpr int h_layers = 0; static constexpr bool recursive = true; };
// HRM: `H_level` (HLayers blocks) for z_H updates, `L_level` (cycles.layers blocks) for z_L updates,
// in TRM's schedule (T = H_cycles, n = L_cycles).
template <int HLayers = 4>
struct hrm { static constexpr int h_layers = HLayers; static constexpr bool recursive = true; };
// Transformer baseline (transformers_baseline.py): one network `H_level` of cycles.layers blocks, applied
// once per ACT step as z_H = f(z_H + x); z_L is carried but unused; depth comes from ACT.
struct transformer { static constexpr int h_layers = 0; static constexpr bool recursive = false; };
}  // namespace arch

}  // namespace gtrm
