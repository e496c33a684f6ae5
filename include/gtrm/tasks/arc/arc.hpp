// ARC (the 30x30 canvas) as a task.
//   tokens: 0 PAD, 1 EOS, 2..11 colours 0..9 (data/arc_serialize.hpp); a grid sits at the canvas's corner.
//   text:   a JSON grid [[...], ...] of colours, at most 30x30; a stream holds one grid or a list of grids.
//   check:  none (an ARC answer is right or wrong only against its task's output).
//   augmentations: none at test time here; ARC votes over its dataset's versions (eval/arc_vote.hpp), scoring
//           arc_vote.
#pragma once
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "../../data/arc_serialize.hpp"
#include "../task.hpp"

namespace gtrm::tasks {

class arc_task final : public task {
 public:
  arc_task(int vocab, int seq) : task(vocab, seq, data::arc_max_grid, false) {
    if (seq != data::arc_seq_len || vocab != data::arc_vocab_size) throw input_error("an ARC model needs seq_len 900 and vocab 12");
  }

  const char* kind() const override { return "arc"; }
  std::string name() const override { return "arc (30x30 canvas)"; }

  static data::arc_grid grid_of_json(const nlohmann::json& j, const std::string& where) {
    if (!j.is_array() || j.empty() || j.size() > 30) throw input_error(where + ": an ARC grid is a JSON list of 1 to 30 rows");
    data::arc_grid g;
    g.h = static_cast<int>(j.size());
    for (const auto& row : j) {
      if (!row.is_array() || row.empty() || row.size() > 30) throw input_error(where + ": every ARC row is a list of 1 to 30 colours");
      if (g.w == 0) g.w = static_cast<int>(row.size());
      if (static_cast<int>(row.size()) != g.w) throw input_error(where + ": the rows of an ARC grid must have equal lengths");
      for (const auto& v : row) {
        // read as int64: get<int>() would truncate 4294967299 to the colour 3
        if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 9)
          throw input_error(where + ": ARC colours are integers 0-9");
        g.cells.push_back(static_cast<std::uint8_t>(v.get<std::int64_t>()));
      }
    }
    return g;
  }
  static token_ids encode(const data::arc_grid& g) {
    std::vector<std::uint8_t> seq(data::arc_seq_len);
    data::arc_encode(g, 0, 0, seq.data());
    return {seq.begin(), seq.end()};
  }
  static data::arc_grid grid_of(const token_ids& tok) { return data::arc_crop(tok.data()); }

  token_ids parse(std::string_view text, const std::string& where) const override {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const std::exception&) {
      throw input_error(where + ": an ARC puzzle is a JSON grid such as [[0,1],[1,0]]");
    }
    return encode(grid_of_json(j, where));
  }
  token_ids parse_answer(std::string_view text, const std::string& where) const override { return parse(text, where + " (answer)"); }
  std::vector<puzzle_input> read_puzzles(std::istream& in, const std::string& name) const override {
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const std::exception&) {
      throw input_error(name + ": expected a JSON grid [[...]] or a list of grids");
    }
    const bool many = j.is_array() && !j.empty() && j[0].is_array() && !j[0].empty() && j[0][0].is_array();
    const nlohmann::json grids = many ? j : nlohmann::json::array({j});
    std::vector<puzzle_input> out;
    for (std::size_t i = 0; i < grids.size(); ++i) {
      const std::string where = name + " grid " + std::to_string(i + 1);
      out.push_back({where, encode(grid_of_json(grids[i], where)), std::nullopt});
    }
    return out;
  }

  std::string to_line(const token_ids& tok) const override {
    const auto g = grid_of(tok);
    std::string s = "[";
    for (int r = 0; r < g.h; ++r) {
      s += r ? ",[" : "[";
      for (int c = 0; c < g.w; ++c) s += (c ? "," : "") + std::to_string(g.cells[static_cast<std::size_t>(r * g.w + c)]);
      s += "]";
    }
    return s + "]";
  }
  std::vector<std::string> to_grid_lines(const token_ids& tok) const override {
    const auto g = grid_of(tok);
    std::vector<std::string> rows;
    for (int r = 0; r < g.h; ++r) {
      std::string s;
      for (int c = 0; c < g.w; ++c) s += static_cast<char>('0' + g.cells[static_cast<std::size_t>(r * g.w + c)]);
      rows.push_back(s);
    }
    if (rows.empty()) rows.push_back("(empty)");
    return rows;
  }
  // Colours of the cropped grid.
  std::vector<std::vector<int>> grid_values(const token_ids& tok) const override {
    const auto g = grid_of(tok);
    std::vector<std::vector<int>> rows(static_cast<std::size_t>(g.h));
    for (int r = 0; r < g.h; ++r)
      for (int c = 0; c < g.w; ++c) rows[static_cast<std::size_t>(r)].push_back(g.cells[static_cast<std::size_t>(r * g.w + c)]);
    return rows;
  }

  std::optional<bool> check(const token_ids&, const token_ids&) const override { return std::nullopt; }
  std::vector<token_augmentation> augmentations(int, std::uint64_t) const override { return {}; }
  scoring scoring_rule() const override { return scoring::arc_vote; }

  std::string cell_fill(std::int32_t, std::int32_t tok) const override {
    static const char* colours[] = {"#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
                                    "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25"};
    return tok >= 2 && tok <= 11 ? colours[tok - 2] : "white";
  }
  // The cropped prediction, as colour tokens.
  token_ids draw_cells(const token_ids& tok, int& h, int& w) const override {
    const auto g = grid_of(tok);
    h = std::max(g.h, 1);
    w = std::max(g.w, 1);
    token_ids cells(static_cast<std::size_t>(h * w), 0);
    for (std::size_t i = 0; i < g.cells.size(); ++i) cells[i] = g.cells[i] + 2;
    return cells;
  }
  bool draws_cropped() const override { return true; }
};

}  // namespace gtrm::tasks
