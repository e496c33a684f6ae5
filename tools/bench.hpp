// gtrm bench: training throughput and solve latency of a compiled preset on synthetic data of its shapes, as one
// JSON object (issue #8's measurement, the same on every machine):
//   example_act_steps_per_s   rows x ACT steps per wall-clock second of training: forward, loss, backward,
//                             optimizer (Adam-atan2 + sign-SGD) and EMA, one ACT step per batch as the trainer runs
//   solve_ms                  one puzzle at batch 1, halt_max_steps ACT steps, the model already loaded
//   flops_per_example_act_step  matrix-product FLOPs of one training ACT step (gtrm::model_flops, model/flops.hpp)
//   gflops, fraction_of_peak  those FLOPs at the measured rate, over this machine's fp32 FMA peak (tools/peak.hpp)
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

template <class Model>
int run_bench(const preset_entry& p, const bench_request& rq) {
  const bench_timing t = time_training_and_solve<Model>(rq);
  const index_t B = rq.batch;
  const double flops = t.flops, rate = t.example_act_steps_per_s, solve_s = t.solve_s;
  const double gflops = rate * flops * 1e-9;
  const auto peak = bench::measure_fp32_peak(0.1, 3);
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
            {"fraction_of_peak", peak.gflops > 0 ? gflops / peak.gflops : 0.0}};
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace gtrm::cli
