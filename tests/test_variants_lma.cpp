// LMA (mixer::latent_meta, model/lma.hpp, docs/variants.md §3, docs/lma.md): the compile-time divisor search, the
// resequencing against its definition (torch.cat(torch.split(Y, dk, -1), dim=1) then view/chunk), gradchecks in
// double of whole latent models (the author's HRM/BERT/ViT/RL modules, gtrm's inverse decoder with L' ≠ L, the
// untied residual encoder, gates in latent space), the encoder's output, the author's init, parameter counts
// (§3.5) and names, and training through act_step/trainer. Module-level parity with the author's code:
// tests/test_golden_lma.cpp.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/model/act.hpp>
#include <gtrm/model/flops.hpp>
#include <gtrm/model/trm.hpp>
#include <gtrm/train/trainer.hpp>

#include <cmath>
#include <random>
#include <type_traits>

#include "gradcheck.hpp"
#include "model_gradcheck.hpp"

using namespace gtrm;

namespace {

// Lt = 2 + 4 = 6 token rows of Dt = 4; stacking 2 slices of dk = 2; L·D = 24
inline constexpr dims tiny{.vocab = 5, .seq = 4, .puzzle_emb_len = 2, .puzzle_emb_ndim = 6, .hidden = 4, .heads = 2, .expansion = 1};
inline constexpr cycles tiny_cycles{.h = 2, .l = 2, .layers = 2, .max_act_steps = 3};

// gtrm's own inverse decoder with biases everywhere (not the author's, an extra)
using chunked = mixer::latent_meta<mixer::attention<pos::none>,
                                   mixer::lma_config{.stack_heads = 2, .length = 3, .width = 4, .heads = 2, .residual = false,
                                                     .encoder_bias = true, .decoder_bias = true, .torch_init = false,
                                                     .decoder = mixer::lma_decoder::inverse_linear}>;
// HRM commit d81f5e4's separate residual_proj (untied), with biases, and the projection decoder
using resid = mixer::latent_meta<mixer::token_mlp<pos::none>,
                                 mixer::lma_config{.stack_heads = 2, .length = 0, .width = 6, .residual = true, .tied = false,
                                                   .encoder_bias = true, .decoder = mixer::lma_decoder::proj_to_hidden}>;
using linear_enc = mixer::latent_meta<mixer::attention<pos::learned>,
                                      mixer::lma_config{.stack_heads = 2, .length = 4, .width = 4, .heads = 2, .relu = false,
                                                        .residual = false, .decoder = mixer::lma_decoder::inverse_linear}>;
// the author's modules (mixer::lma_hrm_port is lma_config{}: tied encoder, no biases, lma_final_proj)
using hrm_port = mixer::latent_meta<mixer::attention<pos::none>, mixer::lma_config{.stack_heads = 2, .width = 4, .heads = 2}>;
using bert = mixer::latent_meta<mixer::attention<pos::none>, mixer::lma_bert(3, 4)>;
using vit = mixer::latent_meta<mixer::token_mlp<pos::learned>, mixer::lma_vit(4, 4)>;
using rl = mixer::latent_meta<mixer::attention<pos::none>, mixer::lma_rl(3, 4)>;

template <class Mixer, class Gate = gate::none, class Grad = grad::full_bptt>
using latent_trm = trm<tiny, tiny_cycles, Mixer, Gate, halt::q_head, cpu, Grad, double>;

template <class M>
void check_gradient(const char* label, double tol = 1e-6) {
  testing::model_gradcheck<M> g;
  const auto r = g.params();
  INFO("params: rel = " << r.rel << ", |g| = " << r.norm);
  CHECK(r.rel < tol);
  for (std::size_t i = M::idx_lma; i < M::layout.count; ++i) {  // the LMA tensors on their own
    const auto& s = M::layout[i];
    const auto rg = g.params(s.offset, s.size());
    INFO(s.full_name() << ": rel = " << rg.rel << ", |g| = " << rg.norm);
    CHECK(rg.rel < tol);
  }
  const auto rp = g.puzzle_table();
  INFO("puzzle table: rel = " << rp.rel);
  CHECK(rp.rel < tol);
  std::printf("gradcheck LMA %-44s L' %d  d' %d  rel %.2e  puzzle rel %.2e\n", label, M::L, M::D, r.rel, rp.rel);
}

}  // namespace

