// Every GTRM gate variant and their combinations, instantiated at compile time at the paper's Sudoku
// configuration (docs/reference.md §4, docs/variants.md §1.5: vocab 11, seq 81 + 16 prefix slots = L 97, hidden 512,
// 8 heads, attention + RoPE, T = 3, n = 6, 2 layers), one ACT step at a time:
//
//   gate_fwd/<variant>/B     forward of one ACT step without gradient (21 applications of f, the heads)
//   gate_train/<variant>/B   one training ACT step: forward with the last cycle recorded (grad::last_cycle),
//                            backward from fixed logit/q gradients through the 7 recorded applications
//
// Counters: params (model.parameters() numel), gate_params (over gate::none), FLOPS (matrix products only,
// gtrm::model_flops of include/gtrm/model/flops.hpp, which counts the gates' products: the channel context gate,
// the attention gate's extra qkv rows, the recurrent cells; the scalar context gate is element-wise, 0),
// gate_flop_frac (the gates' share of the training step's FLOPs, over gate::none), ex_act_steps_per_s,
// ws_MB_per_example.
//
// Variants: none, ctx_scalar, ctx_channel, attn_headwise, attn_elementwise, recurrent, recurrent_reset,
// hybrid (elementwise attention + recurrent, GTRM's exp4), all (channel + headwise + recurrent with reset).
#include <gtrm/cpu.hpp>
#include <gtrm/model/flops.hpp>
#include <gtrm/model/trm.hpp>

#include <random>
#include <vector>

#include "bench_common.hpp"

using namespace gtrm;

namespace {

inline constexpr dims sudoku{.vocab = 11, .seq = 81, .hidden = 512, .heads = 8};
inline constexpr cycles paper{.h = 3, .l = 6, .layers = 2, .max_act_steps = 16};

template <class Gate>
using sudoku_gated = trm<sudoku, paper, mixer::attention<pos::rope>, Gate, halt::q_head, cpu>;

using hw = gate::attention<gate::headwise>;
using ew = gate::attention<gate::elementwise>;
using none = sudoku_gated<gate::none>;
using ctx_scalar = sudoku_gated<gate::context_scalar>;
using ctx_channel = sudoku_gated<gate::context_channel>;
using attn_headwise = sudoku_gated<hw>;
using attn_elementwise = sudoku_gated<ew>;
using recurrent = sudoku_gated<gate::recurrent<false>>;
using recurrent_reset = sudoku_gated<gate::recurrent<true>>;
using hybrid = sudoku_gated<gate::all<ew, gate::recurrent<false>>>;
using all = sudoku_gated<gate::all<gate::context_channel, hw, gate::recurrent<true>>>;

template <class M>
struct step_cost {
  static constexpr auto flops = gtrm::model_flops<M>();
  static constexpr double forward = flops.forward;
  static constexpr double train = flops.train();
  static constexpr double gate_share_train = (train - gtrm::model_flops<none>().train()) / train;
};

template <class M>
struct setup {
  static constexpr int L = M::L, D = M::D, S = M::S, V = M::V;
  index_t batch;
  M model{1};
  typename M::workspace ws;
  std::vector<float> zh, zl, zh0, zl0, dlogits;
  std::vector<std::int32_t> inputs, pids;

  explicit setup(index_t b) : batch(b), ws(b) {
    model.init(0);
    const index_t n = b * L;
    zh0.resize(static_cast<std::size_t>(n * D));
    zl0.resize(zh0.size());
    for (index_t r = 0; r < n; ++r)
      for (int c = 0; c < D; ++c) {
        zh0[static_cast<std::size_t>(r * D + c)] = model.h_init()[c];
        zl0[static_cast<std::size_t>(r * D + c)] = model.l_init()[c];
      }
    zh = zh0;
    zl = zl0;
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> tok(1, V - 1);
    std::normal_distribution<float> nd(0.0f, 1e-3f);
    inputs.resize(static_cast<std::size_t>(b * S));
    for (auto& t : inputs) t = tok(rng);
    pids.assign(static_cast<std::size_t>(b), 0);
    dlogits.resize(static_cast<std::size_t>(b * S * V));
    for (auto& v : dlogits) v = nd(rng);
  }
  view<float, D> zh_view() { return view<float, D>(zh.data(), batch * L); }
  view<float, D> zl_view() { return view<float, D>(zl.data(), batch * L); }
  void reset_carry() {  // every step starts from H_init/L_init, as the first ACT step of a puzzle
    std::copy(zh0.begin(), zh0.end(), zh.begin());
    std::copy(zl0.begin(), zl0.end(), zl.begin());
  }
  void forward() {
    reset_carry();
    model.forward(no_grad, ws, zh_view(), zl_view(), inputs.data(), pids.data(), batch);
  }
  void train() {
    reset_carry();
    model.zero_grads();
    model.forward(with_grad, ws, zh_view(), zl_view(), inputs.data(), pids.data(), batch);
    std::copy(dlogits.begin(), dlogits.end(), ws.dlogits.begin());
    for (index_t b = 0; b < batch; ++b) { ws.dq(b, 0) = 1e-3f; ws.dq(b, 1) = 0.0f; }
    for (auto& v : ws.dlocal) v = 0;
    model.backward(ws, inputs.data(), batch);
  }
};

template <class M>
void set_counters(benchmark::State& st, const setup<M>& s, double flops_per_example) {
  const double b = static_cast<double>(s.batch);
  st.counters["ex_act_steps_per_s"] = benchmark::Counter(b, benchmark::Counter::kIsIterationInvariantRate);
  gtrm::bench::set_flop_counters(st, flops_per_example * b);
  st.counters["params"] = static_cast<double>(M::param_count);
  st.counters["gate_params"] = static_cast<double>(M::param_count - none::param_count);
  st.counters["flops_per_example"] = flops_per_example;
  st.counters["gate_flop_frac"] = step_cost<M>::gate_share_train;
  st.counters["ws_MB_per_example"] = static_cast<double>(s.ws.bytes()) / b / 1e6;
}

template <class M>
void BM_gate_fwd(benchmark::State& st) {
  setup<M> s(st.range(0));
  s.forward();  // warm-up
  for (auto _ : st) {
    s.forward();
    benchmark::ClobberMemory();
  }
  set_counters(st, s, step_cost<M>::forward);
}

template <class M>
void BM_gate_train(benchmark::State& st) {
  setup<M> s(st.range(0));
  s.train();
  for (auto _ : st) {
    s.train();
    benchmark::ClobberMemory();
  }
  set_counters(st, s, step_cost<M>::train);
}

}  // namespace

#define GATE(v)                                                                                                       \
  BENCHMARK(BM_gate_fwd<v>)->Name("gate_fwd/" #v)->ArgName("B")->Arg(4)->UseRealTime()->Unit(benchmark::kMillisecond) \
      ->MinTime(1.0);                                                                                                 \
  BENCHMARK(BM_gate_train<v>)->Name("gate_train/" #v)->ArgName("B")->Arg(4)->UseRealTime()                          \
      ->Unit(benchmark::kMillisecond)->MinTime(1.0);

GATE(none)
GATE(ctx_scalar)
GATE(ctx_channel)
GATE(attn_headwise)
GATE(attn_elementwise)
GATE(recurrent)
GATE(recurrent_reset)
GATE(hybrid)
GATE(all)

GTRM_BENCH_MAIN()
