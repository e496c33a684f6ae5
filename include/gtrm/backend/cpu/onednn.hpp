// oneDNN's matmul for gtrm's CPU backends, compiled where gtrm was configured with oneDNN (GTRM_CPU_ONEDNN, CMake
// option GTRM_ONEDNN):
//
//   bf16_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)         every product of gtrm::cpu_bf16
//     C (m x n, f32, ld ldc) = alpha * bf16(op(A)) (m x k) * bf16(op(B)) (k x n) + beta * C, f32 accumulation
//   f32_gemm_frozen(same arguments)                                          gtrm::cpu's products with frozen weights
//     C = alpha * op(A) * op(B) + beta * C in f32, where B is a frozen weight of a guard that asked for it; returns
//     false (nothing computed: the caller uses its BLAS) otherwise. At batch 1 (97 rows) this is 1.3-1.6x OpenBLAS,
//     which packs the weight again on every call (benchmarks/bench_prepack.cpp).
//
// Why oneDNN: it dispatches at run time to AMX tiles, AVX512-BF16 dot products or its own AVX-512/AVX2 fallback, so
// the same binary is fast on a bf16 CPU and still correct on any other. Every product of two bf16 values is exact in
// f32, so the result differs from the emulation's (cpu_bf16 without oneDNN) only by summation order.
//
// bf16 operands are converted in their stored layout (contiguous copies); f32 operands are read where they are. A
// transpose is a memory descriptor with swapped strides, never a copy. alpha is the primitive's output scale, beta a sum post-op.
// Primitive creation costs milliseconds, so primitives live in a per-thread cache keyed by (m, n, k, ta, tb, ldc,
// alpha, beta): created in the first step, reused after; with their memory objects and a user scratchpad, so a
// warm call allocates nothing of gtrm's. Per thread because ops call gemm inside parallel_for bodies.
//
// Frozen weights: while a frozen_weights guard names the model's flat parameter buffer, a B operand inside it is taken
// as a weight that cannot change: converted and reordered once into the layout the primitive prefers (weights
// format_tag::any) and reused by every later call under that guard. Inference holds one guard for a whole solve or
// evaluation; training holds one per step, around the forward and backward, and ends it before the optimizer moves
// the weights. A new guard marks every packed copy stale: the next use converts the weight again into the same
// memory, so after the first step a training step allocates nothing of gtrm's here and converts each weight once per
// layout and thread instead of once per call (21 network applications per step). Only a guard made with
// fp32_products = true (inference) also routes gtrm::cpu's fp32 products through f32_gemm_frozen: oneDNN 2.6 allocates
// inside every execute (its execution context), and fp32 training keeps its no-allocation step on OpenBLAS.
// Packed copies belong to a thread's primitives, so the threads of a split batch hold one copy each: 2 bytes per
// parameter per thread in bf16 (14 MB for the 7M-parameter attention model), 4 in f32. A copy shared by all threads
// would need a lock on the packing path; not done yet.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>
#if defined(_OPENMP)
#include <omp.h>
#endif

#include "../../concepts.hpp"
#include "../../core/bf16.hpp"
#include "../../core/types.hpp"

namespace gtrm::onednn {

// The instruction set oneDNN dispatches to on this CPU ("avx512_core_amx", "avx512_core_bf16", ...).
inline std::string cpu_isa() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core (no bf16 units: oneDNN's fallback)";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni (no bf16 units: oneDNN's fallback)";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "generic";
  }
}

