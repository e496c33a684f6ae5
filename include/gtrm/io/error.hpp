// The one exception type of gtrm's file I/O. Every message names the file and what was wrong with it
// (the tensor, the key, the expected value), so a caller can print what() and stop.
#pragma once
#include <stdexcept>

namespace gtrm::io {

struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace gtrm::io
