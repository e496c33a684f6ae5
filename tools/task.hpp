// What a model's tokens mean, per task, and how puzzles are read from and written to text.
//   sudoku n x n: tokens 0 PAD, 1 blank, 2..n+1 digits 1..n; text: digits, '.', '0' or '_' for blanks; spaces and
//                 the grid characters | + - are ignored, so "1.3.|..2." and a drawn grid both read.
//   maze side x side: tokens 1 '#', 2 ' ', 3 'S', 4 'G', 5 'o' (path); text: side*side characters of "# SGo" on one
//                 line (the CSV question), or side lines of side characters.
//   arc: 30x30 tokens 0 PAD, 1 EOS, 2..11 colours 0..9; text: a JSON grid [[...], ...] of colours, at most 30x30.
// Files and stdin hold one puzzle per line, or a drawn grid over several lines; CSV rows "source,question,answer[,...]"
// (the builders' CSV) and "question,answer" also read, and their answer is checked against the prediction.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtrm/data/arc_serialize.hpp>
#include <gtrm/data/sudoku.hpp>
#include <gtrm/data/sudoku_generator.hpp>

#include "common.hpp"

namespace gtrm::cli {

enum class task_kind { sudoku, maze, arc };

inline const char* task_kind_name(task_kind k) {
  switch (k) {
    case task_kind::sudoku: return "sudoku";
    case task_kind::maze: return "maze";
    default: return "arc";
  }
}

inline task_kind parse_task_kind(const std::string& s) {
  if (s == "sudoku") return task_kind::sudoku;
  if (s == "maze") return task_kind::maze;
  if (s == "arc") return task_kind::arc;
  throw cli_error("unknown task '" + s + "' (sudoku, maze or arc)");
}

struct task_shape {
  task_kind kind = task_kind::sudoku;
  int side = 0;            // grid side (sudoku n, maze side, arc 30)
  int box_h = 0, box_w = 0;  // sudoku boxes
  int vocab = 0, seq = 0;

  std::string name() const {
    const std::string g = std::to_string(side) + "x" + std::to_string(side);
    return kind == task_kind::arc ? "arc (30x30 canvas)" : std::string(task_kind_name(kind)) + " " + g;
  }

  // The task a model of this vocabulary and sequence length solves; throws when they do not fit the task.
  static task_shape make(task_kind k, int vocab, int seq) {
    task_shape t;
    t.kind = k;
    t.vocab = vocab;
    t.seq = seq;
    const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(seq))));
    if (side * side != seq) throw cli_error("a " + std::string(task_kind_name(k)) + " model needs a square grid, seq_len is " + std::to_string(seq));
    t.side = side;
    if (k == task_kind::sudoku) {
      const auto s = data::sudoku::shape_for(side);
      t.box_h = s.box_h;
      t.box_w = s.box_w;
      if (vocab != side + 2) throw cli_error("a " + std::to_string(side) + "x" + std::to_string(side) + " Sudoku model needs vocab " + std::to_string(side + 2));
    } else if (k == task_kind::maze) {
      if (vocab != 6) throw cli_error("a maze model needs vocab 6 (PAD # space S G o)");
    } else if (seq != data::arc_seq_len || vocab != data::arc_vocab_size) {
      throw cli_error("an ARC model needs seq_len 900 and vocab 12");
    }
    return t;
  }
};

// ---- parsing ----

inline constexpr std::string_view maze_chars = "# SGo";  // tokens 1..5

inline bool sudoku_ignored(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '|' || c == '+' || c == '-'; }

// Cell characters of a Sudoku text (separators dropped).
inline std::string sudoku_cells(std::string_view text) {
  std::string out;
  for (char c : text)
    if (!sudoku_ignored(c)) out += c;
  return out;
}

inline std::vector<std::int32_t> parse_sudoku(const task_shape& t, std::string_view text, const std::string& where) {
  const std::string cells = sudoku_cells(text);
  const int n = t.side;
  if (static_cast<int>(cells.size()) != n * n)
    throw cli_error(where + ": a " + std::to_string(n) + "x" + std::to_string(n) + " Sudoku has " + std::to_string(n * n) +
                    " cells, got " + std::to_string(cells.size()));
  std::vector<std::int32_t> tok;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const char c = cells[i];
    if (c == '.' || c == '0' || c == '_') tok.push_back(1);
    else if (c >= '1' && c <= '0' + n) tok.push_back(c - '0' + 1);
    else
      throw cli_error(where + ": '" + std::string(1, c) + "' (cell " + std::to_string(i + 1) + ") is not a digit 1-" +
                      std::to_string(n) + " or a blank ('.', '0' or '_')");
  }
  return tok;
}

