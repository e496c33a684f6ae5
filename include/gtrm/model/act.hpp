// Adaptive computation time with a persistent carry (trm.py:TinyRecursiveReasoningModel_ACTV1).
//
// One call = one ACT step for every row of the batch:
//   rows that halted last step restart: z_H ← H_init, z_L ← L_init, steps ← 0, data ← the new batch's row;
//   rows still running keep their z, steps and data (the new batch's row at that index is discarded);
//   inner forward (with the tape when training), steps += 1, halted = steps ≥ N, and in training also
//   halted |= q_halt > 0 (TRM) or q_halt > q_continue (HRM and transformer policies), with exploration only
//   delaying halting:
//   min_steps = (u < p) · uniform{2..N}, halted &= steps ≥ min_steps.
// The loss head runs on the data the step actually used (`current data`), every row, halted or not.
//
// Where things live: the carry (z, steps, halted, current data) and the step's scratch are backend storage
// (act_storage); restarts, refills, halting and the loss head are per-row backend operations. The host uploads
// the new batch and the O(batch) exploration draws, and reads back one act_row_stats per row at the end of the
// step (losses, metrics, halting) — never activations. Predictions stay in backend storage until a caller copies
// them out (act_scratch::copy_preds).
#pragma once
#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "../concepts.hpp"
#include "../core/buffer.hpp"
#include "../core/grad_mode.hpp"
#include "../ops/activation.hpp"
#include "../policy/policies.hpp"
#include "loss_head.hpp"

namespace gtrm {

// Backend storage of the ACT state (device memory on cuda).
template <class Be, class T>
using act_storage = buffer_t<Be, T>;

namespace detail {
// Host → backend and backend → host copies of the first n elements of small per-step arrays (the batch, draws,
// row stats, predictions).
template <class Be, class T>
void act_upload(const Be& be, const T* host, index_t n, act_storage<Be, T>& dst) {
  if (n <= 0) return;  // also tells GCC the size is not negative (its -Wstringop-overflow false positive)
  from_host(be, std::span<T>(dst.data(), static_cast<std::size_t>(n)), host);
}
template <class Be, class T>
void act_download(const Be& be, const act_storage<Be, T>& src, index_t n, T* host) {
  if (n <= 0) return;
  to_host(be, host, std::span<const T>(src.data(), static_cast<std::size_t>(n)));
}
}  // namespace detail

// A batch as the model sees it: int32 arrays of B·S tokens, B·S labels (−100 = ignored) and B puzzle ids, in host
// memory (act_step uploads it).
struct batch_ref {
  const std::int32_t* inputs = nullptr;
  const std::int32_t* labels = nullptr;
  const std::int32_t* puzzle_ids = nullptr;
  index_t size = 0;
};

template <class Model>
struct act_carry {
  using T = typename Model::scalar;
  using Be = typename Model::backend_type;
  template <class U>
  using storage = act_storage<Be, U>;

  // A host backend needs no tag to fill its memory; a device backend's carry is made with the model's backend.
  explicit act_carry(index_t batch)
    requires(!device_memory_backend<Be>)
      : act_carry(Be{}, batch) {}
  act_carry(const Be& be, index_t batch)
      : batch(batch), z_h(batch * Model::L * Model::D), z_l(batch * Model::L * Model::D), steps(batch), halted(batch),
        inputs(batch * Model::S), labels(batch * Model::S), puzzle_ids(batch) {
    fill(be, halted, 1);
    fill(be, labels, ignore_label);
  }

  index_t batch;
  storage<T> z_h, z_l;                          // (B·L, D)
  storage<std::int32_t> steps;                  // (B)
  storage<std::uint8_t> halted;                 // (B) all 1 initially: every row takes the first batch
  storage<std::int32_t> inputs, labels;         // (B·S) the data each row is working on
  storage<std::int32_t> puzzle_ids;             // (B)