TEST_CASE("lma: closest divisor search (target, target-1, target+1, ...)") {
  static_assert(lma::closest_divisor(97 * 512, 97) == 97);
  static_assert(lma::closest_divisor(97 * 512, 50) == 64);    // 64 is 14 away, 32 is 18 away
  static_assert(lma::closest_divisor(97 * 512, 48) == 32 || lma::closest_divisor(97 * 512, 48) == 64);
  static_assert(lma::closest_divisor(24, 5) == 4);            // tie 4 / 6: the smaller one is tried first
  static_assert(lma::closest_divisor(24, 7) == 6);
  static_assert(lma::closest_divisor(24, 100) == 24);
  CHECK(latent_trm<chunked>::L == 3);
  CHECK(latent_trm<chunked>::C == 8);
  CHECK(latent_trm<resid>::L == 6);
  CHECK(latent_trm<resid>::C == 4);
  CHECK(latent_trm<linear_enc>::L == 4);
  CHECK(latent_trm<linear_enc>::C == 6);
  CHECK(latent_trm<chunked>::Lt == 6);
  CHECK(latent_trm<chunked>::Dt == 4);
}

TEST_CASE("lma: the resequencing is head-view stacking, flatten, re-chunk; scatter inverts gather") {
  constexpr int Lt = 6, Dt = 4, nh = 2, dk = 2, B = 2;
  std::vector<double> y(B * Lt * Dt);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<double>(i);
  for (int Lp : {3, 4, 8}) {
    // reference: S[b, h·Lt + l, :] = Y[b, l, h·dk : (h+1)·dk]; flatten; chunk rows of C
    std::vector<double> flat;
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < nh; ++h)
        for (int l = 0; l < Lt; ++l)
          for (int j = 0; j < dk; ++j) flat.push_back(y[static_cast<std::size_t>((b * Lt + l) * Dt + h * dk + j)]);
    auto check = [&](auto lp) {
      constexpr int LP = decltype(lp)::value, C = Lt * Dt / LP;
      std::vector<double> z0(B * LP * C), back(y.size(), -1);
      lma::gather<Lt, Dt, nh, LP>(cpu{}, cview<double, Dt>(y.data(), B * Lt), view<double, C>(z0.data(), B * LP));
      CHECK(z0 == flat);
      lma::scatter<Lt, Dt, nh, LP>(cpu{}, cview<double, C>(z0.data(), B * LP), view<double, Dt>(back.data(), B * Lt));
      CHECK(back == y);
    };
    if (Lp == 3) check(std::integral_constant<int, 3>{});
    if (Lp == 4) check(std::integral_constant<int, 4>{});
    if (Lp == 8) check(std::integral_constant<int, 8>{});
  }
}

TEST_CASE("gradcheck: LMA, chunk encoder + inverse decoder, L' = 3 < L = 6, attention") { check_gradient<latent_trm<chunked>>("chunk enc, inverse dec, attention"); }
TEST_CASE("gradcheck: LMA, the HRM port (tied encoder, lma_final_proj), attention") { check_gradient<latent_trm<hrm_port>>("HRM port, tied"); }
TEST_CASE("gradcheck: LMA, BERT (1/sqrt(nh_s), reshape_linear), L' = 3") { check_gradient<latent_trm<bert>>("BERT, reshape_linear"); }
TEST_CASE("gradcheck: LMA, ViT (reshape_gated), L' = 4, token MLP") { check_gradient<latent_trm<vit>>("ViT, reshape_gated, token MLP"); }
TEST_CASE("gradcheck: LMA, RL encoder (ReLU, biases) + reshape_linear, L' = 3") { check_gradient<latent_trm<rl>>("RL, reshape_linear"); }
TEST_CASE("gradcheck: LMA, residual encoder + projection decoder, L' = L, token MLP") { check_gradient<latent_trm<resid>>("E_resid + proj decoder, token MLP"); }
TEST_CASE("gradcheck: LMA, identity activation, learned positions, L' = 4") { check_gradient<latent_trm<linear_enc>>("linear encoder, learned positions"); }
TEST_CASE("gradcheck: LMA with gates in latent space (context channel + headwise attention + recurrent)") {
  check_gradient<latent_trm<chunked, gate::all<gate::context_channel, gate::attention<gate::headwise>, gate::recurrent<true>>>>(
      "+ channel, headwise, recurrent/reset gates");
}

