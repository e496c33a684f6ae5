// The sign-SGD update rule of the puzzle-embedding table (the reference's CastedSparseEmbeddingSignSGD), for train/sign_sgd.hpp. Per step:
//   decay = 1 − lr·wd
// per element of a table row u present in the batch, with G_u the sum of the batch rows' gradients holding id u:
//   W[u] ← W[u]·decay − lr·sign(G_u),   sign(0) = 0
// Weight decay applies to present rows only; the gradient's scale (1/global batch) does not matter because of
// the sign.
#pragma once
#include <cstdint>

#include "../../core/types.hpp"

namespace gtrm::train {

struct sign_sgd_hparams {
  double lr = 1e-2;            // base learning rate (puzzle_emb_lr); each step takes the scheduled value
  double weight_decay = 0.1;   // puzzle_emb_weight_decay
};

namespace rules {

struct sign_sgd {
  using hparams = sign_sgd_hparams;
  static constexpr const char* name = "sign_sgd";

  template <class T>
  struct coeffs {
    T decay, step;
    coeffs(const hparams& h, double lr) : decay(static_cast<T>(1.0 - lr * h.weight_decay)), step(static_cast<T>(lr)) {}
  };

  template <class T>
  GTRM_HD static void update(const coeffs<T>& c, T& w, T sum) {
    const T s = sum > T(0) ? T(1) : (sum < T(0) ? T(-1) : T(0));
    w = w * c.decay - c.step * s;
  }
};

}  // namespace rules
}  // namespace gtrm::train
