// Sudoku-Extreme as the reference builds it (docs/reference.md §5.1, dataset/build_sudoku_dataset.py): reading and
// checking the `source,question,answer,rating` CSV, the validity-preserving shuffle (digit map, transpose, band/row
// and stack/column permutations, one plan for question and answer), and the train/test splits with tokens
// 0 PAD, 1 blank, 2..10 digits 1..9. Random draws follow numpy's legacy RNG in the reference's order, so a build
// seeded with S equals the reference run after np.random.seed(S).
#pragma once
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "build_common.hpp"
#include "csv.hpp"
#include "dataset.hpp"
#include "numpy_random.hpp"

namespace gtrm::data::sudoku {

// Digits 0..9 row-major, 0 = blank (the question may have blanks, the answer none).
struct puzzle {
  std::array<std::uint8_t, 81> question{};
  std::array<std::uint8_t, 81> answer{};
};

// A complete n x n grid with boxes of box_h x box_w cells is a valid Sudoku: every row, column and box holds 1..n
// once. Used for 9x9 (3x3 boxes) here and for the generator's 4x4 and 6x6 grids.
inline bool is_valid_solution(const std::uint8_t* g, int n, int box_h, int box_w) {
  for (int unit = 0; unit < n; ++unit) {
    unsigned row = 0, col = 0, box = 0;
    for (int k = 0; k < n; ++k) {
      const int br = (unit / (n / box_w)) * box_h + k / box_w, bc = (unit % (n / box_w)) * box_w + k % box_w;
      const int cells[3] = {g[unit * n + k], g[k * n + unit], g[br * n + bc]};
      for (int c : cells)
        if (c < 1 || c > n) return false;
      row |= 1u << cells[0];
      col |= 1u << cells[1];
      box |= 1u << cells[2];
    }
    const unsigned all = ((1u << n) - 1) << 1;
    if (row != all || col != all || box != all) return false;
  }
  return true;
}

// Why a puzzle is unusable, or "" when it is fine: the answer must be a valid Sudoku that agrees with every given.
inline std::string check(const puzzle& p) {
  if (!is_valid_solution(p.answer.data(), 9, 3, 3)) return "answer is not a valid Sudoku solution";
  for (std::size_t i = 0; i < 81; ++i)
    if (p.question[i] != 0 && p.question[i] != p.answer[i])
      return "answer disagrees with the given at row " + std::to_string(i / 9 + 1) + ", column " +
             std::to_string(i % 9 + 1);
  return "";
}

struct read_options {
  std::optional<long long> min_difficulty;  // keep rows with int(rating) >= this (the reference's min_difficulty)
  bad_row_policy bad;
};

// Reads a CSV in the reference layout: question 81 characters of '1'-'9' and '.' or '0' for blanks, answer 81 digits
// '1'-'9'. Bad rows (wrong field count or length, bad characters, an invalid or inconsistent answer, or, when
// filtering by difficulty, a rating that is not an integer) are an error "file:line: ..." or a counted skip.
inline std::vector<puzzle> read_csv(const std::filesystem::path& file, const read_options& opt,
                                    row_report* report = nullptr) {
  row_report local;
  row_report& rep = report ? *report : local;
  auto reader = open_puzzle_csv(file);
  std::vector<puzzle> out;
  csv_row row;
  while (reader.next(row)) {
    ++rep.rows;
    const auto bad = [&](const std::string& what) { opt.bad.bad(reader.file(), row.line, what, rep); };
    if (row.fields.size() != 4) {
      bad("expected 4 fields (source,question,answer,rating), got " + std::to_string(row.fields.size()));
      continue;
    }
    const std::string& q = row.fields[1];
    const std::string& a = row.fields[2];
    if (opt.min_difficulty) {
      // Only parsed when filtering, as in the reference (which evaluates int(rating) only then).
      std::string r = row.fields[3];
      while (!r.empty() && (r.back() == ' ' || r.back() == '\t')) r.pop_back();
      std::size_t s = 0;
      while (s < r.size() && (r[s] == ' ' || r[s] == '\t')) ++s;
      long long rating = 0;
      const auto res = std::from_chars(r.data() + s + (s < r.size() && r[s] == '+'), r.data() + r.size(), rating);
      if (s == r.size() || res.ec != std::errc() || res.ptr != r.data() + r.size()) {
        bad("rating '" + row.fields[3] + "' is not an integer");
        continue;
      }
      if (rating < *opt.min_difficulty) {
        ++rep.filtered;
        continue;
      }
    }
    if (q.size() != 81) {
      bad("question has " + std::to_string(q.size()) + " characters, expected 81");
      continue;
    }
    if (a.size() != 81) {
      bad("answer has " + std::to_string(a.size()) + " characters, expected 81");
      continue;
    }
    puzzle p;
    std::string error;
    for (std::size_t i = 0; i < 81 && error.empty(); ++i) {
      const char c = q[i];
      if (c == '.' || (c >= '0' && c <= '9')) p.question[i] = static_cast<std::uint8_t>(c == '.' ? 0 : c - '0');
      else error = std::string("question has bad character '") + c + "' at position " + std::to_string(i + 1);
      const char d = a[i];
      if (error.empty() && !(d >= '1' && d <= '9'))
        error = std::string("answer has bad character '") + d + "' at position " + std::to_string(i + 1);
      else if (error.empty()) p.answer[i] = static_cast<std::uint8_t>(d - '0');
    }
    if (error.empty()) error = check(p);
    if (!error.empty()) {
      bad(error);
      continue;
    }
    out.push_back(p);
    ++rep.kept;
  }
  return out;
}

// One random relabelling of an n x n grid with box_h x box_w boxes that keeps every Sudoku valid (§5.1): digits
// relabelled (digit_map[0] = 0 keeps blanks blank), bands of box_h rows and the rows inside each band permuted,
// stacks and their columns likewise, and, for square boxes, an optional transpose first. Cell i of the result is
// cell source_cell(i) of the input. The dataset builders (9x9) and test-time voting (any size, tasks/sudoku/) share it.
struct grid_shuffle {
  int n = 9;
  std::vector<int> digit_map;       // n + 1 entries
  bool transpose = false;
  std::vector<int> row_perm, col_perm;

