// libFuzzer target: the .npy reader (include/gtrm/data/npy.hpp) on arbitrary bytes, as the dataset loader calls it:
// uint8 tokens with integer conversion (all__inputs.npy, all__labels.npy) and int32 indices (the *_indices.npy files).
// data::data_error is a rejection.
#include <gtrm/data/npy.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = gtrm::fuzz::write_scratch("array.npy", data, size);
  try {
    (void)gtrm::data::read_npy<std::uint8_t>(path, true);
  } catch (const gtrm::data::data_error&) {
  }
  try {
    (void)gtrm::data::read_npy<std::int32_t>(path);
  } catch (const gtrm::data::data_error&) {
  }
  return 0;
}
