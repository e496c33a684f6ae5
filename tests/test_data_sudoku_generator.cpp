// Sudoku generator: the solver counts solutions correctly, generated puzzles have exactly the asked givens and a
// unique solution for 4x4, 6x6 and 9x9, and generated datasets have the reference's Sudoku layout for n x n.
#include <doctest/doctest.h>

#include <gtrm/data/sudoku_generator.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace gtrm::data;
namespace sd = gtrm::data::sudoku;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path p = fs::path(GTRM_BINARY_DIR) / "test-data-tmp" / "sudoku_gen" / name;
  fs::remove_all(p);
  fs::create_directories(p.parent_path());
  return p;
}

}  // namespace

TEST_CASE("sudoku generator: the solver counts known solution numbers") {
  // An empty 4x4 Shidoku has 288 solutions.
  const std::vector<std::uint8_t> empty4(16, 0);
  CHECK(sd::solver(sd::shape_for(4), empty4.data()).count(1000) == 288);
  // A real 9x9 puzzle from the sample has exactly one, and it is the CSV's answer.
  const auto ps = sd::read_csv(fs::path(GTRM_TEST_DATA_DIR) / "sudoku_small.csv", {});
  for (std::size_t i = 0; i < 5; ++i) {
    sd::solver s(sd::shape_for(9), ps[i].question.data());
    CHECK(s.count(2) == 1);
    sd::solver t(sd::shape_for(9), ps[i].question.data());
    REQUIRE(t.solve());
    CHECK(std::equal(t.grid().begin(), t.grid().end(), ps[i].answer.begin()));
  }
  // Conflicting givens: no solution.
  std::vector<std::uint8_t> bad(16, 0);
  bad[0] = bad[1] = 2;
  CHECK(sd::solver(sd::shape_for(4), bad.data()).count(2) == 0);
  CHECK_THROWS_AS(sd::shape_for(5), data_error);
}

TEST_CASE("sudoku generator: exact givens, a unique solution, a valid answer") {
  struct want { int n, givens, box_h, box_w; };
  for (const auto w : {want{4, 5, 2, 2}, want{6, 12, 2, 3}, want{9, 28, 3, 3}, want{9, 24, 3, 3}}) {
    CAPTURE(w.n);
    CAPTURE(w.givens);
    rng r(static_cast<std::uint64_t>(w.n * 100 + w.givens));
    for (int k = 0; k < 5; ++k) {
      const auto p = sd::generate(r, w.n, w.givens);
      CHECK(static_cast<int>(p.question.size()) == w.n * w.n);
      CHECK(std::count_if(p.question.begin(), p.question.end(), [](auto v) { return v != 0; }) == w.givens);
      CHECK(sd::is_valid_solution(p.answer.data(), w.n, w.box_h, w.box_w));
      for (std::size_t i = 0; i < p.question.size(); ++i)
        if (p.question[i]) CHECK(p.question[i] == p.answer[i]);
      CHECK(sd::solver(sd::shape_for(w.n), p.question.data()).count(2) == 1);
    }
  }
  // Below what digging can reach: a clear error instead of an endless search.
  rng r(1);
  CHECK_THROWS_AS(sd::generate(r, 9, 12, 3), data_error);
  CHECK_THROWS_AS(sd::generate(r, 4, 17), data_error);
}

TEST_CASE("sudoku generator: datasets are seeded, distinct, n x n with vocab n + 2") {
  sd::generate_config cfg;
  cfg.output_dir = fresh_dir("six");
  cfg.size = 6;
  cfg.givens = 14;
  cfg.num_train = 40;
  cfg.num_test = 10;
  cfg.seed = 4;
  const auto sum = sd::generate_dataset(cfg);
  CHECK(sum.train_groups == 40);
  const auto tr = read_split(cfg.output_dir, "train"), te = read_split(cfg.output_dir, "test");
  CHECK(tr.metadata.seq_len == 36);
  CHECK(tr.metadata.vocab_size == 8);
  CHECK(te.data.num_examples() == 10);
  std::set<std::string> seen;
  for (const auto* d : {&tr.data, &te.data})
    for (std::size_t e = 0; e < d->num_examples(); ++e)
      seen.insert(std::string(d->inputs.begin() + static_cast<std::ptrdiff_t>(e * 36),
                              d->inputs.begin() + static_cast<std::ptrdiff_t>(e * 36 + 36)));
  CHECK(seen.size() == 50);
  for (auto t : tr.data.labels) CHECK((t >= 2 && t <= 7));
  auto again = cfg;
  again.output_dir = fresh_dir("six_again");
  sd::generate_dataset(again);
  CHECK(read_split(again.output_dir, "train").data.inputs == tr.data.inputs);

  // 9x9 with shuffles: groups of 1 + num_aug valid puzzles; its CSVs read back through the Sudoku builder.
  sd::generate_config nine;
  nine.output_dir = fresh_dir("nine");
  nine.csv_dir = fresh_dir("nine_csv");
  nine.givens = 30;
  nine.num_train = 4;
  nine.num_test = 2;
  nine.num_aug = 2;
  const auto s9 = sd::generate_dataset(nine);
  CHECK(s9.train_examples == 12);
  CHECK(read_split(nine.output_dir, "train").data.group_indices == std::vector<std::int32_t>{0, 3, 6, 9, 12});
  CHECK(sd::read_csv(*nine.csv_dir / "train.csv", {}).size() == 4);
  nine.size = 4;
  nine.output_dir = fresh_dir("four_aug");
  CHECK_THROWS_AS(sd::generate_dataset(nine), data_error);  // the §5.1 shuffle is 9x9 only
}
