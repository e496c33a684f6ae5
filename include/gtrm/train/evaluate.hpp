// Evaluation as the reference runs it (§6.1): every batch from a fresh carry, exactly halt_max_steps ACT steps
// in eval mode (no Q-halting, no exploration), metrics from the last step, summed over batches.
// `next(batch_ref&, index_t& real_rows)` supplies batches (padding rows have no labels and do not count);
// `on_final(carry, workspace, scratch, real_rows)` sees the last step of each batch: its per-row numbers (q logits
// among them) in scratch.rows_host, its predictions in backend storage (scratch.preds; copy them out with
// scratch.copy_preds) — the ARC evaluator votes from there.
#pragma once
#include <cstdint>
#include <random>

#include "../model/act.hpp"
#include "../model/frozen_weights.hpp"

namespace gtrm::train {

struct eval_result {
  act_metrics metrics;                 // sums over valid rows
  std::int64_t examples = 0;           // real rows seen
  double exact_accuracy() const { return metrics.count ? static_cast<double>(metrics.exact_accuracy) / metrics.count : 0.0; }
  double accuracy() const { return metrics.count ? metrics.accuracy / metrics.count : 0.0; }
  double mean_steps() const { return metrics.count ? static_cast<double>(metrics.steps) / metrics.count : 0.0; }
};

struct no_final_hook {
  template <class... A> void operator()(A&&...) const {}
};

template <class Model, class Next, class OnFinal = no_final_hook>
eval_result evaluate(Model& m, index_t batch_size, Next&& next, OnFinal&& on_final = {}) {
  typename Model::workspace ws(batch_size, false);
  act_carry<Model> carry(m.backend(), batch_size);
  act_scratch<Model> sc(batch_size);
  act_options opt{.training = false, .exploration_prob = 0.0, .backward = false};
  std::minstd_rand rng(0);  // eval mode draws nothing (no exploration); act_step's signature wants a generator
  eval_result out;
  batch_ref b;
  index_t real = 0;
  [[maybe_unused]] const auto frozen = freeze_weights(m);  // evaluation does not move the weights
  while (next(b, real)) {
    carry.reset(m.backend());
    act_step_result r;
    for (int s = 0; s < Model::cycles_v.max_act_steps; ++s) r = act_step(m, ws, carry, b, sc, opt, rng);
    out.metrics += r.metrics;
    out.examples += real;
    on_final(carry, ws, sc, real);
  }
  return out;
}

}  // namespace gtrm::train
