// Data parallelism as a policy: the communicator the trainer reduces its gradients through (docs/reference.md §3.1,
// §3.3). Every rank holds the whole model; rank r trains rows [r·B/N, (r+1)·B/N) of each global batch of B rows.
//   gradients:      the flat gradient buffer is summed over ranks (each rank's loss is already scaled by 1/B, the
//                   GLOBAL batch, as pretrain.py's (loss / global_batch_size).backward() then all_reduce(SUM))
//   puzzle table:   every rank's (id, gradient row) pairs are gathered in rank order, so each rank applies the same
//                   sign-SGD update as one process with the whole batch (sparse_embedding.py's all_gather)
//   initial state:  parameters and buffers broadcast from rank 0
// A communicator is a small copyable handle; the operations are collective (every rank calls them, in the same
// order) and typed by a dtype tag so an implementation can sit behind a virtual interface (comm::any).
//   comm::none   one process: rank 0 of 1, every operation a no-op or a copy (the trainer compiles to what it was)
//   comm::mpi    backend/mpi/comm.hpp (Open MPI; host memory)
//   comm::nccl   backend/cuda/nccl_comm.cuh (device memory)
//   comm::any    either of the above chosen at run time (the gtrm program: mpirun or not)
// `device_memory` says which memory a communicator's buffers live in; the trainer stages through the host when it
// differs from the backend's (MPI with the CUDA backend).
#pragma once
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace gtrm::comm {

enum class dtype { f32, f64, i32, i64, u8 };

template <class T>
constexpr dtype dtype_of() {
  if constexpr (std::is_same_v<T, float>) return dtype::f32;
  else if constexpr (std::is_same_v<T, double>) return dtype::f64;
  else if constexpr (std::is_same_v<T, std::int32_t>) return dtype::i32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return dtype::i64;
  else {
    static_assert(std::is_same_v<T, std::uint8_t>, "comm: element types are float, double, int32, int64, uint8");
    return dtype::u8;
  }
}

inline std::size_t dtype_size(dtype t) {
  switch (t) {
    case dtype::f32: case dtype::i32: return 4;
    case dtype::f64: case dtype::i64: return 8;
    default: return 1;
  }
}

// The contract (raw, untyped; the typed helpers below are what callers use):
//   all_reduce_sum(data, n, t)            in place, every rank ends with the same bits
//   broadcast(data, n, t, root)           root's n elements to every rank
//   all_gather(mine, all, n, t)           all[r·n, (r+1)·n) = rank r's mine, on every rank
//   barrier(), abort(code) (ends every rank: a rank that stops must not leave the others waiting)
template <class C>
concept communicator = std::copy_constructible<C> && requires(const C& c, void* p, const void* cp, std::size_t n, dtype t) {
  { c.rank() } -> std::convertible_to<int>;
  { c.size() } -> std::convertible_to<int>;
  { C::device_memory } -> std::convertible_to<bool>;
  c.all_reduce_sum(p, n, t);
  c.broadcast(p, n, t, 0);
  c.all_gather(cp, p, n, t);
  c.barrier();
};

// One process: the trainer with this communicator is the single-process trainer.
struct none {
  static constexpr bool device_memory = false;   // never touches memory for size 1 except all_gather's copy
  int rank() const { return 0; }
  int size() const { return 1; }
  void all_reduce_sum(void*, std::size_t, dtype) const {}
  void broadcast(void*, std::size_t, dtype, int) const {}
  void all_gather(const void* mine, void* all, std::size_t n, dtype t) const {
    if (mine != all && n) std::memmove(all, mine, n * dtype_size(t));
  }
  void barrier() const {}
  [[noreturn]] void abort(int code) const { std::exit(code); }
  static const char* name() { return "none"; }
};

// A communicator chosen at run time, behind one virtual call per collective (a handful per training step).
class any {
 public:
  struct iface {
    virtual ~iface() = default;
    virtual int rank() const = 0;
    virtual int size() const = 0;
    virtual void all_reduce_sum(void*, std::size_t, dtype) const = 0;
    virtual void broadcast(void*, std::size_t, dtype, int) const = 0;
    virtual void all_gather(const void*, void*, std::size_t, dtype) const = 0;
    virtual void barrier() const = 0;
    [[noreturn]] virtual void abort(int) const = 0;
    virtual const char* name() const = 0;
  };
  static constexpr bool device_memory = false;   // host memory: none and mpi

  any() : any(none{}) {}
  // is_same first: the conjunction stops there for any itself, before communicator<any> would ask whether any is
  // copy-constructible through this very constructor (a recursion clang rejects)
  template <class C>
    requires(!std::is_same_v<std::remove_cvref_t<C>, any> && communicator<C> && !C::device_memory)
  any(C c) : p_(std::make_shared<model<C>>(std::move(c))) {}  // NOLINT: implicit, like std::function

  int rank() const { return p_->rank(); }
  int size() const { return p_->size(); }
  void all_reduce_sum(void* d, std::size_t n, dtype t) const { p_->all_reduce_sum(d, n, t); }
  void broadcast(void* d, std::size_t n, dtype t, int root) const { p_->broadcast(d, n, t, root); }
  void all_gather(const void* m, void* a, std::size_t n, dtype t) const { p_->all_gather(m, a, n, t); }
  void barrier() const { p_->barrier(); }
  [[noreturn]] void abort(int code) const {
    p_->abort(code);
    std::exit(code);  // not reached: the attribute does not travel through the virtual call
  }
  const char* name() const { return p_->name(); }

 private:
  template <class C>
  struct model final : iface {
    C c;
    explicit model(C x) : c(std::move(x)) {}
    int rank() const override { return c.rank(); }
    int size() const override { return c.size(); }
    void all_reduce_sum(void* d, std::size_t n, dtype t) const override { c.all_reduce_sum(d, n, t); }
    void broadcast(void* d, std::size_t n, dtype t, int r) const override { c.broadcast(d, n, t, r); }
    void all_gather(const void* m, void* a, std::size_t n, dtype t) const override { c.all_gather(m, a, n, t); }
    void barrier() const override { c.barrier(); }
    [[noreturn]] void abort(int code) const override { c.abort(code); }
    const char* name() const override { return C::name(); }
  };
  std::shared_ptr<const iface> p_;
};

// Whether an MPI launcher started this process (mpirun/mpiexec, or srun with PMI/PMIx), and the number of processes
// it says it started (0: none said): the gtrm program trains data-parallel when so, with no extra flag.
inline int launcher_world_size() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"})
    if (const char* s = std::getenv(v)) return std::atoi(s) > 0 ? std::atoi(s) : 1;
  return std::getenv("PMIX_RANK") || std::getenv("PMI_RANK") ? 1 : 0;
}
inline bool launched_by_mpi() { return launcher_world_size() > 0; }