inline std::string version() {
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

namespace detail {

inline const dnnl::engine& engine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// The frozen weight range (see the header comment) and its generation: a new guard bumps it, which tells every
// thread's cache that its packed weights are stale.
struct frozen_range {
  const float* begin = nullptr;
  const float* end = nullptr;
  std::uint64_t generation = 0;
  bool fp32_products = false;  // gtrm::cpu's fp32 products with these weights go through f32_gemm_frozen too
};
inline frozen_range& frozen() {
  static frozen_range r;
  return r;
}

// op(X) stored as `rows` rows of `cols` values, `ld` apart, into a contiguous bf16 copy.
// Threaded over rows when called outside a parallel region with enough elements (backward's and batch-1's products
// are called that way, and a serial conversion of both operands cost as much as a third of the product itself);
// inside a region (the batch-split forward) each thread converts its own operands.
inline void to_bf16(const float* x, index_t rows, index_t cols, index_t ld, std::uint16_t* out) {
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (rows * cols >= (index_t{1} << 16) && !omp_in_parallel())
#endif
  for (index_t i = 0; i < rows; ++i) {
    const float* r = x + i * ld;
    std::uint16_t* o = out + i * cols;
    for (index_t j = 0; j < cols; ++j) o[j] = to_bf16_bits(r[j]);
  }
}

// to_bf16 into a grow-only scratch vector; returns the copy.
inline std::uint16_t* to_bf16(const float* x, index_t rows, index_t cols, index_t ld, std::vector<std::uint16_t>& out) {
  if (out.size() < static_cast<std::size_t>(rows * cols)) out.resize(static_cast<std::size_t>(rows * cols));
  to_bf16(x, rows, cols, ld, out.data());
  return out.data();
}

struct key {
  index_t m, n, k, ldc, ldb_packed;  // ldb_packed: a frozen weight's ldb (its packed copy is read with it), else 0
  int ta, tb, packed;
  float alpha, beta;
  index_t lda_f32 = 0;  // f32 matmuls (A read in place, with its leading dimension); 0: bf16
  bool operator==(const key&) const = default;
};
struct key_hash {
  std::size_t operator()(const key& q) const {
    std::size_t h = 0;
    auto mix = [&](std::uint64_t v) { h ^= std::hash<std::uint64_t>{}(v) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
    std::uint32_t fa, fb;
    std::memcpy(&fa, &q.alpha, 4);
    std::memcpy(&fb, &q.beta, 4);
    for (std::uint64_t v : {std::uint64_t(q.m), std::uint64_t(q.n), std::uint64_t(q.k), std::uint64_t(q.ldc), std::uint64_t(q.ldb_packed),
                            std::uint64_t(q.ta * 4 + q.tb * 2 + q.packed), std::uint64_t(fa), std::uint64_t(fb),
                            std::uint64_t(q.lda_f32)})
      mix(v);
    return h;
  }
};

// One cached matmul (or, where this oneDNN has no such matmul for the CPU, e.g. bf16 in 2.6 without AVX-512, its
// absence: supported = false, and the caller emulates or uses its BLAS): the primitive, memory objects whose data handles are set per call, and its scratchpad.
struct entry {
  bool supported = false;
  dnnl::matmul prim;
  dnnl::memory::desc weights_desc;  // the layout it wants its weights in (packed when key.packed)
  dnnl::memory src, weights, dst, scratch;
  std::vector<std::uint8_t> scratch_bytes;
  struct packed_weight {
    dnnl::memory mem;             // in weights_desc, allocated on first use
    std::uint64_t generation = 0; // the guard it was converted under: another guard's calls convert it again
  };
  std::unordered_map<const float*, packed_weight> packed;  // frozen weights, by source address
  std::uint64_t pruned_generation = 0;  // the guard under which copies outside its range were last dropped
  dnnl::reorder pack;  // plain weights (a bf16 copy, or f32 in place) -> weights_desc, created on the first packing
};

using md = dnnl::memory::desc;
using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;

inline std::unique_ptr<entry> make_entry(const key& q) {
  const auto& eng = engine();
  // bf16: contiguous copies of A and B as stored; f32: A and B where they are, with their leading dimensions
  const bool f32 = q.lda_f32 > 0;
  const dt in = f32 ? dt::f32 : dt::bf16;
  const index_t lda = f32 ? q.lda_f32 : (q.ta ? q.m : q.k), ldb = f32 ? q.ldb_packed : (q.tb ? q.k : q.n);
  const md src_md({q.m, q.k}, in, q.ta ? dims{1, lda} : dims{lda, 1});
  const md wei_plain({q.k, q.n}, in, q.tb ? dims{1, ldb} : dims{ldb, 1});
  const md wei_md = q.packed ? md({q.k, q.n}, in, dnnl::memory::format_tag::any) : wei_plain;
  const md dst_md({q.m, q.n}, dt::f32, dims{q.ldc, 1});
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (q.alpha != 1.f) attr.set_output_scales(0, {q.alpha});
  if (q.beta != 0.f) {
    dnnl::post_ops po;
    po.append_sum(q.beta);
    attr.set_post_ops(po);
  }
  auto e = std::make_unique<entry>();
  dnnl::matmul::primitive_desc pd;
  try {
    pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(src_md, wei_md, dst_md), attr, eng);
  } catch (const dnnl::error&) {
    return e;  // no implementation on this CPU
  }
  e->supported = true;
  e->prim = dnnl::matmul(pd);
  e->weights_desc = pd.weights_desc();
  e->src = dnnl::memory(src_md, eng, DNNL_MEMORY_NONE);
  e->weights = dnnl::memory(wei_plain, eng, DNNL_MEMORY_NONE);
  e->dst = dnnl::memory(dst_md, eng, DNNL_MEMORY_NONE);
  e->scratch_bytes.resize(pd.scratchpad_desc().get_size() + 1);
  e->scratch = dnnl::memory(pd.scratchpad_desc(), eng, e->scratch_bytes.data());
  return e;
}

struct thread_state {
  dnnl::stream stream{engine()};
  std::unordered_map<key, std::unique_ptr<entry>, key_hash> cache;
  std::vector<std::uint16_t> a16, b16;  // grow only
  std::string last_impl;                // the implementation of the latest primitive created here (for reports)
};
inline thread_state& state() {
  thread_local thread_state s;
  return s;
}

inline void execute(thread_state& s, entry& e, const dnnl::memory& weights) {
  const dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, e.src.get()},
                                  {DNNL_ARG_WEIGHTS, weights.get()},
                                  {DNNL_ARG_DST, e.dst.get()},
                                  {DNNL_ARG_SCRATCHPAD, e.scratch.get()}};
  dnnl::error::wrap_c_api(dnnl_primitive_execute(e.prim.get(), s.stream.get(), 4, args), "oneDNN matmul");
  s.stream.wait();
}

