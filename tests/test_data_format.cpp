// The on-disk dataset format: Python-identical JSON text, .npy round trips, and one clear error (naming the file)
// for each way a dataset directory can be broken; the staged writer never leaves a complete-looking directory.
#include <doctest/doctest.h>

#include <gtrm/data/dataset.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace gtrm::data;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path p = fs::path(GTRM_BINARY_DIR) / "test-data-tmp" / name;
  fs::remove_all(p);
  fs::create_directories(p.parent_path());
  return p;
}

// Two groups: group 0 has puzzles {0: 2 examples, 1: 1 example}, group 1 has puzzle {2: 1 example}.
split_data small_split() {
  split_data d;
  d.seq_len = 3;
  const std::uint8_t a[3] = {1, 2, 3}, b[3] = {3, 2, 1}, c[3] = {0, 1, 0}, e[3] = {4, 4, 4};
  d.add_example(a, b);
  d.add_example(b, a);
  d.end_puzzle(1);
  d.add_example(c, e);
  d.end_puzzle(2);
  d.end_group();
  d.add_example(e, c);
  d.end_puzzle(0);
  d.end_group();
  return d;
}

dataset_metadata small_meta() {
  dataset_metadata m;
  m.vocab_size = 5;
  m.seq_len = 3;
  m.num_puzzle_identifiers = 3;
  m.total_groups = 2;
  m.total_puzzles = 3;
  m.mean_puzzle_examples = 4.0 / 3.0;
  return m;
}

