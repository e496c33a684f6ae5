// What one preset's CUDA translation units compile (nvcc): train, eval, solve and bench instantiated for its model
// type on gtrm::cuda, the same templates as the cpu paths (preset_impl.hpp), and bench alone on gtrm::cuda_bf16
// (`gtrm bench --device cuda --dtype bf16`). Included by the files tools/CMakeLists.txt generates from
// GTRM_CLI_CUDA_PRESETS.
#pragma once
#include <cstdint>
#include <cstdio>

#include <gtrm/cuda.cuh>

#include "bench_timing.hpp"
#include "cuda_peak.cuh"
#include "device.hpp"
#include "eval.hpp"
#include "registry.hpp"
#include "solve.hpp"
#include "train.hpp"

namespace gtrm::cli {

// `gtrm bench --device cuda [--dtype fp32|bf16]`: bench.hpp's JSON, with the model FLOP utilisation against the
// card's bf16 dense peak (tools/cuda_peak.cuh, measured once per process). The dtype is the model's backend:
// gtrm::cuda (fp32) or gtrm::cuda_bf16 (bf16_mixed).
template <class Model>
int run_bench_cuda(const preset_entry& p, const bench_request& rq) {
  const bench_timing t = time_training_and_solve<Model>(rq);
  const double gflops = t.example_act_steps_per_s * t.flops * 1e-9;
  const gpu_peak peak = measure_bf16_peak();
  ojson out{{"preset", p.name},
            {"device", "cuda"},
            {"card", peak.card},
            {"dtype", backend_precision_t<typename Model::backend_type>::name},
            {"gemm", "cuBLAS"},
            {"batch", rq.batch},
            {"steps", rq.steps},
            {"params", static_cast<std::int64_t>(Model::param_count)},
            {"example_act_steps_per_s", t.example_act_steps_per_s},
            {"solve_ms", t.solve_s * 1e3},
            {"solve_act_steps", Model::cycles_v.max_act_steps},
            {"flops_per_example_act_step", t.flops},
            {"gflops", gflops},
            {"peak_bf16_tflops", peak.tflops},
            {"peak_gemm_n", peak.n},
            {"mfu", peak.tflops > 0 ? gflops * 1e-3 / peak.tflops : 0.0}};
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

template <class Model>
device_paths make_cuda_paths() {
  return {&run_train<Model>, &run_eval<Model>, &run_solve<Model>, &run_bench_cuda<Model>};
}

// bf16 on the GPU: bench only for now; train/eval/solve there say so instead of running.
template <class Request>
int cuda_bf16_bench_only(const preset_entry&, const Request&) {
  throw cli_error("--dtype bf16 --device cuda: only `gtrm bench` runs bf16 on the GPU in this gtrm "
                  "(train, eval and solve there run --dtype fp32)");
}
template <class Model>
device_paths make_cuda_bench_paths() {
  return {&cuda_bf16_bench_only<train_request>, &cuda_bf16_bench_only<eval_request>,
          &cuda_bf16_bench_only<solve_request>, &run_bench_cuda<Model>};
}

}  // namespace gtrm::cli
