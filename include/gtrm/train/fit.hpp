// The training loop around trainer<Model>: batches from a train_loader, one trainer step per batch, progress every
// log_every steps, an evaluation hook every eval_every steps, and a stop check between steps (Ctrl-C, time limits).
//
//   train::fit_window window;
//   auto status = train::fit(tr, loader, {.total_steps = 2000, .log_every = 100, .eval_every = 500},
//                            {.on_log = [](const train::fit_progress& p) { ... },
//                             .on_eval = [&](std::int64_t step) { ... evaluate_split(...) ... }});
//
// Resuming: restore the trainer (trainer::load_state), position a fresh loader with skip_batches(loader, tr.step())
// (the loader is deterministic per pass, so this replays its sampling without training) and pass the saved
// fit_window back; the run then continues exactly as if it had never stopped.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include "../data/dataset.hpp"
#include "../data/loader.hpp"
#include "comm.hpp"
#include "evaluate.hpp"
#include "trainer.hpp"

namespace gtrm::train {

// Sums over the steps since the last progress report.
struct fit_window {
  std::int64_t batches = 0;
  double loss = 0;              // sum over steps of the step's mean loss per row
  act_metrics metrics;          // summed metrics of the rows that halted in these steps

  void add(const train_step_result& r, index_t batch_size) {
    ++batches;
    loss += r.loss / static_cast<double>(batch_size);
    metrics += r.metrics;
  }
  void clear() { *this = fit_window{}; }
};

// One progress report: means over the window.
struct fit_progress {
  std::int64_t step = 0, total_steps = 0;
  std::int64_t batches = 0;      // steps in the window
  double loss = 0;               // mean loss per row and step
  double accuracy = 0;           // token accuracy of the rows that halted (the reference's train/accuracy)
  double exact_accuracy = 0;     // exact accuracy of the rows that halted (train/exact_accuracy)
  double q_halt_accuracy = 0;
  double mean_steps = 0;         // ACT steps of the rows that halted
  std::int64_t halted = 0;       // rows that halted in the window
  double lr = 0;
  double steps_per_second = 0;   // wall clock over the window
  double eta_seconds = 0;        // to total_steps at that speed
};

inline fit_progress make_progress(const fit_window& w, std::int64_t step, std::int64_t total, double lr, double seconds) {
  fit_progress p;
  p.step = step;
  p.total_steps = total;
  p.batches = w.batches;
  p.loss = w.batches ? w.loss / static_cast<double>(w.batches) : 0.0;
  const auto& m = w.metrics;
  p.halted = m.count;
  if (m.count) {
    const double c = static_cast<double>(m.count);
    p.accuracy = m.accuracy / c;
    p.exact_accuracy = static_cast<double>(m.exact_accuracy) / c;
    p.q_halt_accuracy = static_cast<double>(m.q_halt_accuracy) / c;
    p.mean_steps = static_cast<double>(m.steps) / c;
  }
  p.lr = lr;
  p.steps_per_second = seconds > 0 ? static_cast<double>(w.batches) / seconds : 0.0;
  p.eta_seconds = p.steps_per_second > 0 ? static_cast<double>(total - step) / p.steps_per_second : 0.0;
  return p;
}

struct fit_options {
  std::int64_t total_steps = 0;     // train until trainer.step() reaches this
  std::int64_t log_every = 100;     // progress report every this many steps (0: never)
  std::int64_t eval_every = 0;      // on_eval every this many steps (0: only at the end); always at the end
  std::int64_t max_steps = 0;       // stop after this many steps of this call, status paused (0: no limit)
};

struct fit_callbacks {
  std::function<void(const fit_progress&)> on_log;
  std::function<void(std::int64_t step)> on_eval;   // evaluation, checkpoints: the caller's business
  std::function<void(std::int64_t step, const train_step_result&)> on_step;
  std::function<bool()> stop_requested;             // checked between steps
};

enum class fit_status { finished, interrupted, paused };

// The loader's next batch, starting a new pass when one ends.
inline void next_batch(data::train_loader& loader, data::batch& b) {
  if (loader.pass() > 0 && loader.next(b)) return;
  for (int tries = 0; tries < 2; ++tries) {
    loader.begin_pass();
    if (loader.next(b)) return;
  }
  throw data::data_error("the training split holds fewer examples than one batch: lower the batch size");
}

// Positions a fresh loader after `batches` batches, as if they had been trained on.
inline void skip_batches(data::train_loader& loader, std::int64_t batches) {
  data::batch b;
  for (std::int64_t i = 0; i < batches; ++i) next_batch(loader, b);
}

inline batch_ref as_batch_ref(const data::batch& b) {
  return {b.inputs, b.labels, b.puzzle_identifiers, b.batch_size};
}

template <class Model, class Comm>
fit_status fit(trainer<Model, Comm>& tr, data::train_loader& loader, const fit_options& opt, const fit_callbacks& cb,
               fit_window& window) {
  using clock = std::chrono::steady_clock;
  auto window_start = clock::now();
  const std::int64_t first = tr.step();
  data::batch b;
  while (tr.step() < opt.total_steps) {
    if (cb.stop_requested && cb.stop_requested()) return fit_status::interrupted;
    if (opt.max_steps > 0 && tr.step() - first >= opt.max_steps) return fit_status::paused;
    next_batch(loader, b);
    const auto r = tr.train_batch(as_batch_ref(b));
    window.add(r, tr.config().global_batch_size);   // the step's metrics are the whole batch's (every rank's)
    const std::int64_t step = tr.step();
    if (cb.on_step) cb.on_step(step, r);
    if (opt.log_every > 0 && step % opt.log_every == 0) {
      const auto now = clock::now();
      // the first window after a resume started before this call: its speed covers only this call's steps
      const double secs = std::chrono::duration<double>(now - window_start).count();
      auto p = make_progress(window, step, opt.total_steps, r.lr, secs);
      if (step - first < window.batches && secs > 0) {
        p.steps_per_second = static_cast<double>(step - first) / secs;
        p.eta_seconds = static_cast<double>(opt.total_steps - step) / p.steps_per_second;
      }
      if (cb.on_log) cb.on_log(p);
      window.clear();
      window_start = now;
    }
    if (cb.on_eval && ((opt.eval_every > 0 && step % opt.eval_every == 0) || step == opt.total_steps))
      cb.on_eval(step);
  }
  return fit_status::finished;
}

template <class Model, class Comm>
fit_status fit(trainer<Model, Comm>& tr, data::train_loader& loader, const fit_options& opt, const fit_callbacks& cb = {}) {
  fit_window w;
  return fit(tr, loader, opt, cb, w);
}

// Evaluation on a dataset split as the reference runs it (every example, exactly max_act_steps ACT steps), at most
// max_examples examples (0: all, rounded up to whole batches). on_final sees each batch's last step (evaluate.hpp).
// With a communicator of N ranks (collective): each rank runs its batch_size / N rows of every global batch (the
// loader's rank slice) and the metrics are summed over ranks, so every rank returns the whole split's result.
// on_final then sees this rank's rows of each batch, once per batch on every rank: ARC voting gathers them on rank 0
// from there (eval/arc_vote_gather.hpp, a collective per batch, as `gtrm eval` does).
template <class Model, class OnFinal, comm::communicator Comm>
  requires(!Comm::device_memory)  // host metrics; a device communicator reaches evaluation through comm::mpi
eval_result evaluate_split(Model& m, const data::split_data& split, const data::dataset_metadata& meta, index_t batch_size,
                           std::int64_t max_examples, OnFinal&& on_final, const Comm& c) {
  if (batch_size % c.size() != 0)
    throw std::invalid_argument("evaluation batch " + std::to_string(batch_size) + " is not a multiple of the " +
                                std::to_string(c.size()) + " ranks");
  data::test_loader loader(split, meta, {.seed = 0, .global_batch_size = batch_size, .rank = c.rank(), .num_replicas = c.size()});
  loader.begin();
  data::batch b;
  std::int64_t seen = 0;  // global rows, the same count on every rank
  eval_result r = evaluate(
      m, batch_size / c.size(),
      [&](batch_ref& out, index_t& real) {
        if (max_examples > 0 && seen >= max_examples) return false;
        if (!loader.next(b)) return false;
        out = as_batch_ref(b);
        real = b.rows;
        seen += b.global_rows;
        return true;
      },
      on_final);
  if (c.size() > 1) {
    double v[1 + act_metrics::packed_size];
    v[0] = static_cast<double>(r.examples);
    r.metrics.pack(v + 1);
    comm::all_reduce_sum(c, std::span<double>(v, 1 + act_metrics::packed_size));
    r.examples = static_cast<std::int64_t>(v[0]);
    r.metrics.unpack(v + 1);
  }
  return r;
}

template <class Model, class OnFinal = no_final_hook>
eval_result evaluate_split(Model& m, const data::split_data& split, const data::dataset_metadata& meta, index_t batch_size,
                           std::int64_t max_examples = 0, OnFinal&& on_final = {}) {
  return evaluate_split(m, split, meta, batch_size, max_examples, std::forward<OnFinal>(on_final), comm::none{});
}

}  // namespace gtrm::train
