// Every op of the TRM step, forward and backward, at the shapes the model runs them with.
//
// The argument of each benchmark is the batch B (examples); rows are N = B·L with L = 97 (Sudoku: 81
// cells + 16 puzzle-prefix slots), or B·S = B·81 for the output head and the loss. Counters:
//   FLOPS      executed matrix-product FLOPs per second (a multiply-add = 2); element-wise ops count a nominal
//              number of arithmetic operations per element, given next to each benchmark
//   peak_frac  FLOPS / the measured fp32 FMA peak of the machine (all threads; see bench_common.hpp)
//   bytes_per_second  for memory-bound ops: bytes read + written once
// All benchmarks use real (wall-clock) time, so OpenMP threads count.
#include <gtrm/cpu.hpp>

#include <random>
#include <vector>

#include "bench_common.hpp"

using namespace gtrm;
using gtrm::bench::set_flop_counters;

namespace {

constexpr int L = 97, S = 81;  // Sudoku
const cpu be{};

buffer<float> random_buffer(index_t n, float scale = 1.0f, unsigned seed = 1) {
  buffer<float> b(n);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  for (auto& v : b) v = nd(rng);
  return b;
}
template <int C>
cview<float, C> cv(const buffer<float>& b) { return cview<float, C>(b.data(), b.size() / C); }
template <int C>
view<float, C> mv(buffer<float>& b) { return view<float, C>(b.data(), b.size() / C); }

void set_bytes(benchmark::State& st, double bytes_per_iter) {
  st.SetBytesProcessed(static_cast<int64_t>(bytes_per_iter * static_cast<double>(st.iterations())));
}

// ---------------------------------------------------------------- linear: y = x Wᵀ, 2·N·In·Out
// Rows: N = B·L, except the lm_head (Out = vocab), which sees B·S rows.
template <int In, int Out, bool Head = false>
void BM_linear_fwd(benchmark::State& st) {
  const index_t n = st.range(0) * (Head ? S : L);
  auto x = random_buffer(n * In), w = random_buffer(Out * In, 0.05f, 2), y = random_buffer(n * Out);
  for (auto _ : st) {
    ops::linear_forward<cpu, float, In, Out>(be, cv<In>(x), cv<In>(w), mv<Out>(y));
    benchmark::ClobberMemory();
  }
  set_flop_counters(st, 2.0 * n * In * Out);
}

// dx += dy W and dW += dyᵀ x: 4·N·In·Out. Which = 0 both, 1 dx only, 2 dW only.
template <int In, int Out, int Which = 0, bool Head = false>
void BM_linear_bwd(benchmark::State& st) {
  const index_t n = st.range(0) * (Head ? S : L);
  auto x = random_buffer(n * In), w = random_buffer(Out * In, 0.05f, 2), dy = random_buffer(n * Out, 1.0f, 3);
  buffer<float> dx(n * In), dw(Out * In);
  view<float, In> dxv = Which == 2 ? view<float, In>() : mv<In>(dx);
  view<float, In> dwv = Which == 1 ? view<float, In>() : mv<In>(dw);
  for (auto _ : st) {
    ops::linear_backward<cpu, float, In, Out>(be, cv<In>(x), cv<In>(w), cv<Out>(dy), dxv, dwv);
    benchmark::ClobberMemory();
  }
  set_flop_counters(st, (Which == 0 ? 4.0 : 2.0) * n * In * Out);
}

// ---------------------------------------------------------------- attention (no mask, all heads)
// forward: q kᵀ and p v, 4·L²·D per example. backward (flash-style, recomputes the scores): q kᵀ, dO vᵀ,
// dS k, dSᵀ q, pᵀ dO, 10·L²·D per example executed.
template <int Heads, int Hd>
void BM_attention_fwd(benchmark::State& st) {
  constexpr int D = Heads * Hd;
  const index_t b = st.range(0), n = b * L;
  auto qkv = random_buffer(n * 3 * D);
  buffer<float> o(n * D), lse(n * Heads);
  for (auto _ : st) {
    ops::attention_forward<L, Heads, Hd, cpu, float>(be, cv<3 * D>(qkv), mv<D>(o), mv<Heads>(lse));
    benchmark::ClobberMemory();
  }
  set_flop_counters(st, 4.0 * b * L * L * D);
}

template <int Heads, int Hd>
void BM_attention_bwd(benchmark::State& st) {
  constexpr int D = Heads * Hd;
  const index_t b = st.range(0), n = b * L;
  auto qkv = random_buffer(n * 3 * D), dout = random_buffer(n * D, 1.0f, 4);
  buffer<float> o(n * D), lse(n * Heads), dqkv(n * 3 * D);
  ops::attention_forward<L, Heads, Hd, cpu, float>(be, cv<3 * D>(qkv), mv<D>(o), mv<Heads>(lse));
  for (auto _ : st) {
    ops::attention_backward<L, Heads, Hd, cpu, float>(be, cv<3 * D>(qkv), cv<D>(o), cv<Heads>(lse), cv<D>(dout),
                                                      mv<3 * D>(dqkv));
    benchmark::ClobberMemory();
  }
  set_flop_counters(st, 10.0 * b * L * L * D);
}

// ---------------------------------------------------------------- rms_norm over C columns
// forward 3 FLOPs/element (square, add, scale), backward 5. Rows: B·L (C = D), or B·D when C = L (token-MLP).
template <int C, int RowsPerExample>
void BM_rms_norm_fwd(benchmark::State& st) {
  const index_t n = st.range(0) * RowsPerExample;
  auto x = random_buffer(n * C);
  buffer<float> y(n * C), r(n);
  for (auto _ : st) {
    ops::rms_norm_forward<cpu, float, C>(be, cv<C>(x), mv<C>(y), mv<1>(r));
    benchmark::ClobberMemory();
  }
  set_flop_counters(st, 3.0 * n * C);
  set_bytes(st, 8.0 * n * C);
}

template <int C, int RowsPerExample>
void BM_rms_norm_bwd(benchmark::State& st) {
  const index_t n = st.range(0) * RowsPerExample;
  auto x = random_buffer(n * C), dy = random_buffer(n * C, 1.0f, 5);
  buffer<float> y(n * C), r(n), dx(n * C);
  ops::rms_norm_forward<cpu, float, C>(be, cv<C>(x), mv<C>(y), mv<1>(r));
  for (auto _ : st) {
    ops::rms_norm_backward<cpu, float, C>(be, cv<C>(y), cv<1>(r), cv<C>(dy), mv<C>(dx));
    benchmark::ClobberMemory();
  }
  set_flop_counters(st, 5.0 * n * C);
  set_bytes(st, 16.0 * n * C);
}

// ---------------------------------------------------------------- SwiGLU activation s = silu(g)·u
// forward ~5 FLOPs per output (+ one exp), backward ~10 (+ one exp).
template <int I>
void BM_swiglu_fwd(benchmark::State& st) {
  const index_t n = st.range(0) * L;
  auto gu = random_buffer(n * 2 * I);
  buffer<float> s(n * I);
  for (auto _ : st) {
    ops::swiglu_forward<cpu, float, I>(be, cv<2 * I>(gu), mv<I>(s));
    benchmark::ClobberMemory();
  }
  set_flop_counters(st, 5.0 * n * I);
  set_bytes(st, 12.0 * n * I);
}

template <int I>
void BM_swiglu_bwd(benchmark::State& st) {
  const index_t n = st.range(0) * L;
  auto gu = random_buffer(n * 2 * I), ds = random_buffer(n * I, 1.0f, 6);
  buffer<float> dgu(n * 2 * I);
  for (auto _ : st) {
    ops::swiglu_backward<cpu, float, I>(be, cv<2 * I>(gu), cv<I>(ds), mv<2 * I>(dgu));
    benchmark::ClobberMemory();
  }
  set_flop_counters(st, 10.0 * n * I);
  set_bytes(st, 28.0 * n * I);
}

// ---------------------------------------------------------------- RoPE on the Q and K parts of qkv
// 3 FLOPs per rotated element (2 multiplies, 1 add); forward and backward (the transpose) alike.
template <int Heads, int Hd, bool Inverse>
void BM_rope(benchmark::State& st) {
  constexpr int D = Heads * Hd;
  const index_t n = st.range(0) * L;
  auto qkv = random_buffer(n * 3 * D);
  buffer<float> c(L * Hd), s(L * Hd);
  ops::rope_tables<float, Hd>(mv<Hd>(c), mv<Hd>(s));
  for (auto _ : st) {
    ops::rope_apply<L, Heads, Hd, Inverse>(be, mv<3 * D>(qkv), cv<Hd>(c), cv<Hd>(s));
    benchmark::ClobberMemory();
  }
  set_flop_counters(st, 3.0 * n * 2 * D);
  set_bytes(st, 16.0 * n * D);
}

// ---------------------------------------------------------------- token-mixing MLP (mlp_t) sub-layer
// forward 6·D·L·It per example (gate_up + down over the sequence axis), backward 12·D·L·It.
template <int D, int It>
struct token_mlp_bufs {
  index_t b, bd;
  buffer<float> h, wgu, wd, out, dout, dh, dwgu, dwd;
  buffer<float> u, gu, t, rstd, s, ds, dgu, m, dr;
  explicit token_mlp_bufs(index_t batch)
      : b(batch), bd(batch * D), h(random_buffer(batch * L * D)), wgu(random_buffer(2 * It * L, 0.1f, 2)),
        wd(random_buffer(L * It, 0.05f, 3)), out(batch * L * D), dout(random_buffer(batch * L * D, 1.0f, 4)),
        dh(batch * L * D), dwgu(2 * It * L), dwd(L * It), u(bd * L), gu(bd * 2 * It), t(bd * L), rstd(bd),
        s(bd * It), ds(bd * It), dgu(bd * 2 * It), m(bd * L), dr(bd * L) {}
  ops::token_mlp_saved<float, L, It> saved() { return {mv<L>(u), mv<2 * It>(gu), mv<L>(t), mv<1>(rstd)}; }
  ops::token_mlp_scratch<float, L, It> scratch() { return {mv<It>(s), mv<It>(ds), mv<2 * It>(dgu), mv<L>(m), mv<L>(dr)}; }
};

template <int D, int It>
void BM_token_mlp_fwd(benchmark::State& st) {
  token_mlp_bufs<D, It> t(st.range(0));
  for (auto _ : st) {
    ops::token_mlp_forward<L, It, cpu, float, D>(be, cv<D>(t.h), cv<L>(t.wgu), cv<It>(t.wd), t.saved(), t.scratch(),
                                                 mv<D>(t.out));
    benchmark::ClobberMemory();
  }
  set_flop_counters(st, 6.0 * st.range(0) * D * L * It);
}

template <int D, int It>
void BM_token_mlp_bwd(benchmark::State& st) {
  token_mlp_bufs<D, It> t(st.range(0));
  ops::token_mlp_forward<L, It, cpu, float, D>(be, cv<D>(t.h), cv<L>(t.wgu), cv<It>(t.wd), t.saved(), t.scratch(),
                                               mv<D>(t.out));
  for (auto _ : st) {
    ops::token_mlp_backward<L, It, cpu, float, D>(be, cv<L>(t.wgu), cv<It>(t.wd), t.saved(), t.scratch(), cv<D>(t.dout),
                                                  mv<D>(t.dh), mv<L>(t.dwgu), mv<It>(t.dwd));
    benchmark::ClobberMemory();
  }
  set_flop_counters(st, 12.0 * st.range(0) * D * L * It);
}

// ---------------------------------------------------------------- stablemax cross-entropy (float64 inside)
// rows B·S, V = 11; ~4 FLOPs per logit forward, ~8 backward (nominal).
template <int V>
void BM_stablemax_fwd(benchmark::State& st) {
  const index_t n = st.range(0) * S;
  auto x = random_buffer(n * V, 2.0f);
  std::vector<std::int32_t> y(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) y[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % V);
  std::vector<double> ce(static_cast<std::size_t>(n));
  for (auto _ : st) {
    ops::stablemax_xent_forward<cpu, float, V>(be, cv<V>(x), y.data(), ce.data());
    benchmark::ClobberMemory();
  }
  set_flop_counters(st, 4.0 * n * V);
}

template <int V>
void BM_stablemax_bwd(benchmark::State& st) {
  const index_t n = st.range(0) * S;
  auto x = random_buffer(n * V, 2.0f);
  std::vector<std::int32_t> y(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) y[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % V);
  std::vector<double> w(static_cast<std::size_t>(n), 1.0 / S);
  buffer<float> dx(n * V);
  for (auto _ : st) {
    ops::stablemax_xent_backward<cpu, float, V>(be, cv<V>(x), y.data(), w.data(), mv<V>(dx));
    benchmark::ClobberMemory();
  }
  set_flop_counters(st, 8.0 * n * V);
}

// ---------------------------------------------------------------- element-wise passes the model composes
// (N, D) with N = B·L: add z = x + y, copy, fill, accumulate y += x. 1 FLOP per element for add/accumulate.
template <int D, int Kind>  // 0 add, 1 copy, 2 fill, 3 accumulate
void BM_elementwise(benchmark::State& st) {
  const index_t n = st.range(0) * L;
  auto x = random_buffer(n * D), y = random_buffer(n * D, 1.0f, 2);
  buffer<float> z(n * D);
  for (auto _ : st) {
    if constexpr (Kind == 0) ops::add<cpu, float, D>(be, cv<D>(x), cv<D>(y), mv<D>(z));
    if constexpr (Kind == 1) ops::copy<cpu, float, D>(be, cv<D>(x), mv<D>(z));
    if constexpr (Kind == 2) ops::fill<cpu, float, D>(be, mv<D>(z), 0.0f);
    if constexpr (Kind == 3) ops::accumulate<cpu, float, D>(be, cv<D>(x), mv<D>(z));
    benchmark::ClobberMemory();
  }
  constexpr double bytes[] = {12.0, 8.0, 4.0, 12.0};
  set_flop_counters(st, (Kind == 0 || Kind == 3) ? 1.0 * n * D : 0.0);
  set_bytes(st, bytes[Kind] * n * D);
}

// The peak itself, as a benchmark row (measured once more here, same kernel as the counters use).
void BM_fp32_fma_peak(benchmark::State& st) {
  gtrm::bench::peak_result p;
  for (auto _ : st) p = gtrm::bench::measure_fp32_peak(0.1, 3);
  st.counters["peak_GFLOPS"] = p.gflops;
  st.counters["threads"] = p.threads;
  st.counters["vector_floats"] = p.vector_floats;
}

}  // namespace

