// A bump allocator over one buffer. A workspace is laid out twice: first with a measuring arena
// (no memory, it only adds up sizes), then with a real one of exactly that capacity. Taking more than
// the capacity is a logic error and throws, so a step can never allocate behind the user's back.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>

#include "buffer.hpp"
#include "view.hpp"

namespace gtrm {

// The bump logic is shared with the CUDA backend's device_arena (backend/cuda/memory.cuh): Bytes is an owning byte
// storage (buffer<unsigned char> here, device_buffer<unsigned char> there) whose data() is Alignment-aligned.
template <class Bytes, std::size_t Alignment>
class basic_arena {
 public:
  // A measuring arena: take() returns null views and only counts bytes.
  basic_arena() = default;
  explicit basic_arena(std::size_t capacity_bytes)
      : storage_(static_cast<index_t>(round_up(capacity_bytes))), capacity_(static_cast<std::size_t>(storage_.size())) {}

  bool measuring() const { return storage_.size() == 0; }
  std::size_t used() const { return used_; }
  std::size_t capacity() const { return capacity_; }
  void reset() { used_ = 0; }

  template <class T>
  T* take_raw(index_t count) {
    const std::size_t bytes = round_up(sizeof(T) * static_cast<std::size_t>(count));
    const std::size_t at = used_;
    used_ += bytes;
    if (measuring()) return nullptr;
    if (used_ > capacity_)
      throw std::logic_error("gtrm::arena: workspace of " + std::to_string(capacity_) +
                             " bytes is too small (needs " + std::to_string(used_) +
                             "); the workspace was planned for a smaller batch");
    return reinterpret_cast<T*>(storage_.data() + at);
  }
  template <class T, int Cols>
  view<T, Cols> take(index_t rows) { return view<T, Cols>(take_raw<T>(rows * Cols), rows); }

 private:
  static constexpr std::size_t round_up(std::size_t n) { return (n + Alignment - 1) / Alignment * Alignment; }
  Bytes storage_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
};

using arena = basic_arena<buffer<unsigned char>, buffer_alignment>;

}  // namespace gtrm
