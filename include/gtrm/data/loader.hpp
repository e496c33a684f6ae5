// Batches from a dataset split with the reference's sampling (docs/reference.md §3.6, puzzle_dataset.py):
//   training: per pass, a seeded RNG permutes the groups once per epoch (epochs_per_iter permutations back to back);
//     each visited group contributes one random puzzle (augmentation) of it, and that puzzle up to the batch's
//     remaining room in examples, a random subset without replacement when it has more; the last incomplete batch of a
//     pass is dropped, so batches may straddle epochs;
//   test: every example in order, the last batch padded (inputs pad_id, labels -100, puzzle id blank_identifier_id).
// Collation as the reference's: int32 arrays, labels equal to ignore_label_id become -100, each rank takes its
// contiguous slice of the global batch. The reference seeds each pass with seed + pass number (Philox); here the same
// schedule drives gtrm::data::rng, so results are deterministic for a seed but not numpy's stream.
// Buffers are sized at construction; next() never allocates. The loader keeps a reference to the split data, which
// must outlive it.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "../core/types.hpp"
#include "dataset.hpp"
#include "random.hpp"

namespace gtrm::data {

struct loader_config {
  std::uint64_t seed = 0;
  index_t global_batch_size = 0;
  int epochs_per_iter = 1;  // training epochs per pass (the reference's eval_interval)
  int rank = 0;
  int num_replicas = 1;
};

// Views into the loader's buffers, valid until its next call to next() or begin_pass().
struct batch {
  const std::int32_t* inputs = nullptr;              // [batch_size * seq_len]
  const std::int32_t* labels = nullptr;              // [batch_size * seq_len]
  const std::int32_t* puzzle_identifiers = nullptr;  // [batch_size]
  index_t batch_size = 0;   // this rank's rows, padding included (global_batch_size / num_replicas)
  index_t seq_len = 0;
  index_t rows = 0;         // real rows of this rank (the rest is padding; always batch_size in training)
  index_t global_rows = 0;  // real rows over all ranks: the reference's "effective batch size"
};

namespace loader_detail {

class collator {
 public:
  collator(const split_data& d, const dataset_metadata& m, const loader_config& c) : d_(&d), m_(m), cfg_(c) {
    if (c.global_batch_size <= 0) throw data_error("loader: global_batch_size must be positive");
    if (c.num_replicas <= 0 || c.rank < 0 || c.rank >= c.num_replicas)
      throw data_error("loader: rank must be in 0..num_replicas-1");
    if (c.global_batch_size % c.num_replicas != 0)
      throw data_error("loader: global batch size " + std::to_string(c.global_batch_size) +
                       " must be a multiple of num_replicas " + std::to_string(c.num_replicas));
    if (d.seq_len != m.seq_len) throw data_error("loader: split rows are not seq_len long");
    local_ = c.global_batch_size / c.num_replicas;
    const auto S = static_cast<std::size_t>(m.seq_len);
    inputs_.resize(static_cast<std::size_t>(local_) * S);
    labels_.resize(static_cast<std::size_t>(local_) * S);
    ids_.resize(static_cast<std::size_t>(local_));
  }

  index_t local_batch_size() const { return local_; }

  // Row r of the batch is example `example`, of puzzle `puzzle`.
  void put(index_t r, std::size_t example, std::size_t puzzle) {
    const auto S = static_cast<std::size_t>(m_.seq_len);
    const std::uint8_t* in = d_->inputs.data() + example * S;
    const std::uint8_t* lab = d_->labels.data() + example * S;
    std::int32_t* oi = inputs_.data() + static_cast<std::size_t>(r) * S;
    std::int32_t* ol = labels_.data() + static_cast<std::size_t>(r) * S;
    for (std::size_t k = 0; k < S; ++k) {
      oi[k] = in[k];
      ol[k] = lab[k] == m_.ignore_label_id ? ignore_label : lab[k];
    }
    ids_[static_cast<std::size_t>(r)] = d_->puzzle_identifiers[puzzle];
  }

  void pad(index_t r) {
    const auto S = static_cast<std::size_t>(m_.seq_len);
    std::fill_n(inputs_.data() + static_cast<std::size_t>(r) * S, S, m_.pad_id);
    std::fill_n(labels_.data() + static_cast<std::size_t>(r) * S, S, ignore_label);
    ids_[static_cast<std::size_t>(r)] = m_.blank_identifier_id;
  }

  void view(batch& b, index_t rows, index_t global_rows) const {
    b.inputs = inputs_.data();
    b.labels = labels_.data();
    b.puzzle_identifiers = ids_.data();
    b.batch_size = local_;
    b.seq_len = m_.seq_len;
    b.rows = rows;
    b.global_rows = global_rows;
  }

  const split_data& data() const { return *d_; }
  const loader_config& config() const { return cfg_; }

