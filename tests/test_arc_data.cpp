// ARC data: JSON loading and its errors, augmentation names and inverses, the 30x30 serialisation and crop, dedup
// counts, the builder's split structure on tiny fixtures, and byte equality with the reference builder on the real
// ARC-AGI-1 files (digests recorded from dataset/build_arc_dataset.py run with numpy 2.4.6).
#include <doctest/doctest.h>

#include <gtrm/data/arc.hpp>
#include <gtrm/eval/sha256.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace gtrm::data;

namespace {

const fs::path tiny = fs::path(GTRM_TEST_DATA_DIR) / "arc" / "tiny";
const fs::path shared_data = fs::path(GTRM_SOURCE_DIR) / ".." / "shared" / "data";

struct temp_dir {
  fs::path path;
  temp_dir() {
    path = fs::temp_directory_path() / ("gtrm_test_arc_" + std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& rel, const std::string& text) const {
    const auto p = path / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const data_error& e) {
    return e.what();
  }
  return "";
}

arc_grid grid(int h, int w, std::vector<std::uint8_t> c) { return arc_grid{h, w, std::move(c)}; }

// Undo a translation: move the grid at its top-left colour cell to (0, 0), then crop.
arc_grid crop_translated(const std::uint8_t* seq, const std::uint8_t* locate) {
  int r0 = arc_max_grid, c0 = arc_max_grid;
  for (int i = 0; i < arc_seq_len; ++i)
    if (locate[i] >= 2) {
      r0 = std::min(r0, i / arc_max_grid);
      c0 = std::min(c0, i % arc_max_grid);
    }
  std::vector<std::uint8_t> shifted(arc_seq_len, 0);
  for (int r = r0; r < arc_max_grid; ++r)
    for (int c = c0; c < arc_max_grid; ++c) shifted[(r - r0) * arc_max_grid + c - c0] = seq[r * arc_max_grid + c];
  return arc_crop(shifted.data());
}

template <class T>
std::string digest(const std::vector<T>& v) {
  return gtrm::eval::sha256().update(v.data(), v.size() * sizeof(T)).hexdigest();
}

}  // namespace

TEST_CASE("arc load: per-task folder, key order, unknown keys") {
  const auto s = load_arc_task_dir("training", tiny / "training");
  REQUIRE(s.tasks.size() == 2);
  CHECK(s.tasks[0].id == "aaaa0001");
  CHECK_FALSE(s.tasks[0].test_first);
  CHECK(s.tasks[1].id == "aaaa0002");
  CHECK(s.tasks[1].test_first);  // "test" precedes "train"; the extra "name" key is ignored
  CHECK(s.tasks[0].train.size() == 2);
  CHECK(s.tasks[0].train[0].input == grid(2, 2, {1, 2, 3, 4}));
  CHECK(s.tasks[0].test[0].output == grid(1, 3, {2, 0, 1}));
}

TEST_CASE("arc load: combined challenges + solutions equal the per-task files; no solutions -> [[0]]") {
  const auto folder = load_arc_task_dir("training", tiny / "training");
  const auto comb = load_arc_combined("training", tiny / "combined" / "tiny_training_challenges.json",
                                      tiny / "combined" / "tiny_training_solutions.json");
  REQUIRE(comb.tasks.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(comb.tasks[i].id == folder.tasks[i].id);
    for (std::size_t k = 0; k < folder.tasks[i].test.size(); ++k) {
      CHECK(comb.tasks[i].test[k].input == folder.tasks[i].test[k].input);
      CHECK(comb.tasks[i].test[k].output == folder.tasks[i].test[k].output);
    }
    CHECK(comb.tasks[i].train.size() == folder.tasks[i].train.size());
  }
  arc_load_log log;
  const auto no_sols = load_arc_combined("evaluation", tiny / "combined" / "tiny_evaluation_challenges.json",
                                         tiny / "combined" / "tiny_evaluation_solutions.json", {}, &log);
  CHECK(no_sols.tasks[0].test[1].output == grid(1, 1, {0}));
  CHECK(log.warnings.size() == 1);
}

TEST_CASE("arc load: bad input is one error naming the file and the task") {
  temp_dir tmp;
  const std::string ok_pair = R"({"input": [[1]], "output": [[1]]})";
  const auto task = [&](const std::string& train_input) {
    return R"({"train": [{"input": )" + train_input + R"(, "output": [[1]]}], "test": [)" + ok_pair + "]}";
  };
  std::string rows31 = "[", cols31 = "[[";
  for (int i = 0; i < 31; ++i) {
    rows31 += std::string(i ? ", " : "") + "[1]";
    cols31 += std::string(i ? ", " : "") + "1";
  }
  rows31 += "]";
  cols31 += "]]";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {task("[[1, 2], [3]]"), "ragged grid, row 1 has 1 cells"},
      {task(rows31), "31 rows, more than 30"},
      {task(cols31), "31 columns, more than 30"},
      {task("[[1, 10]]"), "cell (0, 1) is 10, not an integer 0..9"},
      {task("[[1.5]]"), "not an integer 0..9"},
      {task("[]"), "non-empty list of rows"},
      {R"({"test": [{"input": [[1]], "output": [[1]]}]})", R"(missing or empty "train" list)"},
      {R"({"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]]}]})", R"(test pair 0: missing "output")"},
      {R"({"train": [)", "not valid JSON"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    const auto dir = "case" + std::to_string(i);
    const auto file = tmp.write(dir + "/bad.json", cases[i].first);
    const auto msg = error_of([&] { load_arc_task_dir("training", tmp.path / dir); });
    CAPTURE(msg);
    CHECK(msg.find(file.string()) != std::string::npos);
    CHECK(msg.find(cases[i].second) != std::string::npos);
    if (i + 1 != cases.size()) CHECK(msg.find("task bad") != std::string::npos);
  }
  // skip_bad: a counted skip with a warning each; the good task stays.
  tmp.write("mixed/good.json", task("[[1]]"));
  tmp.write("mixed/bad1.json", task("[[1, 2], [3]]"));
  tmp.write("mixed/bad2.json", task("[[11]]"));
  arc_load_log log;
  const auto s = load_arc_task_dir("training", tmp.path / "mixed", {true}, &log);
  CHECK(s.tasks.size() == 1);
  CHECK(log.skipped == 2);
  CHECK(log.warnings.size() == 2);
}

