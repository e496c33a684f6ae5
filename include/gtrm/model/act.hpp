// Adaptive computation time with a persistent carry (trm.py:TinyRecursiveReasoningModel_ACTV1, §1.9, §3.1).
//
// One call = one ACT step for every row of the batch:
//   rows that halted last step restart: z_H ← H_init, z_L ← L_init, steps ← 0, data ← the new batch's row;
//   rows still running keep their z, steps and data (the new batch's row at that index is discarded);
//   inner forward (with the tape when training), steps += 1, halted = steps ≥ N, and in training also
//   halted |= q_halt > 0 (TRM) or q_halt > q_continue (HRM and transformer policies), with exploration only
//   delaying halting:
//   min_steps = (u < p) · uniform{2..N}, halted &= steps ≥ min_steps.
// The loss head runs on the data the step actually used (`current data`), every row, halted or not.
#pragma once
#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "../core/buffer.hpp"
#include "../core/grad_mode.hpp"
#include "../ops/swiglu.hpp"
#include "../policy/policies.hpp"
#include "loss_head.hpp"

namespace gtrm {

// A batch as the model sees it: int32 arrays of B·S tokens, B·S labels (−100 = ignored) and B puzzle ids.
struct batch_ref {
  const std::int32_t* inputs = nullptr;
  const std::int32_t* labels = nullptr;
  const std::int32_t* puzzle_ids = nullptr;
  index_t size = 0;
};

template <class Model>
struct act_carry {
  using T = typename Model::scalar;
  explicit act_carry(index_t batch)
      : batch(batch), z_h(batch * Model::L * Model::D), z_l(batch * Model::L * Model::D),
        steps(static_cast<std::size_t>(batch), 0), halted(static_cast<std::size_t>(batch), 1),
        inputs(static_cast<std::size_t>(batch * Model::S), 0), labels(static_cast<std::size_t>(batch * Model::S), ignore_label),
        puzzle_ids(static_cast<std::size_t>(batch), 0) {}

  index_t batch;
  buffer<T> z_h, z_l;                  // (B·L, D)
  std::vector<std::int32_t> steps;     // (B)
  std::vector<std::uint8_t> halted;    // (B) all 1 initially: every row takes the first batch
  std::vector<std::int32_t> inputs, labels, puzzle_ids;  // the data each row is working on

