// Coarse-grained CPU threading (backend/cpu/cpu.hpp parallel_chunks, model/schedule.hpp run_network) and the
// thread settings of backend/cpu/threads.hpp. ctest runs this with OMP_NUM_THREADS=1; the cases that need two
// threads set them themselves (two threads also run, interleaved, on a one-core machine).
// The batch-split path must give what the per-op path gives: the same training trajectory (parameters after a few
// steps of forward, loss, backward and optimizer) and the same inference outputs, for each mixer and architecture
// whose network forward it splits.
#include <doctest/doctest.h>

#include <gtrm/backend/cpu/threads.hpp>
#include <gtrm/cpu.hpp>
#include <gtrm/model/gates.hpp>
#include <gtrm/model/hrm.hpp>
#include <gtrm/train/trainer.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

using namespace gtrm;

namespace {

inline constexpr dims small_dims{.vocab = 7, .seq = 9, .puzzle_emb_len = 2, .puzzle_emb_ndim = 32, .hidden = 32,
                                 .heads = 4, .expansion = 2};
inline constexpr cycles small_cycles{.h = 2, .l = 2, .layers = 2, .max_act_steps = 3};
constexpr int B = 5;  // odd: the two threads' shares differ (3 and 2 samples)

// Restores the thread count a case changed.
struct threads_guard {
  int before = cpu::threads();
  ~threads_guard() { cpu::set_threads(before); }
};

// The parameter gradients of `steps` > 0 training steps' last, or (steps = 0) the logits and z_H of one no-grad ACT
// step from the initial parameters, on `threads` threads, with the batch split (split) or one region per op.
template <class M>
std::vector<float> trajectory(int threads, bool split, int steps) {
  cpu::set_threads(threads);
  cpu::set_batch_split(split);
  constexpr int n_ids = 3;
  M m(n_ids);
  m.init(11);
  train::train_config cfg{.global_batch_size = B, .total_steps = 100, .lr = 1e-3, .lr_warmup_steps = 1,
                          .puzzle_emb_lr = 1e-2, .halt_exploration_prob = 0.5, .ema = false};
  train::trainer<M> tr(m, cfg);
  std::mt19937 rng(7);
  std::vector<std::int32_t> inputs(B * M::S), labels(B * M::S), ids(B);
  auto draw = [&] {
    for (auto& v : inputs) v = 1 + static_cast<std::int32_t>(rng() % (M::V - 1));
    for (auto& v : labels) v = 1 + static_cast<std::int32_t>(rng() % (M::V - 1));
    for (auto& v : ids) v = static_cast<std::int32_t>(rng() % n_ids);
  };
  for (int k = 0; k < steps; ++k) {
    draw();
    tr.train_batch({inputs.data(), labels.data(), ids.data(), B});
  }
  // after training steps: the last step's parameter gradients (before the optimizer's normalised update, which
  // turns last-bit differences of near-zero gradients into whole steps, and halting, which turns them into
  // different carries); with none: the initial parameters
  if (steps > 0) return std::vector<float>(m.grads().data(), m.grads().data() + m.grads().size());
  std::vector<float> out(m.params().data(), m.params().data() + m.params().size());
  typename M::workspace ws(B, false);
  buffer<float> z_h(B * M::L * M::D), z_l(B * M::L * M::D);
  for (index_t i = 0; i < z_h.size(); ++i) {
    z_h.data()[i] = 0.01f * static_cast<float>(i % 17);
    z_l.data()[i] = 0.02f * static_cast<float>(i % 13);
  }
  draw();
  m.forward(no_grad, ws, view<float, M::D>(z_h.data(), B * M::L), view<float, M::D>(z_l.data(), B * M::L), inputs.data(),
            ids.data(), B);
  out.insert(out.end(), ws.logits.data(), ws.logits.data() + B * M::S * M::V);
  out.insert(out.end(), z_h.data(), z_h.data() + z_h.size());
  return out;
}

// Largest |a - b| over the largest |a| (at least 1).
double relative_gap(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0, scale = 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(a[i])));
  }
  return worst / scale;
}

// The split path computes every row with the same operations, but its products run single-threaded on a share of
// the rows, and OpenBLAS picks its kernels and blocking by shape and thread count: sums may round differently, as
// they already do between one and two threads on the per-op path. So: one forward from the initial weights (every
// network application of an ACT step in a row) and the gradients of one training step agree to float rounding
// (measured: <= 5e-6 of the largest value, as the per-op path at 1 vs 2 threads), and the split path is
// deterministic (no race: two runs give the same bits).
template <class M>
void check_split_matches_per_op() {
  threads_guard g;
  const double forward_gap = relative_gap(trajectory<M>(2, false, 0), trajectory<M>(2, true, 0));
  const auto per_op = trajectory<M>(2, false, 1), split = trajectory<M>(2, true, 1), again = trajectory<M>(2, true, 1);
  const double per_op_threads_gap = relative_gap(trajectory<M>(1, false, 1), per_op);
  cpu::set_batch_split(true);
  MESSAGE("split vs per-op, 2 threads: one forward " << forward_gap << ", one training step's gradients "
          << relative_gap(per_op, split) << " (per-op at 1 vs 2 threads: " << per_op_threads_gap << ")");
  CHECK(forward_gap <= 1e-5);
  CHECK(relative_gap(per_op, split) <= 1e-5);
  CHECK(relative_gap(split, again) == 0);
}
}  // namespace

