// Inference: run a trained model on puzzles, one ACT step at a time, with the test-time knobs the reference lacks.
//
//   gtrm::solve_options o{.max_steps = 16, .adaptive = true, .trajectory = true};
//   gtrm::solve_result r = gtrm::solve(model, tokens, o);       // r.prediction, r.steps, r.confidence, r.trajectory
//
// One ACT step is one forward of the model from the carried (z_H, z_L), starting at (H_init, L_init):
//   fixed steps (default): exactly max_steps steps (0 = the model's max_act_steps, as the reference's evaluation);
//   adaptive: a row stops at the first step whose Q head says halt (q_halt > 0, or q_halt > q_continue for the
//     halt policies that compare), and at max_steps at the latest;
//   max_steps above max_act_steps simply keeps carrying: more recursion than the model was trained with.
// confidence = sigmoid(q_halt) of the step a row stopped at: the model's own estimate that its answer is exact.
//
// Voting: a puzzle is solved in several symmetric versions (tasks::token_augmentation: a permutation of positions and
// a relabelling of tokens, which a task makes: Sudoku digit/row/column shuffles, the 8 dihedral maze transforms); each prediction is
// mapped back and identical answers vote. The winner is the answer with most votes (an optional `accept` predicate,
// e.g. "is a valid Sudoku", ranks accepted answers first), ties broken by mean confidence.
//
// The solver allocates its workspace and carry once (batch_solver) and never during a step.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/buffer.hpp"
#include "core/grad_mode.hpp"
#include "model/act.hpp"
#include "ops/activation.hpp"
#include "ops/argmax.hpp"
#include "policy/policies.hpp"
#include "tasks/augmentation.hpp"

namespace gtrm {

struct solve_options {
  int max_steps = 0;            // ACT steps at most (0: the model's max_act_steps); may exceed max_act_steps
  bool adaptive = false;        // stop each puzzle at the first step where the Q head halts
  int min_steps = 1;            // adaptive halting never stops before this step
  bool trajectory = false;      // record every step's prediction and Q values
  std::int32_t puzzle_id = 0;   // puzzle-embedding row (0 = the blank identifier; Sudoku/Maze use it for all)
};

struct solve_step {
  int step = 0;                          // 1-based ACT step
  std::vector<std::int32_t> prediction;  // argmax tokens (S)
  double q_halt = 0, q_continue = 0;     // logits
  double confidence = 0;                 // sigmoid(q_halt)
};

struct solve_result {
  std::vector<std::int32_t> prediction;  // the answer: argmax tokens of the last step run for this puzzle (S)
  int steps = 0;                         // ACT steps used
  double q_halt = 0, q_continue = 0;     // logits at that step
  double confidence = 0;                 // sigmoid(q_halt) at that step
  bool halted = false;                   // stopped because the Q head said so (adaptive), not by the step limit
  std::vector<solve_step> trajectory;    // every step up to `steps`, when asked
};


// Solves up to max_batch puzzles at once with one allocation at construction. Each step runs on the backend (the
// forward, the argmax and the Q logits as double); the host copies out the O(batch) Q values and the predictions
// (the answer) and decides adaptive halting from them.
template <class Model>
class batch_solver {
 public:
  using T = typename Model::scalar;
  using Be = typename Model::backend_type;
  static constexpr int S = Model::S, L = Model::L, D = Model::D;

  batch_solver(const Model& m, index_t max_batch)
      : m_(m), ws_(max_batch, false), z_h_(max_batch * L * D), z_l_(max_batch * L * D), inputs_(max_batch * S),
        ids_(max_batch), preds_(max_batch * S), q_(max_batch * 2), preds_host_(static_cast<std::size_t>(max_batch * S)),
        q_host_(static_cast<std::size_t>(max_batch * 2)), done_(static_cast<std::size_t>(max_batch)) {}

  index_t max_batch() const { return ws_.max_batch(); }

