// Sudoku n x n (4, 6, 9; boxes from data::sudoku::shape_for) as a task.
//   tokens: 0 PAD, 1 blank, 2..n+1 digits 1..n (the builders' tokens, data/sudoku.hpp)
//   text:   digits, '.', '0' or '_' for blanks; spaces and the grid characters | + - are ignored, so "1.3.|..2." and a
//           drawn grid both read; '#' starts a comment line. CSV rows as tasks/line_reader.hpp.
//   check:  the prediction is complete, valid and keeps every given.
//   augmentations: the builders' validity-preserving shuffle (data::sudoku::draw_grid_shuffle), seeded numpy RNG.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../../data/numpy_random.hpp"
#include "../../data/sudoku.hpp"
#include "../../data/sudoku_generator.hpp"
#include "../line_reader.hpp"
#include "../task.hpp"

namespace gtrm::tasks {

// `count` shuffled versions of an n x n Sudoku, the identity first, as token maps: position i reads cell
// source_cell(i), digit token d+1 becomes digit_map[d]+1; PAD and blank stay.
inline std::vector<token_augmentation> sudoku_augmentations(int n, int box_h, int box_w, int count, std::uint64_t seed) {
  if (n < 1 || box_h < 1 || box_w < 1 || n % box_h || n % box_w)
    throw std::invalid_argument("sudoku_augmentations: boxes of " + std::to_string(box_h) + "x" + std::to_string(box_w) +
                                " do not tile a " + std::to_string(n) + "x" + std::to_string(n) + " grid");
  data::numpy_random rng(static_cast<std::uint32_t>(seed ^ (seed >> 32)));
  std::vector<token_augmentation> out;
  out.push_back(identity_augmentation(n * n, n + 2));
  for (int k = 1; k < count; ++k) {
    const auto plan = data::sudoku::draw_grid_shuffle(rng, n, box_h, box_w);
    token_augmentation a;
    a.source.resize(static_cast<std::size_t>(n * n));
    for (int i = 0; i < n * n; ++i) a.source[static_cast<std::size_t>(i)] = plan.source_cell(i);
    a.token_map = {0, 1};
    for (int d = 1; d <= n; ++d) a.token_map.push_back(plan.digit_map[static_cast<std::size_t>(d)] + 1);
    out.push_back(std::move(a));
  }
  return out;
}

class sudoku_task final : public task {
 public:
  sudoku_task(int vocab, int seq) : task(vocab, seq, square_side("sudoku", seq), true) {
    const int n = side();
    const auto s = data::sudoku::shape_for(n);
    box_h_ = s.box_h;
    box_w_ = s.box_w;
    if (vocab != n + 2)
      throw input_error("a " + std::to_string(n) + "x" + std::to_string(n) + " Sudoku model needs vocab " + std::to_string(n + 2));
  }

  const char* kind() const override { return "sudoku"; }
  std::string name() const override { return "sudoku " + std::to_string(side()) + "x" + std::to_string(side()); }

  static bool ignored(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '|' || c == '+' || c == '-'; }
  // Cell characters of a text (separators dropped).
  static std::string cells(std::string_view text) {
    std::string out;
    for (char c : text)
      if (!ignored(c)) out += c;
    return out;
  }
  static char cell_char(std::int32_t tok) { return tok >= 2 && tok <= 10 ? static_cast<char>('0' + tok - 1) : tok == 1 ? '.' : '?'; }

