// ARC voting across ranks: each rank solves its slice of every evaluation batch; the votes are cast on rank 0, which
// receives every rank's rows of the batch in rank order — the order of the global batch (the loader's contiguous rank
// slices), so rank 0's evaluator sees exactly what one process with the whole batch would (ties included), as the
// reference's evaluator gathers its predictions on rank 0 (TRM_REFERENCE.md §3.3).
//   per rank:  rows real rows of local_rows (the rest padding), identifiers (rows), inputs and predictions
//              (rows, 900), q_halt logits (rows)
//   rank 0:    arc->update on each rank's real rows; the other ranks pass arc = nullptr.
// Collective: every rank calls it once per batch with the same local_rows (two all-gathers).
#pragma once
#include <algorithm>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include "../data/arc_serialize.hpp"
#include "../train/comm.hpp"
#include "arc_vote.hpp"

namespace gtrm::eval {

template <comm::communicator C>
void arc_update_gathered(arc_evaluator* arc, const C& c, const std::int32_t* puzzle_identifiers, const std::int32_t* inputs,
                         const std::int32_t* preds, const double* q_halt_logits, std::size_t rows, std::size_t local_rows) {
  if (rows > local_rows) throw std::invalid_argument("arc_update_gathered: more real rows than the rank's slice");
  if (c.size() == 1) {
    if (arc) arc->update(puzzle_identifiers, inputs, preds, q_halt_logits, rows);
    return;
  }
  constexpr auto S = static_cast<std::size_t>(data::arc_seq_len);
  // One int32 block per rank, each part contiguous so rank 0 votes straight from the gathered buffer:
  //   [0] real rows | [1, 1+R) identifiers | then R·S inputs | then R·S predictions    (R = local_rows; padding 0)
  const std::size_t R = local_rows, ids_at = 1, inputs_at = ids_at + R, preds_at = inputs_at + R * S;
  std::vector<std::int32_t> mine(preds_at + R * S, 0);
  std::vector<double> mine_q(R, 0.0);
  mine[0] = static_cast<std::int32_t>(rows);
  std::copy_n(puzzle_identifiers, rows, mine.data() + ids_at);
  std::copy_n(inputs, rows * S, mine.data() + inputs_at);
  std::copy_n(preds, rows * S, mine.data() + preds_at);
  std::copy_n(q_halt_logits, rows, mine_q.data());
  const auto n = static_cast<std::size_t>(c.size());
  std::vector<std::int32_t> all(mine.size() * n);
  std::vector<double> all_q(R * n);
  comm::all_gather(c, std::span<const std::int32_t>(mine), std::span<std::int32_t>(all));
  comm::all_gather(c, std::span<const double>(mine_q), std::span<double>(all_q));
  if (!arc) return;
  for (std::size_t k = 0; k < n; ++k) {
    const std::int32_t* blk = all.data() + k * mine.size();
    const auto real = static_cast<std::size_t>(std::clamp<std::int32_t>(blk[0], 0, static_cast<std::int32_t>(R)));
    arc->update(blk + ids_at, blk + inputs_at, blk + preds_at, all_q.data() + k * R, real);
  }
}

}  // namespace gtrm::eval