  // inputs: n·S token ids; puzzle_ids: n ids or null (then opt.puzzle_id for every row). Host memory.
  std::vector<solve_result> solve(const std::int32_t* inputs, const std::int32_t* puzzle_ids, index_t n,
                                  const solve_options& opt) {
    if (n < 1 || n > max_batch())
      throw std::invalid_argument("batch_solver: " + std::to_string(n) + " puzzles, the solver holds 1.." +
                                  std::to_string(max_batch()));
    const int max_steps = opt.max_steps > 0 ? opt.max_steps : Model::cycles_v.max_act_steps;
    start(inputs, puzzle_ids, n, opt.puzzle_id);
    std::vector<solve_result> out(static_cast<std::size_t>(n));
    std::fill(done_.begin(), done_.end(), 0);
    index_t running = n;
    for (int step = 1; step <= max_steps && running > 0; ++step) {
      run_step(n);
      for (index_t b = 0; b < n; ++b) {
        if (done_[static_cast<std::size_t>(b)]) continue;
        auto& r = out[static_cast<std::size_t>(b)];
        r.steps = step;
        r.q_halt = q_host_[static_cast<std::size_t>(2 * b)];
        r.q_continue = q_host_[static_cast<std::size_t>(2 * b + 1)];
        r.confidence = ops::sigmoid(r.q_halt);
        const auto first = preds_host_.begin() + b * S;
        r.prediction.assign(first, first + S);
        if (opt.trajectory) r.trajectory.push_back({step, r.prediction, r.q_halt, r.q_continue, r.confidence});
        const bool q_says_halt = halt_compares_continue<typename Model::halt_type>() ? r.q_halt > r.q_continue
                                                                                   : r.q_halt > 0;
        if (opt.adaptive && step >= opt.min_steps && q_says_halt) {
          r.halted = true;
          done_[static_cast<std::size_t>(b)] = 1;
          --running;
        }
      }
    }
    return out;
  }

  // The two halves of solve(); public only because nvcc's extended (device) lambdas may not live in private members.
  // Uploads the puzzles and ids and sets every row's carry to (H_init, L_init).
  void start(const std::int32_t* inputs, const std::int32_t* puzzle_ids, index_t n, std::int32_t default_id) {
    const auto& be = m_.backend();
    if constexpr (device_memory_backend<Be>) {  // a device model cannot read its ids: check the host copies
      m_.check_host_ids(inputs, puzzle_ids, n);
      if (!puzzle_ids) m_.check_host_ids(nullptr, &default_id, 1);
    }
    detail::act_upload(be, inputs, n * S, inputs_);
    std::int32_t* ids = ids_.data();
    if (puzzle_ids) detail::act_upload(be, puzzle_ids, n, ids_);
    else be.parallel_for(n, [=] GTRM_HD (index_t b) { ids[b] = default_id; });
    const T* h_init = m_.h_init().data();
    const T* l_init = m_.l_init().data();
    T* z_h = z_h_.data();
    T* z_l = z_l_.data();
    be.parallel_for(n * L, [=] GTRM_HD (index_t r) {
      for (int d = 0; d < D; ++d) { z_h[r * D + d] = h_init[d]; z_l[r * D + d] = l_init[d]; }
    });
  }

  // One forward from the carry; the predictions and Q logits of the n rows land in host memory.
  void run_step(index_t n) {
    const auto& be = m_.backend();
    m_.forward(no_grad, ws_, view<T, D>(z_h_.data(), n * L), view<T, D>(z_l_.data(), n * L), inputs_.data(), ids_.data(), n);
    ops::argmax_forward<Be, T, Model::V>(be, cview<T, Model::V>(ws_.logits.slice(0, n * S)), preds_.data());
    const cview<T, 2> q = ws_.q.slice(0, n);
    double* qd = q_.data();
    be.parallel_for(n, [=] GTRM_HD (index_t b) {
      qd[2 * b] = static_cast<double>(q(b, 0));
      qd[2 * b + 1] = static_cast<double>(q(b, 1));
    });
    detail::act_download(be, preds_, n * S, preds_host_.data());
    detail::act_download(be, q_, n * 2, q_host_.data());
  }

 private:

