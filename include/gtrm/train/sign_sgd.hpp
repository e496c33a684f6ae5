// SignSGD for the puzzle-embedding table (TRM_REFERENCE.md §3.3), touching only the rows in the batch:
//   for each distinct id u in ids:  G_u = Σ_{b : ids[b] = u} grad[b]         (batch order, as scatter_add)
//                                   W[u] ← W[u]·(1 − lr·wd) − lr·sign(G_u),   sign(0) = 0
// grad[b] is the gradient of batch row b's copy of its embedding (ops/sparse_embedding.hpp `local`), so
// rows sharing an id are summed before the sign. Weight decay applies to present rows only; the gradient's
// scale (1/global batch) does not matter because of the sign.
// The only memory is a scratch sized once for the largest batch: a step sorts batch indices by id in place.
#pragma once
#include <algorithm>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "../core/buffer.hpp"
#include "../core/types.hpp"

namespace gtrm::train {

struct sign_sgd_hparams {
  double lr = 1e-2;            // base learning rate (puzzle_emb_lr); each step takes the scheduled value
  double weight_decay = 0.1;   // puzzle_emb_weight_decay
};

template <class T>
class sign_sgd {
 public:
  sign_sgd() = default;
  // width: the table's row length (puzzle_emb_ndim); max_batch: the most batch rows a step will see.
  sign_sgd(sign_sgd_hparams h, index_t width, index_t max_batch)
      : h_(h), width_(width), order_(max_batch), sum_(width) {}

  // table: rows × width; grads: ids.size() × width; ids: one table row per batch row.
  void step(std::span<T> table, std::span<const T> grads, std::span<const std::int32_t> ids, double lr) {
    const auto batch = static_cast<index_t>(ids.size());
    check(table, grads, batch);
    const index_t rows = static_cast<index_t>(table.size()) / width_;
    const std::int32_t* id = ids.data();
    for (index_t b = 0; b < batch; ++b)
      if (id[b] < 0 || id[b] >= rows)
        throw std::out_of_range("sign_sgd::step: puzzle id " + std::to_string(id[b]) + " at batch row " +
                                std::to_string(b) + " is outside the table of " + std::to_string(rows) + " rows");

    index_t* order = order_.data();
    for (index_t b = 0; b < batch; ++b) order[b] = b;
    // By id, then batch row, so equal ids are summed in batch order.
    std::sort(order, order + batch, [id](index_t a, index_t b) { return id[a] != id[b] ? id[a] < id[b] : a < b; });

    const T decay = static_cast<T>(1.0 - lr * h_.weight_decay), step = static_cast<T>(lr);
    T* sum = sum_.data();
    for (index_t first = 0; first < batch;) {
      const std::int32_t u = id[order[first]];
      index_t last = first;
      std::fill_n(sum, width_, T(0));
      for (; last < batch && id[order[last]] == u; ++last) {
        const T* g = grads.data() + order[last] * width_;
        for (index_t e = 0; e < width_; ++e) sum[e] += g[e];
      }
      T* w = table.data() + static_cast<index_t>(u) * width_;
      for (index_t e = 0; e < width_; ++e) {
        const T s = sum[e] > T(0) ? T(1) : (sum[e] < T(0) ? T(-1) : T(0));
        w[e] = w[e] * decay - step * s;
      }
      first = last;
    }
  }

  const sign_sgd_hparams& hparams() const { return h_; }
  index_t width() const { return width_; }
  index_t max_batch() const { return order_.size(); }

 private:
  void check(std::span<T> table, std::span<const T> grads, index_t batch) const {
    if (width_ <= 0) throw std::logic_error("sign_sgd::step: the optimizer was default-constructed (width 0)");
    if (static_cast<index_t>(table.size()) % width_ != 0)
      throw std::invalid_argument("sign_sgd::step: a table of " + std::to_string(table.size()) +
                                  " values is not a whole number of rows of " + std::to_string(width_));
    if (batch > order_.size())
      throw std::invalid_argument("sign_sgd::step: " + std::to_string(batch) +
                                  " batch rows, but the scratch was sized for " + std::to_string(order_.size()));
    if (static_cast<index_t>(grads.size()) != batch * width_)
      throw std::invalid_argument("sign_sgd::step: " + std::to_string(grads.size()) + " gradient values for " +
                                  std::to_string(batch) + " rows of " + std::to_string(width_));
  }

  sign_sgd_hparams h_{};
  index_t width_ = 0;
  buffer<index_t> order_;      // batch rows sorted by id
  buffer<T> sum_;              // G_u for the id being updated
};

}  // namespace gtrm::train
