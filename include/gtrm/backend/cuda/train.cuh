// Optimizers and EMA with their state in device memory, for parameters and gradients in device memory:
//   cuda_adam_atan2<T>, cuda_adamw<T>   the updates of train/adam_atan2.hpp and train/adamw.hpp (same hyper-parameters,
//                                       same per-step coefficients, the same element kernel: detail::*_kernel, run
//                                       by one device thread per element)
//   cuda_ema<T>                         train/ema.hpp's shadow ← (1 − μ)·θ + μ·shadow
//   cuda_sign_sgd<T>                    train/sign_sgd.hpp's puzzle-table update (rows sharing an id summed in
//                                       batch order, then the sign), without a sort: see step()
// They mirror the CPU classes' interface (step(be, params, grads, lr); register_params / update / shadow), with
// spans over device memory, so code written against one works with the other. The moments start at zero and are
// sized once, in the constructor; nothing allocates in step or update.
#pragma once
#if !defined(__CUDACC__)
#error "gtrm/backend/cuda is CUDA code: include <gtrm/cuda.cuh> from a .cu file compiled by nvcc"
#endif

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "../../core/types.hpp"
#include "../../train/adam_atan2.hpp"
#include "../../train/adamw.hpp"
#include "../../train/sign_sgd.hpp"
#include "cuda.cuh"
#include "memory.cuh"

namespace gtrm::train {

template <class T>
struct cuda_moments {
  device_buffer<T> m, v;       // first and second moments, the parameter buffer's layout
  std::int64_t step = 0;       // updates done so far
};

template <class T>
class cuda_adam_atan2 {
 public:
  cuda_adam_atan2() = default;
  cuda_adam_atan2(adam_atan2_hparams h, index_t n) : h_(h) {
    state_.m.resize(n);
    state_.v.resize(n);
  }

  // One update of params (device) with grads (device) at learning rate lr.
  void step(const cuda& be, std::span<T> params, std::span<const T> grads, double lr) {
    detail::check_step_sizes("cuda_adam_atan2", params.size(), grads.size(), state_.m.size());
    ++state_.step;
    const detail::adam_atan2_coeffs<T> c(h_, state_.step, lr);
    T* p = params.data();
    const T* g = grads.data();
    T* m = state_.m.data();
    T* v = state_.v.data();
    be.parallel_for(static_cast<index_t>(params.size()), [=] GTRM_HD(index_t i) {
      detail::adam_atan2_kernel(c, p + i, g + i, m + i, v + i, 1);
    });
  }

  const adam_atan2_hparams& hparams() const { return h_; }
  cuda_moments<T>& state() { return state_; }
  const cuda_moments<T>& state() const { return state_; }

 private:
  adam_atan2_hparams h_{};
  cuda_moments<T> state_;
};

template <class T>
class cuda_adamw {
 public:
  cuda_adamw() = default;
  cuda_adamw(adamw_hparams h, index_t n) : h_(h) {
    state_.m.resize(n);
    state_.v.resize(n);
  }

  void step(const cuda& be, std::span<T> params, std::span<const T> grads, double lr) {
    detail::check_step_sizes("cuda_adamw", params.size(), grads.size(), state_.m.size());
    ++state_.step;
    const detail::adamw_coeffs<T> c(h_, state_.step, lr);
    T* p = params.data();
    const T* g = grads.data();
    T* m = state_.m.data();
    T* v = state_.v.data();
    be.parallel_for(static_cast<index_t>(params.size()), [=] GTRM_HD(index_t i) {
      detail::adamw_kernel(c, p + i, g + i, m + i, v + i, 1);
    });
  }

  const adamw_hparams& hparams() const { return h_; }
  cuda_moments<T>& state() { return state_; }
  const cuda_moments<T>& state() const { return state_; }

 private:
  adamw_hparams h_{};
  cuda_moments<T> state_;
};

// The backend is held by pointer: it must outlive the EMA (it owns the stream the updates run on).
template <class T>
class cuda_ema {
 public:
  explicit cuda_ema(const cuda& be, double rate = 0.999) : be_(&be), rate_(rate) {}

  // Copies θ (device) into the shadow; sizes it (the only allocation).
  void register_params(std::span<const T> theta) {
    shadow_.resize(static_cast<index_t>(theta.size()));
    if (!theta.empty())
      GTRM_CUDA_CHECK(cudaMemcpyAsync(shadow_.data(), theta.data(), sizeof(T) * theta.size(),
                                      cudaMemcpyDeviceToDevice, be_->stream()));
    registered_ = true;
  }