inline bool is_frozen(const float* b) {
  const auto& fr = frozen();
  const auto at = reinterpret_cast<std::uintptr_t>(b);
  return at >= reinterpret_cast<std::uintptr_t>(fr.begin) && at < reinterpret_cast<std::uintptr_t>(fr.end);
}

// This thread's cached matmul for q, created on first use.
inline entry& entry_for(thread_state& s, const key& q) {
  auto it = s.cache.find(q);
  if (it == s.cache.end()) {
    it = s.cache.emplace(q, make_entry(q)).first;
    const char* impl = nullptr;
    if (it->second->supported)
      dnnl_primitive_desc_query(it->second->prim.get_primitive_desc(), dnnl_query_impl_info_str, 0, &impl);
    s.last_impl = impl ? impl : "none (no such matmul on this CPU)";
  }
  return *it->second;
}

// The frozen weight b (stored as br rows of bc values, ldb apart) in e's packed layout: converted (bf16) and reordered
// on its first use under the current guard, into memory allocated on its first use ever.
inline const dnnl::memory& packed_weight(thread_state& s, entry& e, const float* b, index_t br, index_t bc, index_t ldb,
                                         bool bf16) {
  const auto& fr = frozen();
  // Once per guard, the copies of weights outside its range (another model's, e.g. an evaluation copy) are dropped,
  // so the memory held does not grow with every model ever frozen; the training model's stay for its next step.
  if (e.pruned_generation != fr.generation) {
    std::erase_if(e.packed, [](const auto& kv) { return !is_frozen(kv.first); });
    e.pruned_generation = fr.generation;
  }
  entry::packed_weight& w = e.packed[b];
  if (w.generation != fr.generation) {
    if (!w.mem) w.mem = dnnl::memory(e.weights_desc, engine());
    // the reorder's source, read only
    if (bf16) e.weights.set_data_handle(to_bf16(b, br, bc, ldb, s.b16));
    else e.weights.set_data_handle(const_cast<float*>(b));
    if (!e.pack) e.pack = dnnl::reorder(e.weights, w.mem);
    e.pack.execute(s.stream, e.weights, w.mem);
    s.stream.wait();
    w.generation = fr.generation;
  }
  return w.mem;
}

}  // namespace detail

