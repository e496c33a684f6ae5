// Data parallel over MPI equals one process (issue 15): run under `mpiexec -np 2` (ctest does, tests/CMakeLists.txt).
// Every rank trains a small TRM with trainer<Model, comm::mpi> on its half of each global batch of B rows (the
// loader's rank slice) for 20 steps; rank 0 also trains the same model in-process with comm::none on whole batches
// of B. Rank 0 then compares, tensor by tensor (relative L2 norm of the difference): every parameter tensor, the EMA
// shadow, the puzzle table and both Adam moments, within 1e-5; every rank holds the same bits as rank 0; the
// per-step losses agree; and evaluation split over the ranks gives the single process's metrics. Rank 1 starts from
// other weights, so the initial broadcast is exercised. Prints the largest differences measured.
#include <unistd.h>

#include <gtrm/backend/mpi/comm.hpp>  // <mpi.h>, C API
#include <gtrm/cpu.hpp>
#include <gtrm/data/dataset.hpp>
#include <gtrm/data/loader.hpp>
#include <gtrm/train/fit.hpp>
#include <gtrm/train/trainer.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

using namespace gtrm;

namespace {

inline constexpr dims toy_dims{.vocab = 6, .seq = 6, .puzzle_emb_len = 1, .puzzle_emb_ndim = 16, .hidden = 16, .heads = 2, .expansion = 2};
inline constexpr cycles toy_cycles{.h = 2, .l = 1, .layers = 1, .max_act_steps = 3};
using toy = trm<toy_dims, toy_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>;

constexpr index_t B = 16;
constexpr int steps = 20;

// The reversal task (labels: the inputs reversed) in the reference's layout: groups of 1-2 puzzles, each puzzle
// (its own identifier, so the puzzle table has many rows to train) 2-5 examples.
data::split_data reversal_split(std::uint64_t seed, int groups, data::dataset_metadata& meta) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> tok(1, 5), puzzles(1, 2), examples(2, 5);
  data::split_data d;
  d.seq_len = toy_dims.seq;
  std::int32_t id = 1;  // 0 is the blank identifier
  for (int g = 0; g < groups; ++g) {
    for (int p = puzzles(rng); p > 0; --p) {
      for (int e = examples(rng); e > 0; --e) {
        std::uint8_t x[toy_dims.seq], y[toy_dims.seq];
        for (auto& t : x) t = static_cast<std::uint8_t>(tok(rng));
        for (int s = 0; s < toy_dims.seq; ++s) y[s] = x[toy_dims.seq - 1 - s];
        d.add_example(x, y);
      }
      d.end_puzzle(id++);
    }
    d.end_group();
  }
  meta.pad_id = 0;
  meta.ignore_label_id = 0;
  meta.blank_identifier_id = 0;
  meta.vocab_size = toy_dims.vocab;
  meta.seq_len = toy_dims.seq;
  meta.num_puzzle_identifiers = std::max(meta.num_puzzle_identifiers, id);
  meta.total_groups = groups;
  meta.total_puzzles = static_cast<int>(d.num_puzzles());
  return d;
}

