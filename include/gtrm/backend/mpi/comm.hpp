// comm::mpi — the trainer's communicator over MPI (train/comm.hpp), for CPU clusters (Open MPI, mpirun, Slurm).
// Host memory. Link MPI::MPI_CXX (CMake: GTRM_ENABLE_MPI, target gtrm::mpi).
//
//   comm::mpi_session session(argc, argv);   // MPI_Init_thread … MPI_Finalize, errors fatal (a dying rank ends all)
//   comm::mpi world;                         // MPI_COMM_WORLD
//
// The all-reduce is a reduce-scatter followed by an all-gather: each chunk of the buffer is summed on exactly one
// rank and then copied to the others, so every rank holds the same bits (MPI_Allreduce does not promise that for
// more than two ranks, and the ranks' optimizer steps must stay identical). It moves as many bytes as a ring.
#pragma once
// the C API only: Open MPI's and MPICH's deprecated C++ bindings warn under -Wcast-function-type
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../train/comm.hpp"

namespace gtrm::comm {

namespace mpi_detail {
inline MPI_Datatype type_of(dtype t) {
  switch (t) {
    case dtype::f32: return MPI_FLOAT;
    case dtype::f64: return MPI_DOUBLE;
    case dtype::i32: return MPI_INT32_T;
    case dtype::i64: return MPI_INT64_T;
    default: return MPI_UINT8_T;
  }
}
inline void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed (error " + std::to_string(rc) + ")");
}
}  // namespace mpi_detail

// MPI's lifetime: initialised once per process, finalised at the end. Errors on MPI_COMM_WORLD are fatal: a rank
// that dies or fails a call takes the job down (mpirun then ends the others) instead of leaving them waiting.
class mpi_session {
 public:
  mpi_session(int& argc, char**& argv) { init(&argc, &argv); }
  mpi_session() { init(nullptr, nullptr); }
  ~mpi_session() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owner_ && !finalized) MPI_Finalize();
  }
  mpi_session(const mpi_session&) = delete;
  mpi_session& operator=(const mpi_session&) = delete;

 private:
  void init(int* argc, char*** argv) {
    int ready = 0;
    MPI_Initialized(&ready);
    if (ready) return;
    int provided = 0;
    // one thread calls MPI (the trainer's), others may run OpenMP regions meanwhile
    mpi_detail::check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    owner_ = true;
  }
  bool owner_ = false;
};

class mpi {
 public:
  static constexpr bool device_memory = false;

  explicit mpi(MPI_Comm c = MPI_COMM_WORLD) : c_(c), s_(std::make_shared<scratch>()) {
    mpi_detail::check(MPI_Comm_rank(c, &rank_), "MPI_Comm_rank");
    mpi_detail::check(MPI_Comm_size(c, &size_), "MPI_Comm_size");
  }

  int rank() const { return rank_; }
  int size() const { return size_; }
  MPI_Comm handle() const { return c_; }
  static const char* name() { return "mpi"; }

  void all_reduce_sum(void* data, std::size_t n, dtype t) const {
    if (size_ == 1 || n == 0) return;
    const MPI_Datatype mt = mpi_detail::type_of(t);
    if (n < static_cast<std::size_t>(size_) * 64) {  // small (metrics): MPI's own; two ranks add a+b = b+a anyway
      if (size_ == 2) {
        mpi_detail::check(MPI_Allreduce(MPI_IN_PLACE, data, count(n), mt, MPI_SUM, c_), "MPI_Allreduce");
        return;
      }
      mpi_detail::check(MPI_Reduce(rank_ == 0 ? MPI_IN_PLACE : data, data, count(n), mt, MPI_SUM, 0, c_), "MPI_Reduce");
      mpi_detail::check(MPI_Bcast(data, count(n), mt, 0, c_), "MPI_Bcast");
      return;
    }
    // chunk r (counts[r] elements at displs[r]) is summed on rank r, then gathered to every rank
    auto& s = *s_;
    if (s.n != n) {
      s.n = n;
      s.counts.assign(static_cast<std::size_t>(size_), 0);
      s.displs.assign(static_cast<std::size_t>(size_), 0);
      const std::size_t base = n / static_cast<std::size_t>(size_), extra = n % static_cast<std::size_t>(size_);
      std::size_t at = 0;
      for (int r = 0; r < size_; ++r) {
        const std::size_t c = base + (static_cast<std::size_t>(r) < extra ? 1 : 0);
        s.counts[static_cast<std::size_t>(r)] = count(c);
        s.displs[static_cast<std::size_t>(r)] = count(at);
        at += c;
      }
    }
    const std::size_t es = dtype_size(t);
    auto* bytes = static_cast<unsigned char*>(data);
    const auto me = static_cast<std::size_t>(rank_);
    // in place: the reduced chunk lands at the buffer's start; it moves to its own place before the gather
    mpi_detail::check(MPI_Reduce_scatter(MPI_IN_PLACE, data, s.counts.data(), mt, MPI_SUM, c_), "MPI_Reduce_scatter");
    if (s.displs[me] > 0)
      std::memmove(bytes + static_cast<std::size_t>(s.displs[me]) * es, bytes, static_cast<std::size_t>(s.counts[me]) * es);
    mpi_detail::check(MPI_Allgatherv(MPI_IN_PLACE, 0, mt, data, s.counts.data(), s.displs.data(), mt, c_), "MPI_Allgatherv");
  }

  void broadcast(void* data, std::size_t n, dtype t, int root) const {
    if (size_ == 1 || n == 0) return;
    mpi_detail::check(MPI_Bcast(data, count(n), mpi_detail::type_of(t), root, c_), "MPI_Bcast");
  }

  void all_gather(const void* mine, void* all, std::size_t n, dtype t) const {
    const MPI_Datatype mt = mpi_detail::type_of(t);
    mpi_detail::check(MPI_Allgather(mine, count(n), mt, all, count(n), mt, c_), "MPI_Allgather");
  }

  void barrier() const { mpi_detail::check(MPI_Barrier(c_), "MPI_Barrier"); }
  [[noreturn]] void abort(int code) const {
    MPI_Abort(c_, code);
    std::exit(code);
  }

 private:
  static int count(std::size_t n) {
    if (n > static_cast<std::size_t>(INT32_MAX)) throw std::length_error("comm::mpi: more than 2^31 elements in one call");
    return static_cast<int>(n);
  }
  // the all-reduce's per-rank counts, for the last buffer size (set once: the gradient buffer's size is fixed)
  struct scratch {
    std::size_t n = 0;
    std::vector<int> counts, displs;
  };
  MPI_Comm c_;
  int rank_ = 0, size_ = 1;
  std::shared_ptr<scratch> s_;
};

static_assert(communicator<mpi>);

}  // namespace gtrm::comm