// ---- typed helpers ----
template <communicator C, class T>
void all_reduce_sum(const C& c, std::span<T> data) {
  if (c.size() > 1) c.all_reduce_sum(data.data(), data.size(), dtype_of<std::remove_const_t<T>>());
}
template <communicator C, class T>
void broadcast(const C& c, std::span<T> data, int root = 0) {
  if (c.size() > 1) c.broadcast(data.data(), data.size(), dtype_of<T>(), root);
}
// all.size() must be size() · mine.size().
template <communicator C, class T>
void all_gather(const C& c, std::span<const T> mine, std::span<T> all) {
  if (all.size() != mine.size() * static_cast<std::size_t>(c.size()))
    throw std::invalid_argument("comm::all_gather: " + std::to_string(all.size()) + " elements for " +
                                std::to_string(c.size()) + " ranks of " + std::to_string(mine.size()));
  c.all_gather(mine.data(), all.data(), mine.size(), dtype_of<T>());
}

// Thrown on every rank at once by check_same (a collective decision).
struct mismatch_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Stops every rank with one message from rank 0 when the ranks disagree on a value (a preset name's hash, the batch
// size, the data's size): the value of rank 0 is broadcast and each rank compares; any mismatch makes every rank
// throw (a collective decision: no rank is left waiting in a later collective).
template <communicator C>
void check_same(const C& c, std::int64_t value, const std::string& what) {
  if (c.size() <= 1) return;
  std::int64_t root = value;
  c.broadcast(&root, 1, dtype::i64, 0);
  std::int64_t bad = root != value ? 1 : 0;
  c.all_reduce_sum(&bad, 1, dtype::i64);
  if (bad) throw mismatch_error("ranks disagree on " + what + " (" + std::to_string(bad) + " of " + std::to_string(c.size()) +
                                    " ranks differ from rank 0)");
}

}  // namespace gtrm::comm
