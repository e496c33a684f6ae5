// The text format shared by the grid tasks (Sudoku, maze): one puzzle per line, or a drawn grid over `side` lines,
// or CSV rows "source,question,answer[,...]" (the builders' CSV) and "question,answer", whose answer is checked
// against the prediction. A task plugs in how many cells a line holds and which lines it skips.
#pragma once
#include <cstddef>
#include <functional>
#include <istream>
#include <string>
#include <vector>

#include "task.hpp"

namespace gtrm::tasks {

inline std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> f;
  std::string cur;
  for (char c : line) {
    if (c == ',') {
      f.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  f.push_back(cur);
  return f;
}

// cells_of(text): the grid cells a text holds; skip(line): a line that holds no puzzle (blank, comment).
inline std::vector<puzzle_input> read_grid_lines(const task& t, std::istream& in, const std::string& name,
                                                 const std::function<std::size_t(const std::string&)>& cells_of,
                                                 const std::function<bool(const std::string&)>& skip) {
  std::vector<puzzle_input> out;
  std::string line, pending;
  std::size_t line_no = 0, pending_start = 0;
  const auto seq = static_cast<std::size_t>(t.seq()), side = static_cast<std::size_t>(t.side());
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // UTF-8 byte-order mark (Excel's CSV)
    const std::string where = name + ":" + std::to_string(line_no);
    if (skip(line)) continue;
    if (line.find(',') != std::string::npos) {
      if (!pending.empty()) throw input_error(name + ":" + std::to_string(pending_start) + ": incomplete puzzle before a CSV row");
      const auto f = split_commas(line);
      if (f.size() >= 2 && (f[0] == "source" || f[0] == "question" || f[1] == "question")) continue;  // header
      if (f.size() < 2) throw input_error(where + ": a CSV row needs question,answer or source,question,answer[,rating]");
      const bool with_source = f.size() >= 3;
      const std::string& q = with_source ? f[1] : f[0];
      const std::string& a = with_source ? f[2] : f[1];
      puzzle_input p{where, t.parse(q, where), std::nullopt};
      if (!a.empty()) p.answer = t.parse_answer(a, where);
      out.push_back(std::move(p));
      continue;
    }
    // a line is a whole puzzle (seq cells) or one row of a drawn grid (side cells); anything else is an error
    const auto cells = cells_of(line);
    if (cells == seq && pending.empty()) {
      out.push_back({where, t.parse(line, where), std::nullopt});
      continue;
    }
    if (cells != side) {
      if (!pending.empty())
        throw input_error(where + ": expected row " + std::to_string(cells_of(pending) / side + 1) +
                          " of the grid that starts at line " + std::to_string(pending_start) + " (" + std::to_string(side) +
                          " cells), got " + std::to_string(cells) + " cells");
      t.parse(line, where);  // throws: wrong length or characters
    }
    if (pending.empty()) pending_start = line_no;
    pending += line;
    if (cells_of(pending) == seq) {
      const std::string w = name + ":" + std::to_string(pending_start);
      out.push_back({w, t.parse(pending, w), std::nullopt});
      pending.clear();
    }
  }
  if (!pending.empty()) {
    const std::string w = name + ":" + std::to_string(pending_start);
    t.parse(pending, w);  // throws with the cell count
  }
  return out;
}

}  // namespace gtrm::tasks
