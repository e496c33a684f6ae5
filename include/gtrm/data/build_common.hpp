// Pieces the Sudoku and Maze builders share: progress and warning callbacks, the bad-row policy (error with file
// and line, or a counted skip with a warning), the reference's training subsample, and the train/test split of a
// single CSV. Random choices use numpy_random so that, with a test CSV given, a builder seeded with S makes the same
// choices as the reference builder run after np.random.seed(S) (the reference itself is unseeded).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "npy.hpp"  // data_error
#include "numpy_random.hpp"

namespace gtrm::data {

// stage ("train", "test", ...), items done, items in total; called often, so keep it cheap.
using progress_fn = std::function<void(std::string_view stage, std::size_t done, std::size_t total)>;
using warn_fn = std::function<void(const std::string&)>;

struct row_report {
  std::size_t rows = 0;      // data rows read
  std::size_t kept = 0;      // rows turned into puzzles
  std::size_t filtered = 0;  // rows dropped by a filter (e.g. --min-difficulty)
  std::size_t skipped = 0;   // bad rows skipped under --skip-bad
};

// What to do with a malformed row: without skip_bad, throw data_error("file:line: what"); with it, count the row as
// skipped and warn (the first `max_warnings` times, then once that further warnings are suppressed).
struct bad_row_policy {
  bool skip_bad = false;
  warn_fn warn;
  std::size_t max_warnings = 10;

  void bad(const std::string& file, std::size_t line, const std::string& what, row_report& report) const {
    const std::string msg = file + ":" + std::to_string(line) + ": " + what;
    if (!skip_bad) throw data_error(msg);
    ++report.skipped;
    if (!warn) return;
    if (report.skipped <= max_warnings) warn("skipping bad row: " + msg);
    else if (report.skipped == max_warnings + 1) warn("further bad-row warnings suppressed");
  }
};

// The reference's subsample: np.random.choice(total, size, replace=False), which for numpy's legacy RandomState is
// permutation(total)[:size] (in that random order). No draw when size >= total, as in the reference.
template <class T>
std::vector<T> subsample(std::vector<T> items, std::size_t size, numpy_random& rng) {
  if (size >= items.size()) return items;
  const auto perm = rng.permutation(static_cast<int>(items.size()));
  std::vector<T> out;
  out.reserve(size);
  for (std::size_t i = 0; i < size; ++i) out.push_back(std::move(items[static_cast<std::size_t>(perm[i])]));
  return out;
}

// Splits one collection into train and test for sources without a test file (a gtrm extension): a random
// round(test_fraction * n) items (at least 1, and at least 1 left for training) go to test; both parts keep file order.
template <class T>
std::pair<std::vector<T>, std::vector<T>> split_train_test(std::vector<T> all, double test_fraction, numpy_random& rng) {
  if (!(test_fraction > 0.0 && test_fraction < 1.0)) throw data_error("--test-fraction must be in (0, 1)");
  if (all.size() < 2) throw data_error("need at least 2 puzzles to split into train and test");
  auto n_test = static_cast<std::size_t>(std::llround(test_fraction * static_cast<double>(all.size())));
  n_test = std::clamp<std::size_t>(n_test, 1, all.size() - 1);
  const auto perm = rng.permutation(static_cast<int>(all.size()));
  std::vector<char> is_test(all.size(), 0);
  for (std::size_t i = 0; i < n_test; ++i) is_test[static_cast<std::size_t>(perm[i])] = 1;
  std::pair<std::vector<T>, std::vector<T>> out;
  for (std::size_t i = 0; i < all.size(); ++i) (is_test[i] ? out.second : out.first).push_back(std::move(all[i]));
  return out;
}

// numpy's legacy np.random.rand() / random_sample(): 53 bits from two 32-bit words (a >> 5, b >> 6).
inline double numpy_rand(numpy_random& rng) {
  const std::uint32_t a = rng.next_uint32() >> 5, b = rng.next_uint32() >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

}  // namespace gtrm::data
