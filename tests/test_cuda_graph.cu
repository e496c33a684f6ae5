// CUDA graph capture of the ACT step's device work (backend/cuda/graph.cuh): the stretch of act_step between the
// batch upload and the row-stats download — restart of halted rows, the recursion forward with gradient, halting,
// loss head forward and backward, the model's backward — captured on the model's stream and replayed, on the
// attention + RoPE golden model (gtrm::cuda) and the same model on gtrm::cuda_bf16. This is the check issue #14 asks
// before the trainer uses graphs: if any op in that stretch synchronises with the host or allocates, the capture
// fails and the test names the call. A replay must then give bit-for-bit the eager run's logits, Q logits, carry,
// per-token losses, predictions and gradients (the same kernels in the same order), twice from the same state.
// Without a CUDA device every case prints "skipped: no CUDA device".
#include "cuda_parity_bodies.hpp"

#include <gtrm/cuda.cuh>

#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

namespace {

using namespace gtrm;

bool cuda_device_or_skip() {
  if (cuda::device_count() > 0) return true;
  std::printf("skipped: no CUDA device\n");
  std::fflush(stdout);
  return false;
}

template <class Be, class T>
std::vector<T> host_copy(const Be& be, const T* p, index_t n) {
  std::vector<T> v(static_cast<std::size_t>(n));
  to_host(be, v, std::span<const T>(p, static_cast<std::size_t>(n)));
  return v;
}

// Everything the captured stretch writes, back on the host, as bytes (the comparison is exact).
template <class M>
std::vector<unsigned char> state_bytes(M& m, typename M::workspace& ws, act_carry<M>& c, act_scratch<M>& sc) {
  const auto& be = m.backend();
  const index_t B = c.batch;
  std::vector<unsigned char> out;
  auto add = [&](const auto& v) {
    const auto* p = reinterpret_cast<const unsigned char*>(v.data());
    out.insert(out.end(), p, p + v.size() * sizeof(v[0]));
  };
  add(host_copy(be, ws.logits.data(), B * M::S * M::V));
  add(host_copy(be, ws.q.data(), B * 2));
  add(host_copy(be, c.z_h.data(), B * M::L * M::D));
  add(host_copy(be, c.z_l.data(), B * M::L * M::D));
  add(host_copy(be, c.steps.data(), B));
  add(host_copy(be, c.halted.data(), B));
  // the loss head's per-token numbers (its row stats are structs with padding: not compared as bytes)
  add(host_copy(be, sc.ce.data(), B * M::S));
  add(host_copy(be, sc.weight.data(), B * M::S));
  add(host_copy(be, sc.preds.data(), B * M::S));
  add(host_copy(be, m.grads().data(), m.grads().size()));
  add(host_copy(be, ws.dlocal.data(), B * M::E));
  return out;
}

template <class Be>
void capture_and_replay() {
  using M = presets::golden_rope<Be>;
  constexpr index_t B = 3, puzzles = 4;
  M m(puzzles, Be{});
  parity::init_parity_model(m, 501);
  typename M::workspace ws(B);
  act_carry<M> c(m.backend(), B);
  act_scratch<M> sc(B);
  const auto& be = m.backend();
  const act_options opt{.training = true, .exploration_prob = 0.0, .loss = lm_loss_kind::stablemax,
                        .loss_scale = 1.0 / B, .backward = true};
  std::mt19937_64 rng(0);
  // Two eager steps: first use of every buffer (cuda_bf16 sizes its operand scratch), and a carry mid-recursion.
  for (int k = 0; k < 2; ++k) {
    m.zero_grads();
    ops::fill<Be, float, M::E_cols>(be, ws.dlocal, 0.0f);
    (void)act_step(m, ws, c, parity::random_batch<M>(B, puzzles, 502 + k).ref(), sc, opt, rng);
  }
  // The next batch goes up before the stretch, as act_step does it.
  const parity::host_batch next = parity::random_batch<M>(B, puzzles, 510);
  detail::act_upload(be, next.inputs.data(), B * M::S, sc.new_inputs);
  detail::act_upload(be, next.labels.data(), B * M::S, sc.new_labels);
  detail::act_upload(be, next.ids.data(), B, sc.new_puzzle_ids);
  // The starting state every run restores: the carry.
  act_carry<M> start(be, B);
  auto restore = [&](act_carry<M>& dst, act_carry<M>& src) {
    copy(be, dst.z_h, src.z_h);
    copy(be, dst.z_l, src.z_l);
    copy(be, dst.steps, src.steps);
    copy(be, dst.halted, src.halted);
    copy(be, dst.inputs, src.inputs);
    copy(be, dst.labels, src.labels);
    copy(be, dst.puzzle_ids, src.puzzle_ids);
    m.zero_grads();
    ops::fill<Be, float, M::E_cols>(be, ws.dlocal, 0.0f);
  };
  restore(start, c);
  const cview<float, 2> q = ws.q.slice(0, B);
  const cview<float, M::V> logits = ws.logits.slice(0, B * M::S);
  auto stretch = [&] {  // act_step between the upload and the download (training, no exploration)
    detail::act_restart_halted(m, c, sc);
    m.forward(with_grad, ws, c.zh(), c.zl(), c.inputs.data(), c.puzzle_ids.data(), B);
    detail::act_halt(m, c, q, true, nullptr);
    loss_head_forward<M::S, M::V>(be, opt.loss, logits, q, c.labels.data(), c.steps.data(), c.halted.data(),
                                  nullptr, B, true, opt.loss_scale, sc.buffers());
    loss_head_backward<M::S, M::V>(be, opt.loss, logits, q, c.labels.data(), nullptr, B, opt.loss_scale,
                                   sc.buffers(), ws.dlogits.slice(0, B * M::S), ws.dq.slice(0, B));
    m.backward(ws, c.inputs.data(), B);
  };

  restore(c, start);
  stretch();
  const auto eager = state_bytes(m, ws, c, sc);

  restore(c, start);
  synchronize(be);
  cuda_graph g;
  g.capture(be, stretch);  // throws, naming the call, if the stretch syncs with the host or allocates
  REQUIRE(!g.empty());
  for (int replay = 0; replay < 2; ++replay) {
    INFO("replay " << replay);
    restore(c, start);
    g.launch(be);
    const auto replayed = state_bytes(m, ws, c, sc);
    REQUIRE(replayed.size() == eager.size());
    CHECK(std::memcmp(replayed.data(), eager.data(), eager.size()) == 0);
  }
  std::printf("cuda graph: the ACT step's device stretch (%s) captured and replayed, bit-identical to eager\n",
              Be::name);
}

}  // namespace

TEST_CASE("cuda graph: capture and replay of the ACT step's device work (fp32)") {
  if (!cuda_device_or_skip()) return;
  capture_and_replay<cuda>();
}

TEST_CASE("cuda graph: capture and replay of the ACT step's device work (bf16)") {
  if (!cuda_device_or_skip()) return;
  capture_and_replay<cuda_bf16>();
}