// ||a - b|| / ||b|| (0 when both are zero)
double norm_rel(const float* a, const float* b, index_t n) {
  double num = 0, den = 0;
  for (index_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    num += d * d;
    den += static_cast<double>(b[i]) * b[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

train::train_config config() {
  return {.global_batch_size = B, .total_steps = 200, .lr = 3e-3, .lr_warmup_steps = 5, .weight_decay = 0.01,
          .puzzle_emb_lr = 1e-2, .halt_exploration_prob = 0.3, .ema = true, .ema_rate = 0.9, .seed = 3};
}

}  // namespace

int main(int argc, char** argv) {
  comm::mpi_session session(argc, argv);
  const comm::mpi world;
  const int rank = world.rank(), size = world.size();
  if (B % size != 0) {
    if (rank == 0) std::printf("dist_mpi_parity: %d ranks do not divide the batch of %d\n", size, static_cast<int>(B));
    return 1;
  }

  data::dataset_metadata meta, test_meta;
  const auto train_split = reversal_split(11, 24, meta);
  test_meta.num_puzzle_identifiers = meta.num_puzzle_identifiers;
  const auto test_split = reversal_split(12, 8, test_meta);
  meta.num_puzzle_identifiers = test_meta.num_puzzle_identifiers;  // one table for both (ids overlap: a toy)
  const index_t table_rows = meta.num_puzzle_identifiers;

  // ---- N ranks, global batch B ----
  toy dist(table_rows);
  dist.init(rank == 0 ? 5 : 1000 + static_cast<std::uint64_t>(rank));  // other ranks' weights must be replaced by rank 0's
  train::trainer<toy, comm::mpi> td(dist, config(), world);
  data::train_loader ld(train_split, meta, {.seed = 7, .global_batch_size = B, .epochs_per_iter = 2, .rank = rank, .num_replicas = size});
  std::vector<double> loss_dist;
  data::batch b;
  for (int s = 0; s < steps; ++s) {
    train::next_batch(ld, b);
    loss_dist.push_back(td.train_batch(train::as_batch_ref(b)).loss);
  }
  toy dist_eval(table_rows);
  td.copy_eval_weights(dist_eval);
  const auto eval_dist = train::evaluate_split(dist_eval, test_split, meta, 8, 0, train::no_final_hook{}, world);

  // every rank holds rank 0's bits
  const auto& dm = td.optimizer_moments();
  const auto same_as_root = [&](const float* p, index_t n) {
    std::vector<float> all(static_cast<std::size_t>(n) * static_cast<std::size_t>(size));
    comm::all_gather(world, std::span<const float>(p, static_cast<std::size_t>(n)), std::span<float>(all));
    for (int r = 1; r < size; ++r)
      if (!std::equal(all.begin(), all.begin() + n, all.begin() + static_cast<std::ptrdiff_t>(r) * n)) return false;
    return true;
  };
  const index_t np = static_cast<index_t>(dist.params().size());
  const bool identical = same_as_root(dist.params().data(), np) && same_as_root(dm.m.data(), np) &&
                         same_as_root(dm.v.data(), np) && same_as_root(dist_eval.params().data(), np) &&
                         same_as_root(dist.puzzle_table().data(), static_cast<index_t>(dist.puzzle_table().size()));

  int failures = 0;
  if (rank == 0) {
    // ---- one process, batch B ----
    toy one(table_rows);
    one.init(5);
    train::trainer<toy> t1(one, config());
    data::train_loader l1(train_split, meta, {.seed = 7, .global_batch_size = B, .epochs_per_iter = 2});
    double loss_rel = 0;
    for (int s = 0; s < steps; ++s) {
      train::next_batch(l1, b);
      const double l = t1.train_batch(train::as_batch_ref(b)).loss;
      loss_rel = std::max(loss_rel, std::abs(l - loss_dist[static_cast<std::size_t>(s)]) / std::max(1e-30, std::abs(l)));
    }
    toy one_eval(table_rows);
    t1.copy_eval_weights(one_eval);
    const auto eval_one = train::evaluate_split(one_eval, test_split, meta, 8);

    const auto& om = t1.optimizer_moments();
    double worst_param = 0, worst_ema = 0, worst_m = 0, worst_v = 0;
    std::string worst_name;
    for (std::size_t i = 0; i < toy::layout.count; ++i) {
      const auto& sp = toy::layout[i];
      const double p = norm_rel(dist.params().data() + sp.offset, one.params().data() + sp.offset, sp.size());
      if (p > worst_param) worst_param = p, worst_name = sp.full_name();
      worst_ema = std::max(worst_ema, norm_rel(dist_eval.params().data() + sp.offset, one_eval.params().data() + sp.offset, sp.size()));
      worst_m = std::max(worst_m, norm_rel(dm.m.data() + sp.offset, om.m.data() + sp.offset, sp.size()));
      worst_v = std::max(worst_v, norm_rel(dm.v.data() + sp.offset, om.v.data() + sp.offset, sp.size()));
    }
    const double table = norm_rel(dist.puzzle_table().data(), one.puzzle_table().data(), static_cast<index_t>(one.puzzle_table().size()));
    const bool steps_same = dm.step == om.step;
    const bool eval_same = eval_dist.examples == eval_one.examples && eval_dist.metrics.count == eval_one.metrics.count &&
                           eval_dist.metrics.exact_accuracy == eval_one.metrics.exact_accuracy &&
                           eval_dist.metrics.steps == eval_one.metrics.steps &&
                           std::abs(eval_dist.accuracy() - eval_one.accuracy()) <= 1e-9;
    std::printf("dist_mpi_parity: %d ranks x %d rows vs 1 process x %d rows, %d steps, %zu parameter tensors, table %d x %d\n",
                size, static_cast<int>(B / size), static_cast<int>(B), steps, toy::layout.count, static_cast<int>(table_rows),
                toy_dims.puzzle_emb_ndim);
    std::printf("  max relative difference per tensor: parameters %.3e (%s), EMA %.3e, puzzle table %.3e, Adam m %.3e, v %.3e\n",
                worst_param, worst_name.c_str(), worst_ema, table, worst_m, worst_v);
    std::printf("  step losses: max relative difference %.3e; optimizer steps %lld / %lld\n", loss_rel,
                static_cast<long long>(dm.step), static_cast<long long>(om.step));
    std::printf("  evaluation: %lld examples, exact %.6f / %.6f, token accuracy %.9f / %.9f, steps %lld / %lld\n",
                static_cast<long long>(eval_dist.examples), eval_dist.exact_accuracy(), eval_one.exact_accuracy(),
                eval_dist.accuracy(), eval_one.accuracy(), static_cast<long long>(eval_dist.metrics.steps),
                static_cast<long long>(eval_one.metrics.steps));
    std::printf("  ranks hold identical parameters, moments, EMA and table: %s\n", identical ? "yes" : "NO");
    const double tol = 1e-5;
    for (const auto& [what, ok] : std::vector<std::pair<const char*, bool>>{
             {"parameters", worst_param <= tol}, {"EMA", worst_ema <= tol}, {"puzzle table", table <= tol},
             {"Adam m", worst_m <= tol}, {"Adam v", worst_v <= tol}, {"losses", loss_rel <= tol},
             {"optimizer steps", steps_same}, {"evaluation metrics", eval_same}, {"ranks identical", identical}})
      if (!ok) {
        std::printf("  FAILED: %s\n", what);
        ++failures;
      }
    // the table must have trained: more than one row moved away from zero
    int rows_moved = 0;
    for (index_t r = 0; r < table_rows; ++r)
      for (int e = 0; e < toy_dims.puzzle_emb_ndim; ++e)
        if (one.puzzle_table()[r * toy_dims.puzzle_emb_ndim + e] != 0) { ++rows_moved; break; }
    std::printf("  puzzle-table rows trained: %d\n", rows_moved);
    if (rows_moved < 2) {
      std::printf("  FAILED: fewer than 2 puzzle-table rows trained\n");
      ++failures;
    }

  }
  // save/resume across rank counts: every rank saves (rank 0 writes), rank 0 resumes it with one process
  const auto file = std::filesystem::temp_directory_path() / ("gtrm_dist_parity_" + std::to_string(::getpid()) + ".safetensors");
  std::string path = file.string();
  int len = static_cast<int>(path.size());
  MPI_Bcast(&len, 1, MPI_INT, 0, MPI_COMM_WORLD);
  path.resize(static_cast<std::size_t>(len));
  MPI_Bcast(path.data(), len, MPI_CHAR, 0, MPI_COMM_WORLD);
  td.save_state(path);
  world.barrier();
  if (rank == 0) {
    toy r1(table_rows);
    r1.init(99);
    train::trainer<toy> tr(r1, config());
    tr.load_state(path);
    const double rel = norm_rel(r1.params().data(), dist.params().data(), np);
    std::printf("  state saved by %d ranks, loaded by 1 process: parameters relative difference %.3e, step %lld\n", size, rel,
                static_cast<long long>(tr.step()));
    if (rel != 0 || tr.step() != steps) {
      std::printf("  FAILED: resume across rank counts\n");
      ++failures;
    }
    std::filesystem::remove(path);
    std::printf("dist_mpi_parity: %s\n", failures ? "FAILED" : "passed");
  }
  MPI_Bcast(&failures, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return failures ? 1 : 0;
}
