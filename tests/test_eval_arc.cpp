// Evaluators: exact/token accuracy; ARC voting (inverse augmentation, crop, grouping by input hash, ranking by
// count then mean q, pass@K) on hand-made votes and on the real ARC-AGI-1 evaluation set (a perfect oracle scores
// 100%, a random predictor ~0%); submission.json's shape.
#include <doctest/doctest.h>

#include <gtrm/data/arc.hpp>
#include <gtrm/eval/accuracy.hpp>
#include <gtrm/eval/arc_submission.hpp>
#include <gtrm/eval/arc_vote.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace gtrm;
using data::arc_grid;

namespace {

const fs::path tiny = fs::path(GTRM_TEST_DATA_DIR) / "arc" / "tiny";
const fs::path shared_data = fs::path(GTRM_SOURCE_DIR) / ".." / "shared" / "data";

std::vector<std::uint8_t> seq_of(const arc_grid& g) {
  std::vector<std::uint8_t> s(data::arc_seq_len);
  data::arc_encode(g, 0, 0, s.data());
  return s;
}

}  // namespace

TEST_CASE("accuracy: exact and token accuracy with ignored labels") {
  const std::vector<int> preds = {1, 2, 3, 4,  1, 0, 3, 0,  5, 5, 5, 5};
  const std::vector<int> labels = {1, 2, 3, -100,  1, 2, 3, 4,  -100, -100, -100, -100};
  eval::accuracy a;
  a.add(preds.data(), labels.data(), 3, 4);
  CHECK(a.count == 2);  // the all-ignored row is not counted
  CHECK(a.exact == 1);
  CHECK(a.exact_accuracy() == doctest::Approx(0.5));
  CHECK(a.token_accuracy() == doctest::Approx((1.0 + 0.5) / 2));
  CHECK(a.pooled_token_accuracy() == doctest::Approx(5.0 / 7.0));
  // Dataset labels before collation: PAD (0) is the ignore label.
  const std::vector<std::uint8_t> lab8 = {3, 0, 0, 2};
  const std::vector<std::int64_t> p64 = {3, 9, 9, 2};
  eval::accuracy b;
  b.add(p64.data(), lab8.data(), 1, 4, 0);
  CHECK(b.exact_accuracy() == 1.0);
  b += a;
  CHECK(b.count == 3);
  // packed as doubles (the all-reduce over ranks) and back: every field, and sums of packs are the sum
  double v[eval::accuracy::packed_size], w[eval::accuracy::packed_size];
  a.pack(v);
  b.pack(w);
  for (std::size_t i = 0; i < eval::accuracy::packed_size; ++i) v[i] += w[i];
  eval::accuracy sum;
  sum.unpack(v);
  eval::accuracy expect = a;
  expect += b;
  CHECK(sum.count == expect.count);
  CHECK(sum.exact == expect.exact);
  CHECK(sum.token_sum == expect.token_sum);
  CHECK(sum.tokens == expect.tokens);
  CHECK(sum.correct == expect.correct);
}

