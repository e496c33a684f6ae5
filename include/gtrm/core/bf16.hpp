// bfloat16 conversions shared by host and device code: the upper 16 bits of an IEEE float.
//   to_bf16_bits(f)    float -> bf16 bits, round to nearest, ties to even (torch's .to(bfloat16)); NaN stays a quiet NaN
//   from_bf16_bits(h)  bf16 bits -> float, exact
//   round_to_bf16(f)   the float nearest f that bf16 can hold: from_bf16_bits(to_bf16_bits(f))
#pragma once
#include <cstdint>
#include <cstring>

#include "types.hpp"

namespace gtrm {

GTRM_HD inline std::uint16_t to_bf16_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

GTRM_HD inline float from_bf16_bits(std::uint16_t h) {
  const std::uint32_t u = static_cast<std::uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

GTRM_HD inline float round_to_bf16(float f) { return from_bf16_bits(to_bf16_bits(f)); }

}  // namespace gtrm
