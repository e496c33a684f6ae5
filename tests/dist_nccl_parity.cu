// Data parallel over NCCL equals one GPU (issue 15): two threads, one per GPU, each train a small TRM on gtrm::cuda
// with trainer<Model, comm::nccl> on its half of each global batch of B rows for 20 steps; a third run trains the
// same model on GPU 0 alone with batch B. Every parameter tensor, the puzzle table and both Adam moments must agree
// within 1e-5 (relative L2 norm per tensor) and the two ranks must hold the same bits. Built where GTRM_ENABLE_NCCL
// is on; with fewer than 2 GPUs it prints "skipped: ..." and ctest reports it skipped (never passed).
#include <gtrm/backend/cuda/nccl_comm.cuh>
#include <gtrm/cuda.cuh>
#include <gtrm/gtrm.hpp>
#include <gtrm/train/trainer.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace gtrm;

namespace {

inline constexpr dims toy_dims{.vocab = 6, .seq = 6, .puzzle_emb_len = 1, .puzzle_emb_ndim = 16, .hidden = 16, .heads = 2, .expansion = 2};
inline constexpr cycles toy_cycles{.h = 2, .l = 1, .layers = 1, .max_act_steps = 3};
using toy = trm<toy_dims, toy_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cuda>;
constexpr index_t B = 16, rows = 9;
constexpr int steps = 20, S = toy_dims.seq;

struct host_state {
  std::vector<float> params, table, m, v;
};

train::train_config config() {
  return {.global_batch_size = B, .total_steps = 200, .lr = 3e-3, .lr_warmup_steps = 5, .weight_decay = 0.01,
          .puzzle_emb_lr = 1e-2, .halt_exploration_prob = 0.3, .ema = true, .ema_rate = 0.9, .seed = 3};
}

// the reversal task, ids 1..8
struct batches {
  std::vector<std::int32_t> inputs, labels, ids;
  batches() {
    std::mt19937_64 rng(11);
    std::uniform_int_distribution<int> tok(1, 5), id(1, rows - 1);
    for (int i = 0; i < steps * B; ++i) {
      std::int32_t x[S];
      for (auto& t : x) t = tok(rng);
      for (int s = 0; s < S; ++s) {
        inputs.push_back(x[s]);
        labels.push_back(x[S - 1 - s]);
      }
      ids.push_back(id(rng));
    }
  }
  batch_ref slice(int step, index_t first, index_t n) const {
    const std::size_t row = static_cast<std::size_t>(step) * B + static_cast<std::size_t>(first);
    return {inputs.data() + row * S, labels.data() + row * S, ids.data() + row, n};
  }
};

template <class Tr>
host_state download(toy& m, const Tr& tr) {
  host_state h;
  h.params.resize(m.params().size());
  h.table.resize(m.puzzle_table().size());
  h.m.resize(m.params().size());
  h.v.resize(m.params().size());
  to_host(m.backend(), h.params, m.params());
  to_host(m.backend(), h.table, m.puzzle_table());
  to_host(m.backend(), h.m, tr.optimizer_moments().m);
  to_host(m.backend(), h.v, tr.optimizer_moments().v);
  return h;
}

double norm_rel(const float* a, const float* b, index_t n) {
  double num = 0, den = 0;
  for (index_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    num += d * d;
    den += static_cast<double>(b[i]) * b[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

}  // namespace

int main() {
  const int devices = cuda::device_count();
  if (devices < 2) {
    std::printf("skipped: comm::nccl needs 2 CUDA devices, found %d\n", devices);
    return 0;
  }
  const batches data;
  const ncclUniqueId id = comm::nccl::make_id();
  host_state ranks[2];
  std::string errors[2];
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r)
    threads.emplace_back([&, r] {
      try {
        GTRM_CUDA_CHECK(cudaSetDevice(r));
        toy m(rows, cuda{});
        m.init(r == 0 ? 5 : 77);  // rank 1's weights are replaced by rank 0's broadcast
        train::trainer<toy, comm::nccl> tr(m, config(), comm::nccl(r, 2, id, r, m.backend().stream()));
        for (int s = 0; s < steps; ++s) tr.train_batch(data.slice(s, r * (B / 2), B / 2));
        ranks[r] = download(m, tr);
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (!e.empty()) {
      std::printf("dist_nccl_parity: FAILED: %s\n", e.c_str());
      return 1;
    }

  GTRM_CUDA_CHECK(cudaSetDevice(0));
  toy one(rows, cuda{});
  one.init(5);
  train::trainer<toy> t1(one, config());
  for (int s = 0; s < steps; ++s) t1.train_batch(data.slice(s, 0, B));
  const host_state ref = download(one, t1);

  double worst = 0, table = 0, wm = 0, wv = 0;
  for (std::size_t i = 0; i < toy::layout.count; ++i) {
    const auto& sp = toy::layout[i];
    worst = std::max(worst, norm_rel(ranks[0].params.data() + sp.offset, ref.params.data() + sp.offset, sp.size()));
    wm = std::max(wm, norm_rel(ranks[0].m.data() + sp.offset, ref.m.data() + sp.offset, sp.size()));
    wv = std::max(wv, norm_rel(ranks[0].v.data() + sp.offset, ref.v.data() + sp.offset, sp.size()));
  }
  table = norm_rel(ranks[0].table.data(), ref.table.data(), static_cast<index_t>(ref.table.size()));
  const bool same = ranks[0].params == ranks[1].params && ranks[0].table == ranks[1].table && ranks[0].m == ranks[1].m &&
                    ranks[0].v == ranks[1].v;
  std::printf("dist_nccl_parity: 2 GPUs x %d rows vs 1 GPU x %d rows, %d steps: max relative difference per tensor: "
              "parameters %.3e, puzzle table %.3e, Adam m %.3e, v %.3e; ranks identical: %s\n",
              static_cast<int>(B / 2), static_cast<int>(B), steps, worst, table, wm, wv, same ? "yes" : "NO");
  const bool ok = same && worst <= 1e-5 && table <= 1e-5 && wm <= 1e-5 && wv <= 1e-5;
  std::printf("dist_nccl_parity: %s\n", ok ? "passed" : "FAILED");
  return ok ? 0 : 1;
}
