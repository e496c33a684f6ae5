// comm::nccl — the trainer's communicator between GPUs (train/comm.hpp): one process (or thread) per GPU, buffers in
// device memory, collectives on the stream the caller names (the CUDA backend's: gtrm::cuda::stream()), each call
// waiting for its result so the host may read what it produced. NCCL's ring all-reduce leaves the same bits on every
// rank. Link NCCL (CMake: GTRM_ENABLE_NCCL, target gtrm::nccl; the CUDA toolkit ships nccl.h and libnccl).
//
// The ranks meet through a unique id made by rank 0:
//   over a host communicator (comm::mpi):  auto c = comm::nccl::over(mpi_world, device, stream);
//   through a file (one machine, no MPI):  auto c = comm::nccl::through_file(run_dir / "nccl_id", rank, size, device, stream);
//   in one process (a thread per GPU):     id = comm::nccl::make_id(); comm::nccl c(rank, size, id, device, stream);
#pragma once
#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "../../train/comm.hpp"

namespace gtrm::comm {

namespace nccl_detail {
inline void check(ncclResult_t rc, const char* what) {
  if (rc != ncclSuccess) throw std::runtime_error(std::string("NCCL: ") + what + ": " + ncclGetErrorString(rc));
}
inline void check(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess) throw std::runtime_error(std::string("NCCL communicator: ") + what + ": " + cudaGetErrorString(rc));
}
inline ncclDataType_t type_of(dtype t) {
  switch (t) {
    case dtype::f32: return ncclFloat32;
    case dtype::f64: return ncclFloat64;
    case dtype::i32: return ncclInt32;
    case dtype::i64: return ncclInt64;
    default: return ncclUint8;
  }
}
}  // namespace nccl_detail

class nccl {
 public:
  static constexpr bool device_memory = true;
  static const char* name() { return "nccl"; }

  static ncclUniqueId make_id() {
    ncclUniqueId id;
    nccl_detail::check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    return id;
  }

  // Rank `rank` of `size` on CUDA device `device`; collective (every rank constructs with the same id).
  nccl(int rank, int size, const ncclUniqueId& id, int device, cudaStream_t stream = nullptr)
      : s_(std::make_shared<state>()) {
    s_->rank = rank;
    s_->size = size;
    s_->device = device;
    s_->stream = stream;
    nccl_detail::check(cudaSetDevice(device), "cudaSetDevice");
    nccl_detail::check(ncclCommInitRank(&s_->comm, size, id, rank), "ncclCommInitRank");
    nccl_detail::check(cudaMalloc(&s_->flag, sizeof(float)), "cudaMalloc");
  }

  // The id travels over a host communicator (rank 0 makes it): the usual way under mpirun.
  template <communicator Host>
    requires(!Host::device_memory)
  static nccl over(const Host& host, int device, cudaStream_t stream = nullptr) {
    ncclUniqueId id{};
    if (host.rank() == 0) id = make_id();
    host.broadcast(&id, sizeof id, dtype::u8, 0);
    return nccl(host.rank(), host.size(), id, device, stream);
  }

  // The id travels through a file (one machine without MPI): rank 0 writes it (atomically, by rename), the others
  // wait up to `timeout` for it. Remove the file before a new run.
  static nccl through_file(const std::filesystem::path& file, int rank, int size, int device, cudaStream_t stream = nullptr,
                           std::chrono::seconds timeout = std::chrono::seconds(120)) {
    ncclUniqueId id{};
    if (rank == 0) {
      id = make_id();
      const auto tmp = std::filesystem::path(file.string() + ".tmp");
      {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(&id), sizeof id);
        if (!out) throw std::runtime_error("comm::nccl: cannot write " + tmp.string());
      }
      std::filesystem::rename(tmp, file);
    } else {
      const auto until = std::chrono::steady_clock::now() + timeout;
      for (;;) {
        std::ifstream in(file, std::ios::binary);
        if (in && in.read(reinterpret_cast<char*>(&id), sizeof id)) break;
        if (std::chrono::steady_clock::now() > until)
          throw std::runtime_error("comm::nccl: rank 0 did not write " + file.string() + " in time");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    return nccl(rank, size, id, device, stream);
  }

  int rank() const { return s_->rank; }
  int size() const { return s_->size; }
  ncclComm_t handle() const { return s_->comm; }

  void all_reduce_sum(void* data, std::size_t n, dtype t) const {
    if (n == 0) return;
    nccl_detail::check(ncclAllReduce(data, data, n, nccl_detail::type_of(t), ncclSum, s_->comm, s_->stream), "ncclAllReduce");
    wait();
  }
  void broadcast(void* data, std::size_t n, dtype t, int root) const {
    if (n == 0) return;
    nccl_detail::check(ncclBroadcast(data, data, n, nccl_detail::type_of(t), root, s_->comm, s_->stream), "ncclBroadcast");
    wait();
  }
  void all_gather(const void* mine, void* all, std::size_t n, dtype t) const {
    if (n == 0) return;
    nccl_detail::check(ncclAllGather(mine, all, n, nccl_detail::type_of(t), s_->comm, s_->stream), "ncclAllGather");
    wait();
  }
  // NCCL has no barrier: an all-reduce of one value does it
  void barrier() const { all_reduce_sum(s_->flag, 1, dtype::f32); }
  [[noreturn]] void abort(int code) const {
    ncclCommAbort(s_->comm);
    s_->comm = nullptr;
    std::exit(code);
  }

 private:
  void wait() const { nccl_detail::check(cudaStreamSynchronize(s_->stream), "cudaStreamSynchronize"); }

  struct state {
    int rank = 0, size = 1, device = 0;
    cudaStream_t stream = nullptr;
    ncclComm_t comm = nullptr;
    float* flag = nullptr;  // the barrier's value (device memory)
    state() = default;
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    ~state() {
      if (flag) cudaFree(flag);
      if (comm) ncclCommDestroy(comm);
    }
  };
  std::shared_ptr<state> s_;
};

static_assert(communicator<nccl>);

}  // namespace gtrm::comm