inline std::vector<std::int32_t> parse_maze(const task_shape& t, std::string_view text, const std::string& where) {
  std::string cells;
  for (char c : text)
    if (c != '\n' && c != '\r') cells += c;
  const int n = t.side;
  if (static_cast<int>(cells.size()) != n * n)
    throw cli_error(where + ": a " + std::to_string(n) + "x" + std::to_string(n) + " maze has " + std::to_string(n * n) +
                    " cells, got " + std::to_string(cells.size()));
  std::vector<std::int32_t> tok;
  int starts = 0, goals = 0;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const auto p = maze_chars.find(cells[i]);
    if (p == std::string_view::npos)
      throw cli_error(where + ": '" + std::string(1, cells[i]) + "' (cell " + std::to_string(i + 1) +
                      ") is not one of the maze characters '#', ' ', 'S', 'G', 'o'");
    tok.push_back(static_cast<std::int32_t>(p) + 1);
    starts += cells[i] == 'S';
    goals += cells[i] == 'G';
  }
  if (starts != 1 || goals != 1)
    throw cli_error(where + ": a maze needs exactly one S and one G, got " + std::to_string(starts) + " and " + std::to_string(goals));
  return tok;
}

inline data::arc_grid json_to_arc_grid(const json& j, const std::string& where) {
  if (!j.is_array() || j.empty() || j.size() > 30)
    throw cli_error(where + ": an ARC grid is a JSON list of 1 to 30 rows");
  data::arc_grid g;
  g.h = static_cast<int>(j.size());
  for (const auto& row : j) {
    if (!row.is_array() || row.empty() || row.size() > 30) throw cli_error(where + ": every ARC row is a list of 1 to 30 colours");
    if (g.w == 0) g.w = static_cast<int>(row.size());
    if (static_cast<int>(row.size()) != g.w) throw cli_error(where + ": the rows of an ARC grid must have equal lengths");
    for (const auto& v : row) {
      if (!v.is_number_integer() || v.get<int>() < 0 || v.get<int>() > 9) throw cli_error(where + ": ARC colours are integers 0-9");
      g.cells.push_back(static_cast<std::uint8_t>(v.get<int>()));
    }
  }
  return g;
}

inline std::vector<std::int32_t> parse_arc(std::string_view text, const std::string& where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception&) {
    throw cli_error(where + ": an ARC puzzle is a JSON grid such as [[0,1],[1,0]]");
  }
  const auto g = json_to_arc_grid(j, where);
  std::vector<std::uint8_t> seq(data::arc_seq_len);
  data::arc_encode(g, 0, 0, seq.data());
  return {seq.begin(), seq.end()};
}

inline std::vector<std::int32_t> parse_puzzle(const task_shape& t, std::string_view text, const std::string& where) {
  switch (t.kind) {
    case task_kind::sudoku: return parse_sudoku(t, text, where);
    case task_kind::maze: return parse_maze(t, text, where);
    default: return parse_arc(text, where);
  }
}

// A label (answer) text: for Sudoku every cell must be a digit.
inline std::vector<std::int32_t> parse_answer(const task_shape& t, std::string_view text, const std::string& where) {
  auto tok = t.kind == task_kind::maze ? [&] {
    std::vector<std::int32_t> v;
    std::string cells;
    for (char c : text) if (c != '\r' && c != '\n') cells += c;
    if (static_cast<int>(cells.size()) != t.seq) throw cli_error(where + ": the answer has " + std::to_string(cells.size()) + " cells, expected " + std::to_string(t.seq));
    for (char c : cells) {
      const auto p = maze_chars.find(c);
      if (p == std::string_view::npos) throw cli_error(where + ": '" + std::string(1, c) + "' in the answer is not a maze character");
      v.push_back(static_cast<std::int32_t>(p) + 1);
    }
    return v;
  }() : parse_puzzle(t, text, where + " (answer)");
  if (t.kind == task_kind::sudoku && std::find(tok.begin(), tok.end(), 1) != tok.end())
    throw cli_error(where + ": the answer has blanks");
  return tok;
}

// ---- formatting ----

inline char sudoku_char(std::int32_t tok) { return tok >= 2 && tok <= 10 ? static_cast<char>('0' + tok - 1) : tok == 1 ? '.' : '?'; }
inline char maze_char(std::int32_t tok) { return tok >= 1 && tok <= 5 ? maze_chars[static_cast<std::size_t>(tok - 1)] : '?'; }