TEST_CASE("arc vote: inverse augmentation, ranking by (count, mean q), pass@K, submission") {
  arc_grid in{1, 2, {1, 2}}, truth{1, 1, {3}};
  data::arc_task t;
  t.id = "t1";
  t.train.push_back({in, truth});
  t.test.push_back({in, truth});
  t.test.push_back({arc_grid{1, 1, {9}}, arc_grid{1, 1, {9}}});  // gets no votes
  const data::arc_aug aug{1, {0, 2, 3, 4, 5, 6, 7, 8, 9, 1}};
  const std::string aug_name = data::arc_aug_name("t1", aug);
  eval::arc_evaluator ev({"<blank>", "t1", aug_name}, {t});

  const arc_grid A{1, 1, {4}}, C{1, 1, {5}};
  struct row { int id; arc_grid pred; float q; };
  // truth (B): 2 votes with high q, one of them made in the augmented frame; A: 2 votes, low q; C: 3 votes.
  const std::vector<row> rows = {{1, A, -2.f}, {1, truth, 3.f}, {1, C, 0.f}, {2, data::arc_apply(truth, aug), 2.f},
                                 {1, A, -1.f}, {1, C, 0.f},     {1, C, 0.f}, {0, truth, 9.f}};  // id 0: padding
  std::vector<std::int32_t> ids;
  std::vector<std::uint8_t> inputs, preds;
  std::vector<float> q;
  for (const auto& r : rows) {
    ids.push_back(r.id);
    const auto si = seq_of(r.id == 2 ? data::arc_apply(in, aug) : in), sp = seq_of(r.pred);
    inputs.insert(inputs.end(), si.begin(), si.end());
    preds.insert(preds.end(), sp.begin(), sp.end());
    q.push_back(r.q);
  }
  ev.update(ids.data(), inputs.data(), preds.data(), q.data(), rows.size());
  CHECK(ev.votes() == 7);
  const auto ranked = ev.rank("t1", eval::arc_grid_hash(in));
  REQUIRE(ranked.size() == 3);
  CHECK(ranked[0].hash == eval::arc_grid_hash(C));
  CHECK(ranked[0].count == 3);
  CHECK(ranked[1].hash == eval::arc_grid_hash(truth));  // ties with A on count, wins on mean q
  CHECK(ranked[1].mean_q == doctest::Approx((1 / (1 + std::exp(-3.0)) + 1 / (1 + std::exp(-2.0))) / 2));
  const auto r = ev.result();
  CHECK(r.tasks == 1);
  CHECK(r.test_inputs == 2);
  CHECK(r.inputs_without_votes == 1);
  CHECK(r.at(1) == 0.0);
  CHECK(r.at(2) == 0.5);  // 1 of the task's 2 test inputs
  CHECK(r.at(1000) == 0.5);
  CHECK(eval::arc_submission_json(ev.submission()) ==
        R"({"t1": [{"attempt_1": [[5]], "attempt_2": [[3]]}, {"attempt_1": [[0]], "attempt_2": [[0]]}]})");
  ev.clear();
  CHECK(ev.result().at(2) == 0.0);
  CHECK_THROWS_AS(ev.update(std::vector<int>{7}.data(), inputs.data(), preds.data(), q.data(), 1), data::data_error);
}

