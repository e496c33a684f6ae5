// Maze side x side (Maze-Hard: 30) as a task.
//   tokens: 0 PAD, 1 '#', 2 ' ', 3 'S', 4 'G', 5 'o' (path) (the builders' tokens, data/maze.hpp)
//   text:   side*side characters of "# SGo" on one line (the CSV question), or side lines of side characters.
//   check:  the path ('o') joins S to G through open cells and keeps every other cell.
//   augmentations: the 8 dihedral transforms (data/dihedral.hpp), as the builder's --aug.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../line_reader.hpp"
#include "../task.hpp"

namespace gtrm::tasks {

class maze_task final : public task {
 public:
  static constexpr std::string_view chars = "# SGo";  // tokens 1..5

  maze_task(int vocab, int seq) : task(vocab, seq, square_side("maze", seq), true) {
    if (vocab != 6) throw input_error("a maze model needs vocab 6 (PAD # space S G o)");
  }

  const char* kind() const override { return "maze"; }
  std::string name() const override { return "maze " + std::to_string(side()) + "x" + std::to_string(side()); }
  static char cell_char(std::int32_t tok) { return tok >= 1 && tok <= 5 ? chars[static_cast<std::size_t>(tok - 1)] : '?'; }

  token_ids parse(std::string_view text, const std::string& where) const override {
    std::string cells;
    for (char c : text)
      if (c != '\n' && c != '\r') cells += c;
    const int n = side();
    if (static_cast<int>(cells.size()) != n * n)
      throw input_error(where + ": a " + std::to_string(n) + "x" + std::to_string(n) + " maze has " + std::to_string(n * n) +
                        " cells, got " + std::to_string(cells.size()));
    token_ids tok;
    int starts = 0, goals = 0;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const auto p = chars.find(cells[i]);
      if (p == std::string_view::npos)
        throw input_error(where + ": '" + std::string(1, cells[i]) + "' (cell " + std::to_string(i + 1) +
                          ") is not one of the maze characters '#', ' ', 'S', 'G', 'o'");
      tok.push_back(static_cast<std::int32_t>(p) + 1);
      starts += cells[i] == 'S';
      goals += cells[i] == 'G';
    }
    if (starts != 1 || goals != 1)
      throw input_error(where + ": a maze needs exactly one S and one G, got " + std::to_string(starts) + " and " + std::to_string(goals));
    return tok;
  }
  token_ids parse_answer(std::string_view text, const std::string& where) const override {
    token_ids v;
    std::string cells;
    for (char c : text)
      if (c != '\r' && c != '\n') cells += c;
    if (static_cast<int>(cells.size()) != seq())
      throw input_error(where + ": the answer has " + std::to_string(cells.size()) + " cells, expected " + std::to_string(seq()));
    for (char c : cells) {
      const auto p = chars.find(c);
      if (p == std::string_view::npos) throw input_error(where + ": '" + std::string(1, c) + "' in the answer is not a maze character");
      v.push_back(static_cast<std::int32_t>(p) + 1);
    }
    return v;
  }
  std::vector<puzzle_input> read_puzzles(std::istream& in, const std::string& name) const override {
    return read_grid_lines(*this, in, name, [](const std::string& s) { return s.size(); },
                           [](const std::string& l) { return l.empty(); });
  }
  bool argument_is_stream(std::string_view arg) const override {
    return arg.find(',') != std::string_view::npos || arg.find('\n') != std::string_view::npos;
  }

  std::string to_line(const token_ids& tok) const override {
    std::string s;
    for (auto x : tok) s += cell_char(x);
    return s;
  }
  std::vector<std::string> to_grid_lines(const token_ids& tok) const override {
    const int n = side();
    std::vector<std::string> rows;
    for (int r = 0; r < n; ++r) {
      std::string s;
      for (int c = 0; c < n; ++c) s += cell_char(tok[static_cast<std::size_t>(r * n + c)]);
      rows.push_back(s);
    }
    return rows;
  }
  // Token ids.
  std::vector<std::vector<int>> grid_values(const token_ids& tok) const override {
    const int n = side();
    std::vector<std::vector<int>> rows(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r)
      for (int c = 0; c < n; ++c) rows[static_cast<std::size_t>(r)].push_back(tok[static_cast<std::size_t>(r * n + c)]);
    return rows;
  }
  int grids_per_row() const override { return side() <= 12 ? 4 : 2; }

  std::optional<bool> check(const token_ids& in, const token_ids& pred) const override {
    const int n = side();
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
  std::vector<token_augmentation> augmentations(int count, std::uint64_t) const override {
    return dihedral_augmentations(side(), vocab(), count);
  }
  // Maze answers always hold walls (token 1).
  std::string labels_mismatch(const std::vector<std::uint8_t>& labels, const std::string& data,
                              const std::string& preset) const override {
    if (labels.empty() || std::find(labels.begin(), labels.end(), std::uint8_t{1}) != labels.end()) return "";
    return "dataset " + data + " does not look like mazes (no walls in its answers); preset " + preset + " is a maze model";
  }

  std::string cell_fill(std::int32_t, std::int32_t tok) const override {
    switch (tok) {
      case 1: return "#333";
      case 3: return "#2a9d4a";
      case 4: return "#d1495b";
      case 5: return "#3a7bd5";
      default: return "white";
    }
  }
};

}  // namespace gtrm::tasks
