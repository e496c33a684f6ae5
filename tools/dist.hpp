// The gtrm program's communicator: `mpirun -np N gtrm train ...` trains data-parallel with no extra flag. main()
// looks at the launcher's environment (comm::launched_by_mpi); under MPI it starts MPI and stores comm::mpi here,
// otherwise comm::none. Everything else asks process_comm() and is the single-process program when its size is 1.
//
// Rules the subcommands follow with several ranks:
//   rank 0 alone writes files and prints; every rank runs every collective (training steps, evaluations, the
//   state's gather) in the same order;
//   a decision that can fail on one rank only (the run directory's checks) is made by rank 0 and shared
//   (root_decides): every rank then throws the same collective_error, rank 0 prints it once, all exit 1;
//   any other error on one rank ends every rank (MPI_Abort, main's handler), the files being atomic.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>

#include <gtrm/data/dataset.hpp>
#include <gtrm/train/comm.hpp>

namespace gtrm::cli {

inline comm::any& process_comm() {
  static comm::any c;  // comm::none until main() sets comm::mpi
  return c;
}

// An error every rank raises together (rank 0 prints it).
struct collective_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Rank 0 runs `f`; its error (if any) becomes every rank's collective_error.
inline void root_decides(const comm::any& c, const std::function<void()>& f) {
  std::string msg;
  if (c.rank() == 0) {
    try {
      f();
    } catch (const std::exception& e) {
      msg = e.what();
      if (msg.empty()) msg = "rank 0 failed";
    }
  }
  if (c.size() == 1) {
    if (!msg.empty()) throw collective_error(msg);
    return;
  }
  std::int64_t len = static_cast<std::int64_t>(msg.size());
  comm::broadcast(c, std::span<std::int64_t>(&len, 1));
  if (len == 0) return;
  msg.resize(static_cast<std::size_t>(len));
  c.broadcast(msg.data(), msg.size(), comm::dtype::u8, 0);
  throw collective_error(msg);
}

// 64-bit FNV-1a: what the ranks compare of their settings and data.
inline std::int64_t fnv1a(const void* data, std::size_t n, std::uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return static_cast<std::int64_t>(h);
}

// What the ranks compare of a dataset split: its inputs and labels.
inline std::int64_t split_fingerprint(const data::split_data& d) {
  return fnv1a(d.labels.data(), d.labels.size(), static_cast<std::uint64_t>(fnv1a(d.inputs.data(), d.inputs.size())));
}

// Every rank must hold the same value: one message from rank 0 otherwise (collective_error on every rank).
inline void ranks_agree(const comm::any& c, std::int64_t value, const std::string& what) {
  try {
    comm::check_same(c, value, what);
  } catch (const comm::mismatch_error& e) {
    throw collective_error(std::string(e.what()) + "; start every rank with the same command line and data");
  }
}

// A stop request (Ctrl-C, a time limit) seen by any rank stops every rank at the same step.
inline bool any_rank(const comm::any& c, bool flag) {
  if (c.size() == 1) return flag;
  std::int64_t v = flag ? 1 : 0;
  comm::all_reduce_sum(c, std::span<std::int64_t>(&v, 1));
  return v != 0;
}

// What `gtrm info` says about this build's communicators.
inline std::string comm_availability() {
  std::string s;
#ifdef GTRM_HAS_MPI
  s += "MPI: yes (mpirun -np N gtrm train ... trains data-parallel)";
#else
  s += "MPI: no (configure with -DGTRM_ENABLE_MPI=ON)";
#endif
#ifdef GTRM_HAS_NCCL
  s += "; NCCL: yes";
#else
  s += "; NCCL: no (configure with -DGTRM_ENABLE_NCCL=ON and CUDA)";
#endif
  return s;
}

}  // namespace gtrm::cli
