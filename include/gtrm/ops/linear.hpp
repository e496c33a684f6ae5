// linear: y = x Wᵀ (+ b)
//   x (N, In), W (Out, In) as stored by PyTorch, b (Out), y (N, Out)
// backward (accumulates):
//   dx += dy W        (N, In)
//   dW += dyᵀ x       (Out, In)
//   db += Σ_n dy      (Out)
// Any of dx, dW, db may be empty views to skip that gradient (e.g. dx of the first layer's input).
#pragma once
#include "../concepts.hpp"
#include "../core/view.hpp"

namespace gtrm::ops {

template <class Be, class T, int In, int Out>
void linear_forward(const Be& be, cview<T, In> x, cview<T, In> w, view<T, Out> y) {
  // w has Out rows
  be.gemm(trans::no, trans::yes, x.rows(), Out, In, T(1), x.data(), In, w.data(), In, T(0), y.data(), Out);
}

template <class Be, class T, int In, int Out>
void linear_forward(const Be& be, cview<T, In> x, cview<T, In> w, cview<T, 1> b, view<T, Out> y) {
  linear_forward(be, x, w, y);
  be.parallel_for(y.rows(), [=] GTRM_HD (index_t r) {
    T* yr = y.row(r);
    for (int o = 0; o < Out; ++o) yr[o] += b[o];
  });
}

template <class Be, class T, int In, int Out>
void linear_backward(const Be& be, cview<T, In> x, cview<T, In> w, cview<T, Out> dy, view<T, In> dx,
                     view<T, In> dw) {
  if (!dx.empty())
    be.gemm(trans::no, trans::no, dy.rows(), In, Out, T(1), dy.data(), Out, w.data(), In, T(1), dx.data(), In);
  if (!dw.empty())
    be.gemm(trans::yes, trans::no, Out, In, dy.rows(), T(1), dy.data(), Out, x.data(), In, T(1), dw.data(), In);
}

// db += Σ_n dy on the host, in row order. A device backend declares its own linear_bias_backward_impl on its tag
// (backend/cuda/ops.cuh), found by argument-dependent lookup (concepts.hpp).
template <class Be, class T, int Out>
  requires(!device_memory_backend<Be>)
void linear_bias_backward_impl(const Be&, cview<T, Out> dy, view<T, 1> db) {
  for (index_t r = 0; r < dy.rows(); ++r)
    for (int o = 0; o < Out; ++o) db[o] += dy(r, o);
}

template <class Be, class T, int In, int Out>
void linear_backward(const Be& be, cview<T, In> x, cview<T, In> w, cview<T, Out> dy, view<T, In> dx,
                     view<T, In> dw, view<T, 1> db) {
  linear_backward(be, x, w, dy, dx, dw);
  if (!db.empty()) linear_bias_backward_impl(be, dy, db);
}

}  // namespace gtrm::ops
