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

class arena {
 public:
  // A measuring arena: take() returns null views and only counts bytes.
  arena() = default;
  explicit arena(std::size_t capacity_bytes)
      : storage_(static_cast<index_t>((capacity_bytes + buffer_alignment - 1) / buffer_alignment)),
        capacity_(static_cast<std::size_t>(storage_.size()) * buffer_alignment) {}

  bool measuring() const { return storage_.size() == 0; }
  std::size_t used() const { return used_; }
  std::size_t capacity() const { return capacity_; }
  void reset() { used_ = 0; }

  template <class T>
  T* take_raw(index_t count) {
    const std::size_t bytes = (sizeof(T) * static_cast<std::size_t>(count) + buffer_alignment - 1) /
                              buffer_alignment * buffer_alignment;
    const std::size_t at = used_;
    used_ += bytes;
    if (measuring()) return nullptr;
    if (used_ > capacity_)
      throw std::logic_error("gtrm::arena: workspace of " + std::to_string(capacity_) +
                             " bytes is too small (needs " + std::to_string(used_) +
                             "); the workspace was planned for a smaller batch");
    return reinterpret_cast<T*>(reinterpret_cast<unsigned char*>(storage_.data()) + at);
  }
  template <class T, int Cols>
  view<T, Cols> take(index_t rows) { return view<T, Cols>(take_raw<T>(rows * Cols), rows); }

 private:
  struct alignas(buffer_alignment) line { unsigned char bytes[buffer_alignment]; };
  buffer<line> storage_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
};

}  // namespace gtrm