#define OPS_ARGS ->Arg(8)->Arg(32)->UseRealTime()->Unit(benchmark::kMicrosecond)

BENCHMARK(BM_fp32_fma_peak)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// D = 512 (the paper's hidden size): qkv, o_proj, gate_up, down, lm_head
BENCHMARK(BM_linear_fwd<512, 1536>)->Name("linear_fwd/qkv_512x1536") OPS_ARGS;
BENCHMARK(BM_linear_bwd<512, 1536>)->Name("linear_bwd/qkv_512x1536") OPS_ARGS;
BENCHMARK(BM_linear_bwd<512, 1536, 1>)->Name("linear_bwd_dx/qkv_512x1536") OPS_ARGS;
BENCHMARK(BM_linear_bwd<512, 1536, 2>)->Name("linear_bwd_dw/qkv_512x1536") OPS_ARGS;
BENCHMARK(BM_linear_fwd<512, 512>)->Name("linear_fwd/o_512x512") OPS_ARGS;
BENCHMARK(BM_linear_bwd<512, 512>)->Name("linear_bwd/o_512x512") OPS_ARGS;
BENCHMARK(BM_linear_fwd<512, 3072>)->Name("linear_fwd/gate_up_512x3072") OPS_ARGS;
BENCHMARK(BM_linear_bwd<512, 3072>)->Name("linear_bwd/gate_up_512x3072") OPS_ARGS;
BENCHMARK(BM_linear_fwd<1536, 512>)->Name("linear_fwd/down_1536x512") OPS_ARGS;
BENCHMARK(BM_linear_bwd<1536, 512>)->Name("linear_bwd/down_1536x512") OPS_ARGS;
BENCHMARK(BM_linear_fwd<512, 11, true>)->Name("linear_fwd/lm_head_512x11") OPS_ARGS;
BENCHMARK(BM_linear_bwd<512, 11, 0, true>)->Name("linear_bwd/lm_head_512x11") OPS_ARGS;
BENCHMARK(BM_attention_fwd<8, 64>)->Name("attention_fwd/h8_d64") OPS_ARGS;
BENCHMARK(BM_attention_bwd<8, 64>)->Name("attention_bwd/h8_d64") OPS_ARGS;
BENCHMARK(BM_rope<8, 64, false>)->Name("rope_fwd/h8_d64") OPS_ARGS;
BENCHMARK(BM_rope<8, 64, true>)->Name("rope_bwd/h8_d64") OPS_ARGS;
BENCHMARK(BM_rms_norm_fwd<512, L>)->Name("rms_norm_fwd/C512") OPS_ARGS;
BENCHMARK(BM_rms_norm_bwd<512, L>)->Name("rms_norm_bwd/C512") OPS_ARGS;
BENCHMARK(BM_swiglu_fwd<1536>)->Name("swiglu_fwd/I1536") OPS_ARGS;
BENCHMARK(BM_swiglu_bwd<1536>)->Name("swiglu_bwd/I1536") OPS_ARGS;
BENCHMARK(BM_token_mlp_fwd<512, 512>)->Name("token_mlp_fwd/D512_It512") OPS_ARGS;
BENCHMARK(BM_token_mlp_bwd<512, 512>)->Name("token_mlp_bwd/D512_It512") OPS_ARGS;
BENCHMARK(BM_rms_norm_fwd<L, 512>)->Name("rms_norm_fwd/C97_tokens") OPS_ARGS;
BENCHMARK(BM_rms_norm_bwd<L, 512>)->Name("rms_norm_bwd/C97_tokens") OPS_ARGS;
BENCHMARK(BM_stablemax_fwd<11>)->Name("stablemax_fwd/V11") OPS_ARGS;
BENCHMARK(BM_stablemax_bwd<11>)->Name("stablemax_bwd/V11") OPS_ARGS;
BENCHMARK(BM_elementwise<512, 0>)->Name("add/D512") OPS_ARGS;
BENCHMARK(BM_elementwise<512, 1>)->Name("copy/D512") OPS_ARGS;
BENCHMARK(BM_elementwise<512, 2>)->Name("fill/D512") OPS_ARGS;
BENCHMARK(BM_elementwise<512, 3>)->Name("accumulate/D512") OPS_ARGS;