 private:
  const split_data* d_;
  dataset_metadata m_;
  loader_config cfg_;
  index_t local_ = 0;
  std::vector<std::int32_t> inputs_, labels_, ids_;
};

}  // namespace loader_detail

class train_loader {
 public:
  train_loader(const split_data& data, const dataset_metadata& meta, loader_config cfg) : c_(data, meta, cfg) {
    if (cfg.epochs_per_iter <= 0) throw data_error("loader: epochs_per_iter must be positive");
    const auto groups = data.num_groups();
    if (groups == 0) throw data_error("loader: the split has no groups");
    std::size_t max_examples = 0;
    for (std::size_t g = 0; g < groups; ++g)
      if (data.group_indices[g + 1] <= data.group_indices[g])
        throw data_error("loader: group " + std::to_string(g) + " has no puzzles");
    for (std::size_t p = 0; p < data.num_puzzles(); ++p)
      max_examples = std::max(max_examples, static_cast<std::size_t>(data.puzzle_indices[p + 1] - data.puzzle_indices[p]));
    order_.resize(groups * static_cast<std::size_t>(cfg.epochs_per_iter));
    scratch_.resize(max_examples);
    const auto G = static_cast<std::size_t>(cfg.global_batch_size);
    sel_example_.resize(G);
    sel_puzzle_.resize(G);
    next_ = order_.size();  // no pass running until begin_pass()
  }

  // Starts the next pass (pass numbers 1, 2, ...; the RNG is seeded with seed + pass number).
  void begin_pass() {
    ++pass_;
    rng_ = rng(c_.config().seed + static_cast<std::uint64_t>(pass_));
    const std::size_t groups = c_.data().num_groups();
    for (std::size_t e = 0; e < order_.size(); e += groups) {
      std::iota(order_.begin() + static_cast<std::ptrdiff_t>(e), order_.begin() + static_cast<std::ptrdiff_t>(e + groups), 0);
      rng_.shuffle(order_.data() + e, groups);
    }
    next_ = 0;
  }

  // The next full batch of the pass; false when the pass is over (the incomplete tail is dropped).
  bool next(batch& out) {
    const auto& d = c_.data();
    const auto G = static_cast<std::size_t>(c_.config().global_batch_size);
    std::size_t filled = 0;
    while (next_ < order_.size() && filled < G) {
      const std::size_t g = order_[next_++];
      const auto p = static_cast<std::size_t>(rng_.integers(d.group_indices[g], d.group_indices[g + 1]));
      const auto first = static_cast<std::size_t>(d.puzzle_indices[p]);
      const auto size = static_cast<std::size_t>(d.puzzle_indices[p + 1]) - first;
      const std::size_t take = std::min(size, G - filled);
      // take of size examples without replacement: a partial Fisher-Yates shuffle.
      std::iota(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(size), std::size_t{0});
      for (std::size_t i = 0; i < take; ++i) {
        std::swap(scratch_[i], scratch_[i + rng_.below(size - i)]);
        sel_example_[filled + i] = first + scratch_[i];
        sel_puzzle_[filled + i] = p;
      }
      filled += take;
    }
    if (filled < G) {
      next_ = order_.size();
      return false;
    }
    const index_t local = c_.local_batch_size();
    const auto offset = static_cast<std::size_t>(c_.config().rank * local);
    for (index_t r = 0; r < local; ++r)
      c_.put(r, sel_example_[offset + static_cast<std::size_t>(r)], sel_puzzle_[offset + static_cast<std::size_t>(r)]);
    c_.view(out, local, static_cast<index_t>(G));
    return true;
  }

  int pass() const { return pass_; }

 private:
  loader_detail::collator c_;
  rng rng_{0};
  int pass_ = 0;
  std::vector<std::size_t> order_, scratch_, sel_example_, sel_puzzle_;
  std::size_t next_ = 0;
};

class test_loader {
 public:
  test_loader(const split_data& data, const dataset_metadata& meta, loader_config cfg) : c_(data, meta, cfg) {}

  // Restarts at the first example.
  void begin() {
    start_ = 0;
    puzzle_ = 0;
  }

  index_t num_batches() const {
    const auto n = static_cast<index_t>(c_.data().num_examples());
    const index_t G = c_.config().global_batch_size;
    return (n + G - 1) / G;
  }

  bool next(batch& out) {
    const auto& d = c_.data();
    const auto n = static_cast<index_t>(d.num_examples());
    if (start_ >= n) return false;
    const index_t G = c_.config().global_batch_size, local = c_.local_batch_size();
    const index_t end = std::min(n, start_ + G);
    const index_t lo = start_ + c_.config().rank * local;
    const index_t hi = std::min(start_ + (c_.config().rank + 1) * local, end);
    const index_t rows = std::max<index_t>(0, hi - lo);
    if (rows > 0) {
      // puzzle of example lo: the last puzzle whose first example is <= lo (searchsorted side="right" - 1).
      const auto& pi = d.puzzle_indices;
      puzzle_ = static_cast<std::size_t>(std::upper_bound(pi.begin(), pi.end(), lo) - pi.begin()) - 1;
    }
    for (index_t r = 0; r < local; ++r) {
      if (r >= rows) {
        c_.pad(r);
        continue;
      }
      const auto e = static_cast<std::size_t>(lo + r);
      while (puzzle_ + 1 < d.num_puzzles() && e >= static_cast<std::size_t>(d.puzzle_indices[puzzle_ + 1])) ++puzzle_;
      c_.put(r, e, puzzle_);
    }
    c_.view(out, rows, end - start_);
    start_ += G;
    return true;
  }

 private:
  loader_detail::collator c_;
  index_t start_ = 0;
  std::size_t puzzle_ = 0;
};

}  // namespace gtrm::data