  token_ids parse(std::string_view text, const std::string& where) const override {
    const std::string c = cells(text);
    const int n = side();
    if (static_cast<int>(c.size()) != n * n)
      throw input_error(where + ": a " + std::to_string(n) + "x" + std::to_string(n) + " Sudoku has " + std::to_string(n * n) +
                        " cells, got " + std::to_string(c.size()));
    token_ids tok;
    for (std::size_t i = 0; i < c.size(); ++i) {
      const char ch = c[i];
      if (ch == '.' || ch == '0' || ch == '_') tok.push_back(1);
      else if (ch >= '1' && ch <= '0' + n) tok.push_back(ch - '0' + 1);
      else
        throw input_error(where + ": '" + std::string(1, ch) + "' (cell " + std::to_string(i + 1) + ") is not a digit 1-" +
                          std::to_string(n) + " or a blank ('.', '0' or '_')");
    }
    return tok;
  }
  token_ids parse_answer(std::string_view text, const std::string& where) const override {
    auto tok = parse(text, where + " (answer)");
    if (std::find(tok.begin(), tok.end(), 1) != tok.end()) throw input_error(where + ": the answer has blanks");
    return tok;
  }
  std::vector<puzzle_input> read_puzzles(std::istream& in, const std::string& name) const override {
    return read_grid_lines(*this, in, name, [](const std::string& s) { return cells(s).size(); },
                           [](const std::string& l) { return l.empty() || l[0] == '#' || cells(l).empty(); });
  }

  std::string to_line(const token_ids& tok) const override {
    std::string s;
    for (auto x : tok) s += cell_char(x);
    return s;
  }
  // "1 2 3 | 4 5 6" rows with box rules.
  std::vector<std::string> to_grid_lines(const token_ids& tok) const override {
    const int n = side();
    std::vector<std::string> rows;
    std::string rule;
    for (int c = 0; c < n; ++c) {
      if (c && c % box_w_ == 0) rule += "+-";
      rule += c + 1 < n && (c + 1) % box_w_ != 0 ? "--" : "-";
      if (c + 1 < n && (c + 1) % box_w_ == 0) rule += "-";
    }
    for (int r = 0; r < n; ++r) {
      if (r && r % box_h_ == 0) rows.push_back(rule);
      std::string s;
      for (int c = 0; c < n; ++c) {
        if (c && c % box_w_ == 0) s += "| ";
        s += cell_char(tok[static_cast<std::size_t>(r * n + c)]);
        if (c + 1 < n) s += ' ';
      }
      rows.push_back(s);
    }
    return rows;
  }
  // Digits, 0 for blanks.
  std::vector<std::vector<int>> grid_values(const token_ids& tok) const override {
    const int n = side();
    std::vector<std::vector<int>> rows(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r)
      for (int c = 0; c < n; ++c) {
        const int x = tok[static_cast<std::size_t>(r * n + c)];
        rows[static_cast<std::size_t>(r)].push_back(x >= 2 ? x - 1 : 0);
      }
    return rows;
  }
  int grids_per_row() const override { return side() <= 6 ? 5 : 4; }

  std::optional<bool> check(const token_ids& in, const token_ids& pred) const override {
    const int n = side();
    std::vector<std::uint8_t> g(pred.size());
    for (std::size_t i = 0; i < pred.size(); ++i) {
      if (pred[i] < 2 || pred[i] > n + 1) return false;
      if (in[i] >= 2 && in[i] != pred[i]) return false;
      g[i] = static_cast<std::uint8_t>(pred[i] - 1);
    }
    return data::sudoku::is_valid_solution(g.data(), n, box_h_, box_w_);
  }
  std::vector<token_augmentation> augmentations(int count, std::uint64_t seed) const override {
    return sudoku_augmentations(side(), box_h_, box_w_, count, seed);
  }
  // Sudoku answers never hold the blank token 1.
  std::string labels_mismatch(const std::vector<std::uint8_t>& labels, const std::string& data,
                              const std::string& preset) const override {
    if (std::find(labels.begin(), labels.end(), std::uint8_t{1}) == labels.end()) return "";
    return "dataset " + data + " does not look like Sudoku (its answers hold token 1, a maze wall?); preset " + preset +
           " is a Sudoku model";
  }

  std::string cell_label(std::int32_t tok) const override { return tok >= 2 ? std::string(1, cell_char(tok)) : ""; }
  std::string cell_fill(std::int32_t puzzle_tok, std::int32_t) const override { return puzzle_tok >= 2 ? "#e8e8e8" : "white"; }
  int box_h() const override { return box_h_; }
  int box_w() const override { return box_w_; }
  double drawn_size() const override { return 30.0 * side(); }

 private:
  int box_h_ = 0, box_w_ = 0;
};

}  // namespace gtrm::tasks
