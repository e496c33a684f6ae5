// The ACT loss head (the reference's models/losses.py:ACTLossHead), per ACT step, in float64:
//   mask_t = label_t ≠ −100;  n_b = Σ_t mask;  div_b = max(n_b, 1);  pred = argmax logits (first on ties)
//   seq_ok_b = (#correct masked tokens == n_b)              (a row without labels counts as correct)
//   lm_loss  = Σ_b Σ_t CE_bt / div_b                         stablemax (or softmax) cross-entropy
//   q_halt_loss = Σ_b BCE(q_halt_b, seq_ok_b);  q_continue_loss = Σ_b BCE(q_cont_b, target_b) if a target exists
//   loss = lm_loss + 0.5 (q_halt_loss + q_continue_loss)
// Gradient (scaled by `scale`, e.g. 1/global_batch_size): dlogits_bt = scale/div_b · dCE_bt,
//   dq_halt_b = 0.5·scale·(σ(q_halt_b) − seq_ok_b), dq_cont_b likewise. No gradient flows through seq_ok.
// Metrics count rows with halted_b ∧ n_b > 0 only, and are sums before normalisation.
//
// Everything up to the per-row numbers runs on the backend (parallel_for over tokens, then over rows) and writes one
// act_row_stats per row; the host sums those O(batch) records (sum_row_stats), in row order, so the totals are the
// same float64 sums as a host loop over the rows. The host never reads logits.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../core/view.hpp"
#include "../ops/argmax.hpp"
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

  // As doubles, for one all-reduce over ranks (counts stay exact below 2^53).
  static constexpr std::size_t packed_size = 8;
  void pack(double* v) const {
    v[0] = static_cast<double>(count); v[1] = accuracy; v[2] = static_cast<double>(exact_accuracy);
    v[3] = static_cast<double>(q_halt_accuracy); v[4] = static_cast<double>(steps); v[5] = lm_loss; v[6] = q_halt_loss;
    v[7] = q_continue_loss;
  }
  void unpack(const double* v) {
    count = static_cast<std::int64_t>(v[0]); accuracy = v[1]; exact_accuracy = static_cast<std::int64_t>(v[2]);
    q_halt_accuracy = static_cast<std::int64_t>(v[3]); steps = static_cast<std::int64_t>(v[4]); lm_loss = v[5];
    q_halt_loss = v[6]; q_continue_loss = v[7];
  }
};

// What one row of one ACT step reports to the host: its loss terms, metric inputs and halting state.
struct act_row_stats {
  double lm_loss = 0;            // Σ_t CE_bt / div_b
  double accuracy = 0;           // correct_b / div_b
  double q_halt_loss = 0;        // BCE(q_halt_b, seq_ok_b)
  double q_continue_loss = 0;    // BCE(q_continue_b, target_b); 0 without a target
  double q_halt = 0, q_continue = 0;  // the Q logits
  std::int32_t labels = 0;       // n_b
  std::int32_t correct = 0;      // correct masked tokens
  std::int32_t steps = 0;        // the row's ACT steps after this step
  std::uint8_t exact = 0;        // seq_ok_b
  std::uint8_t halted = 0;       // the row halted at this step
};

// Backend storage the loss head writes (sized by the caller, act_scratch).
struct loss_head_buffers {
  double* ce = nullptr;            // (B·S) per-token cross-entropy
  double* weight = nullptr;        // (B·S) per-token gradient weight scale/div_b
  std::int32_t* preds = nullptr;   // (B·S) argmax
  act_row_stats* rows = nullptr;   // (B)
};

