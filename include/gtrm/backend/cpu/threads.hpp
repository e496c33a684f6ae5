// CPU threads under real conditions: the OpenMP wait policy and the thread count.
//
// Why a short spin: a training ACT step opens ~1000 OpenMP parallel regions. Between them GNU OpenMP's idle
// threads spin (by default 300,000 iterations, ~0.1-1 ms) before they sleep. With another CPU-bound process on one
// of the cores, each spinning thread holds the core the thread it waits for needs, and a 2-core run collapses
// 10-100x (issue #18: one 9x9 solve 8.6-12.6 s instead of 0.06 s). Sleeping at once (OMP_WAIT_POLICY=passive)
// fixes that, but on a quiet machine every small region then pays a wake-up: a batch-1 demo solve took 67 ms
// instead of 9. A spin of 3,000 iterations (a few microseconds; GOMP_SPINCOUNT) keeps most of both: quiet, the
// demo solve takes 11 ms and training runs as with passive or faster; beside a busy process, training keeps
// 0.87-0.91 of passive's throughput (benchmarks/results/cpu-threads.md).
// The runtime reads these once, when it starts (libgomp: at load time, before main), and has no call to change
// them later. So a program that wants them either has them in its environment at start or re-executes itself:
// ensure_short_spin_wait_policy does the latter, once, when the user has set neither OMP_WAIT_POLICY nor
// GOMP_SPINCOUNT (a user's choice, e.g. "active" on a dedicated machine or "passive" on a crowded one, is kept).
// The gtrm program calls it first thing in main; a program embedding the library can do the same, or export
// GOMP_SPINCOUNT=3000 (LLVM's OpenMP runtime reads KMP_BLOCKTIME instead).
//
// Why a cap on the thread count: more OpenMP threads than cores the process may run on only adds waits (every
// region ends at a barrier, and a descheduled thread stalls it), and thousands of threads make each region's
// start cost more than its work. capped_threads(n) gives min(n, usable cores).
#pragma once
#include <cstdlib>

#if defined(__linux__)
#include <unistd.h>
#endif
#if defined(_OPENMP)
#include <omp.h>
#endif

namespace gtrm::cpu_threads {

// The cores this process may run on (its affinity mask: `taskset -c 0 gtrm ...` gives 1), at least 1.
inline int usable_cores() {
#if defined(_OPENMP)
  const int n = omp_get_num_procs();
#elif defined(__linux__)
  const int n = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
#else
  const int n = 1;
#endif
  return n > 0 ? n : 1;
}

// min(requested, usable_cores()) for requested > 0; 0 (keep the default) stays 0.
inline int capped_threads(int requested) {
  if (requested <= 0) return 0;
  const int cores = usable_cores();
  return requested < cores ? requested : cores;
}

// True when the environment already names a wait policy or spin count (the user's, or the short spin set below).
inline bool wait_policy_chosen() {
  return std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr;
}

// The spin count gtrm starts OpenMP with (GOMP_SPINCOUNT), measured as above.
inline constexpr const char* default_spin_count = "3000";

// Call first thing in main, with main's argv. If neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, sets
// GOMP_SPINCOUNT=default_spin_count and re-executes this program (/proc/self/exe, same arguments and environment),
// so that the OpenMP runtime starts with it; it returns only where that is not possible (not Linux, exec failed),
// and the program then runs on with the runtime's default. The re-executed process sees the variable and returns.
inline void ensure_short_spin_wait_policy([[maybe_unused]] char** argv) {
#if defined(__linux__) && defined(_OPENMP)
  if (wait_policy_chosen()) return;
  if (setenv("GOMP_SPINCOUNT", default_spin_count, 1) != 0) return;
  execv("/proc/self/exe", argv);
  // exec failed (e.g. /proc not mounted): carry on; leave no half-applied setting that suggests otherwise
  unsetenv("GOMP_SPINCOUNT");
#endif
}

}  // namespace gtrm::cpu_threads
