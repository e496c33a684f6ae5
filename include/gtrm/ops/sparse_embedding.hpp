// sparse (puzzle) embedding with the reference's zero-padded prefix (docs/reference.md §1.4, §3.3)
//   table (N_ids, E) with E = puzzle_emb_ndim; ids (B); prefix: P rows (P*D >= E) starting at row b*Stride of a
//   (B*Stride, D) activation (Stride = P for a bare prefix, L = P + S when writing into the model input x)
//   forward:  local[b] = table[ids[b]]                       (B, E)   the row copy that receives grad
//             prefix[b] = reshape(pad(local[b], P*D), P, D) * scale      (slot 0..: the vector, rest 0)
//   backward: dlocal[b] += scale * flatten(dprefix[b])[0:E]
// The table itself is trained by sign-SGD on dlocal (train/sign_sgd.hpp), never by autograd.
#pragma once
#include <cstdint>

#include "../core/view.hpp"

namespace gtrm::ops {

template <int E, int P, int D, int Stride = P, class Be, class T>
void puzzle_prefix_forward(const Be& be, cview<T, E> table, const std::int32_t* ids, view<T, E> local, T scale,
                           view<T, D> prefix) {
  static_assert(E <= P * D, "the puzzle embedding must fit in the prefix slots");
  static_assert(Stride >= P, "samples cannot overlap");
  const index_t batch = local.rows();
  be.parallel_for(batch, [=] GTRM_HD (index_t b) {
    const T* src = table.row(ids[b]);
    T* loc = local.row(b);
    for (int e = 0; e < E; ++e) loc[e] = src[e];
    T* dst = prefix.row(b * Stride);  // P consecutive rows = P*D contiguous values
    for (int e = 0; e < E; ++e) dst[e] = scale * loc[e];
    for (int e = E; e < P * D; ++e) dst[e] = T(0);
  });
}

template <int E, int P, int D, int Stride = P, class Be, class T>
void puzzle_prefix_backward(const Be& be, cview<T, D> dprefix, T scale, view<T, E> dlocal) {
  be.parallel_for(dlocal.rows(), [=] GTRM_HD (index_t b) {
    const T* src = dprefix.row(b * Stride);
    T* dst = dlocal.row(b);
    for (int e = 0; e < E; ++e) dst[e] += scale * src[e];
  });
}

}  // namespace gtrm::ops
