// libFuzzer target: the restricted unpickler of PyTorch checkpoints (include/gtrm/io/torch_pickle.hpp) on arbitrary
// bytes. It must either return a document or throw io::error — never crash, read out of bounds, leak, recurse
// without bound or allocate beyond a bounded multiple of the input. Seeds: tests/fuzz/corpus/torch_pickle (the
// data.pkl of real torch.save files and of the hostile fixtures).
#include <cstddef>
#include <cstdint>
#include <span>

#include <gtrm/io/torch_pickle.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto doc = gtrm::io::torch_pickle::load(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size), "fuzz");
    (void)doc;
  } catch (const gtrm::io::error&) {
  }
  return 0;
}
