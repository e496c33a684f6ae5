// Batch-1 products of the paper's Sudoku models (97 rows = 16 puzzle slots + 81 cells, hidden 512): what packing the
// weights once is worth (issue #17 item 2). OpenBLAS re-packs its B operand on every call; under a frozen-weights guard
// gtrm packs each weight once into oneDNN's layout (backend/cpu/onednn.hpp). Times y = x W^T, per shape:
//   openblas_f32        gtrm::cpu::gemm without a guard (OpenBLAS)
//   cpu_f32_frozen      gtrm::cpu::gemm under cpu::frozen_weights (oneDNN f32 matmul, the weight packed once;
//                       what `gtrm eval` and `gtrm solve` run; oneDNN builds only)
//   cpu_bf16            gtrm::cpu_bf16::gemm (oneDNN bf16; converts both operands every call)
//   cpu_bf16_frozen     the same under cpu_bf16::frozen_weights (the weight converted and packed once)
// Run: bench_prepack --benchmark_min_time=0.2 (one thread: OMP_NUM_THREADS=1).
#include <benchmark/benchmark.h>

#include <gtrm/cpu.hpp>

#include <random>
#include <utility>
#include <vector>

using namespace gtrm;

namespace {

constexpr index_t rows = 97;

struct operands {
  std::vector<float> x, w, y;
  operands(index_t k, index_t n) : x(static_cast<std::size_t>(rows * k)), w(static_cast<std::size_t>(n * k)), y(static_cast<std::size_t>(rows * n)) {
    std::mt19937 rng(1);
    std::normal_distribution<float> d(0.f, 1.f);
    for (auto& v : x) v = d(rng);
    for (auto& v : w) v = d(rng);
  }
};

void set_flops(benchmark::State& st, index_t k, index_t n) {
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * rows * k * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

// y = x W^T on backend Be, with the weights under a frozen-weights guard when Frozen.
template <class Be, bool Frozen>
void product(benchmark::State& st) {
  const index_t k = st.range(0), n = st.range(1);
  operands o(k, n);
  const Be be;
  auto run = [&] {
    for (auto _ : st) be.gemm(trans::no, trans::yes, rows, n, k, 1.f, o.x.data(), k, o.w.data(), k, 0.f, o.y.data(), n);
  };
  if constexpr (Frozen) {
    const typename Be::frozen_weights guard(o.w.data(), o.w.size());
    run();
  } else {
    run();
  }
  set_flops(st, k, n);
}

void shapes(benchmark::internal::Benchmark* b) {
  for (const auto& [k, n] : {std::pair<int, int>{512, 1536}, {512, 512}, {512, 3072}, {1536, 512}}) b->Args({k, n});
}

void openblas_f32(benchmark::State& st) { product<cpu, false>(st); }
void cpu_bf16_plain(benchmark::State& st) { product<cpu_bf16, false>(st); }
void cpu_bf16_frozen(benchmark::State& st) { product<cpu_bf16, true>(st); }
BENCHMARK(openblas_f32)->Apply(shapes);
#if defined(GTRM_CPU_ONEDNN)
void cpu_f32_frozen(benchmark::State& st) { product<cpu, true>(st); }
BENCHMARK(cpu_f32_frozen)->Apply(shapes);
#endif
BENCHMARK(cpu_bf16_plain)->Apply(shapes);
BENCHMARK(cpu_bf16_frozen)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();
