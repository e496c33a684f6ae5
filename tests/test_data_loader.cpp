// The loader's sampling against §3.6: one random puzzle per visited group, examples without replacement, epochs
// concatenated per pass, the last incomplete training batch dropped, sequential padded test batches, ignore labels as
// -100, rank slices, determinism for a seed, and buffers that stay put between batches.
#include <doctest/doctest.h>

#include <gtrm/data/loader.hpp>

#include <map>
#include <set>
#include <vector>

using namespace gtrm::data;
using gtrm::index_t;

namespace {

// Example e has every input token = e % 250 + 1 (so rows identify examples) and labels 0 (= ignore) on even cells.
// Group sizes and puzzle sizes as given: groups[g] = list of example counts of its puzzles.
struct made {
  split_data d;
  dataset_metadata m;
};

made make(const std::vector<std::vector<int>>& groups, int seq_len = 4) {
  made r;
  r.d.seq_len = seq_len;
  int e = 0, id = 1;
  std::vector<std::uint8_t> in(static_cast<std::size_t>(seq_len)), lab(static_cast<std::size_t>(seq_len));
  for (const auto& g : groups) {
    for (int examples : g) {
      for (int k = 0; k < examples; ++k, ++e) {
        for (int c = 0; c < seq_len; ++c) {
          in[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(e % 250 + 1);
          lab[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c % 2 == 0 ? 0 : 200 + c);
        }
        r.d.add_example(in.data(), lab.data());
      }
      r.d.end_puzzle(id++);
    }
    r.d.end_group();
  }
  r.m.seq_len = seq_len;
  r.m.vocab_size = 256;
  r.m.num_puzzle_identifiers = id;
  r.m.total_groups = static_cast<int>(groups.size());
  validate_split(r.m, r.d, "test");
  return r;
}

// Example index of each row (from its tokens), and puzzle identifier of each row.
std::vector<int> rows_of(const batch& b) {
  std::vector<int> out;
  for (index_t r = 0; r < b.batch_size; ++r) out.push_back(b.inputs[r * b.seq_len] - 1);
  return out;
}

std::vector<std::vector<int>> run_pass(train_loader& l) {
  std::vector<std::vector<int>> out;
  batch b;
  l.begin_pass();
  while (l.next(b)) out.push_back(rows_of(b));
  return out;
}

}  // namespace

TEST_CASE("loader: one example per group: every group once per epoch, the incomplete tail dropped") {
  const auto ds = make(std::vector<std::vector<int>>(10, {1}));
  loader_config c;
  c.global_batch_size = 4;
  c.seed = 3;
  train_loader l(ds.d, ds.m, c);
  const auto p = run_pass(l);
  REQUIRE(p.size() == 2);  // 10 groups, batches of 4: the last 2 are dropped
  std::set<int> seen;
  for (const auto& b : p)
    for (int e : b) seen.insert(e);
  CHECK(seen.size() == 8);  // no group twice within an epoch

  // Three epochs per pass: 30 visits -> 7 full batches, each epoch a permutation, batches straddling epochs.
  c.epochs_per_iter = 3;
  train_loader l3(ds.d, ds.m, c);
  const auto p3 = run_pass(l3);
  CHECK(p3.size() == 7);
  std::vector<int> flat;
  for (const auto& b : p3) flat.insert(flat.end(), b.begin(), b.end());
  for (int epoch = 0; epoch < 2; ++epoch)
    CHECK(std::set<int>(flat.begin() + epoch * 10, flat.begin() + epoch * 10 + 10).size() == 10);
}

TEST_CASE("loader: deterministic for a seed, different across passes and seeds") {
  const auto ds = make(std::vector<std::vector<int>>(20, {1, 1, 1}));
  loader_config c;
  c.global_batch_size = 5;
  c.seed = 7;
  train_loader a(ds.d, ds.m, c), b(ds.d, ds.m, c);
  const auto a1 = run_pass(a), a2 = run_pass(a);
  CHECK(a1 == run_pass(b));
  CHECK(a2 == run_pass(b));
  CHECK(a1 != a2);
  c.seed = 8;
  train_loader other(ds.d, ds.m, c);
  CHECK(run_pass(other) != a1);
}

TEST_CASE("loader: a random puzzle of each group, its examples without replacement, cut to the batch's room") {
  // Group g: puzzles of 3 and 5 examples; batch 4, so a 5-example puzzle is cut to at most 4 distinct examples.
  const auto ds = make(std::vector<std::vector<int>>(30, {3, 5}));
  loader_config c;
  c.global_batch_size = 4;
  c.seed = 1;
  train_loader l(ds.d, ds.m, c);
  std::map<int, int> puzzle_of;  // example -> puzzle
  for (std::size_t p = 0; p < ds.d.num_puzzles(); ++p)
    for (int e = ds.d.puzzle_indices[p]; e < ds.d.puzzle_indices[p + 1]; ++e) puzzle_of[e] = static_cast<int>(p);
  std::set<int> puzzles_used;
  batch b;
  l.begin_pass();
  int batches = 0;
  while (l.next(b)) {
    ++batches;
    const auto rows = rows_of(b);
    // Rows come in runs of one puzzle; within a run, distinct examples; the puzzle id matches the puzzle.
    for (std::size_t i = 0; i < rows.size();) {
      const int p = puzzle_of[rows[i]];
      std::set<int> run;
      std::size_t j = i;
      for (; j < rows.size() && puzzle_of[rows[j]] == p; ++j) {
        CHECK(run.insert(rows[j]).second);
        CHECK(b.puzzle_identifiers[j] == ds.d.puzzle_identifiers[static_cast<std::size_t>(p)]);
      }
      puzzles_used.insert(p);
      i = j;
    }
    CHECK(b.rows == 4);
    CHECK(b.global_rows == 4);
  }
  CHECK(batches > 0);
  // Both puzzles of groups get chosen over the pass (one random augmentation per group visit).
  int first = 0, second = 0;
  for (int p : puzzles_used) (p % 2 == 0 ? first : second)++;
  CHECK(first > 0);
  CHECK(second > 0);
}

TEST_CASE("loader: labels equal to ignore_label_id become -100, inputs and ids int32") {
  auto ds = make({{1}, {1}, {1}, {1}});
  loader_config c;
  c.global_batch_size = 2;
  train_loader l(ds.d, ds.m, c);
  batch b;
  l.begin_pass();
  REQUIRE(l.next(b));
  for (index_t r = 0; r < 2; ++r)
    for (index_t k = 0; k < 4; ++k)
      CHECK(b.labels[r * 4 + k] == (k % 2 == 0 ? -100 : 200 + k));
  // With ignore_label_id null nothing is mapped.
  ds.m.ignore_label_id = no_ignore_label;
  train_loader l2(ds.d, ds.m, c);
  l2.begin_pass();
  REQUIRE(l2.next(b));
  CHECK(b.labels[0] == 0);
}

TEST_CASE("loader: test batches are sequential, the last one padded") {
  auto ds = make({{2, 1}, {3}, {1}});  // 7 examples in puzzles with ids 1, 2, 3, 4
  ds.m.pad_id = 0;
  ds.m.blank_identifier_id = 0;
  loader_config c;
  c.global_batch_size = 3;
  test_loader l(ds.d, ds.m, c);
  CHECK(l.num_batches() == 3);
  l.begin();
  batch b;
  std::vector<int> examples, ids;
  std::vector<index_t> real;
  while (l.next(b)) {
    real.push_back(b.rows);
    CHECK(b.global_rows == b.rows);
    for (index_t r = 0; r < b.batch_size; ++r) {
      ids.push_back(b.puzzle_identifiers[r]);
      examples.push_back(b.inputs[r * 4] - 1);
      if (r >= b.rows) {
        for (index_t k = 0; k < 4; ++k) {
          CHECK(b.inputs[r * 4 + k] == 0);
          CHECK(b.labels[r * 4 + k] == -100);
        }
      }
    }
  }
  CHECK(real == std::vector<index_t>{3, 3, 1});
  CHECK(std::vector<int>(examples.begin(), examples.begin() + 7) == std::vector<int>{0, 1, 2, 3, 4, 5, 6});
  CHECK(ids == std::vector<int>{1, 1, 2, 3, 3, 3, 4, 0, 0});
  // begin() restarts.
  l.begin();
  REQUIRE(l.next(b));
  CHECK(b.inputs[0] == 1);
}

TEST_CASE("loader: ranks take contiguous slices of the same global batch") {
  const auto ds = make(std::vector<std::vector<int>>(16, {2, 1}));
  loader_config c;
  c.global_batch_size = 6;
  c.seed = 4;
  train_loader whole(ds.d, ds.m, c);
  c.num_replicas = 2;
  c.rank = 0;
  train_loader r0(ds.d, ds.m, c);
  c.rank = 1;
  train_loader r1(ds.d, ds.m, c);
  const auto w = run_pass(whole), a = run_pass(r0), b = run_pass(r1);
  REQUIRE(w.size() == a.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    CHECK(a[i].size() == 3);
    std::vector<int> joined = a[i];
    joined.insert(joined.end(), b[i].begin(), b[i].end());
    CHECK(joined == w[i]);
  }
  // Test split of 8 examples in batches of 6: the last global batch has 2 rows, all in rank 0's slice.
  const auto small = make(std::vector<std::vector<int>>(4, {2}));
  c.rank = 0;
  test_loader t0(small.d, small.m, c);
  c.rank = 1;
  test_loader t1(small.d, small.m, c);
  t0.begin();
  t1.begin();
  batch x, y;
  REQUIRE(t0.next(x));
  REQUIRE(t1.next(y));
  CHECK(x.rows == 3);
  CHECK(y.rows == 3);
  CHECK(y.inputs[0] == 4);  // rank 1 starts at example 3
  REQUIRE(t0.next(x));
  REQUIRE(t1.next(y));
  CHECK(x.rows == 2);
  CHECK(x.global_rows == 2);
  CHECK(y.rows == 0);
  CHECK(y.global_rows == 2);
  CHECK(y.puzzle_identifiers[0] == 0);
  CHECK(y.labels[0] == -100);
  CHECK_FALSE(t1.next(y));
}

TEST_CASE("loader: buffers stay put between batches; bad configurations are refused") {
  const auto ds = make(std::vector<std::vector<int>>(12, {1}));
  loader_config c;
  c.global_batch_size = 3;
  train_loader l(ds.d, ds.m, c);
  batch b;
  l.begin_pass();
  REQUIRE(l.next(b));
  const auto* in = b.inputs;
  const auto* lab = b.labels;
  while (l.next(b)) {
    CHECK(b.inputs == in);
    CHECK(b.labels == lab);
  }
  l.begin_pass();
  REQUIRE(l.next(b));
  CHECK(b.inputs == in);

  c.num_replicas = 2;  // 3 is not a multiple of 2
  CHECK_THROWS_AS(train_loader(ds.d, ds.m, c), data_error);
  c.num_replicas = 1;
  c.global_batch_size = 0;
  CHECK_THROWS_AS(test_loader(ds.d, ds.m, c), data_error);
  // next() before begin_pass() yields nothing rather than garbage.
  c.global_batch_size = 3;
  train_loader fresh(ds.d, ds.m, c);
  CHECK_FALSE(fresh.next(b));
}
