// LMA against its author's code, module level (tests/data/golden_lma, PROVENANCE.md there): every file's encoder
// and decoder outputs within 1e-5 and every gradient of sum(out * R) (input and each weight) within 1e-4
// (norm-relative), through io::check_lma_reference - the same path `gtrm verify-reference` takes. Then the tied
// encoder of the HRM port: its one matrix's gradient is the sum of the chunk path's and the residual path's, each
// of which alone is far from the author's.
#include <doctest/doctest.h>

#include <gtrm/io/lma_reference_check.hpp>

#include <cmath>
#include <cstdio>
#include <string>

using namespace gtrm;

namespace {

io::safetensors_reader open_golden(const char* name) {
  return io::safetensors_reader(std::string(GTRM_TEST_DATA_DIR) + "/golden_lma/" + name + ".safetensors");
}

void check_file(const char* name, const char* kind, int L, std::size_t min_rows) {
  const auto f = open_golden(name);
  const int L_new = std::stoi(f.meta("L_new").value_or("0"));
  const int C_new = std::stoi(f.meta("C_new").value_or("0"));
  const auto all = io::lma_golden_candidates();
  const auto* c = io::find_lma_golden(all, kind, L, 64, 4, 32, L_new);
  REQUIRE(c != nullptr);
  CHECK(L * 64 / c->L_new == C_new);  // the author's L', C' are lma::closest_divisor's
  const auto rep = c->check(f, {});
  for (const auto& r : rep.rows) {
    INFO(name << ": " << r.name << " max_abs " << r.max_abs << " norm_rel " << r.norm_rel);
    CHECK(r.pass);
  }
  std::printf("%-14s %2zu quantities: enc %.2e  enc/grad %.2e  dec %.2e  dec/grad %.2e  decsat %.2e\n", name, rep.rows.size(),
              std::max(rep.worst("enc/out"), rep.worst("enc/z0")), rep.worst("enc/grad/"), rep.worst("dec/out"),
              rep.worst("dec/grad/"), rep.worst("decsat/"));
  CHECK(rep.rows.size() >= min_rows);
  CHECK(rep.pass());
}

double rel(const std::vector<double>& got, const std::vector<double>& want) {
  double d2 = 0, n2 = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    d2 += (got[i] - want[i]) * (got[i] - want[i]);
    n2 += want[i] * want[i];
  }
  return std::sqrt(d2 / n2);
}

}  // namespace

// rows: encoder z0, out, loss, grad x, grad W [, grad b]; decoder out, loss, grad z, grad W [, b] [, gate W, b]
TEST_CASE("golden LMA: HRM_LMA port, L = 16 (tied encoder, lma_final_proj)") { check_file("hrm_L16", "hrm", 16, 9); }
TEST_CASE("golden LMA: HRM_LMA port, L = 97") { check_file("hrm_L97", "hrm", 97, 9); }
TEST_CASE("golden LMA: RL_Tracking stage 2, L = 16, target 12 -> L' = 8") { check_file("rl_L16_t12", "rl", 16, 6); }
TEST_CASE("golden LMA: RL_Tracking stage 2, L = 16, target 4") { check_file("rl_L16_t4", "rl", 16, 6); }
TEST_CASE("golden LMA: RL_Tracking stage 2, L = 97, target 50 -> L' = 64, C' = 97") { check_file("rl_L97_t50", "rl", 97, 6); }
TEST_CASE("golden LMA: ViT-LMA LMABertAttention (1/sqrt(nh_s), reshape_linear)") { check_file("bert_L16_t12", "bert", 16, 10); }
TEST_CASE("golden LMA: ViT-LMA InitialLatentTransform (reshape_gated, also saturated)") { check_file("vit_L16_t12", "vit", 16, 18); }

TEST_CASE("golden LMA: the tied matrix's gradient is the sum of the chunk path's and the residual path's") {
  // The HRM port's encoder relu(proj(z0)) + relu(proj(x)) as an untied module with proj in both places: each
  // path's gradient alone, then their sum, against the author's one gradient.
  constexpr int Lt = 16, Dt = 64, Dp = 32;
  constexpr mixer::lma_config untied = [] { auto c = mixer::lma_hrm_port; c.tied = false; return c; }();
  using E = lma::encoder<Lt, Dt, Lt, Dp, untied>;
  const auto f = open_golden("hrm_L16");
  const auto x = f.read<double>("enc/x"), w = f.read<double>("model.inner.lma_transform.proj.weight"), R = f.read<double>("enc/R");
  const auto want = f.read<double>("enc/grad/model.inner.lma_transform.proj.weight");
  const index_t n = static_cast<index_t>(x.size()) / Dt;
  std::vector<double> z0(x.size()), a(static_cast<std::size_t>(n * Dp)), r(a.size()), out(a.size()), g(a.size()), dz0(x.size());
  std::vector<double> dx(x.size(), 0.0), dchunk(w.size(), 0.0), dresid(w.size(), 0.0);
  const E::weights<double> p{{cview<double, Dt>(w.data(), Dp), {}}, {cview<double, Dt>(w.data(), Dp), {}}};
  const E::saved<double> s{view<double, Dt>(z0.data(), n), view<double, Dp>(a.data(), n), view<double, Dp>(r.data(), n)};
  E::forward(cpu{}, cview<double, Dt>(x.data(), n), p, s, view<double, Dp>(out.data(), n));
  CHECK(rel(out, f.read<double>("enc/out")) < 1e-5);
  E::backward(cpu{}, cview<double, Dt>(x.data(), n), p, s, cview<double, Dp>(R.data(), n), view<double, Dt>(dx.data(), n),
              E::grads<double>{{view<double, Dt>(dchunk.data(), Dp), {}}, {view<double, Dt>(dresid.data(), Dp), {}}},
              view<double, Dp>(g.data(), n), view<double, Dt>(dz0.data(), n));
  std::vector<double> sum(w.size());
  for (std::size_t i = 0; i < sum.size(); ++i) sum[i] = dchunk[i] + dresid[i];
  const double r_sum = rel(sum, want), r_chunk = rel(dchunk, want), r_resid = rel(dresid, want);
  std::printf("tied proj gradient vs the author's: chunk path alone %.2f, residual path alone %.2f, their sum %.2e\n", r_chunk,
              r_resid, r_sum);
  CHECK(r_sum < 1e-4);
  CHECK(r_chunk > 0.3);
  CHECK(r_resid > 0.3);
  CHECK(rel(dx, f.read<double>("enc/grad/x")) < 1e-4);
}