// Forward: ce, preds and one act_row_stats per row; with `grad`, also the per-token gradient weights.
// steps/halted are the carry's (after this step's halting); q_cont_target (B) may be null (no continue loss).
template <int S, int V, class Be, class T>
void loss_head_forward(const Be& be, lm_loss_kind kind, cview<T, V> logits, cview<T, 2> q, const std::int32_t* labels,
                       const std::int32_t* steps, const std::uint8_t* halted, const double* q_cont_target, index_t batch,
                       bool grad, double scale, loss_head_buffers out) {
  if (kind == lm_loss_kind::stablemax) ops::stablemax_xent_forward<Be, T, V>(be, logits, labels, out.ce);
  else ops::softmax_xent_forward<Be, T, V>(be, logits, labels, out.ce);
  ops::argmax_forward<Be, T, V>(be, logits, out.preds);
  const double* ce = out.ce;
  const std::int32_t* preds = out.preds;
  act_row_stats* rows = out.rows;
  double* weight = grad ? out.weight : nullptr;
  be.parallel_for(batch, [=] GTRM_HD (index_t b) {
    int n = 0, correct = 0;
    double ce_sum = 0;
    for (int s = 0; s < S; ++s) {
      const index_t t = b * S + s;
      if (labels[t] == ignore_label) continue;
      ++n;
      correct += preds[t] == labels[t];
      ce_sum += ce[t];
    }
    const double div = n > 0 ? n : 1;
    const bool ok = correct == n;
    act_row_stats r;
    r.lm_loss = ce_sum / div;
    r.accuracy = correct / div;
    r.q_halt = static_cast<double>(q(b, 0));
    r.q_continue = static_cast<double>(q(b, 1));
    r.q_halt_loss = ops::bce_logits_forward(r.q_halt, ok ? 1.0 : 0.0);
    r.q_continue_loss = q_cont_target ? ops::bce_logits_forward(r.q_continue, q_cont_target[b]) : 0.0;
    r.labels = n;
    r.correct = correct;
    r.steps = steps[b];
    r.exact = ok;
    r.halted = halted[b];
    rows[b] = r;
    if (weight)
      for (int s = 0; s < S; ++s) weight[b * S + s] = scale / div;
  });
}

// Backward: assigns dlogits (B·S, V) and dq (B, 2) from the forward's weights and row stats.
template <int S, int V, class Be, class T>
void loss_head_backward(const Be& be, lm_loss_kind kind, cview<T, V> logits, cview<T, 2> q, const std::int32_t* labels,
                        const double* q_cont_target, index_t batch, double scale, const loss_head_buffers& in,
                        view<T, V> dlogits, view<T, 2> dq) {
  be.parallel_for(batch * S, [=] GTRM_HD (index_t t) {
    T* d = dlogits.row(t);
    for (int v = 0; v < V; ++v) d[v] = T(0);
  });
  if (kind == lm_loss_kind::stablemax) ops::stablemax_xent_backward<Be, T, V>(be, logits, labels, in.weight, dlogits);
  else ops::softmax_xent_backward<Be, T, V>(be, logits, labels, in.weight, dlogits);
  const act_row_stats* rows = in.rows;
  be.parallel_for(batch, [=] GTRM_HD (index_t b) {
    dq(b, 0) = static_cast<T>(0.5 * scale * ops::bce_logits_grad(static_cast<double>(q(b, 0)), rows[b].exact ? 1.0 : 0.0));
    dq(b, 1) = q_cont_target
                   ? static_cast<T>(0.5 * scale * ops::bce_logits_grad(static_cast<double>(q(b, 1)), q_cont_target[b]))
                   : T(0);
  });
}

// The host's half: the step's metrics from the row stats (host memory), summed in row order.
inline act_metrics sum_row_stats(const act_row_stats* rows, index_t batch, bool continue_loss) {
  act_metrics m;
  for (index_t b = 0; b < batch; ++b) {
    const act_row_stats& r = rows[b];
    m.lm_loss += r.lm_loss;
    m.q_halt_loss += r.q_halt_loss;
    if (continue_loss) m.q_continue_loss += r.q_continue_loss;
    if (r.halted && r.labels > 0) {
      ++m.count;
      m.accuracy += r.accuracy;
      m.exact_accuracy += r.exact;
      m.q_halt_accuracy += ((r.q_halt >= 0) == (r.exact != 0));
      m.steps += r.steps;
    }
  }
  return m;
}

inline double total_loss(const act_metrics& m) { return m.lm_loss + 0.5 * (m.q_halt_loss + m.q_continue_loss); }

}  // namespace gtrm
