// The reference learning-rate schedule (pretrain.py cosine_schedule_with_warmup_lr_lambda; docs/reference.md
// §3.4), with s the 1-based optimizer step, W the warm-up steps and r the minimum ratio:
//   lr(s) = base · s / max(1, W)                                  if s < W
//         = base · (r + max(0, (1 − r) · ½ · (1 + cos(π · p))))   otherwise, with p = (s − W) / max(1, total − W)
// Every TRM config uses r = 1: a linear warm-up to base, then constant. Like the reference, p is not clamped
// past total_steps (training stops there). Both optimizers use it, each with its own base rate.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>

namespace gtrm::train {

inline double cosine_schedule_with_warmup(std::int64_t step, double base_lr, std::int64_t warmup_steps,
                                          std::int64_t total_steps, double min_ratio) {
  if (step < warmup_steps)
    return base_lr * static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup_steps));
  const double progress = static_cast<double>(step - warmup_steps) /
                          static_cast<double>(std::max<std::int64_t>(1, total_steps - warmup_steps));
  return base_lr *
         (min_ratio + std::max(0.0, (1.0 - min_ratio) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress))));
}

}  // namespace gtrm::train