  view<T, Model::D> zh() { return view<T, Model::D>(z_h.data(), batch * Model::L); }
  view<T, Model::D> zl() { return view<T, Model::D>(z_l.data(), batch * Model::L); }
  // Every row takes the next batch (a fresh evaluation batch): a backend fill of `halted`.
  void reset(const Be& be) {
    std::uint8_t* h = halted.data();
    be.parallel_for(batch, [=] GTRM_HD (index_t b) { h[b] = 1; });
  }
};

struct act_options {
  bool training = true;                 // training: Q-halting and exploration; eval: exactly N steps
  double exploration_prob = 0.1;        // halt_exploration_prob
  lm_loss_kind loss = lm_loss_kind::stablemax;
  double loss_scale = 1.0;              // the gradient is of loss · loss_scale (pretrain.py: 1/global_batch_size)
  bool backward = true;                 // run backward (training); grads accumulate into the model
  // data parallelism (train/comm.hpp): this batch is rows [row_offset, row_offset + B) of a global batch of
  // global_rows (0: B); exploration draws for every global row and keeps this rank's, as one process would
  index_t row_offset = 0, global_rows = 0;
};

// Per-step buffers, sized once: backend storage for what the step computes, and the host copy of the row stats.
template <class Model>
struct act_scratch {
  using T = typename Model::scalar;
  using Be = typename Model::backend_type;
  template <class U>
  using storage = act_storage<Be, U>;

  explicit act_scratch(index_t batch)
      : batch(batch), ce(batch * Model::S), weight(batch * Model::S), preds(batch * Model::S), rows(batch),
        rows_host(static_cast<std::size_t>(batch)), new_inputs(batch * Model::S), new_labels(batch * Model::S),
        new_puzzle_ids(batch), min_steps(batch), min_steps_host(static_cast<std::size_t>(batch)) {
    if constexpr (Model::halt_type::continue_target) {
      q_cont_target.resize(batch);
      z_h_next.resize(batch * Model::L * Model::D);
      z_l_next.resize(batch * Model::L * Model::D);
    }
  }

  index_t batch;
  storage<double> ce, weight;                   // (B·S) per-token cross-entropy and gradient weight
  storage<std::int32_t> preds;                  // (B·S) argmax of this step's logits
  storage<act_row_stats> rows;                  // (B) this step's per-row numbers
  std::vector<act_row_stats> rows_host;         // (B) their host copy, read once per step
  storage<std::int32_t> new_inputs, new_labels, new_puzzle_ids;  // the uploaded batch (B·S, B·S, B)
  storage<std::int32_t> min_steps;              // (B) exploration's minimum steps, drawn on the host
  std::vector<std::int32_t> min_steps_host;
  storage<double> q_cont_target;                // (B) Q-continue policy: the target from the extra pass
  storage<T> z_h_next, z_l_next;                // (B·L, D) Q-continue policy: the carry of the extra pass

