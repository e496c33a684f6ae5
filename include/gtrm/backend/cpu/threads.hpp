// CPU threads under real conditions: the OpenMP wait policy and the thread count.
//
// Why a passive wait policy: a training ACT step opens ~1000 OpenMP parallel regions. Between them GNU OpenMP's
// idle threads spin (by default ~300,000 iterations, ~0.1-1 ms) before they sleep. On a quiet machine that saves a
// wake-up; with another CPU-bound process on one of the cores, each spinning thread holds the core the thread it
// waits for needs, and a 2-core run collapses 10-100x (issue #18: one 9x9 solve 8.6-12.6 s instead of 0.06 s).
// With OMP_WAIT_POLICY=passive an idle thread sleeps at once, and a busy neighbour costs its share of the machine.
// The runtime reads the policy once, when it starts (libgomp: at load time, before main), and has no call to
// change it later. So a program that wants it either has it in its environment at start or re-executes itself:
// ensure_passive_wait_policy does the latter, once, when the user has set neither OMP_WAIT_POLICY nor
// GOMP_SPINCOUNT (a user's choice, e.g. "active" on a dedicated machine, is kept). The gtrm program calls it
// first thing in main; a program embedding the library can do the same, or export OMP_WAIT_POLICY=passive.
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

// True when the OpenMP runtime of this process was started with a wait policy the user chose or passive.
inline bool wait_policy_chosen() {
  return std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr;
}

// Call first thing in main, with main's argv. If neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, sets
// OMP_WAIT_POLICY=passive and re-executes this program (/proc/self/exe, same arguments and environment), so that
// the OpenMP runtime starts passive; it returns only where that is not possible (not Linux, exec failed), and the
// program then runs on with the runtime's default policy. The re-executed process sees the variable and returns.
inline void ensure_passive_wait_policy([[maybe_unused]] char** argv) {
#if defined(__linux__) && defined(_OPENMP)
  if (wait_policy_chosen()) return;
  if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
  execv("/proc/self/exe", argv);
  // exec failed (e.g. /proc not mounted): carry on; leave no half-applied setting that suggests otherwise
  unsetenv("OMP_WAIT_POLICY");
#endif
}

}  // namespace gtrm::cpu_threads
