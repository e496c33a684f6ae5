// ARC tasks in memory, loaded and validated from the two public layouts (shared/data/MANIFEST.md):
//   * per-task folders: one <task_id>.json per task, {"train": [{"input": G, "output": G}...], "test": [...]},
//     searched recursively (ConceptARC keeps corpus/<Concept>/<Concept><n>.json); the id is the file stem;
//   * combined files (what the reference's build_arc_dataset.py reads): <prefix>_<subset>_challenges.json
//     {task_id: {"train": [...], "test": [{"input": G}...]}} and an optional <prefix>_<subset>_solutions.json
//     {task_id: [G_test0, ...]} merged into the test pairs; without it the outputs are [[0]], as the reference does.
// A grid G is a list of 1..30 rows of 1..30 integers 0..9, all rows the same length. Every defect (unreadable JSON,
// ragged rows, a grid over 30x30, a value outside 0..9, a missing train/test list or output, a duplicate id) is one
// data_error naming the file and the task, or, with skip_bad, a counted skip with a warning.
// Key order is kept (nlohmann::ordered_json) because the reference appends a task's pairs in its JSON key order,
// and the public files put "test" before "train".
#pragma once
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "npy.hpp"  // data_error

namespace gtrm::data {

inline constexpr int arc_max_grid = 30;

struct arc_grid {
  int h = 0, w = 0;
  std::vector<std::uint8_t> cells;  // row-major, values 0..9
  friend bool operator==(const arc_grid&, const arc_grid&) = default;
};

struct arc_pair {
  arc_grid input, output;
};

struct arc_task {
  std::string id;
  std::string source;  // the file it came from, for messages
  std::vector<arc_pair> train, test;
  bool test_first = false;  // "test" precedes "train" in the JSON object
};

struct arc_subset {
  std::string name;
  std::vector<arc_task> tasks;  // in file order (combined) or sorted by id (folders)
};

struct arc_load_options {
  bool skip_bad = false;  // skip a defective task (or a later duplicate) with a warning instead of failing
};

struct arc_load_log {
  int skipped = 0;
  std::vector<std::string> warnings;
};

namespace arc_detail {

using ojson = nlohmann::ordered_json;

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw data_error(p.string() + ": cannot open");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Parses JSON. With dups, also collects the repeated keys of the top-level object: nlohmann, like Python's
// json.load, keeps the last value silently, and a repeated task id is an input error worth reporting.
inline ojson parse_json(const std::string& text, const std::string& file, std::vector<std::string>* dups = nullptr) {
  std::set<std::string> keys;
  const ojson::parser_callback_t cb = [&](int depth, ojson::parse_event_t ev, ojson& parsed) {
    if (dups && ev == ojson::parse_event_t::key && depth == 1) {
      auto k = parsed.get<std::string>();
      if (!keys.insert(k).second) dups->push_back(std::move(k));
    }
    return true;
  };
  try {
    return ojson::parse(text, cb);
  } catch (const std::exception& e) {
    throw data_error(file + ": not valid JSON (" + e.what() + ")");
  }
}

// Repeated top-level keys: an error, or under skip_bad one counted skip each (the last value stays, as json.load).
inline void report_dups(const std::vector<std::string>& dups, const std::string& file, const arc_load_options& opt,
                        arc_load_log* log) {
  for (const auto& k : dups) {
    const std::string msg = file + ": task " + k + ": duplicate task id";
    if (!opt.skip_bad) throw data_error(msg);
    if (log) { ++log->skipped; log->warnings.push_back("skipped: " + msg + " (the last one is kept)"); }
  }
}

}  // namespace arc_detail

// A grid as Python's json.dump writes a list of lists: "[[1, 2], [3, 4]]".
inline std::string arc_grid_pyjson(const arc_grid& g) {
  std::string s = "[";
  for (int r = 0; r < g.h; ++r) {
    s += r ? ", [" : "[";
    for (int c = 0; c < g.w; ++c) {
      if (c) s += ", ";
      s += static_cast<char>('0' + g.cells[static_cast<std::size_t>(r * g.w + c)]);
    }
    s += "]";
  }
  return s + "]";
}

// One grid; `where` prefixes the message ("file: task id: train pair 0 input").
inline arc_grid arc_grid_from_json(const nlohmann::ordered_json& j, const std::string& where) {
  if (!j.is_array() || j.empty()) throw data_error(where + ": a grid must be a non-empty list of rows");
  if (j.size() > arc_max_grid)
    throw data_error(where + ": " + std::to_string(j.size()) + " rows, more than " + std::to_string(arc_max_grid));
  arc_grid g;
  g.h = static_cast<int>(j.size());
  for (std::size_t r = 0; r < j.size(); ++r) {
    const auto& row = j[r];
    if (!row.is_array() || row.empty()) throw data_error(where + ": row " + std::to_string(r) + " is not a non-empty list");
    if (r == 0) {
      if (row.size() > arc_max_grid)
        throw data_error(where + ": " + std::to_string(row.size()) + " columns, more than " + std::to_string(arc_max_grid));
      g.w = static_cast<int>(row.size());
      g.cells.reserve(static_cast<std::size_t>(g.h) * row.size());
    } else if (row.size() != static_cast<std::size_t>(g.w)) {
      throw data_error(where + ": ragged grid, row " + std::to_string(r) + " has " + std::to_string(row.size()) +
                       " cells, row 0 has " + std::to_string(g.w));
    }
    for (std::size_t c = 0; c < row.size(); ++c) {
      const auto& v = row[c];
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 9)
        throw data_error(where + ": cell (" + std::to_string(r) + ", " + std::to_string(c) + ") is " + v.dump() +
                         ", not an integer 0..9");
      g.cells.push_back(static_cast<std::uint8_t>(v.get<std::int64_t>()));
    }
  }
  return g;
}

