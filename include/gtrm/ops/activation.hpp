// Scalar activations shared by several ops: σ(x) = 1 / (1 + e^(−x)).
#pragma once
#include <cmath>

namespace gtrm::ops {

template <class T>
inline T sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }

}  // namespace gtrm::ops
