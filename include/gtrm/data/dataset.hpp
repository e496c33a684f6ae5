// The reference's on-disk dataset layout (docs/reference.md §5.0, dataset/common.py PuzzleDatasetMetadata):
//   <dir>/<split>/dataset.json, <dir>/<split>/all__{inputs,labels,puzzle_identifiers,puzzle_indices,group_indices}.npy,
//   <dir>/identifiers.json
// with the reference's dtypes (uint8 tokens, int32 indices) and dataset.json written as json.dump writes it, so
// datasets move freely between the reference's Python code and gtrm. Reading validates everything a loader relies
// on; writing a whole dataset goes through dataset_writer, which stages in a sibling directory and renames at the end.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/atomic_file.hpp"
#include "npy.hpp"
#include "pyjson.hpp"

namespace gtrm::data {

// dataset.json's ignore_label_id may be null in the reference (Optional[int]); gtrm holds null as this value, which
// no uint8 label can equal, so "labels == ignore_label_id -> -100" is then naturally a no-op.
inline constexpr int no_ignore_label = -1;

// Field order is dataset.json's key order.
struct dataset_metadata {
  int pad_id = 0;
  int ignore_label_id = 0;  // no_ignore_label: null
  int blank_identifier_id = 0;
  int vocab_size = 0;
  int seq_len = 0;
  int num_puzzle_identifiers = 1;
  int total_groups = 0;
  double mean_puzzle_examples = 1.0;
  int total_puzzles = 0;
  std::vector<std::string> sets = {"all"};
};

// One split's set "all": examples (rows of seq_len tokens) grouped into puzzles, puzzles into groups, both as CSR
// offsets that start at 0. Builders append with add_example / end_puzzle / end_group, as the reference's loops do.
struct split_data {
  int seq_len = 0;
  std::vector<std::uint8_t> inputs;               // [examples, seq_len]
  std::vector<std::uint8_t> labels;               // [examples, seq_len]
  std::vector<std::int32_t> puzzle_identifiers;   // [puzzles]
  std::vector<std::int32_t> puzzle_indices = {0};  // [puzzles + 1], example offsets
  std::vector<std::int32_t> group_indices = {0};   // [groups + 1], puzzle offsets

  std::size_t num_examples() const { return seq_len > 0 ? inputs.size() / static_cast<std::size_t>(seq_len) : 0; }
  std::size_t num_puzzles() const { return puzzle_identifiers.size(); }
  std::size_t num_groups() const { return group_indices.empty() ? 0 : group_indices.size() - 1; }