inline data::arc_grid arc_grid_of(const std::vector<std::int32_t>& tok) { return data::arc_crop(tok.data()); }

inline std::string arc_grid_json(const data::arc_grid& g) {
  std::string s = "[";
  for (int r = 0; r < g.h; ++r) {
    s += r ? ",[" : "[";
    for (int c = 0; c < g.w; ++c) s += (c ? "," : "") + std::to_string(g.cells[static_cast<std::size_t>(r * g.w + c)]);
    s += "]";
  }
  return s + "]";
}

// One line: Sudoku digits and '.', maze characters, ARC a JSON grid.
inline std::string to_line(const task_shape& t, const std::vector<std::int32_t>& tok) {
  std::string s;
  if (t.kind == task_kind::arc) return arc_grid_json(arc_grid_of(tok));
  for (auto x : tok) s += t.kind == task_kind::sudoku ? sudoku_char(x) : maze_char(x);
  return s;
}

// Rows of a drawn grid. Sudoku: "1 2 3 | 4 5 6" with box rules; maze: the characters; ARC: colour digits.
inline std::vector<std::string> to_grid_lines(const task_shape& t, const std::vector<std::int32_t>& tok) {
  std::vector<std::string> rows;
  if (t.kind == task_kind::arc) {
    const auto g = arc_grid_of(tok);
    for (int r = 0; r < g.h; ++r) {
      std::string s;
      for (int c = 0; c < g.w; ++c) s += static_cast<char>('0' + g.cells[static_cast<std::size_t>(r * g.w + c)]);
      rows.push_back(s);
    }
    if (rows.empty()) rows.push_back("(empty)");
    return rows;
  }
  const int n = t.side;
  if (t.kind == task_kind::maze) {
    for (int r = 0; r < n; ++r) {
      std::string s;
      for (int c = 0; c < n; ++c) s += maze_char(tok[static_cast<std::size_t>(r * n + c)]);
      rows.push_back(s);
    }
    return rows;
  }
  std::string rule;
  for (int c = 0; c < n; ++c) {
    if (c && c % t.box_w == 0) rule += "+-";
    rule += c + 1 < n && (c + 1) % t.box_w != 0 ? "--" : "-";
    if (c + 1 < n && (c + 1) % t.box_w == 0) rule += "-";
  }
  for (int r = 0; r < n; ++r) {
    if (r && r % t.box_h == 0) rows.push_back(rule);
    std::string s;
    for (int c = 0; c < n; ++c) {
      if (c && c % t.box_w == 0) s += "| ";
      s += sudoku_char(tok[static_cast<std::size_t>(r * n + c)]);
      if (c + 1 < n) s += ' ';
    }
    rows.push_back(s);
  }
  return rows;
}

// Whether a prediction is a valid answer to the puzzle, where the task has a checker: a Sudoku is complete, valid and
// keeps every given; a maze path ('o') joins S to G through open cells and keeps every other cell. ARC: unknown.
inline std::optional<bool> check_answer(const task_shape& t, const std::vector<std::int32_t>& in, const std::vector<std::int32_t>& pred) {
  const int n = t.side;
  if (t.kind == task_kind::sudoku) {
    std::vector<std::uint8_t> g(pred.size());
    for (std::size_t i = 0; i < pred.size(); ++i) {
      if (pred[i] < 2 || pred[i] > n + 1) return false;
      if (in[i] >= 2 && in[i] != pred[i]) return false;
      g[i] = static_cast<std::uint8_t>(pred[i] - 1);
    }
    return data::sudoku::is_valid_solution(g.data(), n, t.box_h, t.box_w);
  }
  if (t.kind == task_kind::maze) {
    int s = -1, goal = -1;
    for (std::size_t i = 0; i < in.size(); ++i) {
      const bool path = pred[i] == 5;
      if (in[i] == 3) s = static_cast<int>(i);
      if (in[i] == 4) goal = static_cast<int>(i);
      if (path ? in[i] != 2 : pred[i] != in[i]) return false;  // the path only covers open cells; the rest is kept
    }
    if (s < 0 || goal < 0) return false;
    // walk from S over path cells; every path cell must be reached and G must be adjacent to the walk
    std::vector<int> stack{s};
    std::vector<char> seen(pred.size(), 0);
    seen[static_cast<std::size_t>(s)] = 1;
    bool reached = false;
    while (!stack.empty()) {
      const int c = stack.back();
      stack.pop_back();
      const int r = c / n, col = c % n;
      const int nb[4][2] = {{r - 1, col}, {r + 1, col}, {r, col - 1}, {r, col + 1}};
      for (const auto& q : nb) {
        if (q[0] < 0 || q[0] >= n || q[1] < 0 || q[1] >= n) continue;
        const int k = q[0] * n + q[1];
        if (k == goal) reached = true;
        if (pred[static_cast<std::size_t>(k)] == 5 && !seen[static_cast<std::size_t>(k)]) {
          seen[static_cast<std::size_t>(k)] = 1;
          stack.push_back(k);
        }
      }
    }
    for (std::size_t i = 0; i < pred.size(); ++i)
      if (pred[i] == 5 && !seen[i]) return false;
    return reached;
  }
  return std::nullopt;
}