  int source_cell(int i) const {
    const int src = row_perm[static_cast<std::size_t>(i / n)] * n + col_perm[static_cast<std::size_t>(i % n)];
    return transpose ? (src % n) * n + src / n : src;
  }
};

// Draws a plan exactly as the reference's shuffle_sudoku does for 9x9: permutation(1..n), rand() < 0.5 (square
// boxes only), the band order, a row permutation per band, the stack order, a column permutation per stack.
inline grid_shuffle draw_grid_shuffle(numpy_random& rng, int n, int box_h, int box_w) {
  if (n < 1 || box_h < 1 || box_w < 1 || n % box_h || n % box_w)
    throw std::invalid_argument("sudoku shuffle: boxes of " + std::to_string(box_h) + "x" + std::to_string(box_w) +
                                " do not tile a " + std::to_string(n) + "x" + std::to_string(n) + " grid");
  grid_shuffle p;
  p.n = n;
  const auto digits = rng.permutation(n);
  p.digit_map.assign(static_cast<std::size_t>(n) + 1, 0);
  for (int i = 0; i < n; ++i) p.digit_map[static_cast<std::size_t>(i) + 1] = digits[static_cast<std::size_t>(i)] + 1;
  p.transpose = box_h == box_w && numpy_rand(rng) < 0.5;
  const auto lines = [&](int block) {  // outer permutation, then one inner per block
    std::vector<int> out;
    for (int b : rng.permutation(n / block))
      for (int k : rng.permutation(block)) out.push_back(b * block + k);
    return out;
  };
  p.row_perm = lines(box_h);
  p.col_perm = lines(box_w);
  return p;
}

inline grid_shuffle draw_shuffle(numpy_random& rng) { return draw_grid_shuffle(rng, 9, 3, 3); }

// new[i] = digit_map[x[source_cell(i)]] on digits 0..n.
inline std::array<std::uint8_t, 81> apply_shuffle(const grid_shuffle& p, const std::array<std::uint8_t, 81>& x) {
  std::array<std::uint8_t, 81> out{};
  for (int i = 0; i < 81; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(p.digit_map[x[static_cast<std::size_t>(p.source_cell(i))]]);
  return out;
}

inline puzzle shuffle(const puzzle& in, numpy_random& rng) {
  const auto plan = draw_shuffle(rng);
  return {apply_shuffle(plan, in.question), apply_shuffle(plan, in.answer)};
}

// The reference's metadata for a Sudoku split of n x n grids (9 for Sudoku-Extreme); total_puzzles is the group count
// there, kept as is.
inline dataset_metadata metadata_for(const split_data& d, int n = 9) {
  dataset_metadata m;
  m.seq_len = n * n;
  m.vocab_size = n + 2;  // PAD, blank, digits 1..n
  m.total_groups = static_cast<int>(d.num_groups());
  m.total_puzzles = m.total_groups;
  m.mean_puzzle_examples = 1.0;
  return m;
}

// Appends one example (one puzzle, one group member) with tokens digit + 1.
inline void add_tokens(split_data& d, const std::uint8_t* q, const std::uint8_t* a, std::size_t cells) {
  std::uint8_t qi[256], ai[256];  // grids up to 16 x 16
  if (cells > 256) throw data_error("sudoku: grid too large");
  for (std::size_t i = 0; i < cells; ++i) {
    qi[i] = static_cast<std::uint8_t>(q[i] + 1);
    ai[i] = static_cast<std::uint8_t>(a[i] + 1);
  }
  d.add_example(qi, ai);
  d.end_puzzle(0);
}

// One split: each puzzle is a group of the original and num_aug shuffled versions (one example each).
inline split_data build_split(const std::vector<puzzle>& puzzles, int num_aug, numpy_random& rng,
                              const progress_fn& progress = {}, std::string_view stage = "sudoku") {
  split_data d;
  d.seq_len = 81;
  const std::size_t total = puzzles.size() * static_cast<std::size_t>(1 + num_aug);
  d.inputs.reserve(total * 81);
  d.labels.reserve(total * 81);
  d.puzzle_identifiers.reserve(total);
  d.puzzle_indices.reserve(total + 1);
  for (std::size_t g = 0; g < puzzles.size(); ++g) {
    add_tokens(d, puzzles[g].question.data(), puzzles[g].answer.data(), 81);
    for (int k = 0; k < num_aug; ++k) {
      const auto s = shuffle(puzzles[g], rng);
      add_tokens(d, s.question.data(), s.answer.data(), 81);
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
  std::optional<std::size_t> subsample_size;  // of the training puzzles
  int num_aug = 0;                            // shuffled versions per training puzzle
  std::optional<long long> min_difficulty;
  std::uint32_t seed = 0;
  bool skip_bad = false;
  bool overwrite = false;
};

struct build_summary {
  row_report train_rows, test_rows;
  std::size_t train_groups = 0, train_examples = 0, test_groups = 0, test_examples = 0;
};

// The whole build: read, (split,) subsample, augment the training split, write <output_dir> atomically.
inline build_summary build(const build_config& cfg, const progress_fn& progress = {}, const warn_fn& warn = {}) {
  if (cfg.num_aug < 0) throw data_error("--num-aug must be >= 0");
  build_summary sum;
  read_options ro;
  ro.min_difficulty = cfg.min_difficulty;
  ro.bad.skip_bad = cfg.skip_bad;
  ro.bad.warn = warn;
  numpy_random rng(cfg.seed);
  auto train = read_csv(cfg.train_csv, ro, &sum.train_rows);
  std::vector<puzzle> test;
  if (cfg.test_csv) {
    test = read_csv(*cfg.test_csv, ro, &sum.test_rows);
  } else {
    auto parts = split_train_test(std::move(train), cfg.test_fraction, rng);
    train = std::move(parts.first);
    test = std::move(parts.second);
  }
  if (train.empty()) throw data_error(cfg.train_csv.string() + ": no usable puzzles");
  if (test.empty()) throw data_error((cfg.test_csv ? *cfg.test_csv : cfg.train_csv).string() + ": no usable test puzzles");
  if (cfg.subsample_size) train = subsample(std::move(train), *cfg.subsample_size, rng);

  dataset_writer out(cfg.output_dir, cfg.overwrite);
  {
    const auto d = build_split(train, cfg.num_aug, rng, progress, "train");
    sum.train_groups = d.num_groups();
    sum.train_examples = d.num_examples();
    out.write_split("train", metadata_for(d), d);
  }
  {
    const auto d = build_split(test, 0, rng, progress, "test");
    sum.test_groups = d.num_groups();
    sum.test_examples = d.num_examples();
    out.write_split("test", metadata_for(d), d);
  }
  out.write_identifiers({"<blank>"});
  out.commit();
  return sum;
}

}  // namespace gtrm::data::sudoku