// RAII: while alive, B operands inside [params, params + n) are frozen weights (see the header comment); with
// fp32_products, gtrm::cpu's fp32 products with them too (inference). A guard inside another over the same range and
// with the same fp32_products changes nothing; otherwise it holds until its end, which restores the outer guard (whose
// copies are then converted again: they may have been packed from other weights at that address).
class frozen_weights {
 public:
  frozen_weights(const float* params, std::size_t n, bool fp32_products = true) : outer_(detail::frozen()) {
    auto& f = detail::frozen();
    if (f.begin == params && f.end == params + n && f.fp32_products == fp32_products) {
      nested_ = true;
      return;
    }
    f.begin = params;
    f.end = params + n;
    f.fp32_products = fp32_products;
    ++f.generation;
  }
  ~frozen_weights() {
    if (nested_) return;
    auto& f = detail::frozen();
    f.begin = outer_.begin;
    f.end = outer_.end;
    f.fp32_products = outer_.fp32_products;
    ++f.generation;
  }
  frozen_weights(const frozen_weights&) = delete;
  frozen_weights& operator=(const frozen_weights&) = delete;

 private:
  detail::frozen_range outer_;
  bool nested_ = false;
};

// The implementation oneDNN chose for the latest primitive this thread created ("brg:avx512_core_bf16", ...).
inline const std::string& last_implementation() { return detail::state().last_impl; }

// false where oneDNN has no bf16 matmul on this CPU (nothing computed: the caller falls back to the emulation).
inline bool bf16_gemm(trans ta, trans tb, index_t m, index_t n, index_t k, float alpha, const float* a, index_t lda,
                      const float* b, index_t ldb, float beta, float* c, index_t ldc) {
  auto& s = detail::state();
  const bool packed = detail::is_frozen(b);
  const detail::key q{m, n, k, ldc, packed ? ldb : 0, ta == trans::yes, tb == trans::yes, packed, alpha, beta};
  detail::entry& e = detail::entry_for(s, q);
  if (!e.supported) return false;
  // A as stored: (m, k) or, transposed, (k, m); likewise B
  const index_t ar = ta == trans::no ? m : k, ac = ta == trans::no ? k : m;
  const index_t br = tb == trans::no ? k : n, bc = tb == trans::no ? n : k;
  e.src.set_data_handle(detail::to_bf16(a, ar, ac, lda, s.a16));
  e.dst.set_data_handle(c);
  if (packed) {
    detail::execute(s, e, detail::packed_weight(s, e, b, br, bc, ldb, true));
    return true;
  }
  e.weights.set_data_handle(detail::to_bf16(b, br, bc, ldb, s.b16));
  detail::execute(s, e, e.weights);
  return true;
}

// false where B is not a frozen weight of a guard made with fp32_products, or oneDNN has no f32 matmul here (nothing
// computed: the caller uses its BLAS).
inline bool f32_gemm_frozen(trans ta, trans tb, index_t m, index_t n, index_t k, float alpha, const float* a, index_t lda,
                            const float* b, index_t ldb, float beta, float* c, index_t ldc) {
  if (!detail::frozen().fp32_products || !detail::is_frozen(b)) return false;
  auto& s = detail::state();
  const detail::key q{m, n, k, ldc, ldb, ta == trans::yes, tb == trans::yes, 1, alpha, beta, lda};
  detail::entry& e = detail::entry_for(s, q);
  if (!e.supported) return false;
  const index_t br = tb == trans::no ? k : n, bc = tb == trans::no ? n : k;
  e.src.set_data_handle(const_cast<float*>(a));  // read only
  e.dst.set_data_handle(c);
  detail::execute(s, e, detail::packed_weight(s, e, b, br, bc, ldb, false));
  return true;
}

}  // namespace gtrm::onednn