// ---- reading puzzles ----

struct puzzle_input {
  std::string where;                                // "argument 1", "puzzles.txt:3", "stdin:2"
  std::vector<std::int32_t> tokens;
  std::optional<std::vector<std::int32_t>> answer;  // from a CSV row
};

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

// Puzzles from a stream: one per line, a grid over several lines, or CSV rows (see the top of this file).
inline std::vector<puzzle_input> read_puzzles(const task_shape& t, std::istream& in, const std::string& name) {
  std::vector<puzzle_input> out;
  if (t.kind == task_kind::arc) {
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    json j;
    try {
      j = json::parse(text);
    } catch (const std::exception&) {
      throw cli_error(name + ": expected a JSON grid [[...]] or a list of grids");
    }
    const bool many = j.is_array() && !j.empty() && j[0].is_array() && !j[0].empty() && j[0][0].is_array();
    const json grids = many ? j : json::array({j});
    for (std::size_t i = 0; i < grids.size(); ++i) {
      const std::string where = name + " grid " + std::to_string(i + 1);
      const auto g = json_to_arc_grid(grids[i], where);
      std::vector<std::uint8_t> seq(data::arc_seq_len);
      data::arc_encode(g, 0, 0, seq.data());
      out.push_back({where, {seq.begin(), seq.end()}, std::nullopt});
    }
    return out;
  }
  std::string line, pending;
  std::size_t line_no = 0, pending_start = 0;
  const auto cells_of = [&](const std::string& s) {
    return t.kind == task_kind::sudoku ? sudoku_cells(s).size() : s.size();
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = name + ":" + std::to_string(line_no);
    if (t.kind == task_kind::sudoku && (line.empty() || line[0] == '#' || sudoku_cells(line).empty())) continue;
    if (t.kind == task_kind::maze && line.empty()) continue;
    if (line.find(',') != std::string::npos) {
      if (!pending.empty()) throw cli_error(name + ":" + std::to_string(pending_start) + ": incomplete puzzle before a CSV row");
      const auto f = split_commas(line);
      if (f.size() >= 2 && (f[0] == "source" || f[0] == "question" || f[1] == "question")) continue;  // header
      if (f.size() < 2) throw cli_error(where + ": a CSV row needs question,answer or source,question,answer[,rating]");
      const bool with_source = f.size() >= 3;
      const std::string& q = with_source ? f[1] : f[0];
      const std::string& a = with_source ? f[2] : f[1];
      puzzle_input p{where, parse_puzzle(t, q, where), std::nullopt};
      if (!a.empty()) p.answer = parse_answer(t, a, where);
      out.push_back(std::move(p));
      continue;
    }
    // a line is a whole puzzle (seq cells) or one row of a drawn grid (side cells); anything else is an error
    const auto cells = cells_of(line);
    if (cells == static_cast<std::size_t>(t.seq) && pending.empty()) {
      out.push_back({where, parse_puzzle(t, line, where), std::nullopt});
      continue;
    }
    if (cells != static_cast<std::size_t>(t.side)) {
      if (!pending.empty())
        throw cli_error(where + ": expected row " + std::to_string(cells_of(pending) / static_cast<std::size_t>(t.side) + 1) +
                        " of the grid that starts at line " + std::to_string(pending_start) + " (" + std::to_string(t.side) +
                        " cells), got " + std::to_string(cells) + " cells");
      parse_puzzle(t, line, where);  // throws: wrong length or characters
    }
    if (pending.empty()) pending_start = line_no;
    pending += line;
    if (cells_of(pending) == static_cast<std::size_t>(t.seq)) {
      const std::string w = name + ":" + std::to_string(pending_start);
      out.push_back({w, parse_puzzle(t, pending, w), std::nullopt});
      pending.clear();
    }
  }
  if (!pending.empty()) {
    const std::string w = name + ":" + std::to_string(pending_start);
    parse_puzzle(t, pending, w);  // throws with the cell count
  }
  return out;
}

}  // namespace gtrm::cli
