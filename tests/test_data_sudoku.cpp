// Sudoku builder: CSV reading and its errors, the §5.1 shuffle against its definition, and builds compared with what
// the reference builder writes (a hand-derived fixture, and reference outputs in tests/data/reference_builds).
#include <doctest/doctest.h>

#include <gtrm/data/sudoku.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace gtrm::data;
namespace sd = gtrm::data::sudoku;

namespace {

const fs::path data_dir = GTRM_TEST_DATA_DIR;

fs::path fresh_dir(const std::string& name) {
  const fs::path p = fs::path(GTRM_BINARY_DIR) / "test-data-tmp" / "sudoku" / name;
  fs::remove_all(p);
  fs::create_directories(p.parent_path());
  return p;
}

fs::path write_file(const std::string& name, const std::string& text) {
  const auto p = fresh_dir(name);
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const std::string header = "source,question,answer,rating\n";
// Rows 2 and 3 of puzzles3_magictour_top1465.csv.
const std::string q1 = "4...3.......6..8..........1....5..9..8....6...7.2........1.27..5.3....4.9........";
const std::string a1 = "468931527751624839392578461134756298289413675675289314846192753513867942927345186";
const std::string q2 = "7.8...3.....2.1...5.........4.....263...8.......1...9..9.6....4....7.5...........";
const std::string a2 = "728946315934251678516738249147593826369482157852167493293615784481379562675824931";

std::string read_error(const std::string& text, bool skip = false, row_report* rep = nullptr,
                       std::vector<std::string>* warnings = nullptr) {
  const auto f = write_file("bad.csv", text);
  sd::read_options o;
  o.bad.skip_bad = skip;
  if (warnings) o.bad.warn = [&](const std::string& w) { warnings->push_back(w); };
  try {
    sd::read_csv(f, o, rep);
  } catch (const data_error& e) {
    return e.what();
  }
  return "";
}

bool givens_consistent(const sd::puzzle& p) {
  for (std::size_t i = 0; i < 81; ++i)
    if (p.question[i] != 0 && p.question[i] != p.answer[i]) return false;
  return true;
}

}  // namespace

TEST_CASE("sudoku: the real sample reads, every answer valid and consistent") {
  row_report rep;
  const auto ps = sd::read_csv(data_dir / "sudoku_small.csv", {}, &rep);
  CHECK(ps.size() == 50);
  CHECK(rep.rows == 50);
  CHECK(rep.kept == 50);
  for (const auto& p : ps) CHECK(sd::check(p).empty());
  sd::read_options o;
  o.min_difficulty = 30;
  row_report rep2;
  CHECK(sd::read_csv(data_dir / "sudoku_small.csv", o, &rep2).size() == 16);
  CHECK(rep2.filtered == 34);
}

TEST_CASE("sudoku: bad rows are one error with file and line, or counted skips") {
  auto e = read_error(header + "s," + q1 + "," + a1 + ",1\ns," + q1.substr(1) + "," + a1 + ",1\n");
  CHECK(e.find("bad.csv:3: question has 80 characters, expected 81") != std::string::npos);
  e = read_error(header + "s," + q1 + "," + a1 + "\n");
  CHECK(e.find("bad.csv:2: expected 4 fields") != std::string::npos);
  std::string wrong = q1;
  wrong[3] = 'x';
  CHECK(read_error(header + "s," + wrong + "," + a1 + ",1\n").find("bad character 'x' at position 4") !=
        std::string::npos);
  std::string inconsistent = a1;
  inconsistent[0] = '5';  // disagrees with the given 4 (and breaks the grid)
  CHECK(read_error(header + "s," + q1 + "," + inconsistent + ",1\n").find("bad.csv:2: answer is not a valid") !=
        std::string::npos);
  // A valid grid that contradicts a given: the answer of puzzle 2 for the question of puzzle 1.
  CHECK(read_error(header + "s," + q1 + "," + a2 + ",1\n").find("answer disagrees with the given at row 1, column 1") !=
        std::string::npos);
  CHECK(read_error("a,b,c\n").find("expected the header source,question,answer,rating") != std::string::npos);

  row_report rep;
  std::vector<std::string> warnings;
  const std::string text = header + "s," + q1 + "," + a1 + ",1\ns," + q1 + "," + a2 + ",1\ns,x,y,1\ns," + q2 + "," +
                           a2 + ",1\n";
  CHECK(read_error(text, true, &rep, &warnings).empty());
  CHECK(rep.rows == 4);
  CHECK(rep.kept == 2);
  CHECK(rep.skipped == 2);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].find("bad.csv:3:") != std::string::npos);
  CHECK(warnings[1].find("bad.csv:4:") != std::string::npos);
}

