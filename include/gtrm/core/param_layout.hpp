// One flat parameter buffer per model, laid out by a constexpr table. Gradients, optimizer moments and
// the EMA shadow share the layout, so an optimizer step or an all-reduce is one pass over one buffer.
// Names are the reference PyTorch state_dict names (docs/reference.md §1.2) with "{}" standing for the
// layer index, so a checkpoint moves between gtrm and PyTorch unchanged.
#pragma once
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "types.hpp"

namespace gtrm {

// Offsets are rounded up to this many elements so every tensor starts on a 64-byte line (fp32).
inline constexpr index_t param_align = 16;

struct param_spec {
  std::string_view name{};  // state_dict name pattern; "{}" is replaced by `layer`
  int layer = -1;           // -1: not a per-layer tensor
  int ndim = 2;             // 1 for vectors (q_head.bias), 2 for matrices
  index_t rows = 0;         // torch shape [rows, cols]; a vector has rows = its length, cols = 1
  index_t cols = 1;
  index_t offset = 0;       // into the flat buffer

  constexpr index_t size() const { return rows * cols; }
  std::string full_name() const {
    std::string s(name);
    if (auto at = s.find("{}"); at != std::string::npos) s.replace(at, 2, std::to_string(layer));
    return s;
  }
};

template <std::size_t Capacity>
struct param_layout {
  std::array<param_spec, Capacity> specs{};
  std::size_t count = 0;
  index_t total = 0;        // elements in the flat buffer, padding included

  // Appends a tensor and returns its index in the table.
  constexpr std::size_t add(std::string_view name, index_t rows, index_t cols = 1, int layer = -1, int ndim = 2) {
    if (count == Capacity) throw std::logic_error("param_layout: capacity exceeded");
    param_spec s{name, layer, ndim, rows, cols, total};
    specs[count] = s;
    total += (s.size() + param_align - 1) / param_align * param_align;
    return count++;
  }
  constexpr std::size_t add_vector(std::string_view name, index_t n, int layer = -1) { return add(name, n, 1, layer, 1); }

  constexpr const param_spec& operator[](std::size_t i) const { return specs[i]; }
  constexpr const param_spec* begin() const { return specs.data(); }
  constexpr const param_spec* end() const { return specs.data() + count; }

  // Number of trainable scalars, padding excluded (what PyTorch's numel() sum reports).
  constexpr index_t scalar_count() const {
    index_t n = 0;
    for (std::size_t i = 0; i < count; ++i) n += specs[i].size();
    return n;
  }
  // Index of a tensor by full name, or -1.
  long find(std::string_view full) const {
    for (std::size_t i = 0; i < count; ++i)
      if (specs[i].full_name() == full) return static_cast<long>(i);
    return -1;
  }
};

}  // namespace gtrm