TEST_CASE("arc vote: reads identifiers.json and test_puzzles.json of a built dataset") {
  const auto dir = fs::temp_directory_path() / ("gtrm_test_eval_arc_" + std::to_string(std::random_device{}()));
  data::arc_dataset_options o;
  o.source = {tiny.string(), "", {"training", "evaluation"}, false};
  o.build.num_aug = 3;
  o.output_dir = dir.string();
  data::build_arc_dataset(o);
  auto ev = eval::arc_evaluator::from_dataset(dir);
  const auto test = data::read_split(dir, "test");
  const auto n = test.data.num_examples();
  std::vector<std::int32_t> ids(n);
  for (std::size_t p = 0; p < test.data.num_puzzles(); ++p)
    for (auto e = test.data.puzzle_indices[p]; e < test.data.puzzle_indices[p + 1]; ++e)
      ids[static_cast<std::size_t>(e)] = test.data.puzzle_identifiers[p];
  std::vector<float> q(n, 0.f);
  ev.update(ids.data(), test.data.inputs.data(), test.data.labels.data(), q.data(), n);
  CHECK(ev.result().at(1) == 1.0);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_CASE("arc vote: oracle 100%, random ~0%, majority voting, on the real ARC-AGI-1 evaluation set") {
  const auto eval_dir = shared_data / "arc-agi-1" / "evaluation";
  if (!fs::exists(eval_dir)) {
    MESSAGE("skipped: " << eval_dir.string() << " not present");
    return;
  }
  data::arc_build_config cfg;
  cfg.num_aug = 8;  // 9 versions of each of the 400 tasks: 3771 test examples, fast
  const auto subsets = data::load_arc_subsets({(shared_data / "arc-agi-1").string(), "", {"evaluation"}, false});
  const auto b = data::build_arc(subsets, cfg);
  const auto& d = b.test;
  const auto tp = nlohmann::ordered_json::parse(b.test_puzzles_json);
  const auto tasks = eval::arc_evaluator::parse_test_puzzles(tp, "test_puzzles.json");
  REQUIRE(tasks.size() == 400);
  const auto n = d.num_examples();
  std::vector<std::int32_t> ids(n);
  for (std::size_t p = 0; p < d.num_puzzles(); ++p)
    for (auto e = d.puzzle_indices[p]; e < d.puzzle_indices[p + 1]; ++e) ids[static_cast<std::size_t>(e)] = d.puzzle_identifiers[p];
  std::mt19937 gen(123);
  std::vector<float> q(n);
  for (auto& x : q) x = std::normal_distribution<float>(0.f, 2.f)(gen);
  const auto score = [&](const std::vector<std::uint8_t>& preds) {
    eval::arc_evaluator ev(b.identifiers, tasks);
    ev.update(ids.data(), d.inputs.data(), preds.data(), q.data(), n);
    return std::make_pair(ev.result(), ev.submission());
  };

  const auto [oracle, oracle_sub] = score(d.labels);
  MESSAGE("oracle: pass@1 " << oracle.at(1) << ", pass@2 " << oracle.at(2) << " over " << oracle.tasks << " tasks, "
                            << oracle.test_inputs << " test inputs, " << n << " examples");
  CHECK(oracle.at(1) == 1.0);
  CHECK(oracle.at(2) == 1.0);
  CHECK(oracle.inputs_without_votes == 0);
  for (std::size_t i = 0; i < tasks.size(); ++i)
    for (std::size_t k = 0; k < tasks[i].test.size(); ++k) CHECK(oracle_sub[i].inputs[k].grids[0] == tasks[i].test[k].output);

  std::vector<std::uint8_t> noise(d.labels.size());
  for (auto& x : noise) x = static_cast<std::uint8_t>(gen() % 12);
  const auto random = score(noise).first;
  MESSAGE("random tokens: pass@1 " << random.at(1) << ", pass@2 " << random.at(2) << ", pass@1000 " << random.at(1000));
  CHECK(random.at(2) < 0.01);

  // A random well-formed grid of the true shape, per version: the voting cannot help it either.
  std::vector<std::uint8_t> shaped(d.labels.size());
  for (std::size_t e = 0; e < n; ++e) {
    auto g = data::arc_crop(d.labels.data() + e * data::arc_seq_len);
    for (auto& c : g.cells) c = static_cast<std::uint8_t>(gen() % 10);
    data::arc_encode(g, 0, 0, shaped.data() + e * data::arc_seq_len);
  }
  const auto shaped_r = score(shaped).first;
  MESSAGE("random grid of the right shape: pass@2 " << shaped_r.at(2));
  CHECK(shaped_r.at(2) < 0.05);

  // Voting: right on 6 of the 9 versions and a distinct wrong answer on the others -> the majority wins at pass@1;
  // right on 3 and one shared wrong answer on 6 -> wrong at pass@1, right at pass@2.
  for (const int right_of_9 : {6, 3}) {
    std::vector<std::uint8_t> mixed = d.labels;
    for (std::size_t p = 0; p < d.num_puzzles(); ++p) {
      const auto g = static_cast<std::size_t>(std::upper_bound(d.group_indices.begin(), d.group_indices.end(),
                                                               static_cast<std::int32_t>(p)) - d.group_indices.begin()) - 1;
      const int version = static_cast<int>(p) - d.group_indices[g];  // a task's versions are its group's puzzles
      REQUIRE(d.group_indices[g + 1] - d.group_indices[g] == 9);
      if (version < right_of_9) continue;
      const auto name = data::parse_arc_name(b.identifiers[static_cast<std::size_t>(d.puzzle_identifiers[p])]);
      for (auto e = d.puzzle_indices[p]; e < d.puzzle_indices[p + 1]; ++e) {
        auto* s = mixed.data() + static_cast<std::size_t>(e) * data::arc_seq_len;
        auto g = data::arc_invert(data::arc_crop(s), name.aug);  // the original frame
        g.cells[0] = static_cast<std::uint8_t>((g.cells[0] + (right_of_9 == 6 ? version - 5 : 1)) % 10);
        data::arc_encode(data::arc_apply(g, name.aug), 0, 0, s);
      }
    }
    const auto r = score(mixed).first;
    MESSAGE(right_of_9 << "/9 versions right: pass@1 " << r.at(1) << ", pass@2 " << r.at(2));
    if (right_of_9 == 6) {
      CHECK(r.at(1) == 1.0);
    } else {
      CHECK(r.at(1) == 0.0);
      CHECK(r.at(2) == 1.0);
    }
  }
}
