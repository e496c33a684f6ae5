// The ARC dataset builder (docs/reference.md §5.3, dataset/build_arc_dataset.py), from per-task folders or the
// combined challenges/solutions files, written in the reference's layout (dataset.hpp) plus test_puzzles.json.
//   * Subsets are processed in the given order; each is shuffled (np.random.shuffle), then each task is augmented
//     (arc_augment.hpp). Demonstration pairs of every task -> train split; test pairs of the test subsets
//     (test_set_name, test_set_name2) -> test split; test pairs of the other subsets -> train split.
//   * Group = a task, puzzle = one version (named as arc_aug_name), example = one pair, in the task's JSON key order.
//   * Identifiers from puzzle_identifiers_start (0 = "<blank>"), in train-split order.
//   * Serialisation (arc_serialize.hpp): train split translated except one random example per puzzle; test split
//     at offset (0, 0). Labels keep EOS (supervised); PAD is the ignore label.
// Randomness: one numpy-compatible stream (numpy_random.hpp) seeded with `seed` and consumed in the reference's
// order (shuffles and augmentations subset by subset, then translations), so with the same input files in the same
// order the arrays equal the reference's np.random.seed(42) build. Per-task folders are read in sorted-id order,
// which is the combined files' order except for ConceptARC; and ARC-AGI-1's per-task files list "train"/"test" in
// varying order while its combined files always put "test" first, which reorders the train split's examples (the
// test split does not depend on it). Use the combined files to match the reference's arrays exactly.
// One deliberate difference: the reference iterates splits in a Python set's order (hash-seed dependent when the
// first subset is a test subset); here the train split always comes first.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "arc_augment.hpp"
#include "arc_serialize.hpp"
#include "arc_task.hpp"
#include "dataset.hpp"
#include "numpy_random.hpp"
#include "pyjson.hpp"

namespace gtrm::data {

struct arc_build_config {
  std::string test_set_name = "evaluation";
  std::string test_set_name2 = "evaluation2";
  std::uint32_t seed = 42;
  int num_aug = 1000;
  int puzzle_identifiers_start = 1;
  bool progress = false;  // a progress bar on stderr
};

struct arc_built {
  dataset_metadata train_meta, test_meta;
  split_data train, test;  // test is empty (no puzzles) when no subset is a test subset
  std::vector<std::string> identifiers;
  std::string test_puzzles_json;  // json.dump(test_puzzles) as the reference writes it
  int tasks = 0;
  int not_full = 0;  // tasks with fewer than num_aug + 1 versions
  std::vector<std::string> warnings;
};

namespace arc_detail {

// A one-line bar on stderr, redrawn at most every 0.2 s.
class progress_bar {
 public:
  progress_bar(bool on, std::string label, std::size_t total) : on_(on), label_(std::move(label)), total_(total) {}
  void update(std::size_t done) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const int width = 30;
    const int fill = total_ ? static_cast<int>(static_cast<double>(done) / static_cast<double>(total_) * width) : width;
    std::fprintf(stderr, "\r%-16s [%s%s] %zu/%zu", label_.c_str(), std::string(static_cast<std::size_t>(fill), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - fill), '.').c_str(), done, total_);
    if (done >= total_) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  bool on_;
  std::string label_;
  std::size_t total_;
  std::chrono::steady_clock::time_point last_{};
};

inline std::string pairs_pyjson(const std::vector<arc_pair>& pairs) {
  std::string s = "[";
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (i) s += ", ";
    s += "{\"input\": " + arc_grid_pyjson(pairs[i].input) + ", \"output\": " + arc_grid_pyjson(pairs[i].output) + "}";
  }
  return s + "]";
}

inline std::string task_pyjson(const arc_task& t) {
  pyjson::object_writer w;
  if (t.test_first) w.raw("test", pairs_pyjson(t.test)).raw("train", pairs_pyjson(t.train));
  else w.raw("train", pairs_pyjson(t.train)).raw("test", pairs_pyjson(t.test));
  return w.str();
}

struct entry {
  const arc_task* task;
  std::vector<arc_aug> versions;
  bool test;  // its test pairs go to the test split
};

// The pairs of one task that land in the train split, in JSON key order.
inline std::vector<const arc_pair*> train_pairs(const entry& e) {
  std::vector<const arc_pair*> out;
  const auto add = [&](const std::vector<arc_pair>& v) { for (const auto& p : v) out.push_back(&p); };
  if (e.test) {
    add(e.task->train);
  } else if (e.task->test_first) {
    add(e.task->test);
    add(e.task->train);
  } else {
    add(e.task->train);
    add(e.task->test);
  }
  return out;
}

inline dataset_metadata arc_metadata(const split_data& d, int num_identifiers) {
  dataset_metadata m;
  m.pad_id = arc_pad_token;
  m.ignore_label_id = arc_pad_token;
  m.blank_identifier_id = 0;
  m.vocab_size = arc_vocab_size;
  m.seq_len = arc_seq_len;
  m.num_puzzle_identifiers = num_identifiers;
  m.total_groups = static_cast<int>(d.num_groups());
  m.total_puzzles = static_cast<int>(d.num_puzzles());
  m.mean_puzzle_examples =
      d.num_puzzles() ? static_cast<double>(d.num_examples()) / static_cast<double>(d.num_puzzles()) : 0.0;
  return m;
}

}  // namespace arc_detail