TEST_CASE("arc load: duplicate task ids across subsets, inside a combined file, and bad solutions") {
  std::vector<arc_subset> subs = {load_arc_task_dir("training", tiny / "training"),
                                  load_arc_task_dir("again", tiny / "training")};
  const auto msg = error_of([&] { auto copy = subs; check_unique_arc_ids(copy); });
  CHECK(msg.find("task aaaa0001: duplicate task id in subset 'again', already in subset training") != std::string::npos);
  arc_load_log log;
  check_unique_arc_ids(subs, {true}, &log);
  CHECK(subs[1].tasks.empty());
  CHECK(log.skipped == 2);

  temp_dir tmp;
  const std::string t = R"({"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]]}]})";
  const auto ch = tmp.write("x_challenges.json", "{\"t1\": " + t + ", \"t1\": " + t + "}");
  CHECK(error_of([&] { load_arc_combined("x", ch, ""); }).find("task t1: duplicate task id") != std::string::npos);
  arc_load_log dlog;
  CHECK(load_arc_combined("x", ch, "", {true}, &dlog).tasks.size() == 1);
  CHECK(dlog.skipped == 1);
  const auto ch2 = tmp.write("y_challenges.json", "{\"t1\": " + t + "}");
  const auto so2 = tmp.write("y_solutions.json", R"({"t1": [[[1]], [[2]]]})");
  CHECK(error_of([&] { load_arc_combined("y", ch2, so2); }).find("task t1: expected a list of 1 grids") != std::string::npos);
}