std::string error_of(const fs::path& dir, const std::string& split) {
  try {
    read_split(dir, split);
  } catch (const data_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("pyjson: float_repr matches Python's repr") {
  CHECK(pyjson::float_repr(1.0) == "1.0");
  CHECK(pyjson::float_repr(0.0) == "0.0");
  CHECK(pyjson::float_repr(-0.0) == "-0.0");
  CHECK(pyjson::float_repr(4.155) == "4.155");
  CHECK(pyjson::float_repr(0.1) == "0.1");
  CHECK(pyjson::float_repr(1.0 / 3.0) == "0.3333333333333333");
  CHECK(pyjson::float_repr(4.0 / 3.0) == "1.3333333333333333");
  CHECK(pyjson::float_repr(123.0) == "123.0");
  CHECK(pyjson::float_repr(0.0001) == "0.0001");
  CHECK(pyjson::float_repr(1e-5) == "1e-05");
  CHECK(pyjson::float_repr(2.5e-7) == "2.5e-07");
  CHECK(pyjson::float_repr(1234567890123456.0) == "1234567890123456.0");
  CHECK(pyjson::float_repr(1e16) == "1e+16");
  CHECK(pyjson::float_repr(1.5e300) == "1.5e+300");
  CHECK(pyjson::float_repr(-2.75) == "-2.75");
}

TEST_CASE("pyjson: strings are escaped as json.dump (ensure_ascii) does") {
  CHECK(pyjson::string("<blank>") == "\"<blank>\"");
  CHECK(pyjson::string("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\n\\u0001\"");
  CHECK(pyjson::string("\xc3\xa9") == "\"\\u00e9\"");                 // é
  CHECK(pyjson::string("\xf0\x9f\x98\x80") == "\"\\ud83d\\ude00\"");  // U+1F600
  CHECK_THROWS_AS(pyjson::string("\xff"), std::invalid_argument);
  CHECK(pyjson::string_list({"<blank>", "x|||t1|||0123"}) == "[\"<blank>\", \"x|||t1|||0123\"]");
}

TEST_CASE("dataset: dataset.json is what the reference's json.dump writes") {
  dataset_metadata m;  // the reference Sudoku builder's values for 50 puzzles
  m.vocab_size = 11;
  m.seq_len = 81;
  m.total_groups = 50;
  m.total_puzzles = 50;
  CHECK(metadata_to_json(m) ==
        "{\"pad_id\": 0, \"ignore_label_id\": 0, \"blank_identifier_id\": 0, \"vocab_size\": 11, \"seq_len\": 81, "
        "\"num_puzzle_identifiers\": 1, \"total_groups\": 50, \"mean_puzzle_examples\": 1.0, \"total_puzzles\": 50, "
        "\"sets\": [\"all\"]}");
  m.ignore_label_id = no_ignore_label;
  CHECK(metadata_to_json(m).find("\"ignore_label_id\": null,") != std::string::npos);
  const auto back = metadata_from_json(metadata_to_json(m), "x");
  CHECK(back.ignore_label_id == no_ignore_label);
  CHECK(back.total_groups == 50);
  CHECK(back.mean_puzzle_examples == 1.0);
}

TEST_CASE("dataset: write then read gives back every array and field") {
  const auto dir = fresh_dir("roundtrip");
  fs::create_directories(dir);
  const auto d = small_split();
  const auto m = small_meta();
  write_split(dir, "train", m, d);
  write_identifiers(dir, {"<blank>", "a", "b"});
  const auto r = read_split(dir, "train");
  CHECK(r.data.seq_len == 3);
  CHECK(r.data.inputs == d.inputs);
  CHECK(r.data.labels == d.labels);
  CHECK(r.data.puzzle_identifiers == std::vector<std::int32_t>{1, 2, 0});
  CHECK(r.data.puzzle_indices == std::vector<std::int32_t>{0, 2, 3, 4});
  CHECK(r.data.group_indices == std::vector<std::int32_t>{0, 2, 3});
  CHECK(r.metadata.mean_puzzle_examples == m.mean_puzzle_examples);
  CHECK(r.metadata.num_puzzle_identifiers == 3);
  CHECK(read_identifiers(dir) == std::vector<std::string>{"<blank>", "a", "b"});

  // The header is numpy's: version 1.0, '|u1' tokens and '<i4' indices, C order, the right shape.
  std::ifstream f(dir / "train" / "all__inputs.npy", std::ios::binary);
  std::string head(128, '\0');
  f.read(head.data(), 128);
  CHECK(head.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  CHECK(head.find("'descr': '|u1', 'fortran_order': False, 'shape': (4, 3), }") != std::string::npos);
  std::ifstream g(dir / "train" / "all__group_indices.npy", std::ios::binary);
  std::string head2(128, '\0');
  g.read(head2.data(), 128);
  CHECK(head2.find("'descr': '<i4', 'fortran_order': False, 'shape': (3,), }") != std::string::npos);
}

TEST_CASE("dataset: every broken file gives one error naming it") {
  const auto dir = fresh_dir("broken");
  fs::create_directories(dir);
  const auto d = small_split();
  const auto m = small_meta();
  const auto reset = [&] {
    fs::remove_all(dir / "train");
    write_split(dir, "train", m, d);
  };
  const auto sdir = dir / "train";

  reset();
  fs::remove(sdir / "all__labels.npy");
  auto e = error_of(dir, "train");
  CHECK(e.find("all__labels.npy: missing file") != std::string::npos);

  reset();
  fs::remove(sdir / "dataset.json");
  CHECK(error_of(dir, "train").find("dataset.json: missing file") != std::string::npos);

  reset();  // float where integers belong
  const std::vector<float> real(d.labels.begin(), d.labels.end());
  write_npy(sdir / "all__labels.npy", real.data(), {4, 3});
  e = error_of(dir, "train");
  CHECK(e.find("all__labels.npy: dtype '<f4', expected '|u1' (uint8 or another integer type)") != std::string::npos);

  reset();  // int64 tokens (what the reference's augmented Sudoku build writes) are read, narrowed...
  std::vector<std::int64_t> wide(d.labels.begin(), d.labels.end());
  write_npy(sdir / "all__labels.npy", wide.data(), {4, 3});
  CHECK(read_split(dir, "train").data.labels == d.labels);
  wide[4] = 300;  // ...but never wrapped
  write_npy(sdir / "all__labels.npy", wide.data(), {4, 3});
  CHECK(error_of(dir, "train").find("all__labels.npy: value 300 at element 4 does not fit uint8") != std::string::npos);

  reset();  // labels with another shape
  write_npy(sdir / "all__labels.npy", d.labels.data(), {3, 4});
  CHECK(error_of(dir, "train").find("all__labels.npy: shape (3, 4) differs") != std::string::npos);

  reset();  // 1-D where 2-D belongs
  write_npy(sdir / "all__inputs.npy", d.inputs.data(), {12});
  CHECK(error_of(dir, "train").find("all__inputs.npy: expected 2 dimensions") != std::string::npos);

  reset();  // CSR that does not end at the example count
  const std::vector<std::int32_t> bad_pi = {0, 2, 3, 5};
  write_npy(sdir / "all__puzzle_indices.npy", bad_pi.data(), {4});
  CHECK(error_of(dir, "train").find("all__puzzle_indices.npy: ends at 5, expected 4") != std::string::npos);

  reset();  // decreasing group offsets
  const std::vector<std::int32_t> bad_gi = {0, 3, 2, 3};
  write_npy(sdir / "all__group_indices.npy", bad_gi.data(), {4});
  CHECK(error_of(dir, "train").find("all__group_indices.npy: decreases at position 2") != std::string::npos);

  reset();  // total_groups disagreeing with group_indices
  auto m2 = m;
  m2.total_groups = 7;
  {
    std::ofstream(sdir / "dataset.json") << metadata_to_json(m2);
  }
  CHECK(error_of(dir, "train").find("dataset.json: total_groups 7") != std::string::npos);

  reset();  // a field missing from dataset.json
  {
    std::ofstream(sdir / "dataset.json") << "{\"pad_id\": 0}";
  }
  CHECK(error_of(dir, "train").find("dataset.json: missing field 'ignore_label_id'") != std::string::npos);

  reset();  // truncated data
  {
    const auto size = fs::file_size(sdir / "all__inputs.npy");
    fs::resize_file(sdir / "all__inputs.npy", size - 2);
  }
  CHECK(error_of(dir, "train").find("all__inputs.npy: truncated data") != std::string::npos);

  reset();  // not an npy file at all
  {
    std::ofstream(sdir / "all__puzzle_identifiers.npy") << "hello";
  }
  CHECK(error_of(dir, "train").find("all__puzzle_identifiers.npy: not an .npy file") != std::string::npos);

  reset();  // a token outside the vocabulary
  auto d2 = d;
  d2.inputs[5] = 9;
  write_npy(sdir / "all__inputs.npy", d2.inputs.data(), {4, 3});
  CHECK(error_of(dir, "train").find("all__inputs.npy: token 9 at example 1") != std::string::npos);
}

TEST_CASE("dataset: dataset_writer stages, commits atomically and cleans up after a failure") {
  fresh_dir("writer");
  const auto dir = fresh_dir("writer/out");
  const auto d = small_split();
  const auto m = small_meta();
  {
    dataset_writer w(dir);
    w.write_split("train", m, d);
    w.write_identifiers({"<blank>", "a", "b"});
    CHECK_FALSE(fs::exists(dir));  // nothing visible before commit
    w.commit();
  }
  CHECK(fs::exists(dir / "train" / "dataset.json"));
  CHECK(read_split(dir, "train").data.inputs == d.inputs);

  // Without --overwrite an existing dataset is kept.
  CHECK_THROWS_AS(dataset_writer{dir}, data_error);

  // A failure half-way (here: inconsistent metadata) leaves the old dataset untouched and no staging directory.
  {
    auto bad = m;
    bad.total_groups = 9;
    dataset_writer w(dir, true);
    CHECK_THROWS_AS(w.write_split("train", bad, d), data_error);
  }
  CHECK(read_split(dir, "train").metadata.total_groups == 2);
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.parent_path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);

  // --overwrite replaces a dataset...
  {
    dataset_writer w(dir, true);
    w.write_split("test", m, d);
    w.write_identifiers({"<blank>"});
    w.commit();
  }
  CHECK(fs::exists(dir / "test"));
  CHECK_FALSE(fs::exists(dir / "train"));
  // ...but never a directory that is not one.
  const auto other = fresh_dir("writer/notdata");
  fs::create_directories(other);
  std::ofstream(other / "precious.txt") << "x";
  CHECK_THROWS_AS((dataset_writer{other, true}), data_error);
  CHECK(fs::exists(other / "precious.txt"));
}
