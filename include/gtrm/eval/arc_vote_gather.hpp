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
  const std::size_t row_ints = 1 + 2 * S;  // identifier, input, prediction
  // (1 + local_rows·row_ints) int32 per rank: the real-row count, then the rows (padding rows left zero)
  std::vector<std::int32_t> mine(1 + local_rows * row_ints, 0);
  std::vector<double> mine_q(local_rows, 0.0);
  mine[0] = static_cast<std::int32_t>(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    std::int32_t* dst = mine.data() + 1 + r * row_ints;
    dst[0] = puzzle_identifiers[r];
    std::copy_n(inputs + r * S, S, dst + 1);
    std::copy_n(preds + r * S, S, dst + 1 + S);
    mine_q[r] = q_halt_logits[r];
  }
  const auto n = static_cast<std::size_t>(c.size());
  std::vector<std::int32_t> all(mine.size() * n);
  std::vector<double> all_q(mine_q.size() * n);
  comm::all_gather(c, std::span<const std::int32_t>(mine), std::span<std::int32_t>(all));
  comm::all_gather(c, std::span<const double>(mine_q), std::span<double>(all_q));
  if (!arc) return;
  std::vector<std::int32_t> ids(local_rows), in(local_rows * S), pred(local_rows * S);
  for (std::size_t k = 0; k < n; ++k) {
    const std::int32_t* src = all.data() + k * mine.size();
    const auto real = static_cast<std::size_t>(std::clamp<std::int32_t>(src[0], 0, static_cast<std::int32_t>(local_rows)));
    for (std::size_t r = 0; r < real; ++r) {
      const std::int32_t* row = src + 1 + r * row_ints;
      ids[r] = row[0];
      std::copy_n(row + 1, S, in.data() + r * S);
      std::copy_n(row + 1 + S, S, pred.data() + r * S);
    }
    arc->update(ids.data(), in.data(), pred.data(), all_q.data() + k * local_rows, real);
  }
}

}  // namespace gtrm::eval