// One task object. outputs_required=false lets test pairs lack "output" (combined challenges; filled in later).
inline arc_task arc_task_from_json(const nlohmann::ordered_json& j, const std::string& id, const std::string& source,
                                   bool outputs_required = true) {
  const std::string where = source + ": task " + id;
  if (!j.is_object()) throw data_error(where + ": expected a JSON object with \"train\" and \"test\"");
  arc_task t;
  t.id = id;
  t.source = source;
  for (const char* key : {"train", "test"})
    if (!j.contains(key) || !j[key].is_array() || j[key].empty())
      throw data_error(where + ": missing or empty \"" + key + "\" list");
  // test_first: the first of the two keys met in the object is "test".
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() == "train" || it.key() == "test") { t.test_first = it.key() == "test"; break; }
  for (const char* key : {"train", "test"}) {
    const bool is_test = std::string(key) == "test";
    auto& dst = is_test ? t.test : t.train;
    const auto& list = j[key];
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string pw = where + ": " + key + " pair " + std::to_string(i);
      const auto& p = list[i];
      if (!p.is_object() || !p.contains("input")) throw data_error(pw + ": expected an object with \"input\"");
      arc_pair pair;
      pair.input = arc_grid_from_json(p["input"], pw + " input");
      if (p.contains("output")) pair.output = arc_grid_from_json(p["output"], pw + " output");
      else if (outputs_required || !is_test) throw data_error(pw + ": missing \"output\"");
      dst.push_back(std::move(pair));
    }
  }
  return t;
}

// All *.json under dir (recursively), one task each, sorted by id. Duplicate ids (two files with one stem) fail.
inline arc_subset load_arc_task_dir(const std::string& name, const std::filesystem::path& dir,
                                    const arc_load_options& opt = {}, arc_load_log* log = nullptr) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw data_error(dir.string() + ": subset '" + name + "': no such folder");
  std::vector<std::filesystem::path> files;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec))
    if (it->is_regular_file() && it->path().extension() == ".json") files.push_back(it->path());
  if (ec) throw data_error(dir.string() + ": cannot list (" + ec.message() + ")");
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.stem().string() < b.stem().string() || (a.stem() == b.stem() && a < b); });
  arc_subset s;
  s.name = name;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string id = files[i].stem().string();
    try {
      if (i > 0 && files[i - 1].stem() == files[i].stem())
        throw data_error(files[i].string() + ": task " + id + ": duplicate task id (also " + files[i - 1].string() + ")");
      const auto j = arc_detail::parse_json(arc_detail::read_file(files[i]), files[i].string());
      s.tasks.push_back(arc_task_from_json(j, id, files[i].string()));
    } catch (const data_error& e) {
      if (!opt.skip_bad) throw;
      if (log) { ++log->skipped; log->warnings.push_back(std::string("skipped: ") + e.what()); }
    }
  }
  if (s.tasks.empty()) throw data_error(dir.string() + ": subset '" + name + "': no task files (*.json)");
  return s;
}

