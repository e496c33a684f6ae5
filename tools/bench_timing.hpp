// The part of `gtrm bench` every backend shares (tools/bench.hpp for cpu, tools/cuda_preset_impl.cuh for cuda): the
// request, and the timed training steps and batch-1 solves of a model on synthetic data of its shapes (see bench.hpp
// for what is measured). The model lives on its type's backend; the numbers are wall-clock times of whole calls, each
// of which ends with a transfer to the host, so asynchronous device work is inside them.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtrm/model/flops.hpp>
#include <gtrm/solve.hpp>
#include <gtrm/train/trainer.hpp>

#include "common.hpp"

namespace gtrm::cli {

struct bench_request {
  int batch = 8;
  int steps = 10;
  std::string device = "cpu";
  std::string dtype = "fp32";  // fp32, or bf16 (precision::bf16_mixed: cpu_bf16 for GTRM_CLI_BF16_PRESETS, cuda_bf16 on cuda)
};

struct bench_timing {
  double example_act_steps_per_s = 0;  // rows x ACT steps per second of training
  double solve_s = 0;                  // best of three batch-1 solves
  double flops = 0;                    // matrix-product FLOPs of one training ACT step per example
};

template <class Model>
bench_timing time_training_and_solve(const bench_request& rq) {
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

  [[maybe_unused]] const auto frozen = freeze_weights(model);  // training is over: the solves see fixed weights
  batch_solver<Model> solver(model, 1);
  solve_options so;
  solver.solve(inputs.data(), nullptr, 1, so);  // warm
  double solve_s = 1e30;
  for (int r = 0; r < 3; ++r) {
    const auto t1 = clock::now();
    solver.solve(inputs.data(), nullptr, 1, so);
    solve_s = std::min(solve_s, std::chrono::duration<double>(clock::now() - t1).count());
  }

  bench_timing t;
  t.example_act_steps_per_s = static_cast<double>(B) * rq.steps / train_s;
  t.solve_s = solve_s;
  t.flops = model_flops<Model>().train();
  return t;
}

}  // namespace gtrm::cli