// D = 128 (the small config, 4 heads of 32; SwiGLU intermediate 512)
BENCHMARK(BM_linear_fwd<128, 384>)->Name("linear_fwd/qkv_128x384") OPS_ARGS;
BENCHMARK(BM_linear_bwd<128, 384>)->Name("linear_bwd/qkv_128x384") OPS_ARGS;
BENCHMARK(BM_linear_fwd<128, 1024>)->Name("linear_fwd/gate_up_128x1024") OPS_ARGS;
BENCHMARK(BM_linear_bwd<128, 1024>)->Name("linear_bwd/gate_up_128x1024") OPS_ARGS;
BENCHMARK(BM_linear_fwd<512, 128>)->Name("linear_fwd/down_512x128") OPS_ARGS;
BENCHMARK(BM_linear_bwd<512, 128>)->Name("linear_bwd/down_512x128") OPS_ARGS;
BENCHMARK(BM_attention_fwd<4, 32>)->Name("attention_fwd/h4_d32") OPS_ARGS;
BENCHMARK(BM_attention_bwd<4, 32>)->Name("attention_bwd/h4_d32") OPS_ARGS;
BENCHMARK(BM_token_mlp_fwd<128, 512>)->Name("token_mlp_fwd/D128_It512") OPS_ARGS;
BENCHMARK(BM_token_mlp_bwd<128, 512>)->Name("token_mlp_bwd/D128_It512") OPS_ARGS;

GTRM_BENCH_MAIN()