// Builds both splits in memory from loaded subsets (ids unique across them: check_unique_arc_ids).
inline arc_built build_arc(const std::vector<arc_subset>& subsets, const arc_build_config& cfg) {
  using namespace arc_detail;
  if (cfg.puzzle_identifiers_start < 1) throw data_error("arc: puzzle_identifiers_start must be >= 1 (0 is <blank>)");
  arc_built out;
  numpy_random rng(cfg.seed);
  std::size_t total_tasks = 0;
  for (const auto& s : subsets) total_tasks += s.tasks.size();

  // 1. Shuffle each subset and augment its tasks, in the reference's draw order.
  std::vector<entry> entries;
  entries.reserve(total_tasks);
  progress_bar bar(cfg.progress, "arc: augment", total_tasks);
  for (const auto& s : subsets) {
    std::vector<const arc_task*> order;
    for (const auto& t : s.tasks) order.push_back(&t);
    rng.shuffle(order.begin(), order.end());
    const bool test = s.name == cfg.test_set_name || s.name == cfg.test_set_name2;
    for (const auto* t : order) {
      entries.push_back({t, arc_augmentations(*t, cfg.num_aug, rng), test});
      if (cfg.num_aug > 0 && static_cast<int>(entries.back().versions.size()) < cfg.num_aug + 1) {
        ++out.not_full;
        out.warnings.push_back("[Puzzle " + t->id + "] augmentation not full, only " +
                               std::to_string(entries.back().versions.size()));
      }
      bar.update(entries.size());
    }
  }
  out.tasks = static_cast<int>(entries.size());

  // 2. Identifiers, in train-split order (every task has demonstrations, so every name appears there).
  std::vector<std::vector<std::int32_t>> ids(entries.size());
  std::unordered_map<std::string, std::int32_t> id_of;
  out.identifiers.assign(static_cast<std::size_t>(cfg.puzzle_identifiers_start), "<blank>");
  for (std::size_t e = 0; e < entries.size(); ++e)
    for (const auto& v : entries[e].versions) {
      const std::string name = v.is_identity() ? entries[e].task->id : arc_aug_name(entries[e].task->id, v);
      const auto [it, fresh] = id_of.emplace(name, static_cast<std::int32_t>(out.identifiers.size()));
      if (fresh) out.identifiers.push_back(name);
      ids[e].push_back(it->second);
    }
  const int num_identifiers = static_cast<int>(out.identifiers.size());

  // 3. Train split, reserved up front (ARC-AGI-1 with 1000 augmentations is ~3.6 GB per array).
  std::size_t train_rows = 0, test_rows = 0;
  for (const auto& e : entries) {
    train_rows += train_pairs(e).size() * e.versions.size();
    if (e.test) test_rows += e.task->test.size() * e.versions.size();
  }
  for (auto* d : {&out.train, &out.test}) d->seq_len = arc_seq_len;
  out.train.inputs.reserve(train_rows * arc_seq_len);
  out.train.labels.reserve(train_rows * arc_seq_len);
  std::vector<std::uint8_t> in_seq(arc_seq_len), out_seq(arc_seq_len);
  progress_bar bar_train(cfg.progress, "arc: train split", entries.size());
  for (std::size_t ei = 0; ei < entries.size(); ++ei) {
    const auto& e = entries[ei];
    const auto pairs = train_pairs(e);
    for (std::size_t v = 0; v < e.versions.size(); ++v) {
      const auto no_aug_id = rng.randint(0, static_cast<std::int64_t>(pairs.size()));
      for (std::size_t k = 0; k < pairs.size(); ++k) {
        const arc_grid gi = arc_apply(pairs[k]->input, e.versions[v]);
        const arc_grid go = arc_apply(pairs[k]->output, e.versions[v]);
        const auto [r, c] = static_cast<std::int64_t>(k) == no_aug_id ? std::pair<int, int>{0, 0}
                                                                       : arc_draw_translation(gi, go, rng);
        arc_encode(gi, r, c, in_seq.data());
        arc_encode(go, r, c, out_seq.data());
        out.train.add_example(in_seq.data(), out_seq.data());
      }
      out.train.end_puzzle(ids[ei][v]);
    }
    out.train.end_group();
    bar_train.update(ei + 1);
  }

  // 4. Test split, never translated (the reference still draws no_aug_id here; nothing depends on those draws).
  out.test.inputs.reserve(test_rows * arc_seq_len);
  out.test.labels.reserve(test_rows * arc_seq_len);
  std::string tp = "{";
  bool first_tp = true;
  for (std::size_t ei = 0; ei < entries.size(); ++ei) {
    const auto& e = entries[ei];
    if (!e.test) continue;
    tp += first_tp ? "" : ", ";
    first_tp = false;
    tp += pyjson::string(e.task->id) + ": " + task_pyjson(*e.task);
    for (std::size_t v = 0; v < e.versions.size(); ++v) {
      for (const auto& p : e.task->test) {
        arc_encode(arc_apply(p.input, e.versions[v]), 0, 0, in_seq.data());
        arc_encode(arc_apply(p.output, e.versions[v]), 0, 0, out_seq.data());
        out.test.add_example(in_seq.data(), out_seq.data());
      }
      out.test.end_puzzle(ids[ei][v]);
    }
    out.test.end_group();
  }
  out.test_puzzles_json = tp + "}";
  out.train_meta = arc_metadata(out.train, num_identifiers);
  out.test_meta = arc_metadata(out.test, num_identifiers);
  return out;
}