TEST_CASE("arc augment: names round-trip and the inverse restores every grid") {
  numpy_random rng(1);
  const arc_grid g = grid(2, 3, {0, 1, 2, 3, 4, 9});
  for (int i = 0; i < 50; ++i) {
    const arc_aug a = arc_draw_aug(rng);
    CHECK(a.colours[0] == 0);
    const auto name = arc_aug_name("abc", a);
    const auto p = parse_arc_name(name);
    CHECK(p.augmented);
    CHECK(p.original == "abc");
    CHECK(p.aug.tid == a.tid);
    CHECK(p.aug.colours == a.colours);
    CHECK(arc_invert(arc_apply(g, a), a) == g);
  }
  CHECK(arc_aug_name("00576224", arc_aug{3, {0, 2, 1, 3, 4, 5, 6, 7, 8, 9}}) == "00576224|||t3|||0213456789");
  CHECK_FALSE(parse_arc_name("00576224").augmented);
  CHECK_THROWS_AS(parse_arc_name("x|||t9|||0123456789"), data_error);
  CHECK_THROWS_AS(parse_arc_name("x|||t1|||0113456789"), data_error);
  // Colour map, then dihedral: t1 (counter-clockwise) of [[1, 2]] with 1->3, 2->4 is [[4], [3]].
  CHECK(arc_apply(grid(1, 2, {1, 2}), arc_aug{1, {0, 3, 4, 1, 2, 5, 6, 7, 8, 9}}) == grid(2, 1, {4, 3}));
}

TEST_CASE("arc augment: dedup counts on symmetric tasks") {
  const auto task_of = [](arc_grid in, arc_grid out) {
    arc_task t;
    t.id = "sym";
    t.train.push_back({in, out});
    t.test.push_back({in, out});
    return t;
  };
  numpy_random rng(42);
  // All black: no colour map or symmetry changes it, so only the original survives 5 * 20 tries.
  CHECK(arc_augmentations(task_of(grid(2, 2, {0, 0, 0, 0}), grid(1, 1, {0})), 20, rng).size() == 1);
  // One colour on a symmetric square: the 9 colour choices are the only distinct versions.
  CHECK(arc_augmentations(task_of(grid(2, 2, {5, 5, 5, 5}), grid(1, 1, {5})), 20, rng).size() == 9);
  // Asymmetric and colourful: all 20 found.
  const auto v = arc_augmentations(task_of(grid(2, 3, {1, 2, 3, 4, 5, 6}), grid(1, 2, {7, 8})), 20, rng);
  CHECK(v.size() == 21);
  CHECK(v[0].is_identity());
  CHECK(arc_augmentations(task_of(grid(1, 1, {1}), grid(1, 1, {1})), 0, rng).size() == 1);
}

TEST_CASE("arc serialise: EOS placement by hand, and crop inverts encode") {
  std::vector<std::uint8_t> seq(arc_seq_len);
  arc_encode(grid(2, 3, {0, 1, 2, 3, 4, 5}), 1, 2, seq.data());
  const auto at = [&](int r, int c) { return static_cast<int>(seq[static_cast<std::size_t>(r * 30 + c)]); };
  CHECK(at(1, 2) == 2);
  CHECK(at(2, 4) == 7);
  CHECK(at(3, 2) == 1);  // row below the grid, over its columns
  CHECK(at(3, 4) == 1);
  CHECK(at(1, 5) == 1);  // column right of it, over its rows
  CHECK(at(2, 5) == 1);
  CHECK(at(3, 5) == 0);  // the corner stays PAD
  CHECK(at(0, 2) == 0);
  int nonzero = 0;
  for (auto t : seq) nonzero += t != 0;
  CHECK(nonzero == 6 + 3 + 2);

  std::mt19937 gen(3);
  for (auto [h, w] : std::vector<std::pair<int, int>>{{1, 1}, {30, 30}, {30, 7}, {4, 30}, {13, 29}, {3, 5}}) {
    arc_grid g{h, w, {}};
    for (int i = 0; i < h * w; ++i) g.cells.push_back(static_cast<std::uint8_t>(gen() % 10));
    arc_encode(g, 0, 0, seq.data());
    CHECK(arc_crop(seq.data()) == g);
    std::vector<std::int32_t> as_int(seq.begin(), seq.end());
    CHECK(arc_crop(as_int.data()) == g);
  }
  // A prediction that is all PAD crops to the empty grid; a stray non-colour token cuts the rectangle.
  std::vector<std::uint8_t> zeros(arc_seq_len, 0);
  CHECK(arc_crop(zeros.data()) == arc_grid{0, 0, {}});
  CHECK_THROWS_AS(arc_encode(grid(2, 2, {1, 1, 1, 1}), 29, 0, seq.data()), data_error);
}

