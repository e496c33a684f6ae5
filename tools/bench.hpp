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

#include "peak.hpp"
#include "common.hpp"
#include "registry.hpp"

namespace gtrm::cli {

struct bench_request {
  int batch = 8;
  int steps = 10;
  std::string device = "cpu";
};

template <class Model>
int run_bench(const preset_entry& p, const bench_request& rq) {
  if (rq.device != "cpu")
    throw cli_error("--device " + rq.device + ": only --device cpu; the CUDA backend does not run the model and trainer yet");
  if (rq.batch < 1) throw cli_error("--batch must be at least 1, got " + std::to_string(rq.batch));
  if (rq.steps < 1) throw cli_error("--steps must be at least 1, got " + std::to_string(rq.steps));
  using clock = std::chrono::steady_clock;
  constexpr int S = Model::S, V = Model::V;
  const index_t B = rq.batch;

  std::mt19937_64 rng(0);
  std::uniform_int_distribution<int> tok(1, V - 1);
  std::vector<std::int32_t> inputs(static_cast<std::size_t>(B) * S), labels(inputs.size()), ids(static_cast<std::size_t>(B), 0);
  for (auto& x : inputs) x = tok(rng);
  for (auto& x : labels) x = tok(rng);

  Model model(1);
  model.init(0);
  train::train_config cfg;
  cfg.global_batch_size = B;
  cfg.total_steps = rq.steps + 1;
  cfg.lr_warmup_steps = 1;
  train::trainer<Model> tr(model, cfg);
  const batch_ref batch{inputs.data(), labels.data(), ids.data(), B};
  tr.train_batch(batch);  // first touch of the workspace, not timed
  const auto t0 = clock::now();
  for (int s = 0; s < rq.steps; ++s) tr.train_batch(batch);
  const double train_s = std::chrono::duration<double>(clock::now() - t0).count();

  batch_solver<Model> solver(model, 1);
  solve_options so;
  solver.solve(inputs.data(), nullptr, 1, so);  // warm
  double solve_s = 1e30;
  for (int r = 0; r < 3; ++r) {
    const auto t1 = clock::now();
    solver.solve(inputs.data(), nullptr, 1, so);
    solve_s = std::min(solve_s, std::chrono::duration<double>(clock::now() - t1).count());
  }

  const double flops = model_flops<Model>().train();
  const double rate = static_cast<double>(B) * rq.steps / train_s;
  const double gflops = rate * flops * 1e-9;
  const auto peak = bench::measure_fp32_peak(0.1, 3);
  ojson out{{"preset", p.name},
            {"device", "cpu"},
            {"gemm", cpu::gemm_library()},
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