// Where the subsets come from. Each entry of `subsets` is "name" or "name=path":
//   * name=path: path is a folder of per-task JSON files (searched recursively) or a combined challenges file
//     (its solutions file is the same path with "_challenges.json" -> "_solutions.json", if present);
//   * name with input_file_prefix: <prefix>_<name>_challenges.json (+ <prefix>_<name>_solutions.json);
//   * name with input_dir: the folder <input_dir>/<name>.
struct arc_source_options {
  std::string input_dir;
  std::string input_file_prefix;
  std::vector<std::string> subsets = {"training", "evaluation", "concept"};
  bool skip_bad = false;
};

inline std::vector<arc_subset> load_arc_subsets(const arc_source_options& src, arc_load_log* log = nullptr) {
  namespace fs = std::filesystem;
  if (src.subsets.empty()) throw data_error("arc: no subsets given");
  const arc_load_options opt{src.skip_bad};
  const auto combined = [&](const std::string& name, const fs::path& challenges) {
    std::string sols = challenges.string();
    const std::string tail = "_challenges.json";
    if (sols.size() > tail.size() && sols.compare(sols.size() - tail.size(), tail.size(), tail) == 0)
      sols = sols.substr(0, sols.size() - tail.size()) + "_solutions.json";
    else
      sols.clear();
    return load_arc_combined(name, challenges, sols, opt, log);
  };
  std::vector<arc_subset> out;
  for (const auto& spec : src.subsets) {
    const auto eq = spec.find('=');
    const std::string name = spec.substr(0, eq);
    if (name.empty()) throw data_error("arc: empty subset name in '" + spec + "'");
    std::error_code ec;
    if (eq != std::string::npos) {
      const fs::path p = spec.substr(eq + 1);
      out.push_back(fs::is_directory(p, ec) ? load_arc_task_dir(name, p, opt, log) : combined(name, p));
    } else if (!src.input_file_prefix.empty()) {
      out.push_back(combined(name, src.input_file_prefix + "_" + name + "_challenges.json"));
    } else if (!src.input_dir.empty()) {
      out.push_back(load_arc_task_dir(name, fs::path(src.input_dir) / name, opt, log));
    } else {
      throw data_error("arc: subset '" + name + "' has no source: give --input-dir, --input-file-prefix or name=path");
    }
  }
  check_unique_arc_ids(out, opt, log);
  return out;
}

struct arc_dataset_options {
  arc_source_options source;
  arc_build_config build;
  std::string output_dir;
  bool overwrite = false;
};

struct arc_dataset_summary {
  int tasks = 0, skipped = 0, not_full = 0, num_identifiers = 0;
  std::size_t train_examples = 0, train_puzzles = 0, test_examples = 0, test_puzzles = 0;
  double seconds = 0;
};

// Loads, builds and writes <output_dir>/{train,test}/..., identifiers.json and test_puzzles.json through
// dataset_writer (staged, renamed into place at the end). Warnings (skips, augmentation shortfalls) go to stderr.
inline arc_dataset_summary build_arc_dataset(const arc_dataset_options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.output_dir.empty()) throw data_error("arc: no output directory (--output-dir)");
  dataset_writer writer(o.output_dir, o.overwrite);
  arc_load_log log;
  const auto subsets = load_arc_subsets(o.source, &log);
  for (const auto& w : log.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (log.skipped) std::fprintf(stderr, "warning: %d task(s) skipped\n", log.skipped);
  auto built = build_arc(subsets, o.build);
  for (const auto& w : built.warnings) std::fprintf(stderr, "%s\n", w.c_str());
  arc_dataset_summary s;
  s.tasks = built.tasks;
  s.skipped = log.skipped;
  s.not_full = built.not_full;
  s.num_identifiers = static_cast<int>(built.identifiers.size());
  s.train_examples = built.train.num_examples();
  s.train_puzzles = built.train.num_puzzles();
  s.test_examples = built.test.num_examples();
  s.test_puzzles = built.test.num_puzzles();
  if (o.build.progress) std::fprintf(stderr, "arc: writing %s\n", writer.target().string().c_str());
  writer.write_split("train", built.train_meta, built.train);
  built.train = split_data{};  // free the big arrays before the next ones are written
  if (built.test.num_puzzles() > 0) writer.write_split("test", built.test_meta, built.test);
  writer.write_identifiers(built.identifiers);
  writer.write_text("test_puzzles.json", built.test_puzzles_json);
  writer.commit();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace gtrm::data