  view<T, Model::D> zh() { return view<T, Model::D>(z_h.data(), batch * Model::L); }
  view<T, Model::D> zl() { return view<T, Model::D>(z_l.data(), batch * Model::L); }
  bool all_halted() const { return std::all_of(halted.begin(), halted.end(), [](std::uint8_t h) { return h != 0; }); }
  void reset() { std::fill(halted.begin(), halted.end(), std::uint8_t{1}); }
};

struct act_options {
  bool training = true;                 // training: Q-halting and exploration; eval: exactly N steps
  double exploration_prob = 0.1;        // halt_exploration_prob
  lm_loss_kind loss = lm_loss_kind::stablemax;
  double loss_scale = 1.0;              // the gradient is of loss · loss_scale (pretrain.py: 1/global_batch_size)
  bool backward = true;                 // run backward (training); grads accumulate into the model
};

// Per-step buffers the loss head needs, sized once.
template <class Model>
struct act_scratch {
  explicit act_scratch(index_t batch)
      : ce(static_cast<std::size_t>(batch * Model::S)), weight(ce.size()), target(static_cast<std::size_t>(batch)),
        q_cont_target(static_cast<std::size_t>(batch)), preds(ce.size()) {
    if constexpr (Model::halt_type::continue_target) {
      z_h_next.resize(static_cast<std::size_t>(batch * Model::L * Model::D));
      z_l_next.resize(z_h_next.size());
    }
  }
  std::vector<double> ce, weight, target, q_cont_target;
  std::vector<std::int32_t> preds;      // argmax of this step's logits (B·S)
  std::vector<typename Model::scalar> z_h_next, z_l_next;  // Q-continue policy: the carry of the extra pass
};

struct act_step_result {
  double loss = 0;                      // lm_loss + 0.5 (q_halt_loss + q_continue_loss), unscaled
  act_metrics metrics;
  bool all_halted = false;
};

namespace detail {
inline void check_labels(const std::int32_t* labels, index_t n, int vocab) {
  for (index_t i = 0; i < n; ++i)
    if (labels[i] != ignore_label && (labels[i] < 0 || labels[i] >= vocab))
      throw std::out_of_range("act_step: label " + std::to_string(labels[i]) + " at position " + std::to_string(i) +
                              " is neither -100 nor in [0, " + std::to_string(vocab) + ")");
}
}  // namespace detail

// One ACT step. `extra` is an inference workspace for the HRM-style Q-continue target (may be null for
// halt policies without it). The caller zeroes the model's gradients and ws.dlocal before a training step.
template <class Model, class Rng>
act_step_result act_step(Model& m, typename Model::workspace& ws, act_carry<Model>& c, const batch_ref& batch,
                         act_scratch<Model>& sc, const act_options& opt, Rng& rng,
                         typename Model::workspace* extra = nullptr) {
  using T = typename Model::scalar;
  constexpr int S = Model::S, L = Model::L, D = Model::D;
  constexpr int N = Model::cycles_v.max_act_steps;
  constexpr bool continue_target = Model::halt_type::continue_target;
  constexpr bool compare_continue = halt_compares_continue<typename Model::halt_type>();
  const index_t B = c.batch;
  if (batch.size != B)
    throw std::invalid_argument("act_step: batch of " + std::to_string(batch.size) + " rows for a carry of " + std::to_string(B));
  const auto& be = m.backend();

  // restart halted rows from the new batch
  be.parallel_for(B, [&](index_t b) {
    if (!c.halted[static_cast<std::size_t>(b)]) return;
    for (int l = 0; l < L; ++l) {
      T* h = c.z_h.data() + (b * L + l) * D;
      T* z = c.z_l.data() + (b * L + l) * D;
      for (int d = 0; d < D; ++d) { h[d] = m.h_init()[d]; z[d] = m.l_init()[d]; }
    }
    c.steps[static_cast<std::size_t>(b)] = 0;
    std::copy_n(batch.inputs + b * S, S, c.inputs.begin() + b * S);
    std::copy_n(batch.labels + b * S, S, c.labels.begin() + b * S);
    c.puzzle_ids[static_cast<std::size_t>(b)] = batch.puzzle_ids ? batch.puzzle_ids[b] : 0;
  });
  detail::check_labels(c.labels.data(), B * S, Model::V);

  const bool grad = opt.training && opt.backward;
  if (grad) m.forward(with_grad, ws, c.zh(), c.zl(), c.inputs.data(), c.puzzle_ids.data(), B);
  else m.forward(no_grad, ws, c.zh(), c.zl(), c.inputs.data(), c.puzzle_ids.data(), B);

  // halting (no gradient)
  for (index_t b = 0; b < B; ++b) {
    auto& st = c.steps[static_cast<std::size_t>(b)];
    st += 1;
    bool halt = st >= N;
    if (opt.training && N > 1) {
      const double qh = static_cast<double>(ws.q(b, 0)), qc = static_cast<double>(ws.q(b, 1));
      halt = halt || (compare_continue ? qh > qc : qh > 0);
      if (opt.exploration_prob > 0) {
        std::uniform_real_distribution<double> u(0.0, 1.0);
        std::uniform_int_distribution<int> k(2, N);
        const int min_steps = u(rng) < opt.exploration_prob ? k(rng) : 0;
        halt = halt && st >= min_steps;
      }
    }
    c.halted[static_cast<std::size_t>(b)] = halt;
  }

  // HRM-style Q-continue target from an extra forward pass on the new carry with the same data
  std::span<const double> q_cont_target;
  if constexpr (continue_target) {
    if (opt.training && N > 1) {
      if (!extra) throw std::logic_error("act_step: the Q-continue halt policy needs an extra inference workspace");
      auto& zh2 = sc.z_h_next;
      auto& zl2 = sc.z_l_next;
      std::copy(c.z_h.begin(), c.z_h.end(), zh2.begin());
      std::copy(c.z_l.begin(), c.z_l.end(), zl2.begin());
      m.forward(no_grad, *extra, view<T, D>(zh2.data(), B * L), view<T, D>(zl2.data(), B * L), c.inputs.data(),
                c.puzzle_ids.data(), B);
      for (index_t b = 0; b < B; ++b) {
        const double nh = static_cast<double>(extra->q(b, 0)), nc = static_cast<double>(extra->q(b, 1));
        const bool last = c.steps[static_cast<std::size_t>(b)] >= N;
        sc.q_cont_target[static_cast<std::size_t>(b)] = ops::sigmoid(last ? nh : std::max(nh, nc));
      }
      q_cont_target = std::span<const double>(sc.q_cont_target.data(), static_cast<std::size_t>(B));
    }
  }

  act_step_result r;
  loss_head_scratch lsc{sc.ce, sc.weight, sc.target, sc.preds};
  r.loss = act_loss<S, Model::V>(be, opt.loss, cview<T, Model::V>(ws.logits.slice(0, B * S)), cview<T, 2>(ws.q.slice(0, B)),
                                 c.labels.data(), c.steps.data(), c.halted.data(), q_cont_target, B, grad, opt.loss_scale,
                                 ws.dlogits.slice(0, B * S), ws.dq.slice(0, B), lsc, r.metrics);
  r.all_halted = c.all_halted();
  if (grad) m.backward(ws, c.inputs.data(), B);
  return r;
}

}  // namespace gtrm
