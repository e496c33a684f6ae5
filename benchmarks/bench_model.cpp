// The whole model, one ACT step at a time, at the paper's Sudoku configurations and a small one.
//
//   model_fwd/<config>/<B>     forward of one ACT step without gradient (the T·(n+1) = 21 applications of f,
//                              the heads): what evaluation and solving run 16 times per puzzle
//   model_train/<config>/<B>   one training ACT step: zero grads, forward with the last cycle recorded,
//                              stablemax cross-entropy + 0.5·BCE(q_halt) forward and backward, backward
//                              through the recorded cycle (grad::last_cycle). No optimizer (its cost is
//                              O(params), ~0.1% of the step at these sizes)
//   model_latency/<config>     batch-1 forward of one ACT step; `solve_s` = 16 of them (halt_max_steps)
//
// Configurations (docs/reference.md §4; vocab 11, seq 81 + 16 prefix slots = L 97, T = 3, n = 6, 2 layers):
//   sudoku_att       hidden 512, 8 heads, attention + RoPE          (6,828,034 parameters)
//   sudoku_mlp       hidden 512, token-MLP mixer (mlp_t), pos none  (5,028,866 parameters)
//   h128_att         hidden 128, 4 heads, attention + RoPE
//   h128_mlp         hidden 128, token-MLP mixer, pos none
//
// Counters: ex_act_steps_per_s (examples × ACT steps per second), FLOPS and peak_frac (gtrm::model_flops of
// include/gtrm/model/flops.hpp; the peak is measured at start-up, bench_common.hpp), ws_MB_per_example (the
// planned workspace / max batch), rss_MB_per_example (growth of the process's peak RSS over the RSS before the
// workspace was built, / batch; meaningful when one benchmark runs per process, as compare.py does).
#include <gtrm/cpu.hpp>
#include <gtrm/model/flops.hpp>
#include <gtrm/model/trm.hpp>
#include <gtrm/ops/bce_logits.hpp>
#include <gtrm/ops/stablemax_xent.hpp>

#include <random>
#include <vector>

#include "bench_common.hpp"

using namespace gtrm;
using gtrm::bench::set_flop_counters;

namespace {

inline constexpr dims sudoku{.vocab = 11, .seq = 81, .hidden = 512, .heads = 8};
inline constexpr dims sudoku_h128{.vocab = 11, .seq = 81, .hidden = 128, .heads = 4};
inline constexpr cycles paper{.h = 3, .l = 6, .layers = 2, .max_act_steps = 16};

using sudoku_att = trm<sudoku, paper, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>;
using sudoku_mlp = trm<sudoku, paper, mixer::token_mlp<pos::none>, gate::none, halt::q_head, cpu>;
using h128_att = trm<sudoku_h128, paper, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>;
using h128_mlp = trm<sudoku_h128, paper, mixer::token_mlp<pos::none>, gate::none, halt::q_head, cpu>;

// A model, its workspace, a carry and synthetic Sudoku-shaped data for `batch` rows.
template <class M>
struct setup {
  static constexpr int L = M::L, D = M::D, S = M::S, V = M::V;
  index_t batch;
  M model{1};
  double rss_before_ws = 0;
  typename M::workspace ws;
  std::vector<float> zh, zl;
  std::vector<std::int32_t> inputs, labels, pids;
  std::vector<double> ce, w, seq_ok;

  explicit setup(index_t b) : batch(b), rss_before_ws(init_model(model)), ws(b) {
    const index_t n = b * L;
    zh.resize(static_cast<std::size_t>(n * D));
    zl.resize(static_cast<std::size_t>(n * D));
    for (index_t r = 0; r < n; ++r)
      for (int c = 0; c < D; ++c) {
        zh[static_cast<std::size_t>(r * D + c)] = model.h_init()[c];
        zl[static_cast<std::size_t>(r * D + c)] = model.l_init()[c];
      }
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> tok(0, V - 1), lab(1, V - 1);
    inputs.resize(static_cast<std::size_t>(b * S));
    labels.resize(static_cast<std::size_t>(b * S));
    for (auto& t : inputs) t = tok(rng);
    for (auto& t : labels) t = lab(rng);
    pids.assign(static_cast<std::size_t>(b), 0);
    ce.resize(static_cast<std::size_t>(b * S));
    w.assign(static_cast<std::size_t>(b * S), 1.0 / (static_cast<double>(S) * static_cast<double>(b)));
    seq_ok.resize(static_cast<std::size_t>(b));
  }
  static double init_model(M& m) {
    m.init(0);
    return gtrm::bench::current_rss_bytes();
  }

  view<float, D> zh_view() { return view<float, D>(zh.data(), batch * L); }
  view<float, D> zl_view() { return view<float, D>(zl.data(), batch * L); }

  void forward_no_grad() { model.forward(no_grad, ws, zh_view(), zl_view(), inputs.data(), pids.data(), batch); }