TEST_CASE("sudoku: shuffle plans follow their definition") {
  numpy_random rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    const auto plan = sd::draw_shuffle(rng);
    // digit map: 0 fixed, 1..9 permuted
    CHECK(plan.digit_map[0] == 0);
    CHECK(std::set<int>(plan.digit_map.begin() + 1, plan.digit_map.end()).size() == 9);
    // row_perm keeps bands together: rows 3b..3b+2 come from one band
    for (int b = 0; b < 3; ++b)
      for (int k = 1; k < 3; ++k) CHECK(plan.row_perm[static_cast<std::size_t>(b * 3 + k)] / 3 == plan.row_perm[static_cast<std::size_t>(b * 3)] / 3);
    // apply = digit_map[(T ? x.T : x)[row_perm[r], col_perm[c]]]
    std::array<std::uint8_t, 81> x{};
    for (std::size_t i = 0; i < 81; ++i) x[i] = static_cast<std::uint8_t>((i * 7 + trial) % 10);
    const auto y = sd::apply_shuffle(plan, x);
    for (std::size_t r = 0; r < 9; ++r)
      for (std::size_t c = 0; c < 9; ++c) {
        const std::size_t sr = plan.row_perm[r], sc = plan.col_perm[c];
        const std::uint8_t src = plan.transpose ? x[sc * 9 + sr] : x[sr * 9 + sc];
        CHECK(y[r * 9 + c] == plan.digit_map[src]);
      }
  }
}

TEST_CASE("sudoku: shuffled puzzles stay valid, keep their givens and map question to answer alike") {
  const auto ps = sd::read_csv(data_dir / "sudoku_small.csv", {});
  numpy_random rng(11);
  int transposed = 0;
  for (const auto& p : ps) {
    for (int k = 0; k < 4; ++k) {
      numpy_random probe = rng;  // the plan this shuffle will use
      const auto plan = sd::draw_shuffle(probe);
      transposed += plan.transpose;
      const auto s = sd::shuffle(p, rng);
      CHECK(sd::is_valid_solution(s.answer.data(), 9, 3, 3));
      CHECK(givens_consistent(s));
      const auto count = [](const std::array<std::uint8_t, 81>& g) { return std::count(g.begin(), g.end(), 0); };
      CHECK(count(s.question) == count(p.question));
      CHECK(s.question == sd::apply_shuffle(plan, p.question));
      CHECK(s.answer == sd::apply_shuffle(plan, p.answer));
    }
  }
  CHECK(transposed > 50);   // both branches of the transpose coin are exercised
  CHECK(transposed < 150);
}

TEST_CASE("sudoku: a plain build equals the reference, derived by hand from its rules") {
  // build_sudoku_dataset.py without augmentation: tokens = digit + 1 ('.' -> 1), one puzzle (identifier 0) and one
  // group per row, file order; dataset.json as json.dump writes PuzzleDatasetMetadata; identifiers ["<blank>"].
  const auto train = write_file("two.csv", header + "src," + q1 + "," + a1 + ",29\nsrc," + q2 + "," + a2 + ",36\n");
  const auto out = fresh_dir("plain");
  sd::build_config cfg;
  cfg.output_dir = out;
  cfg.train_csv = train;
  cfg.test_csv = train;
  sd::build(cfg);
  const auto r = read_split(out, "train");
  // First row by hand: "4...3...." -> 5 1 1 1 4 1 1 1 1, answer "468931527" -> 5 7 9 10 4 2 6 3 8.
  const std::vector<std::uint8_t> in0 = {5, 1, 1, 1, 4, 1, 1, 1, 1}, lab0 = {5, 7, 9, 10, 4, 2, 6, 3, 8};
  CHECK(std::vector<std::uint8_t>(r.data.inputs.begin(), r.data.inputs.begin() + 9) == in0);
  CHECK(std::vector<std::uint8_t>(r.data.labels.begin(), r.data.labels.begin() + 9) == lab0);
  // Second row starts "7.8...3.." / "728946315".
  const std::vector<std::uint8_t> in1 = {8, 1, 9, 1, 1, 1, 4, 1, 1}, lab1 = {8, 3, 9, 10, 5, 7, 4, 2, 6};
  CHECK(std::vector<std::uint8_t>(r.data.inputs.begin() + 81, r.data.inputs.begin() + 90) == in1);
  CHECK(std::vector<std::uint8_t>(r.data.labels.begin() + 81, r.data.labels.begin() + 90) == lab1);
  for (std::size_t i = 0; i < 81; ++i) {
    CHECK(r.data.inputs[i] == (q1[i] == '.' ? 1 : q1[i] - '0' + 1));
    CHECK(r.data.labels[81 + i] == a2[i] - '0' + 1);
  }
  CHECK(r.data.inputs.size() == 162);
  CHECK(r.data.puzzle_identifiers == std::vector<std::int32_t>{0, 0});
  CHECK(r.data.puzzle_indices == std::vector<std::int32_t>{0, 1, 2});
  CHECK(r.data.group_indices == std::vector<std::int32_t>{0, 1, 2});
  CHECK(slurp(out / "train" / "dataset.json") ==
        "{\"pad_id\": 0, \"ignore_label_id\": 0, \"blank_identifier_id\": 0, \"vocab_size\": 11, \"seq_len\": 81, "
        "\"num_puzzle_identifiers\": 1, \"total_groups\": 2, \"mean_puzzle_examples\": 1.0, \"total_puzzles\": 2, "
        "\"sets\": [\"all\"]}");
  CHECK(slurp(out / "identifiers.json") == "[\"<blank>\"]");
  // The .npy dtypes are the reference's exactly: uint8 tokens, int32 indices (read without conversion).
  CHECK_NOTHROW(read_npy<std::uint8_t>(out / "train" / "all__inputs.npy"));
  CHECK_NOTHROW(read_npy<std::int32_t>(out / "train" / "all__group_indices.npy"));
}

