// The ACT loss head (models/losses.py:ACTLossHead, TRM_REFERENCE.md §2.2), per ACT step, in float64:
//   mask_t = label_t ≠ −100;  n_b = Σ_t mask;  div_b = max(n_b, 1);  pred = argmax logits (first on ties)
//   seq_ok_b = (#correct masked tokens == n_b)              (a row without labels counts as correct)
//   lm_loss  = Σ_b Σ_t CE_bt / div_b                         stablemax (or softmax) cross-entropy
//   q_halt_loss = Σ_b BCE(q_halt_b, seq_ok_b);  q_continue_loss = Σ_b BCE(q_cont_b, target_b) if a target exists
//   loss = lm_loss + 0.5 (q_halt_loss + q_continue_loss)
// Gradient (scaled by `scale`, e.g. 1/global_batch_size): dlogits_bt = scale/div_b · dCE_bt,
//   dq_halt_b = 0.5·scale·(σ(q_halt_b) − seq_ok_b), dq_cont_b likewise. No gradient flows through seq_ok.
// Metrics count rows with halted_b ∧ n_b > 0 only (§2.3), and are sums before normalisation.
#pragma once
#include <cstdint>
#include <span>

#include "../core/view.hpp"
#include "../ops/bce_logits.hpp"
#include "../ops/softmax_xent.hpp"
#include "../ops/stablemax_xent.hpp"

namespace gtrm {

enum class lm_loss_kind { stablemax, softmax };

struct act_metrics {
  std::int64_t count = 0;        // valid rows: halted and with at least one label
  double accuracy = 0;           // Σ_valid (correct tokens / div)
  std::int64_t exact_accuracy = 0;
  std::int64_t q_halt_accuracy = 0;
  std::int64_t steps = 0;        // Σ_valid ACT steps used
  double lm_loss = 0, q_halt_loss = 0, q_continue_loss = 0;

  act_metrics& operator+=(const act_metrics& o) {
    count += o.count; accuracy += o.accuracy; exact_accuracy += o.exact_accuracy; q_halt_accuracy += o.q_halt_accuracy;
    steps += o.steps; lm_loss += o.lm_loss; q_halt_loss += o.q_halt_loss; q_continue_loss += o.q_continue_loss;
    return *this;
  }
};

struct loss_head_scratch {
  std::span<double> ce;          // (B·S)
  std::span<double> weight;      // (B·S) per-token gradient weight
  std::span<double> target;      // (B) seq_ok as 0/1
  std::span<std::int32_t> preds; // (B·S)
};

// Computes the loss and metrics; when `grad` is set, assigns dlogits and dq (scaled by `scale`).
// q_cont_target may be empty (no continue loss).
template <int S, int V, class Be, class T>
double act_loss(const Be& be, lm_loss_kind kind, cview<T, V> logits, cview<T, 2> q, const std::int32_t* labels,
                const std::int32_t* steps, const std::uint8_t* halted, std::span<const double> q_cont_target,
                index_t batch, bool grad, double scale, view<T, V> dlogits, view<T, 2> dq, loss_head_scratch sc,
                act_metrics& m) {
  const index_t nt = batch * S;
  if (kind == lm_loss_kind::stablemax) ops::stablemax_xent_forward<Be, T, V>(be, logits, labels, sc.ce.data());
  else ops::softmax_xent_forward<Be, T, V>(be, logits, labels, sc.ce.data());
  be.parallel_for(nt, [&](index_t t) {
    const T* x = logits.row(t);
    int best = 0;
    for (int v = 1; v < V; ++v) if (x[v] > x[best]) best = v;
    sc.preds[static_cast<std::size_t>(t)] = best;
  });
  m = act_metrics{};
  for (index_t b = 0; b < batch; ++b) {
    int n = 0, correct = 0;
    double ce = 0;
    for (int s = 0; s < S; ++s) {
      const index_t t = b * S + s;
      if (labels[t] == ignore_label) continue;
      ++n;
      correct += sc.preds[static_cast<std::size_t>(t)] == labels[t];
      ce += sc.ce[static_cast<std::size_t>(t)];
    }
    const double div = n > 0 ? n : 1;
    const bool ok = correct == n;
    sc.target[static_cast<std::size_t>(b)] = ok ? 1.0 : 0.0;
    m.lm_loss += ce / div;
    const double qh = static_cast<double>(q(b, 0));
    m.q_halt_loss += ops::bce_logits_forward(qh, ok ? 1.0 : 0.0);
    if (!q_cont_target.empty()) m.q_continue_loss += ops::bce_logits_forward(static_cast<double>(q(b, 1)), q_cont_target[static_cast<std::size_t>(b)]);
    if (grad)
      for (int s = 0; s < S; ++s) sc.weight[static_cast<std::size_t>(b * S + s)] = scale / div;
    if (halted[b] && n > 0) {
      ++m.count;
      m.accuracy += correct / div;
      m.exact_accuracy += ok;
      m.q_halt_accuracy += ((qh >= 0) == ok);
      m.steps += steps[b];
    }
  }
  if (grad) {
    for (index_t i = 0; i < nt * V; ++i) dlogits[i] = T(0);
    if (kind == lm_loss_kind::stablemax)
      ops::stablemax_xent_backward<Be, T, V>(be, logits, labels, sc.weight.data(), dlogits);
    else
      ops::softmax_xent_backward<Be, T, V>(be, logits, labels, sc.weight.data(), dlogits);
    for (index_t b = 0; b < batch; ++b) {
      dq(b, 0) = static_cast<T>(0.5 * scale * ops::bce_logits_grad(static_cast<double>(q(b, 0)), sc.target[static_cast<std::size_t>(b)]));
      dq(b, 1) = q_cont_target.empty() ? T(0)
                 : static_cast<T>(0.5 * scale * ops::bce_logits_grad(static_cast<double>(q(b, 1)), q_cont_target[static_cast<std::size_t>(b)]));
    }
  }
  return m.lm_loss + 0.5 * (m.q_halt_loss + m.q_continue_loss);
}

}  // namespace gtrm