  // One training ACT step (the reference's ACTLossHead with global batch = batch), returning the loss.
  double train_step() {
    const cpu& be = model.backend();
    model.zero_grads();
    model.forward(with_grad, ws, zh_view(), zl_view(), inputs.data(), pids.data(), batch);
    const index_t bs = batch * S;
    auto logits = cview<float, V>(ws.logits.data(), bs);
    ops::stablemax_xent_forward<cpu, float, V>(be, logits, labels.data(), ce.data());
    double lm = 0;
    for (double c : ce) lm += c;
    lm /= static_cast<double>(S);
    // exact-correctness target of q_halt (argmax of the logits)
    for (index_t b = 0; b < batch; ++b) {
      bool ok = true;
      for (int s = 0; s < S && ok; ++s) {
        const float* x = logits.row(b * S + s);
        int arg = 0;
        for (int j = 1; j < V; ++j) if (x[j] > x[arg]) arg = j;
        ok = arg == labels[static_cast<std::size_t>(b * S + s)];
      }
      seq_ok[static_cast<std::size_t>(b)] = ok ? 1.0 : 0.0;
    }
    std::vector<float> qh(static_cast<std::size_t>(batch));  // small; the model's step itself never allocates
    for (index_t b = 0; b < batch; ++b) qh[static_cast<std::size_t>(b)] = ws.q(b, 0);
    const double qloss = ops::bce_logits_forward(qh.data(), seq_ok.data(), batch);
    ops::fill<cpu, float, V>(be, ws.dlogits.slice(0, bs), 0.0f);
    ops::stablemax_xent_backward<cpu, float, V>(be, logits, labels.data(), w.data(), ws.dlogits.slice(0, bs));
    ops::fill<cpu, float, 2>(be, ws.dq.slice(0, batch), 0.0f);
    ops::bce_logits_backward(qh.data(), seq_ok.data(), 0.5 / static_cast<double>(batch), batch, ws.dq.data(), 2);
    for (auto& v : ws.dlocal) v = 0;
    model.backward(ws, inputs.data(), batch);
    return (lm + 0.5 * qloss) / static_cast<double>(batch);
  }
};

void set_step_counters(benchmark::State& st, index_t batch, double flops_per_example) {
  st.counters["ex_act_steps_per_s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
  set_flop_counters(st, flops_per_example * static_cast<double>(batch));
}

template <class M>
void set_memory_counters(benchmark::State& st, const setup<M>& s) {
  const double b = static_cast<double>(s.batch);
  st.counters["ws_MB_per_example"] = static_cast<double>(s.ws.bytes()) / b / 1e6;
  st.counters["rss_MB_per_example"] = (gtrm::bench::maxrss_bytes() - s.rss_before_ws) / b / 1e6;
  st.counters["maxrss_MB"] = gtrm::bench::maxrss_bytes() / 1e6;
}

template <class M>
void BM_model_fwd(benchmark::State& st) {
  setup<M> s(st.range(0));
  s.forward_no_grad();  // warm-up
  for (auto _ : st) {
    s.forward_no_grad();
    benchmark::ClobberMemory();
  }
  constexpr auto f = gtrm::model_flops<M>();
  set_step_counters(st, s.batch, f.forward);
  set_memory_counters(st, s);
  st.counters["params"] = static_cast<double>(M::param_count);
}

template <class M>
void BM_model_train(benchmark::State& st) {
  setup<M> s(st.range(0));
  double loss = s.train_step();  // warm-up
  for (auto _ : st) {
    loss = s.train_step();
    benchmark::DoNotOptimize(loss);
  }
  constexpr auto f = gtrm::model_flops<M>();
  set_step_counters(st, s.batch, f.train());
  set_memory_counters(st, s);
  st.counters["flops_per_example_act_step"] = f.train();
  st.counters["loss"] = loss;
}

template <class M>
void BM_model_latency(benchmark::State& st) {
  setup<M> s(1);
  s.forward_no_grad();
  for (auto _ : st) {
    s.forward_no_grad();
    benchmark::ClobberMemory();
  }
  constexpr auto f = gtrm::model_flops<M>();
  set_flop_counters(st, f.forward);
  // seconds for halt_max_steps ACT steps: iteration time × 16
  st.counters["solve_s"] = benchmark::Counter(1.0 / M::cycles_v.max_act_steps,
                                              benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

}  // namespace

#define MODEL(cfg, ...)                                                                                      \
  BENCHMARK(BM_model_fwd<cfg>)->Name("model_fwd/" #cfg)->ArgName("B") __VA_ARGS__                          \
      ->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);                                          \
  BENCHMARK(BM_model_train<cfg>)->Name("model_train/" #cfg)->ArgName("B") __VA_ARGS__                      \
      ->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);                                          \
  BENCHMARK(BM_model_latency<cfg>)->Name("model_latency/" #cfg)->UseRealTime()->Unit(benchmark::kMillisecond) \
      ->MinTime(2.0);

MODEL(h128_att, ->Arg(8)->Arg(32)->Arg(64))
MODEL(h128_mlp, ->Arg(8)->Arg(32)->Arg(64))
MODEL(sudoku_mlp, ->Arg(8)->Arg(32))
MODEL(sudoku_att, ->Arg(8)->Arg(32))

GTRM_BENCH_MAIN()