  void add_example(const std::uint8_t* input, const std::uint8_t* label) {
    inputs.insert(inputs.end(), input, input + seq_len);
    labels.insert(labels.end(), label, label + seq_len);
  }
  // Closes the puzzle holding the examples added since the previous end_puzzle.
  void end_puzzle(std::int32_t identifier) {
    puzzle_indices.push_back(static_cast<std::int32_t>(num_examples()));
    puzzle_identifiers.push_back(identifier);
  }
  // Closes the group holding the puzzles closed since the previous end_group.
  void end_group() { group_indices.push_back(static_cast<std::int32_t>(num_puzzles())); }
};

// dataset.json text, byte for byte what the reference's json.dump(metadata.model_dump(), f) writes.
inline std::string metadata_to_json(const dataset_metadata& m) {
  pyjson::object_writer w;
  w.integer("pad_id", m.pad_id);
  if (m.ignore_label_id == no_ignore_label) w.null("ignore_label_id");
  else w.integer("ignore_label_id", m.ignore_label_id);
  w.integer("blank_identifier_id", m.blank_identifier_id)
      .integer("vocab_size", m.vocab_size)
      .integer("seq_len", m.seq_len)
      .integer("num_puzzle_identifiers", m.num_puzzle_identifiers)
      .integer("total_groups", m.total_groups)
      .real("mean_puzzle_examples", m.mean_puzzle_examples)
      .integer("total_puzzles", m.total_puzzles)
      .raw("sets", pyjson::string_list(m.sets));
  return w.str();
}

// Parses dataset.json; `file` names it in errors. Unknown keys are ignored, as pydantic does.
inline dataset_metadata metadata_from_json(const std::string& text, const std::string& file) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw data_error(file + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw data_error(file + ": expected a JSON object");
  const auto get_int = [&](const char* key, bool nullable = false) -> int {
    if (!j.contains(key)) throw data_error(file + ": missing field '" + key + "'");
    const auto& v = j[key];
    if (nullable && v.is_null()) return no_ignore_label;
    if (!v.is_number_integer()) throw data_error(file + ": field '" + key + "' is not an integer");
    const auto x = v.get<std::int64_t>();
    if (x < -2147483647 || x > 2147483647) throw data_error(file + ": field '" + key + "' out of range");
    return static_cast<int>(x);
  };
  dataset_metadata m;
  m.pad_id = get_int("pad_id");
  m.ignore_label_id = get_int("ignore_label_id", true);
  m.blank_identifier_id = get_int("blank_identifier_id");
  m.vocab_size = get_int("vocab_size");
  m.seq_len = get_int("seq_len");
  m.num_puzzle_identifiers = get_int("num_puzzle_identifiers");
  m.total_groups = get_int("total_groups");
  if (!j.contains("mean_puzzle_examples") || !j["mean_puzzle_examples"].is_number())
    throw data_error(file + ": missing or non-numeric field 'mean_puzzle_examples'");
  m.mean_puzzle_examples = j["mean_puzzle_examples"].get<double>();
  m.total_puzzles = get_int("total_puzzles");
  if (!j.contains("sets") || !j["sets"].is_array()) throw data_error(file + ": missing or non-list field 'sets'");
  m.sets.clear();
  for (const auto& s : j["sets"]) {
    if (!s.is_string()) throw data_error(file + ": 'sets' must hold strings");
    m.sets.push_back(s.get<std::string>());
  }
  return m;
}

// Checks that metadata and arrays agree and that the CSR offsets are well formed; `where` prefixes the message
// (the split directory). The reference's total_puzzles is not checked: its Sudoku and Maze builders store the group
// count there.
inline void validate_split(const dataset_metadata& m, const split_data& d, const std::string& where) {
  const auto fail = [&](const std::string& file, const std::string& what) {
    throw data_error(where + "/" + file + ": " + what);
  };
  if (m.seq_len <= 0) fail("dataset.json", "seq_len must be positive");
  if (m.vocab_size <= 0 || m.vocab_size > 256) fail("dataset.json", "vocab_size must be in 1..256 (uint8 tokens)");
  if (m.num_puzzle_identifiers <= 0) fail("dataset.json", "num_puzzle_identifiers must be positive");
  if (m.pad_id < 0 || m.pad_id >= m.vocab_size) fail("dataset.json", "pad_id outside the vocabulary");
  if (m.blank_identifier_id < 0 || m.blank_identifier_id >= m.num_puzzle_identifiers)
    fail("dataset.json", "blank_identifier_id outside the identifiers");
  if (std::find(m.sets.begin(), m.sets.end(), "all") == m.sets.end() || m.sets.size() != 1)
    fail("dataset.json", "sets must be [\"all\"] (the only set the builders write)");
  if (d.seq_len != m.seq_len)
    fail("all__inputs.npy", "row length " + std::to_string(d.seq_len) + " != seq_len " + std::to_string(m.seq_len));
  const auto S = static_cast<std::size_t>(m.seq_len);
  if (d.inputs.size() % S != 0) fail("all__inputs.npy", "size is not a multiple of seq_len");
  if (d.labels.size() != d.inputs.size()) fail("all__labels.npy", "shape differs from all__inputs.npy");
  for (std::size_t i = 0; i < d.inputs.size(); ++i)
    if (d.inputs[i] >= m.vocab_size)
      fail("all__inputs.npy", "token " + std::to_string(d.inputs[i]) + " at example " + std::to_string(i / S) +
                                  " is outside vocab_size " + std::to_string(m.vocab_size));
  for (std::size_t i = 0; i < d.labels.size(); ++i)
    if (d.labels[i] >= m.vocab_size)
      fail("all__labels.npy", "token " + std::to_string(d.labels[i]) + " at example " + std::to_string(i / S) +
                                  " is outside vocab_size " + std::to_string(m.vocab_size));
  const auto check_csr = [&](const std::vector<std::int32_t>& idx, std::size_t last, const char* file) {
    if (idx.empty() || idx.front() != 0) fail(file, "must start with 0");
    for (std::size_t i = 1; i < idx.size(); ++i)
      if (idx[i] < idx[i - 1]) fail(file, "decreases at position " + std::to_string(i));
    if (static_cast<std::size_t>(idx.back()) != last)
      fail(file, "ends at " + std::to_string(idx.back()) + ", expected " + std::to_string(last));
  };
  check_csr(d.puzzle_indices, d.num_examples(), "all__puzzle_indices.npy");
  if (d.puzzle_indices.size() != d.puzzle_identifiers.size() + 1)
    fail("all__puzzle_indices.npy", "length " + std::to_string(d.puzzle_indices.size()) + " != puzzles + 1 = " +
                                        std::to_string(d.puzzle_identifiers.size() + 1));
  check_csr(d.group_indices, d.num_puzzles(), "all__group_indices.npy");
  if (static_cast<std::size_t>(m.total_groups) != d.num_groups())
    fail("dataset.json", "total_groups " + std::to_string(m.total_groups) + " != groups in all__group_indices.npy (" +
                             std::to_string(d.num_groups()) + ")");
  for (std::size_t i = 0; i < d.puzzle_identifiers.size(); ++i)
    if (d.puzzle_identifiers[i] < 0 || d.puzzle_identifiers[i] >= m.num_puzzle_identifiers)
      fail("all__puzzle_identifiers.npy", "identifier " + std::to_string(d.puzzle_identifiers[i]) + " of puzzle " +
                                              std::to_string(i) + " outside num_puzzle_identifiers");
}

namespace dataset_detail {

// Atomically (core/atomic_file.hpp), so a reader never sees half a JSON file.
inline void write_text(const std::filesystem::path& file, const std::string& text) {
  try {
    atomic_file f(file);
    f.write(text);
    f.commit();
  } catch (const atomic_file_error& e) {
    throw data_error(file.string() + (e.at() == atomic_file_error::stage::create ? ": cannot create"
                                                                               : ": write error (disk full?)") +
                     e.reason());
  }
}

inline std::string read_text(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw data_error(file.string() + ": missing file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw data_error(file.string() + ": cannot open");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::vector<std::size_t> shape_of(std::size_t n) { return {n}; }

}  // namespace dataset_detail

// Writes <dir>/<split>/dataset.json and the five all__*.npy files, after validate_split. `dir` must exist.
inline void write_split(const std::filesystem::path& dir, const std::string& split, const dataset_metadata& m,
                        const split_data& d) {
  const auto sdir = dir / split;
  validate_split(m, d, sdir.string());
  std::error_code ec;
  std::filesystem::create_directories(sdir, ec);
  if (ec) throw data_error(sdir.string() + ": cannot create directory (" + ec.message() + ")");
  dataset_detail::write_text(sdir / "dataset.json", metadata_to_json(m));
  const std::vector<std::size_t> rows = {d.num_examples(), static_cast<std::size_t>(d.seq_len)};
  write_npy(sdir / "all__inputs.npy", d.inputs.data(), rows);
  write_npy(sdir / "all__labels.npy", d.labels.data(), rows);
  write_npy(sdir / "all__puzzle_identifiers.npy", d.puzzle_identifiers.data(),
            dataset_detail::shape_of(d.puzzle_identifiers.size()));
  write_npy(sdir / "all__puzzle_indices.npy", d.puzzle_indices.data(),
            dataset_detail::shape_of(d.puzzle_indices.size()));
  write_npy(sdir / "all__group_indices.npy", d.group_indices.data(), dataset_detail::shape_of(d.group_indices.size()));
}

// <dir>/identifiers.json: identifier id -> name, "<blank>" first (json.dump of a list of strings).
inline void write_identifiers(const std::filesystem::path& dir, const std::vector<std::string>& identifiers) {
  dataset_detail::write_text(dir / "identifiers.json", pyjson::string_list(identifiers));
}

struct loaded_split {
  dataset_metadata metadata;
  split_data data;
};

// Reads and validates <dir>/<split>. Every error names the offending file. Integer arrays of another integer dtype
// are narrowed with a range check (the reference's augmented Sudoku splits hold int64 tokens).
inline loaded_split read_split(const std::filesystem::path& dir, const std::string& split) {
  const auto sdir = dir / split;
  loaded_split out;
  const auto meta_file = sdir / "dataset.json";
  out.metadata = metadata_from_json(dataset_detail::read_text(meta_file), meta_file.string());
  auto& d = out.data;
  const auto matrix = [&](const char* name, std::vector<std::uint8_t>& dst) -> std::vector<std::size_t> {
    auto a = read_npy<std::uint8_t>(sdir / name, true);
    if (a.shape.size() != 2) throw data_error((sdir / name).string() + ": expected 2 dimensions [examples, seq_len]");
    dst = std::move(a.data);
    return a.shape;
  };
  const auto vec = [&](const char* name, std::vector<std::int32_t>& dst) {
    auto a = read_npy<std::int32_t>(sdir / name, true);
    if (a.shape.size() != 1) throw data_error((sdir / name).string() + ": expected 1 dimension");
    dst = std::move(a.data);
  };
  const auto in_shape = matrix("all__inputs.npy", d.inputs);
  const auto lab_shape = matrix("all__labels.npy", d.labels);
  if (lab_shape != in_shape)
    throw data_error((sdir / "all__labels.npy").string() + ": shape " + npy_detail::shape_str(lab_shape) +
                     " differs from all__inputs.npy " + npy_detail::shape_str(in_shape));
  d.seq_len = static_cast<int>(in_shape[1]);
  vec("all__puzzle_identifiers.npy", d.puzzle_identifiers);
  vec("all__puzzle_indices.npy", d.puzzle_indices);
  vec("all__group_indices.npy", d.group_indices);
  validate_split(out.metadata, d, sdir.string());
  // writing an empty split is allowed (a builder may have no test pairs), reading one to train or evaluate is not
  if (d.num_examples() == 0)
    throw data_error((sdir / "all__inputs.npy").string() + ": the " + split +
                     " split holds no examples; expected at least one (rebuild the dataset)");
  return out;
}

// Reads <dir>/identifiers.json (a list of strings).
inline std::vector<std::string> read_identifiers(const std::filesystem::path& dir) {
  const auto file = dir / "identifiers.json";
  const std::string text = dataset_detail::read_text(file);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw data_error(file.string() + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_array()) throw data_error(file.string() + ": expected a list of strings");
  std::vector<std::string> ids;
  for (const auto& s : j) {
    if (!s.is_string()) throw data_error(file.string() + ": expected a list of strings");
    ids.push_back(s.get<std::string>());
  }
  return ids;
}

// Writes a whole dataset so that a failure never leaves a directory that looks complete: everything goes into a
// staging directory beside the target (same filesystem, so the final rename is atomic), and commit() renames it into
// place. Without commit() (an exception, a crash) the staging directory is removed by the destructor, or is left
// as ".<name>.tmp-*" which no reader mistakes for a dataset.
class dataset_writer {
 public:
  // overwrite: replace an existing non-empty target, but only one that looks like a dataset (has identifiers.json),
  // so a mistyped --output-dir cannot delete an unrelated directory.
  explicit dataset_writer(std::filesystem::path target, bool overwrite = false)
      : target_(std::filesystem::absolute(std::move(target)).lexically_normal()), overwrite_(overwrite) {
    if (target_.filename().empty()) target_ = target_.parent_path();
    check_target();
    std::error_code ec;
    std::filesystem::create_directories(target_.parent_path(), ec);
    if (ec) throw data_error(target_.parent_path().string() + ": cannot create directory (" + ec.message() + ")");
    for (int attempt = 0;; ++attempt) {
      std::ostringstream name;
      name << "." << target_.filename().string() << ".tmp-" << std::hex
           << (std::random_device{}() ^ static_cast<unsigned>(attempt));
      staging_ = target_.parent_path() / name.str();
      if (std::filesystem::create_directory(staging_, ec)) break;
      if (ec || attempt > 100) throw data_error(staging_.string() + ": cannot create staging directory");
    }
  }
  dataset_writer(const dataset_writer&) = delete;
  dataset_writer& operator=(const dataset_writer&) = delete;
  ~dataset_writer() {
    if (!committed_) {
      std::error_code ec;
      std::filesystem::remove_all(staging_, ec);
    }
  }

  // Where files go until commit(); for extra files such as ARC's test_puzzles.json.
  const std::filesystem::path& staging() const { return staging_; }
  const std::filesystem::path& target() const { return target_; }

  void write_split(const std::string& split, const dataset_metadata& m, const split_data& d) {
    data::write_split(staging_, split, m, d);
  }
  void write_identifiers(const std::vector<std::string>& ids) { data::write_identifiers(staging_, ids); }
  void write_text(const std::string& relative_name, const std::string& text) {
    dataset_detail::write_text(staging_ / relative_name, text);
  }

  // Renames the staging directory to the target (replacing an old dataset there when overwrite was given).
  void commit() {
    check_target();
    std::error_code ec;
    std::filesystem::path old;
    if (std::filesystem::exists(target_, ec) && !std::filesystem::is_empty(target_, ec)) {
      old = staging_;
      old.replace_filename("." + target_.filename().string() + ".old-" + staging_.filename().string());
      std::filesystem::rename(target_, old, ec);
      if (ec) throw data_error(target_.string() + ": cannot move the old dataset aside (" + ec.message() + ")");
    } else if (std::filesystem::exists(target_, ec)) {
      std::filesystem::remove(target_, ec);  // an empty directory
    }
    std::filesystem::rename(staging_, target_, ec);
    if (ec) throw data_error(target_.string() + ": cannot rename the staging directory into place (" + ec.message() + ")");
    committed_ = true;
    if (!old.empty()) std::filesystem::remove_all(old, ec);
  }

 private:
  void check_target() const {
    std::error_code ec;
    if (!std::filesystem::exists(target_, ec)) return;
    if (!std::filesystem::is_directory(target_, ec)) throw data_error(target_.string() + ": exists and is not a directory");
    if (std::filesystem::is_empty(target_, ec)) return;
    if (!overwrite_) throw data_error(target_.string() + ": output directory exists and is not empty (use --overwrite)");
    if (!std::filesystem::exists(target_ / "identifiers.json", ec))
      throw data_error(target_.string() + ": refusing to overwrite a directory that is not a dataset (no identifiers.json)");
  }

  std::filesystem::path target_, staging_;
  bool overwrite_;
  bool committed_ = false;
};

}  // namespace gtrm::data
