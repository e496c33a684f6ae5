// The ARC evaluator (docs/reference.md §6.2, evaluators/arc.py ARC): votes over augmented versions.
// Per example (rows whose puzzle identifier is the blank one are padding and dropped):
//   name = identifiers[id] -> original task id and its augmentation (parse_arc_name); both the input and the argmax
//   prediction are cropped (arc_crop) and mapped back (arc_invert); the vote (sha256 of the prediction,
//   sigmoid(q_halt_logit) in double) is stored under [task][sha256 of the input].
//   grid hash = sha256(bytes h, w, then the cells), the reference's grid_hash.
// result(): for every test input of test_puzzles, the distinct predictions ranked by (vote count, mean q),
// descending, stable in first-seen order (Python's sorted(reverse=True)); pass@K when the true output's hash is in
// the top K; a task scores the fraction of its test inputs passed; pass@K is the mean over tasks.
// submission(): the top submission_k grids per test input, padded with the best one, in test_puzzles order.
// Votes accumulate until clear(): the reference never clears them between evaluations (aggregated_voting=True);
// call clear() for the per-checkpoint behaviour.
// Deviation: a test input with no votes gets [[0]] attempts in the submission (the reference skips it, which shifts
// later inputs of that task); it scores as wrong, as in the reference.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "../data/arc_augment.hpp"
#include "../data/arc_serialize.hpp"
#include "../data/arc_task.hpp"
#include "sha256.hpp"

namespace gtrm::eval {

// The reference's grid_hash: sha256 over the shape bytes (h, w) then the row-major cells.
inline std::string arc_grid_hash(const data::arc_grid& g) {
  const std::uint8_t shape[2] = {static_cast<std::uint8_t>(g.h), static_cast<std::uint8_t>(g.w)};
  return sha256().update(shape, 2).update(g.cells.data(), g.cells.size()).hexdigest();
}

struct arc_result {
  std::vector<int> ks;
  std::vector<double> pass;  // pass[i] = pass@ks[i], in [0, 1]
  int tasks = 0;
  int test_inputs = 0;
  int inputs_without_votes = 0;
  double at(int k) const {
    for (std::size_t i = 0; i < ks.size(); ++i)
      if (ks[i] == k) return pass[i];
    return 0.0;
  }
};

// One test input's answer: submission_k grids, best first.
struct arc_attempts {
  std::vector<data::arc_grid> grids;
};

struct arc_submission_task {
  std::string task_id;
  std::vector<arc_attempts> inputs;  // one per test input, in order
};

class arc_evaluator {
 public:
  // identifiers: identifiers.json; test_puzzles: the tasks of test_puzzles.json (only their test pairs are used).
  arc_evaluator(std::vector<std::string> identifiers, std::vector<data::arc_task> test_puzzles,
                int blank_identifier_id = 0, int submission_k = 2, std::vector<int> pass_ks = {1, 2, 5, 10, 100, 1000})
      : identifiers_(std::move(identifiers)),
        tasks_(std::move(test_puzzles)),
        blank_(blank_identifier_id),
        submission_k_(submission_k),
        pass_ks_(std::move(pass_ks)) {
    if (submission_k_ < 1) throw data::data_error("arc_evaluator: submission_k must be >= 1");
    parsed_.reserve(identifiers_.size());
    for (std::size_t i = 0; i < identifiers_.size(); ++i) {
      if (static_cast<int>(i) == blank_ || identifiers_[i] == "<blank>") {
        parsed_.emplace_back();
        continue;
      }
      parsed_.push_back(data::parse_arc_name(identifiers_[i]));
    }
  }

  // Reads <dir>/identifiers.json and <dir>/test_puzzles.json of a built dataset.
  static arc_evaluator from_dataset(const std::filesystem::path& dir, int submission_k = 2,
                                    std::vector<int> pass_ks = {1, 2, 5, 10, 100, 1000}) {
    const auto read_json = [](const std::filesystem::path& p) {
      std::ifstream in(p, std::ios::binary);
      if (!in) throw data::data_error(p.string() + ": cannot open");
      try {
        return nlohmann::ordered_json::parse(in);
      } catch (const std::exception& e) {
        throw data::data_error(p.string() + ": not valid JSON (" + e.what() + ")");
      }
    };
    const auto ids_json = read_json(dir / "identifiers.json");
    if (!ids_json.is_array()) throw data::data_error((dir / "identifiers.json").string() + ": expected a list");
    std::vector<std::string> ids;
    for (const auto& s : ids_json) ids.push_back(s.get<std::string>());
    return arc_evaluator(std::move(ids), parse_test_puzzles(read_json(dir / "test_puzzles.json"),
                                                            (dir / "test_puzzles.json").string()),
                         0, submission_k, std::move(pass_ks));
  }

  // test_puzzles.json's content: {task_id: {"train": [...], "test": [{"input", "output"}...]}} in file order.
  static std::vector<data::arc_task> parse_test_puzzles(const nlohmann::ordered_json& j, const std::string& file) {
    if (!j.is_object()) throw data::data_error(file + ": expected an object {task_id: task}");
    std::vector<data::arc_task> tasks;
    for (auto it = j.begin(); it != j.end(); ++it) tasks.push_back(data::arc_task_from_json(it.value(), it.key(), file));
    return tasks;
  }

