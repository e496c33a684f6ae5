// The optimizer shell (ensmallen's update-policy idea): what every dense optimizer shares, written once for every
// backend, with the arithmetic in a rule (train/rules/*.hpp):
//   flat parameters, gradients and moments m, v in the backend's storage (buffer_t<Be, T>, concepts.hpp)
//   a step counter t, the size check (step_sizes.hpp), the per-step coefficients Rule::coeffs<T>(hparams, t, lr)
//   the element update Rule::update(coeffs, p, g, m, v): one GTRM_HD function run by be.parallel_for, so the same
//   code runs on the CPU's threads and as a CUDA kernel
//   save/load of the moments as named tensors (through host copies; the caller stores the step counter)
// Element updates are independent, so any order (serial, threads, device) gives the same bits.
// The public optimizers are this shell with a rule: train::adam_atan2<T, Be> and train::adamw<T, Be>.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "../concepts.hpp"
#include "../core/types.hpp"
#include "step_sizes.hpp"

namespace gtrm {
struct cpu;  // backend/cpu/cpu.hpp; the default backend of the train:: classes (its storage is host memory)
}  // namespace gtrm

namespace gtrm::train {

namespace detail {
// Runs a parallel_for body on the calling thread, in order: the backend-less step(...) of host optimizers.
struct serial_executor {
  template <class F>
  void parallel_for(index_t n, F&& f) const {
    for (index_t i = 0; i < n; ++i) f(i);
  }
};
}  // namespace detail

template <class T, class Be>
struct optimizer_state {
  buffer_t<Be, T> m, v;        // first and second moments, the parameter buffer's layout
  std::int64_t step = 0;       // updates done so far
};

template <class Rule, class T, class Be = cpu>
class optimizer {
 public:
  using rule = Rule;
  using hparams_type = typename Rule::hparams;
  using state_type = optimizer_state<T, Be>;
  static constexpr bool host_memory = buffer_t<Be, T>::allocation::host_accessible;

  optimizer() = default;
  // Zero moments for a parameter buffer of n elements (the only allocation).
  optimizer(hparams_type h, index_t n) : h_(h) {
    state_.m.resize(n);
    state_.v.resize(n);
  }

  // One update of params with grads at learning rate lr (the schedule's value for this step), on the calling
  // thread. Host memory only.
  void step(std::span<T> params, std::span<const T> grads, double lr)
    requires host_memory
  {
    step(detail::serial_executor{}, params, grads, lr);
  }

  // The same update run by the backend be (its threads, or its device for device memory).
  template <class Exec>
  void step(const Exec& be, std::span<T> params, std::span<const T> grads, double lr) {
    detail::check_step_sizes(Rule::name, params.size(), grads.size(), state_.m.size());
    ++state_.step;
    const typename Rule::template coeffs<T> c(h_, state_.step, lr);
    T* p = params.data();
    const T* g = grads.data();
    T* m = state_.m.data();
    T* v = state_.v.data();
    be.parallel_for(static_cast<index_t>(params.size()),
                    [=] GTRM_HD(index_t i) { Rule::update(c, p[i], g[i], m[i], v[i]); });
  }

  // The moments as tensors <prefix>exp_avg and <prefix>exp_avg_sq (torch's names), through host copies.
  template <class Writer>
  void save(const Be& be, Writer& w, const std::string& prefix) const {
    const auto n = static_cast<std::int64_t>(state_.m.size());
    std::vector<T> host(static_cast<std::size_t>(n));
    to_host(be, host, state_.m);
    w.add(prefix + "exp_avg", {n}, host.data());
    to_host(be, host, state_.v);
    w.add(prefix + "exp_avg_sq", {n}, host.data());
  }
  template <class Reader>
  void load(const Be& be, Reader& r, const std::string& prefix) {
    const auto n = static_cast<std::int64_t>(state_.m.size());
    std::vector<T> host(static_cast<std::size_t>(n));
    r.template read_into<T>(prefix + "exp_avg", {n}, host.data());
    from_host(be, state_.m, host);
    r.template read_into<T>(prefix + "exp_avg_sq", {n}, host.data());
    from_host(be, state_.v, host);
  }

  const hparams_type& hparams() const { return h_; }
  state_type& state() { return state_; }
  const state_type& state() const { return state_; }

 private:
  hparams_type h_{};
  state_type state_;
};

}  // namespace gtrm::train