// A combined challenges file and, when solutions is non-empty and exists, its solutions file.
inline arc_subset load_arc_combined(const std::string& name, const std::filesystem::path& challenges,
                                    const std::filesystem::path& solutions, const arc_load_options& opt = {},
                                    arc_load_log* log = nullptr) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(challenges, ec))
    throw data_error(challenges.string() + ": subset '" + name + "': no such file");
  std::vector<std::string> dups;
  const auto cj = arc_detail::parse_json(arc_detail::read_file(challenges), challenges.string(), &dups);
  arc_detail::report_dups(dups, challenges.string(), opt, log);
  if (!cj.is_object()) throw data_error(challenges.string() + ": expected an object {task_id: task}");
  const bool have_sols = !solutions.empty() && std::filesystem::is_regular_file(solutions, ec);
  arc_detail::ojson sj;
  if (have_sols) {
    dups.clear();
    sj = arc_detail::parse_json(arc_detail::read_file(solutions), solutions.string(), &dups);
    arc_detail::report_dups(dups, solutions.string(), opt, log);
    if (!sj.is_object()) throw data_error(solutions.string() + ": expected an object {task_id: [grid, ...]}");
  } else if (log) {
    log->warnings.push_back(name + ": solutions not found, test outputs filled with [[0]] (as the reference)");
  }
  arc_subset s;
  s.name = name;
  for (auto it = cj.begin(); it != cj.end(); ++it) {
    try {
      auto t = arc_task_from_json(it.value(), it.key(), challenges.string(), false);
      if (have_sols) {
        const std::string where = solutions.string() + ": task " + it.key();
        if (!sj.contains(it.key())) throw data_error(where + ": no solutions for this task");
        const auto& sol = sj[it.key()];
        if (!sol.is_array() || sol.size() != t.test.size())
          throw data_error(where + ": expected a list of " + std::to_string(t.test.size()) + " grids");
        for (std::size_t i = 0; i < t.test.size(); ++i)
          t.test[i].output = arc_grid_from_json(sol[i], where + ": test output " + std::to_string(i));
      } else {
        for (auto& p : t.test)
          if (p.output.cells.empty()) p.output = arc_grid{1, 1, {0}};
      }
      s.tasks.push_back(std::move(t));
    } catch (const data_error& e) {
      if (!opt.skip_bad) throw;
      if (log) { ++log->skipped; log->warnings.push_back(std::string("skipped: ") + e.what()); }
    }
  }
  if (s.tasks.empty()) throw data_error(challenges.string() + ": subset '" + name + "': no tasks");
  return s;
}

// Task ids must be unique across subsets (identifiers and test_puzzles.json are keyed by id). Under skip_bad the
// first occurrence stays and later ones are skipped.
inline void check_unique_arc_ids(std::vector<arc_subset>& subsets, const arc_load_options& opt = {},
                                 arc_load_log* log = nullptr) {
  std::map<std::string, std::string> first;  // id -> "subset (file)"
  for (auto& s : subsets) {
    std::vector<arc_task> kept;
    kept.reserve(s.tasks.size());
    for (auto& t : s.tasks) {
      const auto [it, fresh] = first.emplace(t.id, s.name + " (" + t.source + ")");
      if (fresh) {
        kept.push_back(std::move(t));
        continue;
      }
      const std::string msg = t.source + ": task " + t.id + ": duplicate task id in subset '" + s.name +
                              "', already in subset " + it->second;
      if (!opt.skip_bad) throw data_error(msg);
      if (log) { ++log->skipped; log->warnings.push_back("skipped: " + msg); }
    }
    s.tasks = std::move(kept);
  }
}

}  // namespace gtrm::data
