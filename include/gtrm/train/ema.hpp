// Exponential moving average of the trainable parameters (models/ema.py EMAHelper; TRM_REFERENCE.md §3.5):
//   register:  shadow ← θ
//   update:    shadow ← (1 − μ)·θ + μ·shadow        after every optimizer step; μ = 0.999, no bias correction
// The shadow shares the parameter buffer's layout. Evaluation and checkpoints use the shadow; the puzzle table
// and the fixed buffers (H_init, L_init) are not averaged, so they are not part of θ here.
#pragma once
#include <algorithm>
#include <span>
#include <stdexcept>
#include <string>

#include "../core/buffer.hpp"
#include "../core/types.hpp"

namespace gtrm::train {

template <class T>
class ema {
 public:
  explicit ema(double rate = 0.999) : rate_(rate) {}

  // Copies θ into the shadow (sizes it; the only allocation). `register` is a C++ keyword, hence the name.
  void register_params(std::span<const T> theta) {
    shadow_.resize(static_cast<index_t>(theta.size()));
    std::copy(theta.begin(), theta.end(), shadow_.begin());
    registered_ = true;
  }

  void update(std::span<const T> theta) {
    if (!registered_ || static_cast<index_t>(theta.size()) != shadow_.size())
      throw std::invalid_argument("ema::update: " + std::to_string(theta.size()) + " parameters, but " +
                                  (registered_ ? std::to_string(shadow_.size()) + " were registered"
                                               : std::string("register_params was not called")));
    const T a = static_cast<T>(1.0 - rate_), b = static_cast<T>(rate_);
    T* s = shadow_.data();
    for (std::size_t i = 0; i < theta.size(); ++i) s[i] = a * theta[i] + b * s[i];
  }

  double rate() const { return rate_; }
  bool registered() const { return registered_; }
  std::span<const T> shadow() const { return shadow_.span(); }
  std::span<T> shadow() { return shadow_.span(); }

 private:
  double rate_;
  buffer<T> shadow_;
  bool registered_ = false;
};

}  // namespace gtrm::train