  // One batch of `rows` examples: identifiers [rows], inputs and argmax predictions [rows, 900], q_halt logits
  // [rows]. Any integer/floating element types (int32 identifiers, uint8/int32 tokens, float/bf16-as-float logits).
  template <class Id, class In, class Pred, class Q>
  void update(const Id* puzzle_identifiers, const In* inputs, const Pred* preds, const Q* q_halt_logits,
              std::size_t rows) {
    for (std::size_t r = 0; r < rows; ++r) {
      const auto id = static_cast<long long>(puzzle_identifiers[r]);
      if (id == blank_) continue;
      if (id < 0 || id >= static_cast<long long>(identifiers_.size()))
        throw data::data_error("arc_evaluator: puzzle identifier " + std::to_string(id) + " outside identifiers.json (" +
                               std::to_string(identifiers_.size()) + " entries)");
      const auto& name = parsed_[static_cast<std::size_t>(id)];
      const auto input = data::arc_invert(data::arc_crop(inputs + r * data::arc_seq_len), name.aug);
      auto pred = data::arc_invert(data::arc_crop(preds + r * data::arc_seq_len), name.aug);
      const double q = 1.0 / (1.0 + std::exp(-static_cast<double>(q_halt_logits[r])));
      auto pred_hash = arc_grid_hash(pred);
      grids_.try_emplace(pred_hash, std::move(pred));
      votes_[name.original][arc_grid_hash(input)].push_back({std::move(pred_hash), q});
    }
  }

  void clear() {
    votes_.clear();
    grids_.clear();
  }

  arc_result result() const {
    arc_result res;
    res.ks = pass_ks_;
    res.pass.assign(pass_ks_.size(), 0.0);
    res.tasks = static_cast<int>(tasks_.size());
    for (const auto& t : tasks_) {
      std::vector<int> solved(pass_ks_.size(), 0);
      for (const auto& p : t.test) {
        ++res.test_inputs;
        const auto ranked = rank(t.id, arc_grid_hash(p.input));
        if (ranked.empty()) {
          ++res.inputs_without_votes;
          continue;
        }
        const auto label = arc_grid_hash(p.output);
        for (std::size_t i = 0; i < pass_ks_.size(); ++i) {
          const std::size_t k = std::min(ranked.size(), static_cast<std::size_t>(std::max(pass_ks_[i], 0)));
          for (std::size_t j = 0; j < k; ++j)
            if (ranked[j].hash == label) {
              ++solved[i];
              break;
            }
        }
      }
      for (std::size_t i = 0; i < pass_ks_.size(); ++i)
        res.pass[i] += static_cast<double>(solved[i]) / static_cast<double>(t.test.size());
    }
    if (res.tasks)
      for (auto& x : res.pass) x /= res.tasks;
    return res;
  }

  std::vector<arc_submission_task> submission() const {
    std::vector<arc_submission_task> out;
    for (const auto& t : tasks_) {
      arc_submission_task st{t.id, {}};
      for (const auto& p : t.test) {
        const auto ranked = rank(t.id, arc_grid_hash(p.input));
        arc_attempts a;
        for (std::size_t j = 0; j < ranked.size() && static_cast<int>(j) < submission_k_; ++j)
          a.grids.push_back(grids_.at(ranked[j].hash));
        if (a.grids.empty()) a.grids.push_back(data::arc_grid{1, 1, {0}});
        while (static_cast<int>(a.grids.size()) < submission_k_) a.grids.push_back(a.grids.front());
        st.inputs.push_back(std::move(a));
      }
      out.push_back(std::move(st));
    }
    return out;
  }

  // Votes stored so far (examples fed, blank rows excluded).
  std::size_t votes() const {
    std::size_t n = 0;
    for (const auto& [task, by_input] : votes_)
      for (const auto& [h, v] : by_input) n += v.size();
    return n;
  }

  struct ranked_prediction {
    std::string hash;
    int count = 0;
    double mean_q = 0.0;
  };

  // The distinct predictions for one test input, best first.
  std::vector<ranked_prediction> rank(const std::string& task_id, const std::string& input_hash) const {
    std::vector<ranked_prediction> ranked;
    const auto t = votes_.find(task_id);
    if (t == votes_.end()) return ranked;
    const auto in = t->second.find(input_hash);
    if (in == t->second.end()) return ranked;
    std::unordered_map<std::string, std::size_t> where;
    for (const auto& v : in->second) {
      const auto [it, fresh] = where.emplace(v.hash, ranked.size());
      if (fresh) ranked.push_back({v.hash, 0, 0.0});
      ++ranked[it->second].count;
      ranked[it->second].mean_q += v.q;
    }
    for (auto& r : ranked) r.mean_q /= r.count;
    std::stable_sort(ranked.begin(), ranked.end(), [](const ranked_prediction& a, const ranked_prediction& b) {
      return a.count != b.count ? a.count > b.count : a.mean_q > b.mean_q;
    });
    return ranked;
  }

 private:
  struct vote {
    std::string hash;
    double q;
  };

  std::vector<std::string> identifiers_;
  std::vector<data::arc_parsed_name> parsed_;
  std::vector<data::arc_task> tasks_;
  int blank_;
  int submission_k_;
  std::vector<int> pass_ks_;
  std::map<std::string, std::map<std::string, std::vector<vote>>> votes_;  // task -> input hash -> votes
  std::unordered_map<std::string, data::arc_grid> grids_;                  // prediction hash -> grid
};

}  // namespace gtrm::eval