  const Model& m_;
  typename Model::workspace ws_;
  act_storage<Be, T> z_h_, z_l_;                   // (n·L, D) the carry
  act_storage<Be, std::int32_t> inputs_, ids_;     // (n·S), (n) the uploaded puzzles
  act_storage<Be, std::int32_t> preds_;            // (n·S) this step's argmax
  act_storage<Be, double> q_;                      // (n, 2) this step's Q logits
  std::vector<std::int32_t> preds_host_;
  std::vector<double> q_host_;
  std::vector<std::uint8_t> done_;
};

// One puzzle of Model::S tokens.
template <class Model>
solve_result solve(const Model& m, std::span<const std::int32_t> puzzle, const solve_options& opt = {}) {
  if (puzzle.size() != static_cast<std::size_t>(Model::S))
    throw std::invalid_argument("solve: the puzzle has " + std::to_string(puzzle.size()) + " tokens, the model reads " +
                                std::to_string(Model::S));
  batch_solver<Model> s(m, 1);
  return std::move(s.solve(puzzle.data(), nullptr, 1, opt).front());
}

// ---- voting over symmetric versions of a puzzle ----

// The versions come from a task (tasks/task.hpp: task::augmentations), e.g. tasks::sudoku_augmentations or
// tasks::dihedral_augmentations.
using tasks::token_augmentation;

struct vote_candidate {
  std::vector<std::int32_t> prediction;  // in the original puzzle's frame
  int votes = 0;
  double mean_confidence = 0;
  bool accepted = true;
};

struct voted_result {
  solve_result best;                     // the winning version's result, prediction mapped back
  std::vector<vote_candidate> ranking;   // distinct answers, best first
  int versions = 0;
};

// Solves every version in one batch and votes. `accept` (optional) ranks answers it accepts above the others.
template <class Model>
voted_result solve_voting(const Model& m, std::span<const std::int32_t> puzzle, std::span<const token_augmentation> augs,
                          const solve_options& opt = {},
                          const std::function<bool(std::span<const std::int32_t>)>& accept = {}) {
  if (augs.empty()) throw std::invalid_argument("solve_voting: no augmentations (include the identity)");
  if (puzzle.size() != static_cast<std::size_t>(Model::S))
    throw std::invalid_argument("solve_voting: the puzzle has " + std::to_string(puzzle.size()) +
                                " tokens, the model reads " + std::to_string(Model::S));
  const auto n = static_cast<index_t>(augs.size());
  std::vector<std::int32_t> inputs;
  inputs.reserve(augs.size() * puzzle.size());
  for (const auto& a : augs) {
    if (a.source.size() != puzzle.size()) throw std::invalid_argument("solve_voting: an augmentation of another length");
    const auto v = a.apply(puzzle);
    inputs.insert(inputs.end(), v.begin(), v.end());
  }
  batch_solver<Model> s(m, n);
  auto results = s.solve(inputs.data(), nullptr, n, opt);
  voted_result out;
  out.versions = static_cast<int>(n);
  std::map<std::vector<std::int32_t>, std::size_t> where;
  std::vector<std::size_t> first_of;  // which version first produced each candidate
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto back = augs[i].invert(results[i].prediction);
    auto [it, fresh] = where.emplace(back, out.ranking.size());
    if (fresh) {
      out.ranking.push_back({std::move(back), 0, 0.0, true});
      first_of.push_back(i);
    }
    auto& c = out.ranking[it->second];
    ++c.votes;
    c.mean_confidence += results[i].confidence;
  }
  for (auto& c : out.ranking) {
    c.mean_confidence /= c.votes;
    if (accept) c.accepted = accept(c.prediction);
  }
  std::vector<std::size_t> order(out.ranking.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto &x = out.ranking[a], &y = out.ranking[b];
    if (x.accepted != y.accepted) return x.accepted;
    if (x.votes != y.votes) return x.votes > y.votes;
    return x.mean_confidence > y.mean_confidence;
  });
  std::vector<vote_candidate> ranked;
  for (auto k : order) ranked.push_back(out.ranking[k]);
  // the best answer's representative: the first version that produced it, with its trajectory mapped back
  const std::size_t rep = first_of[order.front()];
  out.best = std::move(results[rep]);
  out.best.prediction = ranked.front().prediction;
  out.best.confidence = ranked.front().mean_confidence;
  for (auto& st : out.best.trajectory) st.prediction = augs[rep].invert(st.prediction);
  out.ranking = std::move(ranked);
  return out;
}

}  // namespace gtrm