  void update(std::span<const T> theta) {
    if (!registered_ || static_cast<index_t>(theta.size()) != shadow_.size())
      throw std::invalid_argument("cuda_ema::update: " + std::to_string(theta.size()) + " parameters, but " +
                                  (registered_ ? std::to_string(shadow_.size()) + " were registered"
                                               : std::string("register_params was not called")));
    const T a = static_cast<T>(1.0 - rate_), b = static_cast<T>(rate_);
    T* s = shadow_.data();
    const T* th = theta.data();
    be_->parallel_for(shadow_.size(), [=] GTRM_HD(index_t i) { s[i] = a * th[i] + b * s[i]; });
  }

  double rate() const { return rate_; }
  bool registered() const { return registered_; }
  std::span<const T> shadow() const { return shadow_.span(); }
  std::span<T> shadow() { return shadow_.span(); }

 private:
  const cuda* be_;
  double rate_;
  device_buffer<T> shadow_;
  bool registered_ = false;
};

// The backend is held by pointer, as in cuda_ema. table and grads are device memory; ids are host memory (the
// loader's batch), checked here exactly as the CPU optimizer does and copied to a device scratch sized once.
template <class T>
class cuda_sign_sgd {
 public:
  cuda_sign_sgd(const cuda& be, sign_sgd_hparams h, index_t width, index_t max_batch)
      : be_(&be), h_(h), width_(width), ids_(max_batch) {}

  // One thread per (batch row b, column e). The thread of the first batch row holding id u sums G_u[e] over the
  // rows with that id in batch order (the CPU's order) and updates W[u][e]; the threads of later rows with the same
  // id do nothing. O(batch² · width) comparisons, no sort and no scratch beyond the ids: fine for batch sizes of
  // hundreds.
  void step(std::span<T> table, std::span<const T> grads, std::span<const std::int32_t> ids, double lr) {
    const auto batch = static_cast<index_t>(ids.size());
    check(table, grads, batch);
    const index_t rows = static_cast<index_t>(table.size()) / width_;
    for (index_t b = 0; b < batch; ++b)
      if (ids[b] < 0 || ids[b] >= rows)
        throw std::out_of_range("cuda_sign_sgd::step: puzzle id " + std::to_string(ids[b]) + " at batch row " +
                                std::to_string(b) + " is outside the table of " + std::to_string(rows) + " rows");
    if (batch == 0) return;
    GTRM_CUDA_CHECK(cudaMemcpyAsync(ids_.data(), ids.data(), sizeof(std::int32_t) * ids.size(),
                                    cudaMemcpyHostToDevice, be_->stream()));
    const T decay = static_cast<T>(1.0 - lr * h_.weight_decay), step = static_cast<T>(lr);
    const std::int32_t* id = ids_.data();
    const T* g = grads.data();
    T* w = table.data();
    const index_t width = width_;
    be_->parallel_for(batch * width, [=] GTRM_HD(index_t be_idx) {
      const index_t b = be_idx / width, e = be_idx % width;
      const std::int32_t u = id[b];
      for (index_t j = 0; j < b; ++j)
        if (id[j] == u) return;  // an earlier row owns u
      T sum = 0;
      for (index_t j = b; j < batch; ++j)
        if (id[j] == u) sum += g[j * width + e];
      const T s = sum > T(0) ? T(1) : (sum < T(0) ? T(-1) : T(0));
      T& wu = w[static_cast<index_t>(u) * width + e];
      wu = wu * decay - step * s;
    });
    // ids is the caller's host memory and may change once this returns: pageable copies are staged before
    // cudaMemcpyAsync returns, pinned ones are not, so wait for the copy.
    be_->synchronize();
  }

  const sign_sgd_hparams& hparams() const { return h_; }
  index_t width() const { return width_; }
  index_t max_batch() const { return ids_.size(); }

 private:
  void check(std::span<T> table, std::span<const T> grads, index_t batch) const {
    if (width_ <= 0) throw std::logic_error("cuda_sign_sgd::step: width 0");
    if (static_cast<index_t>(table.size()) % width_ != 0)
      throw std::invalid_argument("cuda_sign_sgd::step: a table of " + std::to_string(table.size()) +
                                  " values is not a whole number of rows of " + std::to_string(width_));
    if (batch > ids_.size())
      throw std::invalid_argument("cuda_sign_sgd::step: " + std::to_string(batch) +
                                  " batch rows, but the scratch was sized for " + std::to_string(ids_.size()));
    if (static_cast<index_t>(grads.size()) != batch * width_)
      throw std::invalid_argument("cuda_sign_sgd::step: " + std::to_string(grads.size()) + " gradient values for " +
                                  std::to_string(batch) + " rows of " + std::to_string(width_));
  }

  const cuda* be_;
  sign_sgd_hparams h_{};
  index_t width_ = 0;
  device_buffer<std::int32_t> ids_;
};

}  // namespace gtrm::train