TEST_CASE("lma: the latent input is ReLU(E_chunk(chunks of x)) and the states live at (L', d')") {
  using M = latent_trm<chunked, gate::none, grad::last_cycle>;
  M m(3);
  m.init(2);
  constexpr index_t B = 2;
  typename M::workspace ws(B);
  std::vector<std::int32_t> inputs{1, 2, 3, 4, 0, 4, 4, 2}, pids{2, 0};
  act_carry<M> c(B);
  CHECK(c.z_h.size() == B * 3 * 4);
  CHECK(m.h_init().size() == 4);
  std::vector<double> zh(B * M::L * M::D, 0.1), zl(zh.size(), -0.1);
  m.forward(no_grad, ws, view<double, M::D>(zh.data(), B * M::L), view<double, M::D>(zl.data(), B * M::L), inputs.data(), pids.data(), B);
  std::vector<double> z0(B * M::L * M::C);
  lma::gather<M::Lt, M::Dt, 2, M::L>(cpu{}, cview<double, M::Dt>(ws.xt.data(), B * M::Lt), view<double, M::C>(z0.data(), B * M::L));
  const auto& w = M::layout[static_cast<std::size_t>(M::layout.find("model.inner.lma_transform.proj.weight"))];
  const auto& b = M::layout[static_cast<std::size_t>(M::layout.find("model.inner.lma_transform.proj.bias"))];
  double worst = 0;
  for (index_t r = 0; r < B * M::L; ++r)
    for (int o = 0; o < M::D; ++o) {
      double a = m.params()[b.offset + o];
      for (int k = 0; k < M::C; ++k) a += z0[static_cast<std::size_t>(r * M::C + k)] * m.params()[w.offset + o * M::C + k];
      worst = std::max(worst, std::abs(std::max(a, 0.0) - ws.x(r, o)));
    }
  CHECK(worst < 1e-14);
}