TEST_CASE("arc build: split assignment, groups, identifiers, translation on tiny fixtures") {
  const auto subsets = load_arc_subsets({(tiny).string(), "", {"training", "evaluation"}, false});
  arc_build_config cfg;
  cfg.num_aug = 4;
  const auto b = build_arc(subsets, cfg);
  CHECK(b.tasks == 4);
  CHECK(b.not_full == 1);  // bbbb0002 is all black
  CHECK(b.train.num_groups() == 4);
  CHECK(b.test.num_groups() == 2);
  CHECK(b.identifiers[0] == "<blank>");
  CHECK(b.identifiers.size() == 1 + b.train.num_puzzles());
  CHECK(b.train.num_puzzles() == 5 + 5 + 5 + 1);
  // train: aaaa0001 3 pairs, aaaa0002 2 (its test pair too), bbbb0001 2 demos, bbbb0002 1 demo.
  CHECK(b.train.num_examples() == 5 * 3 + 5 * 2 + 5 * 2 + 1);
  CHECK(b.test.num_examples() == 5 * 2 + 1);
  CHECK(b.train_meta.num_puzzle_identifiers == static_cast<int>(b.identifiers.size()));
  CHECK(b.test_meta.total_puzzles == 6);
  CHECK(b.train_meta.mean_puzzle_examples == doctest::Approx(36.0 / 16.0));

  const auto original = [&](const std::string& id) -> const arc_task& {
    for (const auto& s : subsets)
      for (const auto& t : s.tasks)
        if (t.id == id) return t;
    throw std::runtime_error("no task " + id);
  };
  // Train split: every example is a translated augmented pair (input and output shifted alike) whose inverse is an
  // original pair; one example per puzzle sits at (0, 0); labels carry EOS.
  for (std::size_t p = 0; p < b.train.num_puzzles(); ++p) {
    const auto name = parse_arc_name(b.identifiers[static_cast<std::size_t>(b.train.puzzle_identifiers[p])]);
    const auto& t = original(name.original);
    int at_origin = 0;
    for (auto e = b.train.puzzle_indices[p]; e < b.train.puzzle_indices[p + 1]; ++e) {
      const auto* in = b.train.inputs.data() + static_cast<std::size_t>(e) * arc_seq_len;
      const auto* lab = b.train.labels.data() + static_cast<std::size_t>(e) * arc_seq_len;
      at_origin += in[0] >= 2 && lab[0] >= 2;
      const auto gi = arc_invert(crop_translated(in, in), name.aug);
      const auto go = arc_invert(crop_translated(lab, in), name.aug);
      bool found = false;
      for (const auto* list : {&t.train, &t.test})
        for (const auto& pr : *list) found = found || (pr.input == gi && pr.output == go);
      CHECK(found);
      CHECK(std::count(lab, lab + arc_seq_len, std::uint8_t{1}) > 0);
    }
    CHECK(at_origin >= 1);
    if (name.original == "aaaa0002" && !name.augmented) {
      // "test" precedes "train" in its JSON, so its test pair comes first.
      const auto* in = b.train.inputs.data() + static_cast<std::size_t>(b.train.puzzle_indices[p]) * arc_seq_len;
      CHECK(crop_translated(in, in) == grid(2, 2, {7, 7, 7, 7}));
    }
  }
  // Test split: untranslated; crop + inverse gives the original test pairs, in order.
  for (std::size_t p = 0; p < b.test.num_puzzles(); ++p) {
    const auto name = parse_arc_name(b.identifiers[static_cast<std::size_t>(b.test.puzzle_identifiers[p])]);
    const auto& t = original(name.original);
    CHECK(name.original.rfind("bbbb", 0) == 0);
    for (auto e = b.test.puzzle_indices[p]; e < b.test.puzzle_indices[p + 1]; ++e) {
      const auto k = static_cast<std::size_t>(e - b.test.puzzle_indices[p]);
      CHECK(arc_invert(arc_crop(b.test.inputs.data() + static_cast<std::size_t>(e) * arc_seq_len), name.aug) == t.test[k].input);
      CHECK(arc_invert(arc_crop(b.test.labels.data() + static_cast<std::size_t>(e) * arc_seq_len), name.aug) == t.test[k].output);
    }
  }
  CHECK(b.test_puzzles_json.rfind("{\"bbbb000", 0) == 0);
}

