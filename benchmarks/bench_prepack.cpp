// Batch-1 products of the paper's Sudoku models (97 rows = 16 puzzle slots + 81 cells, hidden 512): is it worth packing
// the weights once? (issue #17 item 2). OpenBLAS re-packs its B operand on every call; oneDNN's matmul with weights
// in format_tag::any, reordered once, does not. Times, per shape:
//   openblas_f32        cblas_sgemm (cpu::gemm), y = x W^T
//   onednn_f32_packed   oneDNN f32 matmul, weights prepacked once
//   cpu_bf16            gtrm::cpu_bf16::gemm (oneDNN bf16; converts both operands every call)
//   cpu_bf16_frozen     the same under cpu_bf16::frozen_weights (the weight converted and packed once)
// Run: bench_prepack --benchmark_min_time=0.2 (one thread: OMP_NUM_THREADS=1). A measurement program, so it uses
// oneDNN's API directly.
#include <benchmark/benchmark.h>

#include <gtrm/cpu.hpp>

#if defined(GTRM_CPU_ONEDNN)
#include <oneapi/dnnl/dnnl.hpp>
#endif

#include <random>
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

void openblas_f32(benchmark::State& st) {
  const index_t k = st.range(0), n = st.range(1);
  operands o(k, n);
  const cpu be;
  for (auto _ : st) be.gemm(trans::no, trans::yes, rows, n, k, 1.f, o.x.data(), k, o.w.data(), k, 0.f, o.y.data(), n);
  set_flops(st, k, n);
}

void cpu_bf16_plain(benchmark::State& st) {
  const index_t k = st.range(0), n = st.range(1);
  operands o(k, n);
  const cpu_bf16 be;
  for (auto _ : st) be.gemm(trans::no, trans::yes, rows, n, k, 1.f, o.x.data(), k, o.w.data(), k, 0.f, o.y.data(), n);
  set_flops(st, k, n);
}

void cpu_bf16_frozen(benchmark::State& st) {
  const index_t k = st.range(0), n = st.range(1);
  operands o(k, n);
  const cpu_bf16 be;
  cpu_bf16::frozen_weights guard(o.w.data(), o.w.size());
  for (auto _ : st) be.gemm(trans::no, trans::yes, rows, n, k, 1.f, o.x.data(), k, o.w.data(), k, 0.f, o.y.data(), n);
  set_flops(st, k, n);
}

#if defined(GTRM_CPU_ONEDNN)
void onednn_f32_packed(benchmark::State& st) {
  const index_t k = st.range(0), n = st.range(1);
  operands o(k, n);
  using md = dnnl::memory::desc;
  using dt = dnnl::memory::data_type;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  const md src({rows, k}, dt::f32, dnnl::memory::dims{k, 1});
  const md wei_plain({k, n}, dt::f32, dnnl::memory::dims{1, k});  // W (n, k) row-major = (k, n) transposed
  const md dst({rows, n}, dt::f32, dnnl::memory::dims{n, 1});
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, md({k, n}, dt::f32, dnnl::memory::format_tag::any), dst), eng);
  dnnl::memory w_plain(wei_plain, eng, o.w.data()), w_packed(pd.weights_desc(), eng);
  dnnl::reorder(w_plain, w_packed).execute(s, w_plain, w_packed);
  dnnl::memory x(src, eng, o.x.data()), y(dst, eng, o.y.data());
  const dnnl::matmul mm(pd);
  for (auto _ : st) {
    mm.execute(s, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w_packed}, {DNNL_ARG_DST, y}});
    s.wait();
  }
  set_flops(st, k, n);
  st.SetLabel(pd.impl_info_str());
}
BENCHMARK(onednn_f32_packed)->Args({512, 1536})->Args({512, 512})->Args({512, 3072})->Args({1536, 512});
#endif

BENCHMARK(openblas_f32)->Args({512, 1536})->Args({512, 512})->Args({512, 3072})->Args({1536, 512});
BENCHMARK(cpu_bf16_plain)->Args({512, 1536})->Args({512, 512})->Args({512, 3072})->Args({1536, 512});
BENCHMARK(cpu_bf16_frozen)->Args({512, 1536})->Args({512, 512})->Args({512, 3072})->Args({1536, 512});

}  // namespace

BENCHMARK_MAIN();
