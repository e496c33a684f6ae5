// Basic types shared by every layer of gtrm.
#pragma once
#include <cstddef>
#include <cstdint>

namespace gtrm {

using index_t = std::ptrdiff_t;  // row counts and flat offsets: B*L*D exceeds 2^31 at the paper's sizes

// The reference ignores label positions holding this id (models/losses.py IGNORE_LABEL_ID).
inline constexpr int ignore_label = -100;

}  // namespace gtrm