TEST_CASE("arc build: writes the reference layout atomically") {
  temp_dir tmp;
  arc_dataset_options o;
  o.source = {tiny.string(), "", {"training", "evaluation"}, false};
  o.build.num_aug = 2;
  o.output_dir = (tmp.path / "out").string();
  const auto s = build_arc_dataset(o);
  CHECK(s.tasks == 4);
  for (const char* f : {"identifiers.json", "test_puzzles.json", "train/dataset.json", "train/all__inputs.npy",
                        "test/all__group_indices.npy"})
    CHECK(fs::exists(tmp.path / "out" / f));
  const auto test = read_split(tmp.path / "out", "test");
  CHECK(test.metadata.vocab_size == 12);
  CHECK(test.data.num_groups() == 2);
  CHECK_THROWS_AS(build_arc_dataset(o), data_error);  // exists, no --overwrite
  o.source.subsets = {"training", "nonexistent"};
  o.overwrite = true;
  CHECK(error_of([&] { build_arc_dataset(o); }).find("subset 'nonexistent': no such folder") != std::string::npos);
  CHECK(fs::exists(tmp.path / "out" / "identifiers.json"));  // the old dataset is untouched
}

TEST_CASE("arc build: byte-equal to the reference builder on ARC-AGI-1 (seed 42)") {
  const auto prefix = shared_data / "trm-kaggle-combined" / "arc-agi";
  if (!fs::exists(prefix.string() + "_training_challenges.json")) {
    MESSAGE("skipped: " << prefix.string() << "_*.json not present");
    return;
  }
  struct golden {
    int num_aug;
    const char* d[14];
  };
  // train inputs, labels, puzzle_identifiers, puzzle_indices, group_indices, then test likewise (sha256 of the array
  // data), train/test dataset.json, identifiers.json, test_puzzles.json (sha256 of the file).
  const golden runs[] = {
      {0,
       {"5e08821631bd876033b944edfd84464fcca26d6631da3731a9baf924d01ab8c0",
        "0f344b008f2a26f84a08e8af4d7fb602c583a2b668f9c74e0a6c4eddb4e3599b",
        "e6cbb683b83efe0b8699cd56ab377e62c88fd11ef5fa5f4f34b909e90f439be8",
        "1be58a896980c6ddaa160a618dd151297d2c2f034d054abba4b5f330226b36ad",
        "b2368a8dde23c5114d0f3d74bf96773c5c8072fbd06bb547ee279f0d98d8797e",
        "747340fc45938bf3a784769308fdae73bb9d66497cbe690d8f4571acc94d4d86",
        "0c08eabeafb544e5e81c53451283738b414bf0f9789fc27bd1acfee8b5b78721",
        "0f959a21cbe56b035113526ca6365622c23b9e60c352b25e2b510e09810ac780",
        "ab580d3e48b14ef6a225e2573204177a5d8e98e98d68e3a8adc33d0c192aedb1",
        "85dc529d85f9640e75501b321b850bda5d1cc9163e3d31c73445d4eb3d23bf24",
        R"({"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 12, "seq_len": 900, "num_puzzle_identifiers": 961, "total_groups": 960, "mean_puzzle_examples": 4.154166666666667, "total_puzzles": 960, "sets": ["all"]})",
        R"({"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 12, "seq_len": 900, "num_puzzle_identifiers": 961, "total_groups": 400, "mean_puzzle_examples": 1.0475, "total_puzzles": 400, "sets": ["all"]})",
        "7202a1400f27b167b6e41beaac83ba1892d52270097175e7165d21e5208d2a89",
        "e2b2a80ed4e8ec2fa3c9ff9ffca093ff2871fbbbea811e592f9eb9b87f825d84"}},
      {3,
       {"cbb550038ca919c4ddb4f674f72a9c443359a514b26fa33b377b477d779a965b",
        "223414c4fe94c0a8c96ee2b852091c797c991c19b05e398fddc576d6880f2d18",
        "daa75c974601b8de83d021fb891243e773814d221134d4837609701ae617979b",
        "b52334e2f5e9d928ff144af205f6bc9d20b42dde3944d4f6adc9ab179dff7c91",
        "642622fe8b5c8e818e1f8ba06a9e494fc3a3a893b95ac7ed02bd197dfe9d9177",
        "6ddc2ecc5083ae0d63e6e75b99a4ba4796b3019e42a86d4658caf01bd252bfac",
        "3c0f3902d6814427ec8e3e125b586a0c50833228fa5245db5ea43e8dc08cb315",
        "d115977bc5d6f7909fbf45566707fbb80cec65d2ca7e4ecb9d61d40c83f968b9",
        "6a3b3c3ce59cf6863e572c3061178aad779f7481d0f95301981e959807e6c489",
        "94d4b0d39ccab53224f674c60bdf4d9980703f605fde1de1ac903b6c674bfb53",
        R"({"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 12, "seq_len": 900, "num_puzzle_identifiers": 3841, "total_groups": 960, "mean_puzzle_examples": 4.154166666666667, "total_puzzles": 3840, "sets": ["all"]})",
        R"({"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 12, "seq_len": 900, "num_puzzle_identifiers": 3841, "total_groups": 400, "mean_puzzle_examples": 1.0475, "total_puzzles": 1600, "sets": ["all"]})",
        "3eca0a15347a9aff9efc81a1a1b6bb263d9e2ce7d5972d826f0498171c885b2a",
        "842f2960eb8f4d7b77a083ffd01abbc4841f979187a33daaac10676982858be2"}},
  };
  const auto check_split = [](const split_data& d, const char* const* g) {
    CHECK(digest(d.inputs) == g[0]);
    CHECK(digest(d.labels) == g[1]);
    CHECK(digest(d.puzzle_identifiers) == g[2]);
    CHECK(digest(d.puzzle_indices) == g[3]);
    CHECK(digest(d.group_indices) == g[4]);
  };
  for (const auto& run : runs) {
    CAPTURE(run.num_aug);
    arc_build_config cfg;
    cfg.num_aug = run.num_aug;
    const auto b = build_arc(load_arc_subsets({"", prefix.string(), {"training", "evaluation", "concept"}, false}), cfg);
    check_split(b.train, run.d);
    check_split(b.test, run.d + 5);
    CHECK(metadata_to_json(b.train_meta) == run.d[10]);
    CHECK(metadata_to_json(b.test_meta) == run.d[11]);
    CHECK(gtrm::eval::sha256_hex(pyjson::string_list(b.identifiers)) == run.d[12]);
    CHECK(gtrm::eval::sha256_hex(b.test_puzzles_json) == run.d[13]);
    if (run.num_aug == 3 && fs::exists(shared_data / "arc-agi-1" / "training")) {
      // From the per-task folders (ARC-AGI-1 files order "train"/"test" differently from the combined ones, so
      // only the test split, which that order does not touch, must match).
      const auto c = (prefix.string() + "_concept_challenges.json");
      const auto f = build_arc(load_arc_subsets({(shared_data / "arc-agi-1").string(), "",
                                                 {"training", "evaluation", "concept=" + c}, false}), cfg);
      check_split(f.test, run.d + 5);
    }
  }
}
