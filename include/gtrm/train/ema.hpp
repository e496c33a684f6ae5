// Exponential moving average of the trainable parameters (the reference's models/ema.py EMAHelper):
//   register:  shadow ← θ
//   update:    shadow ← (1 − μ)·θ + μ·shadow        after every optimizer step; μ = 0.999, no bias correction
// The shadow shares the parameter buffer's layout and lives in the backend's storage (buffer_t<Be, T>); the
// element update is one GTRM_HD function run by be.parallel_for, so one class serves every backend.
// Evaluation and checkpoints use the shadow; the puzzle table and the fixed buffers (H_init, L_init) are not
// averaged, so they are not part of θ here.
#pragma once
#include <span>
#include <stdexcept>
#include <string>

#include "../concepts.hpp"
#include "../core/types.hpp"
#include "optimizer.hpp"

namespace gtrm::train {

template <class T, class Be = cpu>
class ema {
 public:
  static constexpr bool host_memory = buffer_t<Be, T>::allocation::host_accessible;

  explicit ema(double rate = 0.999) : rate_(rate) {}

  // Copies θ into the shadow (sizes it; the only allocation). `register` is a C++ keyword, hence the name.
  template <class Exec>
  void register_params(const Exec& be, std::span<const T> theta) {
    shadow_.resize(static_cast<index_t>(theta.size()));
    copy(be, shadow_, theta);
    registered_ = true;
  }
  void register_params(std::span<const T> theta)
    requires host_memory
  {
    register_params(detail::serial_executor{}, theta);
  }

  template <class Exec>
  void update(const Exec& be, std::span<const T> theta) {
    if (!registered_ || static_cast<index_t>(theta.size()) != shadow_.size())
      throw std::invalid_argument("ema::update: " + std::to_string(theta.size()) + " parameters, but " +
                                  (registered_ ? std::to_string(shadow_.size()) + " were registered"
                                               : std::string("register_params was not called")));
    const T a = static_cast<T>(1.0 - rate_), b = static_cast<T>(rate_);
    T* s = shadow_.data();
    const T* th = theta.data();
    be.parallel_for(shadow_.size(), [=] GTRM_HD(index_t i) { s[i] = a * th[i] + b * s[i]; });
  }
  void update(std::span<const T> theta)
    requires host_memory
  {
    update(detail::serial_executor{}, theta);
  }

  double rate() const { return rate_; }
  bool registered() const { return registered_; }
  std::span<const T> shadow() const { return shadow_.span(); }
  std::span<T> shadow() { return shadow_.span(); }

 private:
  double rate_;
  buffer_t<Be, T> shadow_;
  bool registered_ = false;
};

}  // namespace gtrm::train