TEST_CASE("sudoku: builds equal the reference builder's files (seeded like np.random.seed)") {
  // tests/data/reference_builds/README.md: the reference run after np.random.seed(42), subsample 7, 3 augmentations;
  // its test split is the plain build of all 50 rows.
  const auto ref = data_dir / "reference_builds" / "sudoku_seed42_sub7_aug3";
  const auto out = fresh_dir("seed42");
  sd::build_config cfg;
  cfg.output_dir = out;
  cfg.train_csv = data_dir / "sudoku_small.csv";
  cfg.test_csv = cfg.train_csv;
  cfg.subsample_size = 7;
  cfg.num_aug = 3;
  cfg.seed = 42;
  const auto sum = sd::build(cfg);
  CHECK(sum.train_groups == 7);
  CHECK(sum.train_examples == 28);
  for (const char* split : {"train", "test"}) {
    CAPTURE(split);
    const auto a = read_split(out, split), b = read_split(ref, split);
    CHECK(a.data.inputs == b.data.inputs);
    CHECK(a.data.labels == b.data.labels);
    CHECK(a.data.puzzle_identifiers == b.data.puzzle_identifiers);
    CHECK(a.data.puzzle_indices == b.data.puzzle_indices);
    CHECK(a.data.group_indices == b.data.group_indices);
    CHECK(slurp(out / split / "dataset.json") == slurp(ref / split / "dataset.json"));
  }
  // The reference's plain split is uint8 (the augmented one is int64, a numpy promotion gtrm does not copy).
  CHECK(read_npy<std::uint8_t>(ref / "test" / "all__inputs.npy").data ==
        read_npy<std::uint8_t>(out / "test" / "all__inputs.npy").data);
  CHECK(slurp(out / "identifiers.json") == slurp(ref / "identifiers.json"));
}

TEST_CASE("sudoku: one CSV is split into train and test when there is no test file") {
  const auto out = fresh_dir("split");
  sd::build_config cfg;
  cfg.output_dir = out;
  cfg.train_csv = data_dir / "sudoku_small.csv";
  cfg.test_fraction = 0.2;
  cfg.seed = 5;
  const auto sum = sd::build(cfg);
  CHECK(sum.train_groups == 40);
  CHECK(sum.test_groups == 10);
  // Train and test are disjoint and together hold every puzzle once.
  const auto tr = read_split(out, "train"), te = read_split(out, "test");
  std::set<std::string> seen;  // (a set of vectors trips a GCC 12 -Wstringop-overread false positive)
  for (const auto* s : {&tr.data, &te.data})
    for (std::size_t e = 0; e < s->num_examples(); ++e)
      seen.insert(std::string(s->inputs.begin() + static_cast<std::ptrdiff_t>(e * 81),
                              s->inputs.begin() + static_cast<std::ptrdiff_t>(e * 81 + 81)));
  CHECK(seen.size() == 50);
  // Same seed, same split; the writer refuses to replace it without overwrite.
  CHECK_THROWS_AS(sd::build(cfg), data_error);
  cfg.overwrite = true;
  sd::build(cfg);
  CHECK(read_split(out, "test").data.inputs == te.data.inputs);
}
