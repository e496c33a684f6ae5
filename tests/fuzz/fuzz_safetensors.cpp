// libFuzzer target: the safetensors reader (include/gtrm/io/safetensors.hpp) on arbitrary bytes, then every tensor
// it accepted read back as float and as int64 (the conversions and their range checks). io::error is a rejection.
#include <gtrm/io/safetensors.hpp>

#include <vector>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = gtrm::fuzz::write_scratch("model.safetensors", data, size);
  try {
    const gtrm::io::safetensors_reader r(path);
    (void)r.metadata();
    for (const auto& name : r.names()) {
      const auto& t = r.info(name);
      (void)r.raw(name);
      // Tensors of at most 1 Mi elements: the header was checked against the file size, so larger ones are real data.
      const auto n = gtrm::io::detail::checked_numel(t.shape);
      if (!n || *n > (1u << 20)) continue;
      try {
        if (gtrm::io::dtype_is_float(t.type)) (void)r.read<float>(name);
        else (void)r.read<std::int64_t>(name);
      } catch (const gtrm::io::error&) {
      }
      try {
        (void)r.read<std::uint8_t>(name);
      } catch (const gtrm::io::error&) {
      }
    }
  } catch (const gtrm::io::error&) {
  }
  return 0;
}