  loss_head_buffers buffers() { return {ce.data(), weight.data(), preds.data(), rows.data()}; }
  // The explicit copy-out of the last step's predictions: the first n rows (n·S tokens) into host memory.
  void copy_preds(const Be& be, index_t n, std::int32_t* out) const { detail::act_download(be, preds, n * Model::S, out); }
};

struct act_step_result {
  double loss = 0;                      // lm_loss + 0.5 (q_halt_loss + q_continue_loss), unscaled
  act_metrics metrics;
  bool all_halted = false;
  std::span<const act_row_stats> rows;  // this step's per-row numbers (host memory, the scratch's rows_host)
};

namespace detail {
inline void check_labels(const std::int32_t* labels, index_t n, int vocab) {
  for (index_t i = 0; i < n; ++i)
    if (labels[i] != ignore_label && (labels[i] < 0 || labels[i] >= vocab))
      throw std::out_of_range("act_step: label " + std::to_string(labels[i]) + " at position " + std::to_string(i) +
                              " is neither -100 nor in [0, " + std::to_string(vocab) + ")");
}

// Rows that halted last step restart from the uploaded batch: z ← H_init/L_init, steps ← 0, data ← the new row.
template <class Model>
void act_restart_halted(const Model& m, act_carry<Model>& c, const act_scratch<Model>& sc) {
  using T = typename Model::scalar;
  constexpr int S = Model::S, L = Model::L, D = Model::D;
  const T* h_init = m.h_init().data();
  const T* l_init = m.l_init().data();
  T* z_h = c.z_h.data();
  T* z_l = c.z_l.data();
  std::int32_t* steps = c.steps.data();
  const std::uint8_t* halted = c.halted.data();
  std::int32_t* inputs = c.inputs.data();
  std::int32_t* labels = c.labels.data();
  std::int32_t* ids = c.puzzle_ids.data();
  const std::int32_t* new_inputs = sc.new_inputs.data();
  const std::int32_t* new_labels = sc.new_labels.data();
  const std::int32_t* new_ids = sc.new_puzzle_ids.data();
  m.backend().parallel_for(c.batch, [=] GTRM_HD (index_t b) {
    if (!halted[b]) return;
    for (int l = 0; l < L; ++l) {
      T* h = z_h + (b * L + l) * D;
      T* z = z_l + (b * L + l) * D;
      for (int d = 0; d < D; ++d) { h[d] = h_init[d]; z[d] = l_init[d]; }
    }
    steps[b] = 0;
    for (int s = 0; s < S; ++s) {
      inputs[b * S + s] = new_inputs[b * S + s];
      labels[b * S + s] = new_labels[b * S + s];
    }
    ids[b] = new_ids[b];
  });
}

// steps += 1; halted = steps ≥ N, or in training the Q rule delayed by exploration (min_steps null: none).
template <class Model>
void act_halt(const Model& m, act_carry<Model>& c, cview<typename Model::scalar, 2> q, bool q_rule,
              const std::int32_t* min_steps) {
  constexpr int N = Model::cycles_v.max_act_steps;
  constexpr bool compare_continue = halt_compares_continue<typename Model::halt_type>();
  std::int32_t* steps = c.steps.data();
  std::uint8_t* halted = c.halted.data();
  m.backend().parallel_for(c.batch, [=] GTRM_HD (index_t b) {
    const std::int32_t st = steps[b] + 1;
    steps[b] = st;
    bool halt = st >= N;
    if (q_rule) {
      const double qh = static_cast<double>(q(b, 0)), qc = static_cast<double>(q(b, 1));
      halt = halt || (compare_continue ? qh > qc : qh > 0);
      if (min_steps) halt = halt && st >= min_steps[b];
    }
    halted[b] = halt;
  });
}

// The Q-continue target of the HRM-style policy: σ(q_halt') at the last step, else σ(max(q_halt', q_continue'))
// where q' is the extra pass's Q head.
template <class Model>
void act_continue_target(const Model& m, const act_carry<Model>& c, cview<typename Model::scalar, 2> q_next, double* target) {
  constexpr int N = Model::cycles_v.max_act_steps;
  const std::int32_t* steps = c.steps.data();
  m.backend().parallel_for(c.batch, [=] GTRM_HD (index_t b) {
    const double nh = static_cast<double>(q_next(b, 0)), nc = static_cast<double>(q_next(b, 1));
    target[b] = ops::sigmoid(steps[b] >= N ? nh : std::max(nh, nc));
  });
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
  const index_t B = c.batch;
  if (batch.size != B)
    throw std::invalid_argument("act_step: batch of " + std::to_string(batch.size) + " rows for a carry of " + std::to_string(B));
  if (sc.batch != B)
    throw std::invalid_argument("act_step: scratch for " + std::to_string(sc.batch) + " rows, carry of " + std::to_string(B));
  const auto& be = m.backend();

  // upload the new batch (host data), then restart the halted rows from it
  detail::check_labels(batch.labels, B * S, Model::V);
  // a device model cannot read its ids: check the host batch before it goes up (a host model checks the rows
  // it actually runs, in forward)
  if constexpr (device_memory_backend<typename Model::backend_type>) m.check_host_ids(batch.inputs, batch.puzzle_ids, B);
  detail::act_upload(be, batch.inputs, B * S, sc.new_inputs);
  detail::act_upload(be, batch.labels, B * S, sc.new_labels);
  if (batch.puzzle_ids) {
    detail::act_upload(be, batch.puzzle_ids, B, sc.new_puzzle_ids);
  } else {
    std::int32_t* ids = sc.new_puzzle_ids.data();
    be.parallel_for(B, [=] GTRM_HD (index_t b) { ids[b] = 0; });
  }
  detail::act_restart_halted(m, c, sc);

  const bool grad = opt.training && opt.backward;
  if (grad) m.forward(with_grad, ws, c.zh(), c.zl(), c.inputs.data(), c.puzzle_ids.data(), B);
  else m.forward(no_grad, ws, c.zh(), c.zl(), c.inputs.data(), c.puzzle_ids.data(), B);

  // halting (no gradient); exploration draws on the host, row by row in the order they always had
  const bool q_rule = opt.training && N > 1;
  const bool explore = q_rule && opt.exploration_prob > 0;
  if (explore) {
    const index_t G = opt.global_rows > 0 ? opt.global_rows : B;
    for (index_t g = 0; g < G; ++g) {
      std::uniform_real_distribution<double> u(0.0, 1.0);
      std::uniform_int_distribution<int> k(2, N);
      const std::int32_t m = u(rng) < opt.exploration_prob ? k(rng) : 0;
      const index_t b = g - opt.row_offset;
      if (b >= 0 && b < B) sc.min_steps_host[static_cast<std::size_t>(b)] = m;
    }
    detail::act_upload(be, sc.min_steps_host.data(), B, sc.min_steps);
  }
  const cview<T, 2> q = ws.q.slice(0, B);
  detail::act_halt(m, c, q, q_rule, explore ? sc.min_steps.data() : nullptr);

  // HRM-style Q-continue target from an extra forward pass on the new carry with the same data
  const double* q_cont_target = nullptr;
  if constexpr (Model::halt_type::continue_target) {
    if (q_rule) {
      if (!extra) throw std::logic_error("act_step: the Q-continue halt policy needs an extra inference workspace");
      const T* zh = c.z_h.data();
      const T* zl = c.z_l.data();
      T* zh2 = sc.z_h_next.data();
      T* zl2 = sc.z_l_next.data();
      be.parallel_for(B * L * D, [=] GTRM_HD (index_t i) { zh2[i] = zh[i]; zl2[i] = zl[i]; });
      m.forward(no_grad, *extra, view<T, D>(zh2, B * L), view<T, D>(zl2, B * L), c.inputs.data(), c.puzzle_ids.data(), B);
      detail::act_continue_target(m, c, extra->q.slice(0, B), sc.q_cont_target.data());
      q_cont_target = sc.q_cont_target.data();
    }
  }

  const cview<T, Model::V> logits = ws.logits.slice(0, B * S);
  loss_head_forward<S, Model::V>(be, opt.loss, logits, q, c.labels.data(), c.steps.data(), c.halted.data(), q_cont_target,
                                 B, grad, opt.loss_scale, sc.buffers());
  if (grad) {
    loss_head_backward<S, Model::V>(be, opt.loss, logits, q, c.labels.data(), q_cont_target, B, opt.loss_scale,
                                    sc.buffers(), ws.dlogits.slice(0, B * S), ws.dq.slice(0, B));
    m.backward(ws, c.inputs.data(), B);
  }

  // the host's one read of the step: O(B) row stats
  detail::act_download(be, sc.rows, B, sc.rows_host.data());
  act_step_result r;
  r.rows = std::span<const act_row_stats>(sc.rows_host.data(), static_cast<std::size_t>(B));
  r.metrics = sum_row_stats(sc.rows_host.data(), B, q_cont_target != nullptr);
  r.loss = total_loss(r.metrics);
  r.all_halted = std::all_of(r.rows.begin(), r.rows.end(), [](const act_row_stats& s) { return s.halted != 0; });
  return r;
}

}  // namespace gtrm