TEST_CASE("threads: parallel_chunks covers every index 0..n-1 once, in near-equal contiguous shares, one region") {
  threads_guard g;
  cpu::set_threads(2);
  const cpu be;
  for (index_t n : {2, 3, 5, 8}) {
    std::vector<std::atomic<int>> seen(static_cast<std::size_t>(n));
    std::atomic<int> shares{0};
    std::atomic<index_t> smallest{n}, largest{0};
    const bool split = be.parallel_chunks(n, [&](index_t b, index_t e) {
      ++shares;
      for (index_t i = b; i < e; ++i) ++seen[static_cast<std::size_t>(i)];
      index_t s = smallest.load();
      while (e - b < s && !smallest.compare_exchange_weak(s, e - b)) {}
      index_t l = largest.load();
      while (e - b > l && !largest.compare_exchange_weak(l, e - b)) {}
    });
#if defined(_OPENMP)
    REQUIRE(split);
    CHECK(shares == 2);
    CHECK(largest - smallest <= 1);
    for (auto& s : seen) CHECK(s == 1);
#else
    CHECK(!split);
#endif
  }
  // one share: the caller's per-op path runs instead
  CHECK(!be.parallel_chunks(1, [](index_t, index_t) {}));
  cpu::set_threads(1);
  CHECK(!be.parallel_chunks(8, [](index_t, index_t) {}));
}

TEST_CASE("threads: parallel_for inside a parallel_chunks share runs on the calling thread") {
  threads_guard g;
  cpu::set_threads(2);
  const cpu be;
  std::atomic<int> nested_regions{0};
  be.parallel_chunks(4, [&](index_t, index_t) {
    be.parallel_for(16, [&](index_t) {
#if defined(_OPENMP)
      if (omp_get_level() > 1) ++nested_regions;
#endif
    });
  });
  CHECK(nested_regions == 0);
}

TEST_CASE("threads: the batch-split forward gives the per-op path's training and inference, attention + RoPE") {
  check_split_matches_per_op<trm<small_dims, small_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>>();
}

TEST_CASE("threads: the batch-split forward gives the per-op path's training and inference, token MLP") {
  check_split_matches_per_op<trm<small_dims, small_cycles, mixer::token_mlp<>, gate::none, halt::q_head, cpu>>();
}

TEST_CASE("threads: the batch-split forward gives the per-op path's training and inference, gated attention") {
  check_split_matches_per_op<
      trm<small_dims, small_cycles, mixer::attention<pos::rope>, gate::attention<gate::headwise>, halt::q_head, cpu>>();
}

TEST_CASE("threads: the batch-split forward gives the per-op path's training and inference, HRM") {
  check_split_matches_per_op<hrm<small_dims, small_cycles, 1, mixer::attention<pos::rope>, halt::q_head, cpu>>();
}

TEST_CASE("threads: the batch-split forward gives the per-op path's training and inference, LMA latent attention") {
  using lat = mixer::latent_meta<mixer::attention<pos::none>, mixer::lma_config{.stack_heads = 2, .width = 16, .heads = 2}>;
  check_split_matches_per_op<trm<small_dims, small_cycles, lat, gate::none, halt::q_head, cpu>>();
}

TEST_CASE("threads: thread counts are capped at the usable cores") {
  const int cores = cpu_threads::usable_cores();
  CHECK(cores >= 1);
  CHECK(cpu_threads::capped_threads(0) == 0);
  CHECK(cpu_threads::capped_threads(1) == 1);
  CHECK(cpu_threads::capped_threads(cores) == cores);
  CHECK(cpu_threads::capped_threads(cores + 1) == cores);
  CHECK(cpu_threads::capped_threads(5000) == cores);
}

TEST_CASE("threads: a wait policy or spin count in the environment is the user's choice, kept") {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  const std::string saved_policy = policy ? policy : "", saved_spin = spin ? spin : "";
  unsetenv("OMP_WAIT_POLICY");
  unsetenv("GOMP_SPINCOUNT");
  CHECK(!cpu_threads::wait_policy_chosen());
  setenv("OMP_WAIT_POLICY", "active", 1);
  CHECK(cpu_threads::wait_policy_chosen());
  unsetenv("OMP_WAIT_POLICY");
  setenv("GOMP_SPINCOUNT", "1000", 1);
  CHECK(cpu_threads::wait_policy_chosen());
  unsetenv("GOMP_SPINCOUNT");
  if (policy) setenv("OMP_WAIT_POLICY", saved_policy.c_str(), 1);
  if (spin) setenv("GOMP_SPINCOUNT", saved_spin.c_str(), 1);
}
