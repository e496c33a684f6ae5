// Seeded Sudoku puzzles with a unique solution, for demos and tests: 4x4 (2x2 boxes), 6x6 (2x3 boxes) and 9x9
// (3x3 boxes). A random complete grid is dug out cell by cell in random order, keeping each removal only if the
// puzzle still has exactly one solution (a bitmask backtracking solver counts solutions up to 2), until the target
// number of givens is reached. Tokens as the reference's Sudoku: 0 PAD, 1 blank, 2..n+1 digits; vocab n + 2.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "build_common.hpp"
#include "dataset.hpp"
#include "random.hpp"
#include "sudoku.hpp"

namespace gtrm::data::sudoku {

struct grid_shape {
  int n, box_h, box_w;
  int cells() const { return n * n; }
};

inline grid_shape shape_for(int n) {
  switch (n) {
    case 4: return {4, 2, 2};
    case 6: return {6, 2, 3};
    case 9: return {9, 3, 3};
    default: throw data_error("sudoku size must be 4, 6 or 9, got " + std::to_string(n));
  }
}

// Digits 0..n row-major, 0 = blank.
struct grid_puzzle {
  int n = 9;
  std::vector<std::uint8_t> question, answer;
};

// Backtracking over bitmasks of the digits used per row, column and box, always branching on the empty cell with
// the fewest candidates (which keeps 9x9 uniqueness checks in the millisecond range).
class solver {
 public:
  // Returns a solver for `grid` (n*n digits 0..n); conflicting givens make every count 0.
  solver(grid_shape s, const std::uint8_t* grid) : s_(s), grid_(grid, grid + s.cells()) {
    rows_.assign(static_cast<std::size_t>(s.n), 0);
    cols_ = boxes_ = rows_;
    for (int i = 0; i < s.cells(); ++i) {
      const int d = grid_[static_cast<std::size_t>(i)];
      if (d == 0) continue;
      if (d > s.n || (used(i) >> d & 1u)) conflict_ = true;
      else set(i, d);
    }
  }

  // Number of solutions, counting stops at `limit`.
  int count(int limit = 2) {
    if (conflict_) return 0;
    int found = 0;
    search(limit, nullptr, found);
    return found;
  }

  // Fills the grid with one solution (candidates tried in random order when r is given); false if there is none.
  bool solve(rng* r = nullptr) {
    if (conflict_) return false;
    int found = 0;
    return search(1, r, found);
  }

  const std::vector<std::uint8_t>& grid() const { return grid_; }
  std::uint64_t nodes() const { return nodes_; }

