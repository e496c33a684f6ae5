// Shared by the benchmark programs: the machine's measured fp32 FMA peak (peak.hpp), memory probes, a custom main.
#pragma once
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <ctime>
#include <string>
#include <unistd.h>

#include "../tools/peak.hpp"

namespace gtrm::bench {

// Measured once per process (before the benchmarks run); read by every FLOP/s counter.
inline peak_result& machine_peak() {
  static peak_result p;
  return p;
}

inline double maxrss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) * 1024.0;  // Linux: kilobytes
}

inline double current_rss_bytes() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

// FLOP counters from a FLOP count per iteration (benchmarks must UseRealTime(), so that rates are per
// wall-clock second with all threads working): `FLOPS` (printed with k/M/G prefixes) and `peak_frac`, the
// fraction of the measured fp32 FMA peak.
inline void set_flop_counters(benchmark::State& st, double flops_per_iter) {
  st.counters["FLOPS"] = benchmark::Counter(flops_per_iter, benchmark::Counter::kIsIterationInvariantRate,
                                            benchmark::Counter::OneK::kIs1000);
  const double peak = machine_peak().gflops * 1e9;
  if (peak > 0)
    st.counters["peak_frac"] = benchmark::Counter(flops_per_iter / peak, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace gtrm::bench

// A main that measures the peak first and records it in the context of the JSON/console output.
#define GTRM_BENCH_MAIN()                                                                           \
  int main(int argc, char** argv) {                                                                 \
    auto& p = gtrm::bench::machine_peak();                                                          \
    p = gtrm::bench::measure_fp32_peak();                                                           \
    char buf[128];                                                                                  \
    std::snprintf(buf, sizeof buf, "%.1f", p.gflops);                                               \
    benchmark::AddCustomContext("fp32_peak_gflops", buf);                                           \
    benchmark::AddCustomContext("fp32_peak_isa", p.isa);                                            \
    benchmark::AddCustomContext("fp32_peak_threads", std::to_string(p.threads));                    \
    benchmark::Initialize(&argc, argv);                                                             \
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;                               \
    benchmark::RunSpecifiedBenchmarks();                                                            \
    benchmark::Shutdown();                                                                          \
    return 0;                                                                                       \
  }
