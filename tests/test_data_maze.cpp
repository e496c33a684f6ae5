// Maze builder and generator: CSV reading and its errors, builds compared with the reference builder's files (plain
// and with dihedral augmentation), and generated mazes whose label is a shortest S-G path.
#include <doctest/doctest.h>

#include <gtrm/data/maze.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace gtrm::data;
namespace mz = gtrm::data::maze;

namespace {

const fs::path data_dir = GTRM_TEST_DATA_DIR;

fs::path fresh_dir(const std::string& name) {
  const fs::path p = fs::path(GTRM_BINARY_DIR) / "test-data-tmp" / "maze" / name;
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

std::string read_error(const std::string& text) {
  const auto f = write_file("bad.csv", text);
  int side = 0;
  try {
    mz::read_csv(f, side, {});
  } catch (const data_error& e) {
    return e.what();
  }
  return "";
}

void check_same(const fs::path& ours, const fs::path& ref) {
  for (const char* split : {"train", "test"}) {
    CAPTURE(split);
    // The reference writes uint8 tokens and int32 indices: read without any dtype conversion.
    for (const char* k : {"inputs", "labels"})
      CHECK(read_npy<std::uint8_t>(ours / split / ("all__" + std::string(k) + ".npy")).data ==
            read_npy<std::uint8_t>(ref / split / ("all__" + std::string(k) + ".npy")).data);
    for (const char* k : {"puzzle_identifiers", "puzzle_indices", "group_indices"})
      CHECK(read_npy<std::int32_t>(ours / split / ("all__" + std::string(k) + ".npy")).data ==
            read_npy<std::int32_t>(ref / split / ("all__" + std::string(k) + ".npy")).data);
    CHECK(read_npy<std::uint8_t>(ours / split / "all__inputs.npy").shape ==
          read_npy<std::uint8_t>(ref / split / "all__inputs.npy").shape);
    CHECK(slurp(ours / split / "dataset.json") == slurp(ref / split / "dataset.json"));
  }
  CHECK(slurp(ours / "identifiers.json") == slurp(ref / "identifiers.json"));
}

}  // namespace

TEST_CASE("maze: tokens and dihedral versions, derived by hand from the reference's rules") {
  // 2x2: "S " / "#G" with the path cell 'o' at (0,1). char2id: '#'1 ' '2 'S'3 'G'4 'o'5.
  const auto f = write_file("tiny.csv", "source,question,answer,rating\nx,S #G,So#G,1\n");
  const auto out = fresh_dir("tiny");
  mz::build_config cfg;
  cfg.output_dir = out;
  cfg.train_csv = f;
  cfg.test_csv = f;
  cfg.aug = true;
  mz::build(cfg);
  const auto tr = read_split(out, "train");
  // tid 0..7 of [[3,2],[1,4]]: identity, rot90 ccw, rot180, rot90 cw, fliplr, flipud, transpose, anti-transpose.
  const std::vector<std::uint8_t> expected_inputs = {3, 2, 1, 4, 2, 4, 3, 1, 4, 1, 2, 3, 1, 3, 4, 2,
                                                     2, 3, 4, 1, 1, 4, 3, 2, 3, 1, 2, 4, 4, 2, 1, 3};
  CHECK(tr.data.inputs == expected_inputs);
  CHECK(std::vector<std::uint8_t>(tr.data.labels.begin(), tr.data.labels.begin() + 8) ==
        std::vector<std::uint8_t>{3, 5, 1, 4, 5, 4, 3, 1});
  CHECK(tr.data.puzzle_indices == std::vector<std::int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(tr.data.group_indices == std::vector<std::int32_t>{0, 8});
  CHECK(slurp(out / "train" / "dataset.json") ==
        "{\"pad_id\": 0, \"ignore_label_id\": 0, \"blank_identifier_id\": 0, \"vocab_size\": 6, \"seq_len\": 4, "
        "\"num_puzzle_identifiers\": 1, \"total_groups\": 1, \"mean_puzzle_examples\": 1.0, \"total_puzzles\": 1, "
        "\"sets\": [\"all\"]}");
  // The test split is never augmented.
  CHECK(read_split(out, "test").data.inputs == std::vector<std::uint8_t>{3, 2, 1, 4});
}

TEST_CASE("maze: builds equal the reference builder's files") {
  const auto train = data_dir / "maze_small_train.csv", test = data_dir / "maze_small_test.csv";
  const auto plain = fresh_dir("plain");
  mz::build_config cfg;
  cfg.output_dir = plain;
  cfg.train_csv = train;
  cfg.test_csv = test;
  const auto sum = mz::build(cfg);
  CHECK(sum.side == 8);
  CHECK(sum.train_groups == 6);
  check_same(plain, data_dir / "reference_builds" / "maze_plain");

  const auto aug = fresh_dir("aug");
  cfg.output_dir = aug;
  cfg.aug = true;
  cfg.subsample_size = 4;
  cfg.seed = 7;  // the reference run after np.random.seed(7)
  const auto sum2 = mz::build(cfg);
  CHECK(sum2.train_groups == 4);
  CHECK(sum2.train_examples == 32);
  check_same(aug, data_dir / "reference_builds" / "maze_seed7_sub4_aug");
}

TEST_CASE("maze: bad rows give one error with file and line") {
  const std::string h = "source,question,answer,rating\n";
  CHECK(read_error(h + "x,S #G,So#X,1\n").find("bad.csv:2: answer has character 'X' outside") != std::string::npos);
  CHECK(read_error(h + "x,S #G+,So#G,1\n").find("bad.csv:2: question length 5 is not a square grid") !=
        std::string::npos);
  CHECK(read_error(h + "x,S #G,So#G,1\nx,S #G ####,So#G ####,1\n").find("bad.csv:3: question/answer lengths 9/9") !=
        std::string::npos);
  CHECK(read_error(h + "x,S #G,So#,1\n").find("bad.csv:2: question/answer lengths 4/3") != std::string::npos);
  // With --skip-bad the good rows survive and the bad ones are counted.
  const auto f = write_file("mixed.csv", h + "x,S #G,So#G,1\nx,S #Q,So#G,1\nx,G #S,Go#S,1\n");
  int side = 0;
  row_report rep;
  bad_row_policy skip{true, {}};
  CHECK(mz::read_csv(f, side, skip, &rep).size() == 2);
  CHECK(rep.skipped == 1);
}

TEST_CASE("maze: generated mazes are labelled with a shortest S-G path longer than the threshold") {
  mz::generate_config cfg;
  cfg.size = 30;
  cfg.min_path_length = 110;
  rng r(123);
  for (int unique = 0; unique < 2; ++unique) {
    cfg.unique_path = unique == 1;
    // Random walls almost never give a unique shortest path above ~60 moves; test uniqueness on shorter ones.
    cfg.min_path_length = cfg.unique_path ? 30 : 110;
    for (int k = 0; k < 3; ++k) {
      const auto p = mz::generate(r, cfg);
      REQUIRE(p.has_value());
      const auto& q = p->question;
      const auto& a = p->answer;
      const int side = cfg.size;
      CHECK(std::count(q.begin(), q.end(), mz::start_token) == 1);
      CHECK(std::count(q.begin(), q.end(), mz::goal_token) == 1);
      CHECK(std::count(q.begin(), q.end(), mz::path_token) == 0);
      const int s = static_cast<int>(std::find(q.begin(), q.end(), mz::start_token) - q.begin());
      const int g = static_cast<int>(std::find(q.begin(), q.end(), mz::goal_token) - q.begin());
      std::vector<int> dist;
      std::vector<std::uint8_t> ways;
      mz::bfs(q.data(), side, s, dist, ways);
      const int moves = dist[static_cast<std::size_t>(g)];
      CHECK(moves > cfg.min_path_length);
      if (cfg.unique_path) CHECK(ways[static_cast<std::size_t>(g)] == 1);
      // The label differs from the question only on 'o' cells, which were open, and there are moves - 1 of them...
      int marked = 0;
      for (std::size_t i = 0; i < q.size(); ++i) {
        if (a[i] == mz::path_token) {
          CHECK(q[i] == mz::open_token);
          ++marked;
        } else {
          CHECK(a[i] == q[i]);
        }
      }
      CHECK(marked == moves - 1);
      // ...forming a walk S -> o -> ... -> G of single steps, hence a shortest path.
      std::vector<char> used(q.size(), 0);
      int cur = s, steps = 0;
      while (cur != g && steps <= moves) {
        const int rr = cur / side, cc = cur % side;
        int nxt = -1;
        for (int n : {rr > 0 ? cur - side : -1, rr + 1 < side ? cur + side : -1, cc > 0 ? cur - 1 : -1,
                      cc + 1 < side ? cur + 1 : -1}) {
          if (n < 0 || used[static_cast<std::size_t>(n)]) continue;
          if (a[static_cast<std::size_t>(n)] == mz::path_token || (n == g && steps == moves - 1)) {
            nxt = n;
            break;
          }
        }
        REQUIRE(nxt >= 0);
        used[static_cast<std::size_t>(nxt)] = 1;
        cur = nxt;
        ++steps;
      }
      CHECK(cur == g);
      CHECK(steps == moves);
    }
  }
}

TEST_CASE("maze: generated datasets are deterministic for a seed and readable by the builder") {
  mz::generate_config cfg;
  cfg.size = 12;
  cfg.min_path_length = 20;
  cfg.num_train = 5;
  cfg.num_test = 2;
  cfg.aug = true;
  cfg.seed = 9;
  cfg.output_dir = fresh_dir("gen_a");
  cfg.csv_dir = fresh_dir("gen_csv");
  const auto sum = mz::generate_dataset(cfg);
  CHECK(sum.train_examples == 40);
  CHECK(sum.test_examples == 2);
  auto again = cfg;
  again.output_dir = fresh_dir("gen_b");
  again.csv_dir.reset();
  mz::generate_dataset(again);
  for (const char* split : {"train", "test"}) {
    CHECK(read_split(cfg.output_dir, split).data.inputs == read_split(again.output_dir, split).data.inputs);
    CHECK(read_split(cfg.output_dir, split).data.labels == read_split(again.output_dir, split).data.labels);
  }
  // The CSVs it wrote build the same dataset.
  mz::build_config b;
  b.output_dir = fresh_dir("gen_rebuilt");
  b.train_csv = *cfg.csv_dir / "train.csv";
  b.test_csv = *cfg.csv_dir / "test.csv";
  b.aug = true;
  mz::build(b);
  CHECK(read_split(b.output_dir, "train").data.labels == read_split(cfg.output_dir, "train").data.labels);
  CHECK(read_split(b.output_dir, "test").data.inputs == read_split(cfg.output_dir, "test").data.inputs);
}
