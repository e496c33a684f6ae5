// What one preset's CUDA translation unit compiles (nvcc): train, eval, solve and bench instantiated for its model
// type on gtrm::cuda, the same templates as the cpu paths (preset_impl.hpp). Included by the files
// tools/CMakeLists.txt generates from GTRM_CLI_CUDA_PRESETS.
#pragma once
#include <cstdint>
#include <cstdio>

#include <gtrm/cuda.cuh>

#include "bench_timing.hpp"
#include "device.hpp"
#include "eval.hpp"
#include "registry.hpp"
#include "solve.hpp"
#include "train.hpp"

namespace gtrm::cli {

// `gtrm bench --device cuda`: bench.hpp's JSON without the CPU's peak (the GPU's is not measured here).
template <class Model>
int run_bench_cuda(const preset_entry& p, const bench_request& rq) {
  const bench_timing t = time_training_and_solve<Model>(rq);
  const double gflops = t.example_act_steps_per_s * t.flops * 1e-9;
  ojson out{{"preset", p.name},
            {"device", "cuda"},
            {"gemm", "cuBLAS"},
            {"batch", rq.batch},
            {"steps", rq.steps},
            {"params", static_cast<std::int64_t>(Model::param_count)},
            {"example_act_steps_per_s", t.example_act_steps_per_s},
            {"solve_ms", t.solve_s * 1e3},
            {"solve_act_steps", Model::cycles_v.max_act_steps},
            {"flops_per_example_act_step", t.flops},
            {"gflops", gflops}};
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

template <class Model>
device_paths make_cuda_paths() {
  return {&run_train<Model>, &run_eval<Model>, &run_solve<Model>, &run_bench_cuda<Model>};
}

}  // namespace gtrm::cli
