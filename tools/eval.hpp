// `gtrm eval CKPT --data DIR`: exact and token accuracy of a checkpoint on a dataset split (Sudoku, Maze), or ARC
// pass@K with the reference's voting over augmented versions, plus submission.json. The test-time knobs of
// `gtrm solve` apply: --steps N (also beyond the trained max_act_steps), --adaptive Q-head halting, --vote K
// (Sudoku/Maze: K symmetric versions of every puzzle). Defaults reproduce the reference's evaluation.
// Under mpirun (dist.hpp) each rank solves its slice of every batch (the loader's rank slices); the counts are summed
// over ranks and ARC's votes are cast on rank 0 (eval/arc_vote_gather.hpp), which alone prints and writes
// submission.json: the same figures and file as one process.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <gtrm/data/loader.hpp>
#include <gtrm/eval/accuracy.hpp>
#include <gtrm/eval/arc_submission.hpp>
#include <gtrm/eval/arc_vote.hpp>
#include <gtrm/eval/arc_vote_gather.hpp>
#include <gtrm/io/state_dict.hpp>
#include <gtrm/solve.hpp>

#include "common.hpp"
#include "dist.hpp"
#include "registry.hpp"
#include "task.hpp"

namespace gtrm::cli {

struct eval_request {
  const io::safetensors_reader* file = nullptr;
  fs::path data;
  std::string split = "test";
  index_t batch = 256;
  std::int64_t max_examples = 0;   // 0: all
  int steps = 0;                   // 0: the model's max_act_steps
  bool adaptive = false;
  int min_steps = 1;
  int vote = 0;
  std::uint64_t seed = 0;
  bool json_out = false;
  std::string submission;          // ARC: where to write submission.json ("" = DIR-less default below)
  std::vector<int> pass_ks = {1, 2, 5, 10, 100, 1000};
  bool quiet = false;
};

template <class Model>
int run_eval(const preset_entry& p, const eval_request& rq) {
  using clock = std::chrono::steady_clock;
  const tasks::task& t = p.task();
  const comm::any& world = process_comm();
  const bool root = world.rank() == 0;
  if (rq.batch < 1) throw cli_error("--batch must be at least 1");
  if (rq.batch % world.size() != 0)
    throw collective_error("--batch " + std::to_string(rq.batch) + " is not a multiple of the " + std::to_string(world.size()) +
                           " ranks (mpirun -np)");
  if (rq.steps < 0 || rq.min_steps < 1 || rq.vote < 0) throw cli_error("--steps, --min-steps and --vote must be positive");
  if (rq.vote > 1 && !t.votes_on_augmentations()) throw cli_error("--vote is for Sudoku and mazes; ARC always votes over its augmentations");
  const auto split = load_split_for(rq.data, rq.split, p);
  const io::safetensors_reader& f = *rq.file;
  const auto rows = io::stored_puzzle_rows(f);
  if (Model::E > 0 && rows < split.metadata.num_puzzle_identifiers)
    throw cli_error("checkpoint " + f.path().string() + " has " + std::to_string(rows) + " puzzle embeddings but dataset " +
                    rq.data.string() + " uses " + std::to_string(split.metadata.num_puzzle_identifiers) +
                    " identifiers: it was trained on other data");
  Model m(rows);
  io::load_state_dict(m, f);
  [[maybe_unused]] const auto frozen = freeze_weights(m);  // weights fixed from here: packed once (cpu_bf16; cpu: oneDNN f32)
  if (world.size() > 1) {
    std::string settings = p.name + '\n' + rq.split + '\n' + std::to_string(rq.batch) + ' ' + std::to_string(rq.max_examples) +
                           ' ' + std::to_string(rq.steps) + ' ' + std::to_string(rq.adaptive) + ' ' + std::to_string(rq.min_steps) +
                           ' ' + std::to_string(rq.vote) + ' ' + std::to_string(rq.seed);
    auto weights = fnv1a(settings.data(), settings.size());
    for (const auto& name : f.names()) {  // the stored tensors (host memory whatever the backend)
      const auto bytes = f.raw(name);
      weights = fnv1a(bytes.data(), bytes.size(), static_cast<std::uint64_t>(fnv1a(name.data(), name.size(), static_cast<std::uint64_t>(weights))));
    }
    ranks_agree(world, weights, "the checkpoint or the evaluation flags");
    ranks_agree(world, split_fingerprint(split.data), "the data (" + rq.data.string() + "/" + rq.split + ")");
  }

  const auto t0 = clock::now();
  status_line status(rq.quiet || !root);
  solve_options o{.max_steps = rq.steps, .adaptive = rq.adaptive, .min_steps = rq.min_steps};
  const int max_steps = rq.steps > 0 ? rq.steps : Model::cycles_v.max_act_steps;
  eval::accuracy acc;
  std::int64_t examples = 0, act_steps = 0;
  std::optional<eval::arc_evaluator> arc;  // rank 0's: the votes of every rank
  const bool arc_scoring = t.scoring_rule() == tasks::scoring::arc_vote;
  if (arc_scoring) root_decides(world, [&] { arc.emplace(eval::arc_evaluator::from_dataset(rq.data, 2, rq.pass_ks)); });

  const auto& meta = split.metadata;
  data::test_loader loader(split.data, meta, {.seed = 0, .global_batch_size = rq.batch, .rank = world.rank(), .num_replicas = world.size()});
  loader.begin();
  batch_solver<Model> solver(m, rq.vote > 1 ? std::max(rq.vote, 1) : rq.batch / world.size());
  const auto augs = rq.vote <= 1 ? std::vector<token_augmentation>{} : t.augmentations(rq.vote, rq.seed);
  const std::size_t total = rq.max_examples > 0 ? std::min<std::size_t>(static_cast<std::size_t>(rq.max_examples), split.data.num_examples())
                                                : split.data.num_examples();
  data::batch b;
  std::vector<std::int32_t> preds;
  std::int64_t seen = 0;  // global rows of the batches so far: the same on every rank, so every rank loops alike
  while (seen < static_cast<std::int64_t>(total) && loader.next(b)) {
    // this rank's rows start at global row seen + rank·(rows per rank); rows from `total` on are not evaluated
    const auto first = seen + static_cast<std::int64_t>(world.rank()) * b.batch_size;
    const auto n = static_cast<index_t>(std::clamp<std::int64_t>(static_cast<std::int64_t>(total) - first, 0, b.rows));
    seen += b.global_rows;
    preds.assign(static_cast<std::size_t>(n * Model::S), 0);
    std::vector<double> q(static_cast<std::size_t>(n));
    if (rq.vote > 1) {
      for (index_t r = 0; r < n; ++r) {
        std::span<const std::int32_t> in(b.inputs + r * Model::S, Model::S);
        auto v = solve_voting(m, in, augs, o);
        std::copy(v.best.prediction.begin(), v.best.prediction.end(), preds.begin() + r * Model::S);
        q[static_cast<std::size_t>(r)] = v.best.q_halt;
        act_steps += v.best.steps;
      }
    } else if (n > 0) {
      const auto rs = solver.solve(b.inputs, b.puzzle_identifiers, n, o);
      for (index_t r = 0; r < n; ++r) {
        const auto& res = rs[static_cast<std::size_t>(r)];
        std::copy(res.prediction.begin(), res.prediction.end(), preds.begin() + r * Model::S);
        q[static_cast<std::size_t>(r)] = res.q_halt;
        act_steps += res.steps;
      }
    }
    acc.add(preds.data(), b.labels, static_cast<std::size_t>(n), static_cast<std::size_t>(Model::S));
    if (arc_scoring)
      eval::arc_update_gathered(arc ? &*arc : nullptr, world, b.puzzle_identifiers, b.inputs, preds.data(), q.data(),
                                static_cast<std::size_t>(n), static_cast<std::size_t>(b.batch_size));
    examples += n;
    char line[160];
    std::snprintf(line, sizeof line, "evaluated %lld/%zu examples, exact accuracy so far %.2f%%%s",
                  static_cast<long long>(std::min<std::int64_t>(seen, static_cast<std::int64_t>(total))), total,
                  100 * acc.exact_accuracy(), world.size() > 1 ? " (rank 0's rows)" : "");
    status.update(line);
  }
  status.finish();
  if (world.size() > 1) {  // every rank's counts, summed (exact in doubles below 2^53)
    constexpr std::size_t na = eval::accuracy::packed_size;
    double v[na + 2];
    acc.pack(v);
    v[na] = static_cast<double>(examples);
    v[na + 1] = static_cast<double>(act_steps);
    comm::all_reduce_sum(world, std::span<double>(v, na + 2));
    acc.unpack(v);
    examples = static_cast<std::int64_t>(v[na]);
    act_steps = static_cast<std::int64_t>(v[na + 1]);
  }
  if (!root) return 0;
  const double secs = std::chrono::duration<double>(clock::now() - t0).count();

  ojson out{{"checkpoint", f.path().string()}, {"preset", p.name}, {"task", t.name()}, {"data", rq.data.string()},
            {"split", rq.split}, {"examples", examples}, {"exact_accuracy", acc.exact_accuracy()},
            {"token_accuracy", acc.token_accuracy()}, {"mean_act_steps", examples ? static_cast<double>(act_steps) / static_cast<double>(examples) : 0.0},
            {"max_steps", max_steps}, {"adaptive", rq.adaptive}, {"vote", rq.vote}, {"seconds", secs}};
  std::string arc_text;
  if (arc) {
    const auto res = arc->result();
    ojson pass = ojson::object();
    for (std::size_t i = 0; i < res.ks.size(); ++i) pass["pass@" + std::to_string(res.ks[i])] = res.pass[i];
    out["arc"] = {{"tasks", res.tasks}, {"test_inputs", res.test_inputs}, {"inputs_without_votes", res.inputs_without_votes},
                  {"pass", pass}};
    const fs::path sub = rq.submission.empty() ? fs::path("submission.json") : fs::path(rq.submission);
    write_file_atomic(sub, eval::arc_submission_json(arc->submission()));
    out["submission"] = sub.string();
    for (std::size_t i = 0; i < res.ks.size(); ++i) arc_text += (i ? ", " : "") + ("pass@" + std::to_string(res.ks[i])) + " " + percent_text(res.pass[i]);
    arc_text += " over " + std::to_string(res.tasks) + " tasks; wrote " + sub.string();
  }
  if (rq.json_out) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s on %s/%s: %lld examples, exact accuracy %s, token accuracy %s, %.2f ACT steps per puzzle (%.1fs)\n",
                p.name.c_str(), rq.data.string().c_str(), rq.split.c_str(), static_cast<long long>(examples),
                percent_text(acc.exact_accuracy()).c_str(), percent_text(acc.token_accuracy()).c_str(),
                out["mean_act_steps"].get<double>(), secs);
    if (arc) std::printf("ARC: %s\n", arc_text.c_str());
  }
  return 0;
}

}  // namespace gtrm::cli
