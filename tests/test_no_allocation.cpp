// "Nothing allocates inside a training or inference step" (DESIGN.md), checked with a counting allocator: this
// executable replaces the global operator new, and each case counts the calls made while the steps under test run.
// A step is allowed to allocate the first time only (thread-local scratch, OpenMP's and OpenBLAS's own start-up), so
// every case runs a warm-up step first and then counts over several steps.
// Only C++ allocations are counted (operator new, so every std container); libraries' own malloc/mmap pools
// (OpenBLAS's buffers) are not gtrm's to control.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/model/gates.hpp>
#include <gtrm/model/hrm.hpp>
#include <gtrm/train/trainer.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

namespace {
std::atomic<long> g_allocations{0};
std::atomic<bool> g_counting{false};

void* counted(std::size_t n, std::size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align) : std::malloc(n);
  if (!p) throw std::bad_alloc();
  return p;
}

// Counts the allocations made by f().
template <class F>
long allocations_during(F&& f) {
  g_allocations = 0;
  g_counting = true;
  f();
  g_counting = false;
  return g_allocations.load();
}
}  // namespace

void* operator new(std::size_t n) { return counted(n, 0); }
void* operator new[](std::size_t n) { return counted(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try { return counted(n, 0); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try { return counted(n, 0); } catch (...) { return nullptr; }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace gtrm;

namespace {

inline constexpr dims small_dims{.vocab = 7, .seq = 9, .puzzle_emb_len = 2, .puzzle_emb_ndim = 32, .hidden = 32,
                                 .heads = 4, .expansion = 2};
inline constexpr cycles small_cycles{.h = 2, .l = 2, .layers = 2, .max_act_steps = 3};

struct random_batches {
  static constexpr int B = 4;
  std::vector<std::int32_t> inputs, labels, ids;
  random_batches(int seq, int vocab, int n_ids) {
    std::mt19937 rng(7);
    for (int i = 0; i < 8 * B * seq; ++i) {
      inputs.push_back(1 + static_cast<std::int32_t>(rng() % static_cast<unsigned>(vocab - 1)));
      labels.push_back(1 + static_cast<std::int32_t>(rng() % static_cast<unsigned>(vocab - 1)));
    }
    for (int i = 0; i < 8 * B; ++i) ids.push_back(static_cast<std::int32_t>(rng() % static_cast<unsigned>(n_ids)));
  }
  batch_ref batch(int k, int seq) const {
    return {inputs.data() + k * B * seq, labels.data() + k * B * seq, ids.data() + k * B, B};
  }
};

// Training (forward, loss, backward, sign-SGD, the optimizer, EMA) and no-grad inference ACT steps.
template <class M>
void check_steps_do_not_allocate(train::optimizer_kind optimizer) {
  constexpr int n_ids = 3;
  M m(n_ids);
  m.init(11);
  train::train_config cfg{.global_batch_size = random_batches::B, .total_steps = 100, .lr = 1e-3, .lr_warmup_steps = 2,
                          .puzzle_emb_lr = 1e-2, .halt_exploration_prob = 0.5, .ema = true, .ema_rate = 0.99};
  cfg.optimizer = optimizer;
  train::trainer<M> tr(m, cfg);
  random_batches data(M::S, M::V, n_ids);
  tr.train_batch(data.batch(0, M::S));  // warm-up
  const long in_training = allocations_during([&] {
    for (int k = 1; k < 6; ++k) tr.train_batch(data.batch(k, M::S));
  });
  CHECK_MESSAGE(in_training == 0, in_training << " allocations in 5 training steps");

  using T = typename M::scalar;
  typename M::workspace ws(random_batches::B, false);
  buffer<T> z_h(random_batches::B * M::L * M::D), z_l(random_batches::B * M::L * M::D);
  auto step = [&](int k) {
    m.forward(no_grad, ws, view<T, M::D>(z_h.data(), random_batches::B * M::L),
              view<T, M::D>(z_l.data(), random_batches::B * M::L), data.inputs.data() + k * random_batches::B * M::S,
              data.ids.data() + k * random_batches::B, random_batches::B);
  };
  step(0);  // warm-up
  const long in_inference = allocations_during([&] {
    for (int k = 1; k < 6; ++k) step(k);
  });
  CHECK_MESSAGE(in_inference == 0, in_inference << " allocations in 5 inference ACT steps");

  // evaluation ACT steps: carry reset, restarts, halting, loss head and the row-stats read, no gradient
  act_carry<M> carry(random_batches::B);
  act_scratch<M> sc(random_batches::B);
  std::minstd_rand eval_rng(0);
  const act_options eval_opt{.training = false, .exploration_prob = 0.0, .backward = false};
  auto eval_batch = [&](int k) {
    carry.reset(m.backend());
    for (int s = 0; s < M::cycles_v.max_act_steps; ++s) act_step(m, ws, carry, data.batch(k, M::S), sc, eval_opt, eval_rng);
  };
  eval_batch(0);  // warm-up
  const long in_eval = allocations_during([&] {
    for (int k = 1; k < 4; ++k) eval_batch(k);
  });
  CHECK_MESSAGE(in_eval == 0, in_eval << " allocations in 3 evaluation batches of ACT steps");
}

}  // namespace

TEST_CASE("no allocation: the counting allocator sees a std::vector") {
  const long n = allocations_during([] { std::vector<int> v(10); (void)v; });
  CHECK(n == 1);
}

TEST_CASE("no allocation: TRM with attention, training (Adam-atan2, EMA, sign-SGD) and inference steps") {
  check_steps_do_not_allocate<trm<small_dims, small_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>>(
      train::optimizer_kind::adam_atan2);
}

TEST_CASE("no allocation: TRM with the token MLP, training with AdamW, and inference steps") {
  check_steps_do_not_allocate<trm<small_dims, small_cycles, mixer::token_mlp<>, gate::none, halt::q_head, cpu>>(
      train::optimizer_kind::adamw);
}

TEST_CASE("no allocation: gated TRM (attention gate per head, context gate) steps") {
  check_steps_do_not_allocate<
      trm<small_dims, small_cycles, mixer::attention<pos::rope>, gate::attention<gate::headwise>, halt::q_head, cpu>>(
      train::optimizer_kind::adam_atan2);
}

TEST_CASE("no allocation: HRM with the Q-continue target (extra pass), training and inference steps") {
  check_steps_do_not_allocate<hrm<small_dims, small_cycles, 1, mixer::attention<pos::rope>, halt::q_head_continue, cpu>>(
      train::optimizer_kind::adam_atan2);
}

// bf16: gtrm's own code around the products (conversions, per-thread scratch) allocates nothing after warm-up; checked
// with the emulation body. The oneDNN body (cpu_bf16 with GTRM_CPU_ONEDNN) caches its primitives and memory objects,
// but oneDNN 2.6's primitive execute itself allocates (its execution context): measured 11,100 operator-new calls in
// 5 inference ACT steps of this small model. A library's own allocations, like OpenBLAS's buffers; still an open item.
TEST_CASE("no allocation: TRM with attention in bf16 (cpu_bf16_emulated), training and inference steps") {
  check_steps_do_not_allocate<
      trm<small_dims, small_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu_bf16_emulated>>(
      train::optimizer_kind::adam_atan2);
}