 private:
  int box_of(int i) const {
    const int r = i / s_.n, c = i % s_.n;
    return (r / s_.box_h) * (s_.n / s_.box_w) + c / s_.box_w;
  }
  unsigned used(int i) const {
    return rows_[static_cast<std::size_t>(i / s_.n)] | cols_[static_cast<std::size_t>(i % s_.n)] |
           boxes_[static_cast<std::size_t>(box_of(i))];
  }
  void flip(int i, int d) {
    const unsigned bit = 1u << d;
    rows_[static_cast<std::size_t>(i / s_.n)] ^= bit;
    cols_[static_cast<std::size_t>(i % s_.n)] ^= bit;
    boxes_[static_cast<std::size_t>(box_of(i))] ^= bit;
  }
  void set(int i, int d) {
    grid_[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(d);
    flip(i, d);
  }
  void clear(int i) {
    flip(i, grid_[static_cast<std::size_t>(i)]);
    grid_[static_cast<std::size_t>(i)] = 0;
  }

  // True when a solution was completed and left in grid_ (only with limit 1); counts into `found`.
  bool search(int limit, rng* r, int& found) {
    ++nodes_;
    const unsigned all = ((1u << s_.n) - 1) << 1;
    int best = -1, best_count = s_.n + 1;
    unsigned best_cand = 0;
    for (int i = 0; i < s_.cells(); ++i) {
      if (grid_[static_cast<std::size_t>(i)] != 0) continue;
      const unsigned cand = all & ~used(i);
      const int c = std::popcount(cand);
      if (c == 0) return false;
      if (c < best_count) {
        best = i;
        best_count = c;
        best_cand = cand;
        if (c == 1) break;
      }
    }
    if (best < 0) {
      ++found;
      return limit == 1;
    }
    int digits[16];
    int k = 0;
    for (int d = 1; d <= s_.n; ++d)
      if (best_cand >> d & 1u) digits[k++] = d;
    if (r) r->shuffle(digits, static_cast<std::size_t>(k));
    for (int j = 0; j < k; ++j) {
      set(best, digits[j]);
      if (search(limit, r, found)) return true;
      clear(best);
      if (found >= limit) return false;
    }
    return false;
  }

  grid_shape s_;
  std::vector<std::uint8_t> grid_;
  std::vector<unsigned> rows_, cols_, boxes_;
  bool conflict_ = false;
  std::uint64_t nodes_ = 0;
};

// One puzzle of size n with exactly `givens` givens and a unique solution. Each attempt digs one random solution
// grid; an attempt that gets stuck above the target (every further removal would allow a second solution) is
// retried with a fresh grid, up to max_attempts. Low targets (near the minimum, 17 for 9x9) are rarely reachable.
inline grid_puzzle generate(rng& r, int n, int givens, int max_attempts = 200) {
  const auto s = shape_for(n);
  if (givens < 0 || givens > s.cells())
    throw data_error("--givens must be in 0.." + std::to_string(s.cells()) + " for " + std::to_string(n) + "x" +
                     std::to_string(n));
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    const std::vector<std::uint8_t> empty(static_cast<std::size_t>(s.cells()), 0);
    solver full(s, empty.data());
    full.solve(&r);
    grid_puzzle p{n, full.grid(), full.grid()};
    int count = s.cells();
    std::vector<int> order(static_cast<std::size_t>(s.cells()));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    r.shuffle(order.data(), order.size());
    for (int cell : order) {
      if (count == givens) break;
      auto& q = p.question[static_cast<std::size_t>(cell)];
      const std::uint8_t saved = q;
      q = 0;
      if (solver(s, p.question.data()).count(2) == 1) --count;
      else q = saved;
    }
    if (count == givens) return p;
  }
  throw data_error("could not make a " + std::to_string(n) + "x" + std::to_string(n) + " puzzle with " +
                   std::to_string(givens) + " givens and a unique solution in " + std::to_string(max_attempts) +
                   " attempts; ask for more givens");
}

struct generate_config {
  std::filesystem::path output_dir;
  int size = 9;
  int givens = 30;
  std::size_t num_train = 1000;
  std::size_t num_test = 100;
  int num_aug = 0;  // §5.1 shuffles per training puzzle; 9x9 only (the shuffle is defined for 3x3 bands)
  std::uint64_t seed = 0;
  std::optional<std::filesystem::path> csv_dir;  // also write train.csv / test.csv in the reference layout
  bool overwrite = false;
};

// "source,question,answer,rating" rows: '.' for blanks; rating = search nodes of the uniqueness check.
// Written atomically (a signal or a full disk leaves the old file or none, never some of the rows).
inline void write_csv(const std::filesystem::path& file, const std::vector<grid_puzzle>& puzzles) {
  std::ostringstream out;
  out << "source,question,answer,rating\n";
  for (const auto& p : puzzles) {
    std::string q, a;
    for (std::size_t i = 0; i < p.question.size(); ++i) {
      q += p.question[i] ? static_cast<char>('0' + p.question[i]) : '.';
      a += static_cast<char>('0' + p.answer[i]);
    }
    solver s(shape_for(p.n), p.question.data());
    s.count(2);
    out << "gtrm-generate-" << p.n << "x" << p.n << "," << q << "," << a << "," << s.nodes() << "\n";
  }
  dataset_detail::write_text(file, out.str());  // atomically: the old file or the whole new one, never a part
}

// Generates num_train + num_test distinct puzzles and writes a dataset like the Sudoku builder's (one group per
// puzzle; with num_aug, 9x9 training groups also hold shuffled versions).
inline build_summary generate_dataset(const generate_config& cfg, const progress_fn& progress = {}) {
  const auto s = shape_for(cfg.size);
  if (cfg.num_aug < 0) throw data_error("--num-aug must be >= 0");
  if (cfg.num_aug > 0 && cfg.size != 9) throw data_error("--num-aug needs --size 9 (the §5.1 shuffle is 9x9)");
  if (cfg.num_train == 0 || cfg.num_test == 0) throw data_error("--num-train and --num-test must be positive");
  rng r(cfg.seed);
  std::vector<grid_puzzle> all;
  std::unordered_set<std::string> seen;  // small grids have few distinct puzzles: no test puzzle may repeat one
  const std::size_t total = cfg.num_train + cfg.num_test;
  std::size_t duplicates = 0;
  while (all.size() < total) {
    auto p = generate(r, cfg.size, cfg.givens);
    if (!seen.insert(std::string(p.question.begin(), p.question.end())).second) {
      if (++duplicates > 100 + total) throw data_error("too few distinct puzzles of this size and givens for the counts asked");
      continue;
    }
    all.push_back(std::move(p));
    if (progress) progress("generate", all.size(), total);
  }
  const std::vector<grid_puzzle> train(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(cfg.num_train));
  const std::vector<grid_puzzle> test(all.begin() + static_cast<std::ptrdiff_t>(cfg.num_train), all.end());

  const auto to_split = [&](const std::vector<grid_puzzle>& ps, int num_aug) {
    if (cfg.size == 9) {
      std::vector<puzzle> nine(ps.size());
      for (std::size_t i = 0; i < ps.size(); ++i) {
        std::copy(ps[i].question.begin(), ps[i].question.end(), nine[i].question.begin());
        std::copy(ps[i].answer.begin(), ps[i].answer.end(), nine[i].answer.begin());
      }
      numpy_random shuffler(static_cast<std::uint32_t>(r.next()));
      return build_split(nine, num_aug, shuffler);
    }
    split_data d;
    d.seq_len = s.cells();
    for (const auto& p : ps) {
      add_tokens(d, p.question.data(), p.answer.data(), p.question.size());
      d.end_group();
    }
    return d;
  };
  build_summary sum;
  dataset_writer out(cfg.output_dir, cfg.overwrite);
  const auto tr = to_split(train, cfg.num_aug);
  out.write_split("train", metadata_for(tr, cfg.size), tr);
  const auto te = to_split(test, 0);
  out.write_split("test", metadata_for(te, cfg.size), te);
  out.write_identifiers({"<blank>"});
  sum.train_groups = tr.num_groups();
  sum.train_examples = tr.num_examples();
  sum.test_groups = te.num_groups();
  sum.test_examples = te.num_examples();
  if (cfg.csv_dir) {
    std::error_code ec;
    std::filesystem::create_directories(*cfg.csv_dir, ec);
    write_csv(*cfg.csv_dir / "train.csv", train);
    write_csv(*cfg.csv_dir / "test.csv", test);
  }
  out.commit();
  return sum;
}

}  // namespace gtrm::data::sudoku
