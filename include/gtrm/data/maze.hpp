// Maze-Hard as the reference builds it (docs/reference.md §5.2, dataset/build_maze_dataset.py): square grids from the
// `source,question,answer,rating` CSV over the charset "# SGo" (tokens 0 PAD, 1 '#', 2 ' ', 3 'S', 4 'G', 5 'o'), the
// side taken from the first row as the reference does (30 for Maze-Hard), optional 8 dihedral versions per training
// maze in one group; and a seeded generator of hard mazes for users without the original files (random walls, the
// breadth-first shortest path from S to G longer than a threshold, the path marked 'o' in the label).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "build_common.hpp"
#include "csv.hpp"
#include "dataset.hpp"
#include "dihedral.hpp"
#include "numpy_random.hpp"
#include "random.hpp"

namespace gtrm::data::maze {

inline constexpr std::string_view charset = "# SGo";
inline constexpr std::uint8_t wall_token = 1, open_token = 2, start_token = 3, goal_token = 4, path_token = 5;

// Tokens 1..5, row-major side x side.
struct puzzle {
  std::vector<std::uint8_t> question, answer;
};

inline int token_of(char c) {
  const auto k = charset.find(c);
  return k == std::string_view::npos ? -1 : static_cast<int>(k) + 1;
}

// Reads a maze CSV. `side` is in/out: 0 takes it from the first good row (which must be a perfect square in length),
// as the reference does; later rows of another length, characters outside "# SGo" and question/answer length
// mismatches are an error "file:line: ..." or a counted skip.
inline std::vector<puzzle> read_csv(const std::filesystem::path& file, int& side, const bad_row_policy& policy,
                                    row_report* report = nullptr) {
  row_report local;
  row_report& rep = report ? *report : local;
  auto reader = open_puzzle_csv(file);
  std::vector<puzzle> out;
  csv_row row;
  while (reader.next(row)) {
    ++rep.rows;
    const auto bad = [&](const std::string& what) { policy.bad(reader.file(), row.line, what, rep); };
    if (row.fields.size() != 4) {
      bad("expected 4 fields (source,question,answer,rating), got " + std::to_string(row.fields.size()));
      continue;
    }
    const std::string& q = row.fields[1];
    const std::string& a = row.fields[2];
    if (side == 0) {
      const auto n = static_cast<int>(std::lround(std::sqrt(static_cast<double>(q.size()))));
      if (n <= 0 || static_cast<std::size_t>(n) * static_cast<std::size_t>(n) != q.size()) {
        bad("question length " + std::to_string(q.size()) + " is not a square grid");
        continue;
      }
      side = n;
    }
    const std::size_t cells = static_cast<std::size_t>(side) * static_cast<std::size_t>(side);
    if (q.size() != cells || a.size() != cells) {
      bad("question/answer lengths " + std::to_string(q.size()) + "/" + std::to_string(a.size()) + ", expected " +
          std::to_string(cells) + " (" + std::to_string(side) + "x" + std::to_string(side) + ")");
      continue;
    }
    puzzle p;
    p.question.resize(cells);
    p.answer.resize(cells);
    std::string error;
    for (std::size_t i = 0; i < cells && error.empty(); ++i) {
      const int tq = token_of(q[i]), ta = token_of(a[i]);
      if (tq < 0) error = std::string("question has character '") + q[i] + "' outside \"# SGo\" at position " + std::to_string(i + 1);
      else if (ta < 0) error = std::string("answer has character '") + a[i] + "' outside \"# SGo\" at position " + std::to_string(i + 1);
      p.question[i] = static_cast<std::uint8_t>(tq);
      p.answer[i] = static_cast<std::uint8_t>(ta);
    }
    if (!error.empty()) {
      bad(error);
      continue;
    }
    out.push_back(std::move(p));
    ++rep.kept;
  }
  return out;
}

// The reference's metadata for side x side mazes (total_puzzles holds the group count there, kept as is).
inline dataset_metadata metadata_for(const split_data& d, int side) {
  dataset_metadata m;
  m.seq_len = side * side;
  m.vocab_size = static_cast<int>(charset.size()) + 1;
  m.total_groups = static_cast<int>(d.num_groups());
  m.total_puzzles = m.total_groups;
  m.mean_puzzle_examples = 1.0;
  return m;
}

// One group per maze; with aug, its 8 dihedral transforms (tid 0..7, tid 0 first) as 8 one-example puzzles.
inline split_data build_split(const std::vector<puzzle>& puzzles, int side, bool aug, const progress_fn& progress = {},
                              std::string_view stage = "maze") {
  split_data d;
  d.seq_len = side * side;
  const int versions = aug ? 8 : 1;
  const std::size_t total = puzzles.size() * static_cast<std::size_t>(versions);
  d.inputs.reserve(total * static_cast<std::size_t>(d.seq_len));
  d.labels.reserve(total * static_cast<std::size_t>(d.seq_len));
  for (std::size_t g = 0; g < puzzles.size(); ++g) {
    for (int t = 0; t < versions; ++t) {
      int h = 0, w = 0;
      const auto q = dihedral(puzzles[g].question.data(), side, side, t, h, w);
      const auto a = dihedral(puzzles[g].answer.data(), side, side, t, h, w);
      d.add_example(q.data(), a.data());
      d.end_puzzle(0);
    }
    d.end_group();
    if (progress && (g % 64 == 63 || g + 1 == puzzles.size())) progress(stage, g + 1, puzzles.size());
  }
  return d;
}

struct build_config {
  std::filesystem::path output_dir;
  std::filesystem::path train_csv;
  std::optional<std::filesystem::path> test_csv;  // without it, train_csv is split by test_fraction
  double test_fraction = 0.1;
  std::optional<std::size_t> subsample_size;
  bool aug = false;  // the reference's --aug (off in its README command)
  std::uint32_t seed = 0;
  bool skip_bad = false;
  bool overwrite = false;
};

struct build_summary {
  row_report train_rows, test_rows;
  int side = 0;
  std::size_t train_groups = 0, train_examples = 0, test_groups = 0, test_examples = 0;
};

inline void write_splits(dataset_writer& out, const std::vector<puzzle>& train, const std::vector<puzzle>& test,
                         int side, bool aug, build_summary& sum, const progress_fn& progress) {
  {
    const auto d = build_split(train, side, aug, progress, "train");
    sum.train_groups = d.num_groups();
    sum.train_examples = d.num_examples();
    out.write_split("train", metadata_for(d, side), d);
  }
  {
    const auto d = build_split(test, side, false, progress, "test");
    sum.test_groups = d.num_groups();
    sum.test_examples = d.num_examples();
    out.write_split("test", metadata_for(d, side), d);
  }
  out.write_identifiers({"<blank>"});
}

// The whole build: read, (split,) subsample the training mazes, write <output_dir> atomically.
inline build_summary build(const build_config& cfg, const progress_fn& progress = {}, const warn_fn& warn = {}) {
  build_summary sum;
  bad_row_policy policy{cfg.skip_bad, warn};
  numpy_random rng(cfg.seed);
  auto train = read_csv(cfg.train_csv, sum.side, policy, &sum.train_rows);
  std::vector<puzzle> test;
  if (cfg.test_csv) {
    test = read_csv(*cfg.test_csv, sum.side, policy, &sum.test_rows);
  } else {
    auto parts = split_train_test(std::move(train), cfg.test_fraction, rng);
    train = std::move(parts.first);
    test = std::move(parts.second);
  }
  if (train.empty()) throw data_error(cfg.train_csv.string() + ": no usable mazes");
  if (test.empty()) throw data_error((cfg.test_csv ? *cfg.test_csv : cfg.train_csv).string() + ": no usable test mazes");
  if (cfg.subsample_size) train = subsample(std::move(train), *cfg.subsample_size, rng);
  dataset_writer out(cfg.output_dir, cfg.overwrite);
  write_splits(out, train, test, sum.side, cfg.aug, sum, progress);
  out.commit();
  return sum;
}

// ---- generator ----

// Breadth-first distances (in moves) from cell `from` over non-wall cells; -1 where unreachable. `ways[i]` counts
// the shortest paths to i, saturated at 2 (enough to tell unique from not).
inline void bfs(const std::uint8_t* grid, int side, int from, std::vector<int>& dist, std::vector<std::uint8_t>& ways) {
  const int cells = side * side;
  dist.assign(static_cast<std::size_t>(cells), -1);
  ways.assign(static_cast<std::size_t>(cells), 0);
  std::vector<int> queue;
  queue.reserve(static_cast<std::size_t>(cells));
  dist[static_cast<std::size_t>(from)] = 0;
  ways[static_cast<std::size_t>(from)] = 1;
  queue.push_back(from);
  for (std::size_t head = 0; head < queue.size(); ++head) {
    const int c = queue[head], r = c / side, col = c % side;
    const int nbr[4] = {r > 0 ? c - side : -1, r + 1 < side ? c + side : -1, col > 0 ? c - 1 : -1,
                        col + 1 < side ? c + 1 : -1};
    for (int n : nbr) {
      if (n < 0 || grid[n] == wall_token) continue;
      auto& dn = dist[static_cast<std::size_t>(n)];
      auto& wn = ways[static_cast<std::size_t>(n)];
      if (dn < 0) {
        dn = dist[static_cast<std::size_t>(c)] + 1;
        queue.push_back(n);
      }
      if (dn == dist[static_cast<std::size_t>(c)] + 1)
        wn = static_cast<std::uint8_t>(std::min(2, wn + ways[static_cast<std::size_t>(c)]));
    }
  }
}

struct generate_config {
  std::filesystem::path output_dir;
  int size = 30;
  std::size_t num_train = 1000;
  std::size_t num_test = 1000;
  int min_path_length = 110;  // keep mazes whose shortest S-G path has more moves than this (the paper: > 110)
  double wall_prob = 0.38;    // each cell is a wall independently; 0.38 finds paths > 110 fastest at 30x30
  bool unique_path = false;   // keep only mazes with exactly one shortest path (an unambiguous label); random walls
                              // almost never give one above ~60 moves at 30x30
  bool aug = false;           // 8 dihedral versions per training maze, as the builder's --aug
  std::uint64_t seed = 0;
  std::optional<std::filesystem::path> csv_dir;  // also write train.csv / test.csv in the reference layout
  bool overwrite = false;
};

// One maze, or nothing after max_tries wall patterns. Per pattern: S is a random open cell; G is drawn among the
// open cells farther than min_path_length moves from S (and with a unique shortest path if asked); the label
// walks back from G along decreasing distance, preferring neighbours in a fixed order (up, down, left, right).
inline std::optional<puzzle> generate(rng& r, const generate_config& cfg, int max_tries = 100000) {
  const int side = cfg.size, cells = side * side;
  std::vector<std::uint8_t> grid(static_cast<std::size_t>(cells));
  std::vector<int> dist, open_cells, far;
  std::vector<std::uint8_t> ways;
  for (int attempt = 0; attempt < max_tries; ++attempt) {
    open_cells.clear();
    for (int i = 0; i < cells; ++i) {
      grid[static_cast<std::size_t>(i)] = r.uniform() < cfg.wall_prob ? wall_token : open_token;
      if (grid[static_cast<std::size_t>(i)] == open_token) open_cells.push_back(i);
    }
    if (open_cells.size() < 2) continue;
    const int s = open_cells[r.below(open_cells.size())];
    bfs(grid.data(), side, s, dist, ways);
    far.clear();
    for (int i : open_cells)
      if (dist[static_cast<std::size_t>(i)] > cfg.min_path_length && (!cfg.unique_path || ways[static_cast<std::size_t>(i)] == 1))
        far.push_back(i);
    if (far.empty()) continue;
    const int g = far[r.below(far.size())];
    puzzle p;
    p.question = grid;
    p.question[static_cast<std::size_t>(s)] = start_token;
    p.question[static_cast<std::size_t>(g)] = goal_token;
    p.answer = p.question;
    for (int c = g; dist[static_cast<std::size_t>(c)] > 1;) {
      const int rr = c / side, cc = c % side;
      const int nbr[4] = {rr > 0 ? c - side : -1, rr + 1 < side ? c + side : -1, cc > 0 ? c - 1 : -1,
                          cc + 1 < side ? c + 1 : -1};
      for (int n : nbr)
        if (n >= 0 && dist[static_cast<std::size_t>(n)] == dist[static_cast<std::size_t>(c)] - 1) {
          c = n;
          break;
        }
      p.answer[static_cast<std::size_t>(c)] = path_token;
    }
    return p;
  }
  return std::nullopt;
}

// "source,question,answer,rating" rows in the "# SGo" charset; rating = shortest path length in moves.
// Written atomically (a signal or a full disk leaves the old file or none, never some of the rows).
inline void write_csv(const std::filesystem::path& file, const std::vector<puzzle>& mazes, int side) {
  std::ostringstream out;
  out << "source,question,answer,rating\n";
  for (const auto& p : mazes) {
    std::string q, a;
    for (std::size_t i = 0; i < p.question.size(); ++i) {
      q += charset[p.question[i] - 1u];
      a += charset[p.answer[i] - 1u];
    }
    const auto moves = std::count(p.answer.begin(), p.answer.end(), path_token) + 1;
    out << "gtrm-generate-" << side << "x" << side << "," << q << "," << a << "," << moves << "\n";
  }
  dataset_detail::write_text(file, out.str());  // atomically: the old file or the whole new one, never a part
}

inline build_summary generate_dataset(const generate_config& cfg, const progress_fn& progress = {}) {
  if (cfg.size < 2 || cfg.size > 255) throw data_error("--size must be in 2..255");
  if (cfg.num_train == 0 || cfg.num_test == 0) throw data_error("--num-train and --num-test must be positive");
  if (!(cfg.wall_prob >= 0.0 && cfg.wall_prob < 1.0)) throw data_error("--wall-prob must be in [0, 1)");
  if (cfg.min_path_length < 0) throw data_error("--min-path-length must be >= 0");
  // A shortest path visits each cell at most once, so it has at most size*size - 1 moves; asking for more can never
  // succeed, and is refused before any search.
  const long long cells = static_cast<long long>(cfg.size) * cfg.size;
  if (cfg.min_path_length >= cells - 1)
    throw data_error("--min-path-length: a shortest path on a " + std::to_string(cfg.size) + "x" + std::to_string(cfg.size) +
                     " grid has at most " + std::to_string(cells - 1) + " moves, so none is longer than " +
                     std::to_string(cfg.min_path_length) + "; expected a value below " + std::to_string(cells - 1));
  // The search gives up after a bounded amount of work (about 2e8 cell visits, a few seconds), never hangs.
  const int max_tries = static_cast<int>(std::clamp<long long>(200'000'000LL / cells, 1000, 100000));
  rng r(cfg.seed);
  std::vector<puzzle> all;
  const std::size_t total = cfg.num_train + cfg.num_test;
  while (all.size() < total) {
    auto p = generate(r, cfg, max_tries);
    if (!p)
      throw data_error("no maze with a shortest path longer than " + std::to_string(cfg.min_path_length) + " found in " +
                       std::to_string(max_tries) + " tries; lower --min-path-length or change --wall-prob" +
                       (cfg.unique_path ? " (unique shortest paths are rare beyond ~60 moves)" : ""));
    all.push_back(std::move(*p));
    if (progress) progress("generate", all.size(), total);
  }
  const std::vector<puzzle> train(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(cfg.num_train));
  const std::vector<puzzle> test(all.begin() + static_cast<std::ptrdiff_t>(cfg.num_train), all.end());
  build_summary sum;
  sum.side = cfg.size;
  dataset_writer out(cfg.output_dir, cfg.overwrite);
  write_splits(out, train, test, cfg.size, cfg.aug, sum, progress);
  if (cfg.csv_dir) {
    std::error_code ec;
    std::filesystem::create_directories(*cfg.csv_dir, ec);
    write_csv(*cfg.csv_dir / "train.csv", train, cfg.size);
    write_csv(*cfg.csv_dir / "test.csv", test, cfg.size);
  }
  out.commit();
  return sum;
}

}  // namespace gtrm::data::maze
