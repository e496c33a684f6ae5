// libFuzzer target: a dataset's metadata file, SPLIT/dataset.json (include/gtrm/data/dataset.hpp,
// metadata_from_json), checked against a small well-formed split as read_split does (validate_split), and the same
// bytes as identifiers.json (read_identifiers). data::data_error is a rejection.
#include <gtrm/data/dataset.hpp>

#include <string>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(gtrm::fuzz::as_text(data, size));
  try {
    const auto m = gtrm::data::metadata_from_json(text, "dataset.json");
    // Two puzzles of one example each in one group, rows of the metadata's length (when it is small).
    gtrm::data::split_data d;
    d.seq_len = m.seq_len > 0 && m.seq_len <= 64 ? m.seq_len : 4;
    const std::vector<std::uint8_t> row(static_cast<std::size_t>(d.seq_len), 1);
    for (int p = 0; p < 2; ++p) {
      d.add_example(row.data(), row.data());
      d.end_puzzle(p);
    }
    d.end_group();
    gtrm::data::validate_split(m, d, "split");
  } catch (const gtrm::data::data_error&) {
  }
  gtrm::fuzz::write_scratch("identifiers.json", data, size);
  try {
    (void)gtrm::data::read_identifiers(gtrm::fuzz::scratch_dir());
  } catch (const gtrm::data::data_error&) {
  }
  return 0;
}
