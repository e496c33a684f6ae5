// The machine's measured fp32 FMA peak, shared by the benchmark programs (bench_common.hpp) and `gtrm bench`.
// Measured, not looked up: every OpenMP thread runs independent chains of fused multiply-adds on AVX-512 and on
// AVX2+FMA vectors (whichever the CPU has, chosen at run time with target attributes, so the number does not
// depend on whether gtrm itself was built with -march=native), timed by each thread's CPU clock; the best width
// wins. 16 independent accumulators cover the latency (4 cycles) x throughput (2 per cycle) of current cores.
#pragma once
#include <sys/resource.h>

#include <algorithm>
#include <ctime>

#if defined(_OPENMP)
#include <omp.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace gtrm::bench {

// Keeps a result alive without Google Benchmark (its DoNotOptimize, for a float).
inline void keep(float x) { asm volatile("" : : "g"(x) : "memory"); }

#if defined(__x86_64__)
__attribute__((target("avx512f"))) inline float fma_chains_avx512(long iters, float seed) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(seed + 0.001f * static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, acc[i]);
  // Summed through memory: GCC 12's _mm512_reduce_add_ps trips -Werror=uninitialized inside its own header (PR 105593).
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float total = 0;
  for (float x : lanes) total += x;
  return total;
}
__attribute__((target("avx2,fma"))) inline float fma_chains_avx2(long iters, float seed) {
  __m256 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm256_set1_ps(seed + 0.001f * static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  float r = 0;
  for (float v : out) r += v;
  return r;
}
#endif

struct peak_result {
  double gflops = 0;       // all threads together
  int threads = 1;
  int vector_floats = 1;   // 16 = AVX-512, 8 = AVX2
  const char* isa = "scalar";
};

using fma_kernel = float (*)(long, float);

inline float fma_chains_scalar(long iters, float seed) {
  float acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = seed + 0.001f * static_cast<float>(i);
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = __builtin_fmaf(acc[i], 0.999999f, 1e-7f);
  float s = 0;
  for (float v : acc) s += v;
  return s;
}

inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// All threads run `kernel` together; FLOPs of one call per thread: iters · 16 chains · lanes · 2.
// Each thread's rate is its FLOPs over its own CPU time, and the peak is their sum: the rate the cores
// reach when they are not shared, which on a machine busy with other jobs a wall-clock measurement would
// understate (and so overstate every fraction of peak). Best of `trials` runs of about
// `seconds_per_trial` each.
inline double time_fma_kernel(fma_kernel kernel, int lanes, int threads, double seconds_per_trial, int trials) {
  long iters = 1 << 14;
  for (;;) {  // calibrate on one thread
    const double t0 = thread_cpu_seconds();
    keep(kernel(iters, 1.0f));
    const double dt = thread_cpu_seconds() - t0;
    if (dt > seconds_per_trial / 4) { iters = static_cast<long>(static_cast<double>(iters) * seconds_per_trial / dt); break; }
    iters *= 2;
  }
  const double flops_per_thread = static_cast<double>(iters) * 16.0 * lanes * 2.0;
  double best = 0;
  for (int t = 0; t < trials; ++t) {
    double rate = 0;
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads) reduction(+ : rate)
#endif
    {
      const double t0 = thread_cpu_seconds();
      keep(kernel(iters, 1.0f));
      rate += flops_per_thread / (thread_cpu_seconds() - t0);
    }
    best = std::max(best, rate);
  }
  return best;
}

// The best over the vector widths the CPU supports (on some CPUs 256-bit FMA has more ports than 512-bit).
inline peak_result measure_fp32_peak(double seconds_per_trial = 0.25, int trials = 5) {
  peak_result r;
#if defined(_OPENMP)
  r.threads = omp_get_max_threads();
#endif
  auto consider = [&](fma_kernel k, int lanes, const char* isa) {
    const double f = time_fma_kernel(k, lanes, r.threads, seconds_per_trial, trials) * 1e-9;
    if (f > r.gflops) { r.gflops = f; r.vector_floats = lanes; r.isa = isa; }
  };
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) consider(fma_chains_avx512, 16, "avx512f");
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) consider(fma_chains_avx2, 8, "avx2+fma");
#endif
  if (r.gflops == 0) consider(fma_chains_scalar, 1, "scalar");
  return r;
}

}  // namespace gtrm::bench