TEST_CASE("lma: parameter counts (docs/variants.md §3.5) and names") {
  // TRM Sudoku with L' = L = 97 and d' = 256 (§3.5's example): block parameters 6.8 M -> 1.7 M
  static constexpr dims sudoku{.vocab = 11, .seq = 81, .hidden = 512, .heads = 8};
  static constexpr cycles c{.h = 3, .l = 6, .layers = 2};
  using lat = mixer::latent_meta<mixer::attention<pos::none>, mixer::lma_config{.stack_heads = 4, .length = 97, .width = 256}>;
  using M = trm<sudoku, c, lat, gate::none, halt::q_head, cpu>;
  constexpr index_t H = 512, L = 97, dp = 256, Cp = L * H / L, Ip = 768;  // I(256) = find_multiple(683, 256)
  constexpr index_t heads_io = 2 * 11 * H + 2 * H + 2;
  constexpr index_t block = 4 * dp * dp + 3 * dp * Ip;
  static_assert(M::L == 97 && M::D == 256 && M::C == 512 && M::I == 768 && M::head_dim == 32);
  CHECK(2 * block == 1703936);                                  // "6.8 M -> 1.7 M"
  // the HRM port (lma_config{}): one tied proj (C'·d' = H·d', no bias) and lma_final_proj (d'·H)
  CHECK(M::param_count == heads_io + 2 * block + Cp * dp + dp * H);
  // untied E_resid with biases (HRM commit d81f5e4's residual_proj): + H·d' + 2·d'
  using R = trm<sudoku, c,
                mixer::latent_meta<mixer::attention<pos::none>,
                                   mixer::lma_config{.stack_heads = 4, .width = 256, .tied = false, .encoder_bias = true}>,
                gate::none, halt::q_head, cpu>;
  CHECK(R::param_count == heads_io + 2 * block + (Cp * dp + dp) + (H * dp + dp) + dp * H);
  // a shorter latent sequence: L' = 64 (closest divisor of 97·512 to 50), C' = 776; BERT: bias-free encoder,
  // from_latent with bias; ViT: encoder bias, from_latent and from_latent_gate with biases
  using S = trm<sudoku, c, mixer::latent_meta<mixer::attention<pos::none>, mixer::lma_bert(50, 256)>, gate::none, halt::q_head, cpu>;
  using G = trm<sudoku, c, mixer::latent_meta<mixer::attention<pos::none>, mixer::lma_vit(50, 256)>, gate::none, halt::q_head, cpu>;
  static_assert(S::L == 64 && S::C == 776);
  CHECK(S::param_count == heads_io + 2 * block + 776 * dp + (dp * 776 + 776));
  CHECK(G::param_count == heads_io + 2 * block + (776 * dp + dp) + 2 * (dp * 776 + 776));
  CHECK(M::layout.find("model.inner.lma_transform.proj.weight") >= 0);
  CHECK(M::layout.find("model.inner.lma_transform.proj.bias") < 0);
  CHECK(M::layout.find("model.inner.lma_transform.residual_proj.weight") < 0);  // tied: one matrix
  CHECK(M::layout.find("model.inner.lma_final_proj.weight") >= 0);
  CHECK(R::layout.find("model.inner.lma_transform.residual_proj.weight") >= 0);
  CHECK(S::layout.find("model.inner.lma_transform.from_latent.bias") >= 0);
  CHECK(G::layout.find("model.inner.lma_transform.from_latent_gate.weight") >= 0);
  CHECK(M::layout.find("model.inner.L_level.layers.1.self_attn.qkv_proj.weight") >= 0);
  CHECK(M::layout[static_cast<std::size_t>(M::layer_index(0, 0))].rows == 3 * 256);
  // FLOPs once per ACT step (model/flops.hpp): the tied proj runs on both paths (L'·C' and L·H inputs), the
  // decoders on L' rows, the gated one twice
  CHECK(model_flops<M>().lma == 2.0 * L * Cp * dp + 2.0 * L * H * dp + 2.0 * L * dp * H);
  CHECK(model_flops<R>().lma == 2.0 * L * Cp * dp + 2.0 * L * H * dp + 2.0 * L * dp * H);
  CHECK(model_flops<S>().lma == 2.0 * 64 * 776 * dp + 2.0 * 64 * dp * 776);
  CHECK(model_flops<G>().lma == 2.0 * 64 * 776 * dp + 2 * 2.0 * 64 * dp * 776);
}

