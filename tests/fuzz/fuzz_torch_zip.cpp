// libFuzzer target: a whole PyTorch checkpoint — the zip container through libzip (include/gtrm/backend/zip/
// zip_archive.hpp), the unpickler, and the resolution of tensor views against their storages
// (include/gtrm/io/torch_checkpoint.hpp) — on arbitrary bytes. It must return a state_dict or throw io::error.
// Two modes, so that mutations reach past the zip's CRCs: an input starting with "PK" is read as the zip file itself;
// any other input is split into a data.pkl and four storage records (data/0..3) held in memory and read through
// read_torch_records, the code behind the zip.
// Seeds: tests/fuzz/corpus/torch_zip (small real torch.save files, both writers, the hostile fixtures, and split
// inputs made from them).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <gtrm/io/torch_checkpoint.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>(data[i]);
  try {
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
      const auto sd = gtrm::io::read_torch_checkpoint(std::move(bytes), "fuzz");
      (void)sd;
      return 0;
    }
    // split: [n: 2 bytes] pickle[n] then the rest cut into four storages of equal length
    if (size < 2) return 0;
    const std::size_t n = std::min<std::size_t>(size - 2, static_cast<std::size_t>(data[0]) | (static_cast<std::size_t>(data[1]) << 8));
    const std::size_t rest = size - 2 - n, part = rest / 4;
    struct records {
      std::map<std::string, std::vector<std::byte>> m;
      std::vector<std::string> names() const {
        std::vector<std::string> v;
        for (const auto& [k, b] : m) v.push_back(k);
        return v;
      }
      bool contains(const std::string& k) const { return m.count(k) > 0; }
      std::vector<std::byte> read(const std::string& k) const { return m.at(k); }
    } recs;
    recs.m["a/data.pkl"] = std::vector<std::byte>(bytes.begin() + 2, bytes.begin() + 2 + static_cast<std::ptrdiff_t>(n));
    for (std::size_t s = 0; s < 4; ++s) {
      const auto b = bytes.begin() + 2 + static_cast<std::ptrdiff_t>(n + s * part);
      recs.m["a/data/" + std::to_string(s)] = std::vector<std::byte>(b, b + static_cast<std::ptrdiff_t>(part));
    }
    const auto sd = gtrm::io::read_torch_records(recs, "fuzz");
    (void)sd;
  } catch (const gtrm::io::error&) {
  }
  return 0;
}
