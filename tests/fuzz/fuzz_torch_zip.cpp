// libFuzzer target: a whole PyTorch checkpoint — the zip container through libzip (include/gtrm/backend/zip/
// zip_archive.hpp), the unpickler, and the resolution of tensor views against their storages
// (include/gtrm/io/torch_checkpoint.hpp) — on arbitrary bytes. It must return a state_dict or throw io::error.
// Seeds: tests/fuzz/corpus/torch_zip (small real torch.save files, both writers, and the hostile fixtures).
#include <cstddef>
#include <cstdint>
#include <vector>

#include <gtrm/io/torch_checkpoint.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>(data[i]);
  try {
    const auto sd = gtrm::io::read_torch_checkpoint(std::move(bytes), "fuzz");
    (void)sd;
  } catch (const gtrm::io::error&) {
  }
  return 0;
}
