// Scalar activations shared by several ops: σ(x) = 1 / (1 + e^(−x)), with the vectorisable e^x of exp.hpp so that
// loops over σ (SwiGLU, gates) compile to SIMD code; double goes through std::exp.
#pragma once
#include "exp.hpp"

namespace gtrm::ops {

template <class T>
GTRM_HD inline T sigmoid(T x) { return T(1) / (T(1) + poly_exp(-x)); }

}  // namespace gtrm::ops
