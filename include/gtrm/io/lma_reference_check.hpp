// Module-level check of gtrm's LMA encoder and decoder (model/lma.hpp) against a golden file made by running the
// LMA author's own modules (tests/data/golden_lma, PROVENANCE.md there). A file holds, for the encoder (enc/) and
// the decoder (dec/, and decsat/ for ViT's gate saturated) separately: the input, the weights under the author's
// names, the output, the loss sum(out * R) for a fixed random R, and the gradients of that loss with respect to
// the input and every weight. The module runs in double from the file's float32 values; the report has one row
// per stored quantity (norm-relative error, tensors against tol.tensor, gradients against tol.gradient).
//
// Which module a file holds is compile-time (sizes and mixer::lma_config): lma_golden_module names one, and
// check_lma_reference runs it. The author's tensor names map onto the module's weights through lma_golden_names.
#pragma once
#include "../cpu.hpp"
#include "../model/lma.hpp"
#include "reference_check.hpp"
#include "safetensors.hpp"

#include <numeric>
#include <string>
#include <vector>

namespace gtrm::io {

// The author's names of one module's tensors ("" where the module has none).
struct lma_golden_names {
  const char* enc_weight = "";  // E_chunk (and, tied, E_resid): proj / embed_layer_2 / to_latent
  const char* enc_bias = "";
  const char* dec_input = "";   // "dec/z" or "dec/z_H"; "" when the file has no decoder run
  const char* dec_weight = "";  // lma_final_proj / from_latent
  const char* dec_bias = "";
  const char* gate_weight = ""; // from_latent_gate (ViT)
  const char* gate_bias = "";
};

// A golden module: its sizes (Lt tokens of Dt, latent Lp rows of Dp) and its configuration.
template <int Lt_, int Dt_, int Lp_, int Dp_, mixer::lma_config Cfg>
struct lma_golden_module {
  using enc = lma::encoder<Lt_, Dt_, Lp_, Dp_, Cfg>;
  using dec = lma::decoder<Lt_, Dt_, Lp_, Dp_, Cfg>;
  static constexpr int Lt = Lt_, Dt = Dt_, Lp = Lp_, Dp = Dp_, C = enc::C;
  static constexpr mixer::lma_config config = Cfg;
};

namespace detail {

inline void lma_compare(reference_report& rep, const safetensors_reader& f, const std::string& name, const double* got,
                        double tol) {
  if (!f.contains(name)) return;
  rep.rows.push_back(compare_values(name, got, f.read<double>(name), tol));
}

inline std::vector<double> lma_read_or_empty(const safetensors_reader& f, const char* name) {
  return *name && f.contains(name) ? f.read<double>(name) : std::vector<double>{};
}

inline double lma_dot(const std::vector<double>& a, const std::vector<double>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}

// One decoder run under `prefix` (dec/ or decsat/), with the gate's weights from gate_prefix.
template <class Module>
void lma_check_decoder(reference_report& rep, const safetensors_reader& f, const lma_golden_names& nm, const std::string& prefix,
                       const std::string& gate_prefix, const reference_tolerances& tol) {
  using Dec = typename Module::dec;
  constexpr int Lt = Module::Lt, Dt = Module::Dt, Lp = Module::Lp, Dp = Module::Dp, C = Module::C;
  const cpu be{};
  const auto z = f.read<double>(nm.dec_input);
  const index_t batch = static_cast<index_t>(z.size()) / (Lp * Dp);
  const index_t n = batch * Lp;
  const auto w = f.read<double>(nm.dec_weight);
  const auto b = lma_read_or_empty(f, nm.dec_bias);
  const auto gw = *nm.gate_weight ? f.read<double>(gate_prefix + nm.gate_weight) : std::vector<double>{};
  const auto gb = *nm.gate_bias ? f.read<double>(gate_prefix + nm.gate_bias) : std::vector<double>{};
  const auto R = f.read<double>("dec/R");
  std::vector<double> y(static_cast<std::size_t>(batch * Lt * Dt)), g(static_cast<std::size_t>(n * C)), v(g.size()), ch(g.size());
  const typename Dec::template weights<double> p{{cview<double, Dp>(w.data(), static_cast<index_t>(w.size()) / Dp),
                                                  cview<double, 1>(b.data(), static_cast<index_t>(b.size()))},
                                                 {cview<double, Dp>(gw.data(), static_cast<index_t>(gw.size()) / Dp),
                                                  cview<double, 1>(gb.data(), static_cast<index_t>(gb.size()))}};
  const typename Dec::template saved<double> s{view<double, C>(g.data(), n), view<double, C>(v.data(), n)};
  Dec::forward(be, cview<double, Dp>(z.data(), n), p, s, view<double, Dt>(y.data(), batch * Lt), view<double, C>(ch.data(), n));
  lma_compare(rep, f, prefix + "out", y.data(), tol.tensor);
  const double loss = lma_dot(y, R);
  lma_compare(rep, f, prefix + "loss", &loss, tol.loss);

  std::vector<double> dz(z.size(), 0.0), dw(w.size(), 0.0), db(b.size(), 0.0), dgw(gw.size(), 0.0), dgb(gb.size(), 0.0);
  const typename Dec::template grads<double> dp{{view<double, Dp>(dw.data(), static_cast<index_t>(dw.size()) / Dp),
                                                 view<double, 1>(db.data(), static_cast<index_t>(db.size()))},
                                                {view<double, Dp>(dgw.data(), static_cast<index_t>(dgw.size()) / Dp),
                                                 view<double, 1>(dgb.data(), static_cast<index_t>(dgb.size()))}};
  Dec::backward(be, cview<double, Dp>(z.data(), n), p, s, cview<double, Dt>(R.data(), batch * Lt), view<double, Dp>(dz.data(), n),
                dp, view<double, C>(ch.data(), n));
  const std::string input = std::string(nm.dec_input).substr(std::string(nm.dec_input).rfind('/') + 1);
  lma_compare(rep, f, prefix + "grad/" + input, dz.data(), tol.gradient);
  lma_compare(rep, f, prefix + "grad/" + nm.dec_weight, dw.data(), tol.gradient);
  if (*nm.dec_bias) lma_compare(rep, f, prefix + "grad/" + nm.dec_bias, db.data(), tol.gradient);
  if (*nm.gate_weight) lma_compare(rep, f, prefix + "grad/" + nm.gate_weight, dgw.data(), tol.gradient);
  if (*nm.gate_bias) lma_compare(rep, f, prefix + "grad/" + nm.gate_bias, dgb.data(), tol.gradient);
}

}  // namespace detail

// Runs the file's encoder (and decoder, where it has one) through Module and compares every stored quantity.
template <class Module>
reference_report check_lma_reference(const safetensors_reader& f, const lma_golden_names& nm, const reference_tolerances& tol = {}) {
  using Enc = typename Module::enc;
  constexpr int Lt = Module::Lt, Dt = Module::Dt, Lp = Module::Lp, Dp = Module::Dp, C = Module::C;
  const cpu be{};
  reference_report rep;
  rep.file = f.path().string();

  // ---- encoder: enc/x -> enc/out ----
  const auto x = f.read<double>("enc/x");
  const index_t batch = static_cast<index_t>(x.size()) / (Lt * Dt);
  const index_t n = batch * Lp;
  const auto w = f.read<double>(nm.enc_weight);
  const auto b = detail::lma_read_or_empty(f, nm.enc_bias);
  const cview<double, C> wc(w.data(), Dp);
  const cview<double, 1> bc(b.data(), static_cast<index_t>(b.size()));
  // the tied E_resid is E_chunk's matrix (C = Dt there)
  const typename Enc::template weights<double> p{{wc, bc}, {cview<double, Dt>(Enc::tied ? w.data() : nullptr, Enc::tied ? Dp : 0),
                                                            Enc::tied ? cview<double, 1>(bc) : cview<double, 1>{}}};
  std::vector<double> z0(static_cast<std::size_t>(n * C)), a(static_cast<std::size_t>(n * Dp)), r(a.size()), out(a.size()),
      g(a.size());
  const typename Enc::template saved<double> s{view<double, C>(z0.data(), n), view<double, Dp>(a.data(), n),
                                               view<double, Dp>(r.data(), Enc::residual ? n : 0)};
  Enc::forward(be, cview<double, Dt>(x.data(), batch * Lt), p, s, view<double, Dp>(out.data(), n));
  detail::lma_compare(rep, f, "enc/z0", z0.data(), tol.tensor);
  detail::lma_compare(rep, f, "enc/out", out.data(), tol.tensor);
  const auto R = f.read<double>("enc/R");
  const double loss = detail::lma_dot(out, R);
  detail::lma_compare(rep, f, "enc/loss", &loss, tol.loss);

  std::vector<double> dx(x.size(), 0.0), dw(w.size(), 0.0), db(b.size(), 0.0), dz0(z0.size());
  const view<double, C> dwc(dw.data(), Dp);
  const view<double, 1> dbc(db.data(), static_cast<index_t>(db.size()));
  const typename Enc::template grads<double> dp{{dwc, dbc}, {view<double, Dt>(Enc::tied ? dw.data() : nullptr, Enc::tied ? Dp : 0),
                                                             Enc::tied ? dbc : view<double, 1>{}}};
  Enc::backward(be, cview<double, Dt>(x.data(), batch * Lt), p, s, cview<double, Dp>(R.data(), n),
                view<double, Dt>(dx.data(), batch * Lt), dp, view<double, Dp>(g.data(), n), view<double, C>(dz0.data(), n));
  detail::lma_compare(rep, f, "enc/grad/x", dx.data(), tol.gradient);
  detail::lma_compare(rep, f, std::string("enc/grad/") + nm.enc_weight, dw.data(), tol.gradient);
  if (*nm.enc_bias) detail::lma_compare(rep, f, std::string("enc/grad/") + nm.enc_bias, db.data(), tol.gradient);

  // ---- decoder: dec/z -> dec/out (and decsat/, the gate saturated) ----
  if (*nm.dec_input) {
    detail::lma_check_decoder<Module>(rep, f, nm, "dec/", "", tol);
    if (*nm.gate_weight && f.contains(std::string("decsat/") + nm.gate_weight))
      detail::lma_check_decoder<Module>(rep, f, nm, "decsat/", "decsat/", tol);
  }
  return rep;
}

// ---- the golden modules compiled in (tests/data/golden_lma/PROVENANCE.md) ----
// A file is matched on its `config` (kind, L, d0, nh_s, d_new) and its L_new metadata.
struct lma_golden_candidate {
  const char* kind;  // hrm | rl | bert | vit: the author's module (docs/lma.md)
  int L, d0, nh_s, d_new, L_new;
  reference_report (*check)(const safetensors_reader&, const reference_tolerances&);
};

namespace detail {
inline constexpr lma_golden_names lma_hrm_names{.enc_weight = "model.inner.lma_transform.proj.weight",
                                                .dec_input = "dec/z_H",
                                                .dec_weight = "model.inner.lma_final_proj.weight"};
inline constexpr lma_golden_names lma_rl_names{.enc_weight = "initial_transform.embed_layer_2.weight",
                                               .enc_bias = "initial_transform.embed_layer_2.bias"};
inline constexpr lma_golden_names lma_bert_names{.enc_weight = "to_latent.weight", .dec_input = "dec/z",
                                                 .dec_weight = "from_latent.weight", .dec_bias = "from_latent.bias"};
inline constexpr lma_golden_names lma_vit_names{.enc_weight = "to_latent.weight", .enc_bias = "to_latent.bias",
                                                .dec_input = "dec/z", .dec_weight = "from_latent.weight",
                                                .dec_bias = "from_latent.bias", .gate_weight = "from_latent_gate.weight",
                                                .gate_bias = "from_latent_gate.bias"};
template <int L, int Lp, mixer::lma_config Cfg, const lma_golden_names& Names>
reference_report lma_check_entry(const safetensors_reader& f, const reference_tolerances& tol) {
  return check_lma_reference<lma_golden_module<L, 64, Lp, 32, Cfg>>(f, Names, tol);
}
}  // namespace detail

// d0 = 64, nh_s = 4, d_new = 32 throughout; L' from the author's divisor search (lma::closest_divisor).
inline std::vector<lma_golden_candidate> lma_golden_candidates() {
  using namespace detail;
  return {
      {"hrm", 16, 64, 4, 32, 16, &lma_check_entry<16, 16, mixer::lma_hrm_port, lma_hrm_names>},
      {"hrm", 97, 64, 4, 32, 97, &lma_check_entry<97, 97, mixer::lma_hrm_port, lma_hrm_names>},
      {"rl", 16, 64, 4, 32, lma::closest_divisor(16 * 64, 12), &lma_check_entry<16, lma::closest_divisor(16 * 64, 12), mixer::lma_rl(12), lma_rl_names>},
      {"rl", 16, 64, 4, 32, lma::closest_divisor(16 * 64, 4), &lma_check_entry<16, lma::closest_divisor(16 * 64, 4), mixer::lma_rl(4), lma_rl_names>},
      {"rl", 97, 64, 4, 32, lma::closest_divisor(97 * 64, 50), &lma_check_entry<97, lma::closest_divisor(97 * 64, 50), mixer::lma_rl(50), lma_rl_names>},
      {"bert", 16, 64, 4, 32, lma::closest_divisor(16 * 64, 12), &lma_check_entry<16, lma::closest_divisor(16 * 64, 12), mixer::lma_bert(12), lma_bert_names>},
      {"vit", 16, 64, 4, 32, lma::closest_divisor(16 * 64, 12), &lma_check_entry<16, lma::closest_divisor(16 * 64, 12), mixer::lma_vit(12), lma_vit_names>},
  };
}

// The compiled module for these sizes, or nullptr.
inline const lma_golden_candidate* find_lma_golden(const std::vector<lma_golden_candidate>& all, const std::string& kind, int L,
                                                   int d0, int nh_s, int d_new, int L_new) {
  for (const auto& c : all)
    if (kind == c.kind && L == c.L && d0 == c.d0 && nh_s == c.nh_s && d_new == c.d_new && L_new == c.L_new) return &c;
  return nullptr;
}

}  // namespace gtrm::io
