// CUDA graphs on the cuda backends: a stretch of work queued on the backend's stream, captured once and replayed
// with one launch (the ACT step's kernels and cuBLAS calls, hundreds of launches, become one).
//   cuda_graph g;  g.capture(be, [&] { ...ops on be... });   records, runs nothing (cudaStreamBeginCapture,
//                                                            thread-local mode), instantiates the graph
//   g.launch(be);                                            replays it on be's stream, asynchronously
// A capture records every kernel's arguments as they were: the same pointers and sizes are used by every replay,
// so the captured work must read its varying inputs from device memory (uploaded before the launch) and the
// caller captures anew when sizes or flags change. It must also hold no host synchronisation (to_host, a blocking
// from_host, a loss read back) and no allocation: cuda_graph::capture ends the capture and throws, naming the
// failed call, when it meets one. cuBLAS calls are capturable here because gtrm::cuda gives cuBLAS its workspace;
// cuda_bf16's operand scratch must be sized before a capture (run the work once eagerly first, or reserve()).
#pragma once
#if !defined(__CUDACC__)
#error "gtrm/backend/cuda is CUDA code: include <gtrm/cuda.cuh> from a .cu file compiled by nvcc"
#endif

#include <cuda_runtime.h>

#include <stdexcept>
#include <utility>

#include "cuda.cuh"

namespace gtrm {

class cuda_graph {
 public:
  cuda_graph() = default;
  cuda_graph(const cuda_graph&) = delete;
  cuda_graph& operator=(const cuda_graph&) = delete;
  cuda_graph(cuda_graph&& o) noexcept
      : graph_(std::exchange(o.graph_, nullptr)), exec_(std::exchange(o.exec_, nullptr)) {}
  cuda_graph& operator=(cuda_graph&& o) noexcept {
    if (this != &o) {
      release();
      graph_ = std::exchange(o.graph_, nullptr);
      exec_ = std::exchange(o.exec_, nullptr);
    }
    return *this;
  }
  ~cuda_graph() { release(); }

  bool empty() const { return exec_ == nullptr; }

  // Records f()'s work on be's stream (nothing runs) and instantiates it, replacing any earlier graph. If f throws
  // (a call a capture cannot hold fails its check), the capture is ended and discarded and the error passes on.
  template <class F>
  void capture(const cuda& be, F&& f) {
    release();
    GTRM_CUDA_CHECK(cudaStreamBeginCapture(be.stream(), cudaStreamCaptureModeThreadLocal));
    try {
      f();
    } catch (...) {
      cudaGraph_t broken = nullptr;
      (void)cudaStreamEndCapture(be.stream(), &broken);
      if (broken) (void)cudaGraphDestroy(broken);
      (void)cudaGetLastError();  // the failed call's error is in the exception, not for the next check
      throw;
    }
    GTRM_CUDA_CHECK(cudaStreamEndCapture(be.stream(), &graph_));
    GTRM_CUDA_CHECK(cudaGraphInstantiate(&exec_, graph_, 0));
  }

  // Replays the captured work on be's stream (asynchronously, ordered with the stream's other work).
  void launch(const cuda& be) const {
    if (!exec_) throw std::logic_error("gtrm::cuda_graph::launch: nothing captured");
    GTRM_CUDA_CHECK(cudaGraphLaunch(exec_, be.stream()));
  }

 private:
  void release() noexcept {
    if (exec_) (void)cudaGraphExecDestroy(exec_);
    if (graph_) (void)cudaGraphDestroy(graph_);
    exec_ = nullptr;
    graph_ = nullptr;
  }

  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace gtrm
