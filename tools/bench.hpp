// gtrm bench: training throughput and solve latency of a compiled preset on synthetic data of its shapes, as one
// JSON object (issue #8's measurement, the same on every machine):
//   example_act_steps_per_s   rows x ACT steps per wall-clock second of training: forward, loss, backward,
//                             optimizer (Adam-atan2 + sign-SGD) and EMA, one ACT step per batch as the trainer runs
//   solve_ms                  one puzzle at batch 1, halt_max_steps ACT steps, the model already loaded
//   flops_per_example_act_step  matrix-product FLOPs of one training ACT step (gtrm::model_flops, model/flops.hpp)
//   gflops, fraction_of_peak  those FLOPs at the measured rate, over this machine's fp32 FMA peak (tools/peak.hpp)
//   product_gflops, fraction_of_product_rate   the backend's own matrix product (its library, precision and threads)
//                             at 2048³, and the model's FLOP rate over it: in bf16 the fp32 FMA peak says nothing about
//                             the bf16 units (AVX512-BF16, AMX), so this is the figure to read there (the CPU's analogue
//                             of `--device cuda`'s cuBLAS-measured peak)
// The first training step (workspace first touch) is not timed. Tokens are drawn uniformly from the preset's
// vocabulary (except PAD), labels likewise: the work per step does not depend on the values.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <gtrm/cpu.hpp>
#include <gtrm/model/flops.hpp>
#include <gtrm/solve.hpp>
#include <gtrm/train/trainer.hpp>

#include "bench_timing.hpp"
#include "peak.hpp"
#include "common.hpp"
#include "registry.hpp"

namespace gtrm::cli {

// C = A·B at n³ on backend be (both operands random, row-major), best of `trials` after one warm-up call, in GFLOP/s.
template <class Be>
double product_gflops(const Be& be, index_t n = 2048, int trials = 3) {
  using clock = std::chrono::steady_clock;
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> a(static_cast<std::size_t>(n * n)), b(a.size()), c(a.size());
  for (auto& x : a) x = d(rng);
  for (auto& x : b) x = d(rng);
  auto product = [&] { be.gemm(trans::no, trans::no, n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n); };
  product();
  double best = 0;
  for (int t = 0; t < trials; ++t) {
    const auto t0 = clock::now();
    product();
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    best = std::max(best, 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / s * 1e-9);
  }
  return best;
}

template <class Model>
int run_bench(const preset_entry& p, const bench_request& rq) {
  const bench_timing t = time_training_and_solve<Model>(rq);
  const index_t B = rq.batch;
  const double flops = t.flops, rate = t.example_act_steps_per_s, solve_s = t.solve_s;
  const double gflops = rate * flops * 1e-9;
  const auto peak = bench::measure_fp32_peak(0.1, 3);
  const double product = product_gflops(typename Model::backend_type{});
  ojson out{{"preset", p.name},
            {"device", "cpu"},
            {"dtype", backend_precision_t<typename Model::backend_type>::name},
            {"gemm", Model::backend_type::gemm_library()},
            {"threads", peak.threads},
            {"batch", B},
            {"steps", rq.steps},
            {"params", static_cast<std::int64_t>(Model::param_count)},
            {"example_act_steps_per_s", rate},
            {"solve_ms", solve_s * 1e3},
            {"solve_act_steps", Model::cycles_v.max_act_steps},
            {"flops_per_example_act_step", flops},
            {"gflops", gflops},
            {"peak_gflops", peak.gflops},
            {"peak_isa", peak.isa},
            {"fraction_of_peak", peak.gflops > 0 ? gflops / peak.gflops : 0.0},
            {"product_gflops", product},
            {"fraction_of_product_rate", product > 0 ? gflops / product : 0.0}};
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace gtrm::cli
