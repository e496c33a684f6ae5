// SignSGD for the puzzle-embedding table, touching only the rows in the batch (rule: rules/sign_sgd.hpp):
//   for each distinct id u in ids:  G_u = Σ_{b : ids[b] = u} grad[b]         (batch order, as scatter_add)
//                                   W[u] ← W[u]·(1 − lr·wd) − lr·sign(G_u),   sign(0) = 0
// grad[b] is the gradient of batch row b's copy of its embedding (ops/sparse_embedding.hpp `local`), so rows
// sharing an id are summed before the sign. One implementation for every backend, no sort:
//   1. the ids (host memory, checked here) are copied into a scratch in the backend's storage;
//   2. per batch row b (parallel): owner[b] = no earlier row has b's id; next[b] = the next row with b's id, or −1;
//   3. per (b, e) (parallel): an owner walks its chain in batch order, sums G_u[e] and applies the rule's update.
// Step 2 is O(batch²) id comparisons (batch-sized: thousands of integers), step 3 O(batch·width). The scratch is
// sized once, for the largest batch, in the constructor; nothing allocates in a step.
#pragma once
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "../concepts.hpp"
#include "../core/types.hpp"
#include "optimizer.hpp"
#include "rules/sign_sgd.hpp"

namespace gtrm::train {

template <class T, class Be = cpu>
class sign_sgd {
 public:
  using rule = rules::sign_sgd;
  static constexpr bool host_memory = buffer_t<Be, T>::allocation::host_accessible;

  sign_sgd() = default;
  // width: the table's row length (puzzle_emb_ndim); max_batch: the most batch rows a step will see.
  sign_sgd(sign_sgd_hparams h, index_t width, index_t max_batch)
      : h_(h), width_(width), ids_(max_batch), links_(2 * max_batch) {}

  // table: rows × width; grads: ids.size() × width (both the backend's memory); ids: one table row per batch row,
  // host memory.
  template <class Exec>
  void step(const Exec& be, std::span<T> table, std::span<const T> grads, std::span<const std::int32_t> ids,
            double lr) {
    const auto batch = static_cast<index_t>(ids.size());
    check(table, grads, batch);
    const index_t rows = static_cast<index_t>(table.size()) / width_;
    for (index_t b = 0; b < batch; ++b)
      if (ids[b] < 0 || ids[b] >= rows)
        throw std::out_of_range("sign_sgd::step: puzzle id " + std::to_string(ids[b]) + " at batch row " +
                                std::to_string(b) + " is outside the table of " + std::to_string(rows) + " rows");
    if (batch == 0) return;
    from_host(be, std::span<std::int32_t>(ids_.data(), ids.size()), ids);

    const std::int32_t* id = ids_.data();
    index_t* owner = links_.data();          // 1 when no earlier row holds the same id
    index_t* next = links_.data() + batch;   // the next row with the same id, or −1
    be.parallel_for(batch, [=] GTRM_HD(index_t b) {
      index_t first = 1, after = -1;
      for (index_t j = 0; j < b && first; ++j)
        if (id[j] == id[b]) first = 0;
      for (index_t j = b + 1; j < batch && after < 0; ++j)
        if (id[j] == id[b]) after = j;
      owner[b] = first;
      next[b] = after;
    });

    const rule::coeffs<T> c(h_, lr);
    const T* g = grads.data();
    T* w = table.data();
    const index_t width = width_;
    be.parallel_for(batch * width, [=] GTRM_HD(index_t be_idx) {
      const index_t b = be_idx / width, e = be_idx % width;
      if (!owner[b]) return;
      T sum = 0;
      for (index_t j = b; j >= 0; j = next[j]) sum += g[j * width + e];
      rule::update(c, w[static_cast<index_t>(id[b]) * width + e], sum);
    });
  }
  // The same on the calling thread (host memory only).
  void step(std::span<T> table, std::span<const T> grads, std::span<const std::int32_t> ids, double lr)
    requires host_memory
  {
    step(detail::serial_executor{}, table, grads, ids, lr);
  }

  const sign_sgd_hparams& hparams() const { return h_; }
  index_t width() const { return width_; }
  index_t max_batch() const { return ids_.size(); }

 private:
  void check(std::span<T> table, std::span<const T> grads, index_t batch) const {
    if (width_ <= 0) throw std::logic_error("sign_sgd::step: the optimizer was default-constructed (width 0)");
    if (static_cast<index_t>(table.size()) % width_ != 0)
      throw std::invalid_argument("sign_sgd::step: a table of " + std::to_string(table.size()) +
                                  " values is not a whole number of rows of " + std::to_string(width_));
    if (batch > ids_.size())
      throw std::invalid_argument("sign_sgd::step: " + std::to_string(batch) +
                                  " batch rows, but the scratch was sized for " + std::to_string(ids_.size()));
    if (static_cast<index_t>(grads.size()) != batch * width_)
      throw std::invalid_argument("sign_sgd::step: " + std::to_string(grads.size()) + " gradient values for " +
                                  std::to_string(batch) + " rows of " + std::to_string(width_));
  }

  sign_sgd_hparams h_{};
  index_t width_ = 0;
  buffer_t<Be, std::int32_t> ids_;   // the batch's ids, in the backend's memory
  buffer_t<Be, index_t> links_;      // owner flags, then next links, per batch row
};

}  // namespace gtrm::train
