// e^x in a form the compiler vectorises: Cephes' expf (range reduction x = n·ln2 + r, |r| ≤ ln2/2, a degree-6
// polynomial for e^r, 2^n built in the exponent bits). Within 2 ulp of std::exp for float; double uses std::exp.
// Why: std::exp is a libm call per element, which keeps softmax, sigmoid and SwiGLU loops scalar; this version
// is branch-free, so `for (j) p[j] = poly_exp(s[j])` becomes SIMD code (SSE2 and up).
// It has no float comparison and no float-to-int conversion on purpose: under GCC's default -ftrapping-math
// either one "could trap", and GCC then leaves the loop scalar ("control flow in loop"). So the clamp compares
// the magnitude's bits as integers, and n = round(x·log2 e) is read from the bits of x·log2 e + 1.5·2^23 (round
// to nearest even). Reading the bits, rather than subtracting 1.5·2^23 again in float, is also what -ffast-math
// cannot fold away.
// Inputs are clamped to [−87.3, 88.3]: e^x below 2^−126 returns ≈1e−38 instead of a denormal or 0 (harmless where
// it is used: softmax weights and sigmoids, whose results are then below 1e−38 relative); NaN stays NaN.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>

#include "../core/types.hpp"

namespace gtrm::ops {

GTRM_HD inline float poly_exp(float x) {
  constexpr std::uint32_t sign = 0x80000000u, inf = 0x7F800000u;
  constexpr std::uint32_t lo = std::bit_cast<std::uint32_t>(87.3f), hi = std::bit_cast<std::uint32_t>(88.3f);
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x), mag = bits & ~sign;
  const std::uint32_t limit = (bits & sign) ? lo : hi;
  x = std::bit_cast<float>((bits & sign) | (mag > limit && mag <= inf ? limit : mag));  // NaN (mag > inf) passes
  const std::int32_t n = std::bit_cast<std::int32_t>(x * 1.44269504088896341f + 12582912.0f) - 0x4B400000;
  const float nf = static_cast<float>(n);
  float r = x - nf * 0.693359375f;  // ln2 in two parts: exact high part, then the correction
  r = r + nf * 2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r * r + r + 1.0f;
  return y * std::bit_cast<float>(static_cast<std::uint32_t>(n + 127) << 23);
}

GTRM_HD inline double poly_exp(double x) { return std::exp(x); }

}  // namespace gtrm::ops