TEST_CASE("lma: a latent model trains through the unchanged trainer") {
  static constexpr dims d{.vocab = 6, .seq = 6, .puzzle_emb_len = 2, .puzzle_emb_ndim = 16, .hidden = 16, .heads = 2, .expansion = 2};
  using M = trm<d, cycles{.h = 2, .l = 1, .layers = 1, .max_act_steps = 2},
                mixer::latent_meta<mixer::attention<pos::none>,
                                   mixer::lma_config{.stack_heads = 2, .length = 4, .width = 16, .residual = false,
                                                     .decoder = mixer::lma_decoder::reshape_linear}>,
                gate::none, halt::q_head, cpu>;
  static_assert(M::L == 4 && M::C == 32);
  M m(1);
  m.init(0);
  train::train_config cfg{.global_batch_size = 16, .total_steps = 400, .lr = 3e-3, .lr_warmup_steps = 20, .weight_decay = 0.01,
                          .puzzle_emb_lr = 1e-2, .halt_exploration_prob = 0.1, .ema = false, .seed = 3};
  train::trainer<M> tr(m, cfg);
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int> tok(1, 5);
  std::vector<std::int32_t> in(16 * 6), lab(in.size()), ids(16, 0);
  double first = 0, last = 0;
  for (int k = 0; k < 400; ++k) {
    for (int b = 0; b < 16; ++b)
      for (int s = 0; s < 6; ++s) { in[b * 6 + s] = tok(rng); }
    for (int b = 0; b < 16; ++b)
      for (int s = 0; s < 6; ++s) lab[b * 6 + s] = in[b * 6 + 5 - s];
    const auto r = tr.train_batch({in.data(), lab.data(), ids.data(), 16});
    REQUIRE(std::isfinite(r.loss));
    if (k < 20) first += r.metrics.lm_loss;
    if (k >= 380) last += r.metrics.lm_loss;
  }
  std::printf("LMA reversal task (L' = 4 < L = 8): lm_loss over the first/last 20 steps %.2f -> %.2f\n", first, last);
  CHECK(last < 0.7 * first);
}

TEST_CASE("lma: the author's init (nn.Linear's U(±1/sqrt(fan_in)), lma_final_proj trunc-normal as CastedLinear)") {
  static constexpr dims d{.vocab = 6, .seq = 62, .puzzle_emb_len = 2, .puzzle_emb_ndim = 64, .hidden = 64, .heads = 2};
  using H = trm<d, cycles{.h = 1, .l = 1, .layers = 1}, mixer::latent_meta<mixer::attention<pos::none>, mixer::lma_hrm_port>,
                gate::none, halt::q_head, cpu>;
  using V = trm<d, cycles{.h = 1, .l = 1, .layers = 1}, mixer::latent_meta<mixer::attention<pos::none>, mixer::lma_vit(8)>,
                gate::none, halt::q_head, cpu>;
  auto stats = [](const auto& m, const char* name) {
    using M = std::decay_t<decltype(m)>;
    const auto& s = M::layout[static_cast<std::size_t>(M::layout.find(name))];
    double mx = 0, sq = 0;
    for (index_t i = 0; i < s.size(); ++i) {
      const double v = m.params()[s.offset + i];
      mx = std::max(mx, std::abs(v));
      sq += v * v;
    }
    return std::pair{mx, std::sqrt(sq / static_cast<double>(s.size()))};
  };
  H h(1);
  h.init(5);
  V v(1);
  v.init(5);
  const double b64 = 1 / std::sqrt(64.0), b32 = 1 / std::sqrt(32.0);
  const auto [pmax, pstd] = stats(h, "model.inner.lma_transform.proj.weight");  // fan_in = C' = 64
  CHECK(pmax <= b64);
  CHECK(pstd == doctest::Approx(b64 / std::sqrt(3.0)).epsilon(0.05));            // uniform: bound/√3
  // trunc-normal with actual std 1/√d' (init.hpp: cut at 2·comp_std, comp_std = std / 0.8796)
  const auto [fmax, fstd] = stats(h, "model.inner.lma_final_proj.weight");
  CHECK(fmax <= 2 * trunc_normal_comp_std(b32) + 1e-6);
  CHECK(fmax > 1.5 * b32);
  CHECK(fstd == doctest::Approx(b32).epsilon(0.15));
  const auto [bmax, bstd] = stats(v, "model.inner.lma_transform.from_latent.bias");  // fan_in = d' = 32
  CHECK(bmax <= b32);
  CHECK(bstd > 0.3 * b32);
  const auto [gmax, gstd] = stats(v, "model.inner.lma_transform.from_latent_gate.weight");
  CHECK(gmax <= b32);
  CHECK(gstd == doctest::Approx(b32 / std::sqrt(3.0)).epsilon(0.05));
}
