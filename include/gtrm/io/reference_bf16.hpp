// Judging a golden-file report (io::check_reference) of a model run in precision::bf16_mixed (gtrm::cpu_bf16)
// against the reference's fp32 figures: bf16 products cost accuracy, so each quantity is held to the bound of its
// class instead of the fp32 tolerances.
//
//   tensor     logits, z_H/z_L, embeddings, parameters after an optimizer step   norm_rel
//   q          Q-head logits and targets: B values each, some near 0              max_abs
//   loss       losses and float metrics                                            relative
//   gradient   every parameter gradient                                            norm_rel
//   decisions  argmax predictions (and metrics.accuracy): fraction of tokens that differ
//   samples    halting: per-sample flags and step counters, and the metrics counting them (metrics.count,
//              metrics.steps, exact_accuracy, q_halt_accuracy): samples whose decision differs
// Data and structure rows (carry data, puzzle ids, num_steps, all_halted) stay exact.
//
// The default bounds are about 1.5-2x the worst figures measured on the TRM golden files (tests/test_golden_bf16.cpp
// has the figures): the bf16 rounding of every product operand, compounded through the recursion, sets them, not the
// summation order, so they hold whichever kernels oneDNN picks (AMX, AVX512-BF16, its AVX-512 fallback) and for the
// emulation.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>

#include "../core/types.hpp"
#include "reference_check.hpp"

namespace gtrm::io {

struct bf16_tolerances {
  double tensor = 8e-2;
  double q = 0.15;
  double loss = 4e-2;
  double gradient = 0.1;
  double decisions = 0.15;
  double samples = 1;
};

// The worst figure of each class.
struct bf16_worst {
  double tensor = 0, q = 0, loss = 0, gradient = 0, decisions = 0, samples = 0;
};

namespace detail {
inline bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
}  // namespace detail

// Re-judges every row of rep by its class (tolerance and pass); batch: the file's B; max_act_steps: the model's.
inline bf16_worst apply_bf16_tolerances(reference_report& rep, const bf16_tolerances& tol, index_t batch, int max_act_steps) {
  using detail::has;
  bf16_worst w;
  const auto judge = [](comparison& r, double& worst, double figure, double bound) {
    worst = std::max(worst, figure);
    r.tolerance = bound;
    r.pass = std::isfinite(figure) && figure <= bound + 1e-12;
  };
  for (auto& r : rep.rows) {
    const std::string& n = r.name;
    if (has(n, "preds") || has(n, "metrics.accuracy")) {
      judge(r, w.decisions, r.exact ? r.norm_rel : r.max_abs, tol.decisions);  // an exact row's norm_rel: fraction wrong
    } else if (has(n, "carry.halted") || has(n, "carry.steps")) {
      judge(r, w.samples, std::round(r.norm_rel * static_cast<double>(batch)), tol.samples);
    } else if (has(n, "metrics.steps")) {  // a flipped sample moves it by up to its step count
      judge(r, w.samples, std::ceil(r.max_abs / max_act_steps), tol.samples);
    } else if (has(n, "metrics.count") || has(n, "metrics.exact_accuracy") || has(n, "metrics.q_halt_accuracy")) {
      judge(r, w.samples, r.max_abs, tol.samples);
    } else if (r.exact) {
      r.pass = r.max_abs == 0;
    } else if (has(n, "grad/")) {
      judge(r, w.gradient, r.norm_rel, tol.gradient);
    } else if (has(n, "q_halt_logits") || has(n, "q_continue_logits") || has(n, "target_q_continue")) {
      judge(r, w.q, r.max_abs, tol.q);
    } else if (has(n, "loss") || has(n, "metrics.")) {
      judge(r, w.loss, r.norm_rel, tol.loss);
    } else {
      judge(r, w.tensor, r.norm_rel, tol.tensor);
    }
  }
  return w;
}

}  // namespace gtrm::io
