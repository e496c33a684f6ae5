// `gtrm solve CKPT [PUZZLE...]`: run a checkpoint on puzzles from arguments, --file or stdin, through gtrm::solve
// (include/gtrm/solve.hpp), and print each answer as text, JSON (schema in docs/cli.md) or SVG.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtrm/io/state_dict.hpp>
#include <gtrm/solve.hpp>

#include "common.hpp"
#include "registry.hpp"
#include "svg.hpp"
#include "task.hpp"

namespace gtrm::cli {

struct solve_request {
  const io::safetensors_reader* file = nullptr;   // the opened checkpoint
  std::vector<std::string> puzzles;               // arguments; "-" reads stdin
  std::string puzzle_file;
  std::string format = "text";                    // text | json | svg
  std::string output;                             // write here instead of stdout
  bool trajectory = false;
  int steps = 0;                                  // 0: the model's max_act_steps
  bool adaptive = false;
  int min_steps = 1;
  int vote = 0;                                   // versions to vote over (0/1: none)
  std::uint64_t seed = 0;
  int puzzle_id = 0;
};

// The puzzles of a request, in order: arguments ("-" = stdin), then --file; stdin when nothing else is given.
inline std::vector<puzzle_input> collect_puzzles(const task& t, const solve_request& rq) {
  std::vector<puzzle_input> out;
  bool used_stdin = false;
  const auto from_stdin = [&] {
    if (used_stdin) return;
    used_stdin = true;
    auto v = t.read_puzzles(std::cin, "stdin");
    out.insert(out.end(), v.begin(), v.end());
  };
  for (std::size_t i = 0; i < rq.puzzles.size(); ++i) {
    if (rq.puzzles[i] == "-") {
      from_stdin();
      continue;
    }
    const std::string where = "argument " + std::to_string(i + 1);
    if (t.argument_is_stream(rq.puzzles[i])) {
      std::istringstream s(rq.puzzles[i]);
      auto v = t.read_puzzles(s, where);
      out.insert(out.end(), v.begin(), v.end());
    } else {
      out.push_back({where, t.parse(rq.puzzles[i], where), std::nullopt});
    }
  }
  if (!rq.puzzle_file.empty()) {
    std::error_code ec;
    if (!fs::exists(rq.puzzle_file, ec)) throw cli_error("puzzle file " + rq.puzzle_file + " does not exist");
    if (fs::is_directory(rq.puzzle_file, ec))
      throw cli_error("--file " + rq.puzzle_file + ": is a directory, expected a file of puzzles (one per line, drawn grids or CSV rows)");
    std::ifstream in(rq.puzzle_file, std::ios::binary);
    if (!in) throw cli_error("cannot open puzzle file " + rq.puzzle_file);
    auto v = t.read_puzzles(in, rq.puzzle_file);
    out.insert(out.end(), v.begin(), v.end());
  }
  if (rq.puzzles.empty() && rq.puzzle_file.empty()) {
    if (isatty(STDIN_FILENO))
      throw cli_error("no puzzle given: pass one as an argument, use --file FILE, or pipe puzzles to stdin");
    from_stdin();
  }
  if (out.empty()) throw cli_error("no puzzles found in the input");
  return out;
}

struct solved {
  puzzle_input in;
  solve_result r;
  std::optional<bool> valid, correct;
  int versions = 0, agreeing = 0, candidates = 0;  // voting
  double seconds = 0;
};

// Digits for Sudoku, token ids for mazes, colours for ARC (task::grid_values).
inline ojson grid_json(const task& t, const std::vector<std::int32_t>& tok) {
  ojson rows = ojson::array();
  for (const auto& r : t.grid_values(tok)) rows.push_back(r);
  return rows;
}

inline ojson opt_bool(const std::optional<bool>& b) { return b ? ojson(*b) : ojson(nullptr); }

inline ojson solve_json(const task& t, const preset_entry& p, const solve_request& rq, const solve_options& o,
                        const std::vector<solved>& all, int max_act_steps, double total_seconds) {
  ojson doc;
  doc["gtrm_solve"] = 1;
  doc["checkpoint"] = rq.file->path().string();
  doc["preset"] = p.name;
  doc["task"] = t.name();
  doc["options"] = {{"max_steps", o.max_steps > 0 ? o.max_steps : max_act_steps}, {"adaptive", o.adaptive},
                    {"min_steps", o.min_steps}, {"vote", rq.vote}, {"trajectory", o.trajectory}};
  ojson list = ojson::array();
  int valid = 0, correct = 0, answered = 0;
  for (const auto& s : all) {
    ojson j;
    j["source"] = s.in.where;
    j["input"] = t.to_line(s.in.tokens);
    j["solution"] = t.to_line(s.r.prediction);
    j["grid"] = grid_json(t, s.r.prediction);
    j["steps"] = s.r.steps;
    j["confidence"] = s.r.confidence;
    j["q_halt_logit"] = s.r.q_halt;
    j["halted"] = s.r.halted;
    j["valid"] = opt_bool(s.valid);
    j["correct"] = opt_bool(s.correct);
    j["seconds"] = s.seconds;
    j["votes"] = s.versions > 1 ? ojson{{"versions", s.versions}, {"agreeing", s.agreeing}, {"candidates", s.candidates}}
                                : ojson(nullptr);
    if (o.trajectory) {
      ojson tr = ojson::array();
      const std::vector<std::int32_t>* prev = &s.in.tokens;
      for (const auto& st : s.r.trajectory) {
        int changed = 0;
        for (std::size_t i = 0; i < st.prediction.size(); ++i) changed += st.prediction[i] != (*prev)[i];
        tr.push_back({{"step", st.step}, {"prediction", t.to_line(st.prediction)}, {"q_halt_logit", st.q_halt},
                      {"confidence", st.confidence}, {"changed", changed}});
        prev = &st.prediction;
      }
      j["trajectory"] = tr;
    }
    valid += s.valid.value_or(false);
    if (s.correct) {
      ++answered;
      correct += *s.correct;
    }
    list.push_back(j);
  }
  doc["puzzles"] = list;
  doc["summary"] = {{"puzzles", all.size()}, {"valid", valid}, {"answered", answered}, {"correct", correct},
                    {"seconds", total_seconds}};
  return doc;
}

// ---- text ----

inline std::string pad_right(const std::string& s, std::size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }

// Grids side by side under their titles.
inline std::string side_by_side(const std::vector<std::string>& titles, const std::vector<std::vector<std::string>>& grids,
                                std::size_t per_row) {
  std::string out;
  for (std::size_t first = 0; first < grids.size(); first += per_row) {
    const std::size_t last = std::min(grids.size(), first + per_row);
    std::size_t height = 0;
    std::vector<std::size_t> width;
    for (std::size_t g = first; g < last; ++g) {
      std::size_t w = titles[g].size();
      for (const auto& r : grids[g]) w = std::max(w, r.size());
      width.push_back(w + 3);
      height = std::max(height, grids[g].size());
    }
    std::string line;
    for (std::size_t g = first; g < last; ++g) line += pad_right(titles[g], width[g - first]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += "  " + line + "\n";
    for (std::size_t r = 0; r < height; ++r) {
      line.clear();
      for (std::size_t g = first; g < last; ++g) line += pad_right(r < grids[g].size() ? grids[g][r] : "", width[g - first]);
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += "  " + line + "\n";
    }
    if (last < grids.size()) out += "\n";
  }
  return out;
}

inline std::string solve_text(const task& t, const solve_options& o, const std::vector<solved>& all, double total_seconds) {
  std::string out;
  const auto per_row = static_cast<std::size_t>(t.grids_per_row());
  int valid = 0, correct = 0, answered = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& s = all[i];
    std::string head = "puzzle " + std::to_string(i + 1) + " (" + s.in.where + "): " + std::to_string(s.r.steps) + " ACT step" +
                       (s.r.steps == 1 ? "" : "s") + (s.r.halted ? " (halted by the Q head)" : "") + ", confidence " +
                       percent_text(s.r.confidence);
    if (s.valid) head += *s.valid ? ", valid" : ", NOT valid";
    if (s.correct) head += *s.correct ? ", matches the answer" : ", differs from the answer";
    if (s.versions > 1)
      head += ", " + std::to_string(s.agreeing) + "/" + std::to_string(s.versions) + " versions agree";
    out += head + "\n";
    out += side_by_side({"puzzle", "solution"}, {t.to_grid_lines(s.in.tokens), t.to_grid_lines(s.r.prediction)}, 2);
    if (o.trajectory) {
      std::vector<std::string> titles;
      std::vector<std::vector<std::string>> grids;
      for (const auto& st : s.r.trajectory) {
        titles.push_back("step " + std::to_string(st.step) + " q " + percent_text(st.confidence));
        grids.push_back(t.to_grid_lines(st.prediction));
      }
      out += "trajectory (prediction and sigmoid(q_halt) after each ACT step):\n";
      out += side_by_side(titles, grids, per_row);
    }
    out += "\n";
    valid += s.valid.value_or(false);
    if (s.correct) {
      ++answered;
      correct += *s.correct;
    }
  }
  if (all.size() > 1) {
    out += std::to_string(all.size()) + " puzzles";
    if (t.has_check()) out += ", " + std::to_string(valid) + " valid";
    if (answered) out += ", " + std::to_string(correct) + "/" + std::to_string(answered) + " match their answers";
    char b[64];
    std::snprintf(b, sizeof b, ", %.1f ms per puzzle", 1000 * total_seconds / static_cast<double>(all.size()));
    out += std::string(b) + "\n";
  }
  return out;
}

// ---- svg ----

// One grid at (x, y), `size` pixels wide; cells that differ from `before` get a red digit (Sudoku) or outline.
inline void draw_grid(svg::document& d, const task& t, const std::vector<std::int32_t>& in, const std::vector<std::int32_t>& tok,
                      const std::vector<std::int32_t>* before, double x, double y, double size) {
  int h = 0, w = 0;
  const std::vector<std::int32_t> cells = t.draw_cells(tok, h, w);
  const std::vector<std::int32_t>& inputs = t.draws_cropped() ? cells : in;
  const double c = size / std::max(h, w);
  for (int r = 0; r < h; ++r)
    for (int k = 0; k < w; ++k) {
      const auto i = static_cast<std::size_t>(r * w + k);
      d.rect(x + k * c, y + r * c, c, c, t.cell_fill(inputs[i], cells[i]), "#999", 0.5);
      const bool changed = before && !t.draws_cropped() && (*before)[i] != cells[i];
      const std::string label = t.cell_label(cells[i]);
      if (!label.empty())
        d.text(x + (k + 0.5) * c, y + (r + 0.72) * c, label, c * 0.6, changed ? "#d1495b" : inputs[i] >= 2 ? "#111" : "#1f5fbf",
               "middle", inputs[i] >= 2 ? "bold" : "normal");
      else if (changed)
        d.rect(x + k * c + 1, y + r * c + 1, c - 2, c - 2, "none", "#d1495b", 1.5);
    }
  if (t.box_h() > 0 && t.box_w() > 0) {
    for (int r = 0; r <= h; r += t.box_h()) d.line(x, y + r * c, x + w * c, y + r * c, "#111", 2);
    for (int k = 0; k <= w; k += t.box_w()) d.line(x + k * c, y, x + k * c, y + h * c, "#111", 2);
  } else {
    d.rect(x, y, w * c, h * c, "none", "#111", 1.5);
  }
}

inline std::string solve_svg(const task& t, const solve_options& o, const std::vector<solved>& all) {
  svg::document d;
  const double g = t.drawn_size(), gap = 24, top = 36;
  std::size_t cols = 2;
  for (const auto& s : all) cols = std::max(cols, 2 + (o.trajectory ? s.r.trajectory.size() : 0));
  double y = 10;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& s = all[i];
    std::string head = s.in.where + ": " + std::to_string(s.r.steps) + " ACT steps, confidence " + percent_text(s.r.confidence);
    if (s.valid) head += *s.valid ? ", valid" : ", not valid";
    d.text(10, y + 16, head, 14, "#111", "start", "bold");
    double x = 10;
    d.text(x, y + top - 6, "puzzle", 12);
    draw_grid(d, t, s.in.tokens, s.in.tokens, nullptr, x, y + top, g);
    x += g + gap;
    d.text(x, y + top - 6, "solution", 12);
    draw_grid(d, t, s.in.tokens, s.r.prediction, nullptr, x, y + top, g);
    x += g + gap;
    if (o.trajectory) {
      const std::vector<std::int32_t>* prev = &s.in.tokens;
      for (const auto& st : s.r.trajectory) {
        d.text(x, y + top - 6, "step " + std::to_string(st.step) + "  q " + percent_text(st.confidence), 12);
        draw_grid(d, t, s.in.tokens, st.prediction, prev, x, y + top, g);
        prev = &st.prediction;
        x += g + gap;
      }
    }
    y += top + g + 30;
  }
  return d.str(20 + static_cast<double>(cols) * (g + gap), y);
}

// ---- the command ----

template <class Model>
int run_solve(const preset_entry& p, const solve_request& rq) {
  using clock = std::chrono::steady_clock;
  const task& t = p.task();
  if (rq.format != "text" && rq.format != "json" && rq.format != "svg")
    throw cli_error("--format must be text, json or svg, got " + rq.format);
  if (rq.steps < 0 || rq.min_steps < 1 || rq.vote < 0) throw cli_error("--steps, --min-steps and --vote must be positive");
  if (rq.steps > 0 && rq.min_steps > rq.steps)
    throw cli_error("--min-steps: expected at most --steps (" + std::to_string(rq.steps) + "), got " + std::to_string(rq.min_steps));
  if (rq.vote > 1 && !t.votes_on_augmentations())
    throw cli_error("--vote works for Sudoku and mazes; ARC votes over its dataset's augmentations in gtrm eval");
  const auto puzzles = collect_puzzles(t, rq);

  const auto t0 = clock::now();
  const io::safetensors_reader& f = *rq.file;
  Model m(io::stored_puzzle_rows(f));
  io::load_state_dict(m, f);
  [[maybe_unused]] const auto frozen = freeze_weights(m);  // weights fixed from here: packed once (cpu_bf16; cpu: oneDNN f32)
  if (rq.puzzle_id < 0 || rq.puzzle_id >= std::max<index_t>(1, m.num_puzzle_ids()))
    throw cli_error("--puzzle-id " + std::to_string(rq.puzzle_id) + " is outside the checkpoint's " +
                    std::to_string(m.num_puzzle_ids()) + " puzzle embeddings");

  solve_options o{.max_steps = rq.steps, .adaptive = rq.adaptive, .min_steps = rq.min_steps, .trajectory = rq.trajectory,
                  .puzzle_id = rq.puzzle_id};
  std::vector<solved> all;
  const auto finish = [&](solved s) {
    s.valid = t.check(s.in.tokens, s.r.prediction);
    if (s.in.answer) s.correct = *s.in.answer == s.r.prediction;
    all.push_back(std::move(s));
  };
  if (rq.vote > 1) {
    const auto augs = t.augmentations(rq.vote, rq.seed);
    for (const auto& in : puzzles) {
      const auto s0 = clock::now();
      const auto accept = [&](std::span<const std::int32_t> pred) {
        return t.check(in.tokens, std::vector<std::int32_t>(pred.begin(), pred.end())).value_or(true);
      };
      auto v = solve_voting(m, in.tokens, augs, o, accept);
      solved s{in, std::move(v.best), {}, {}, v.versions, v.ranking.front().votes, static_cast<int>(v.ranking.size()), 0};
      s.seconds = std::chrono::duration<double>(clock::now() - s0).count();
      finish(std::move(s));
    }
  } else {
    const index_t chunk = 64;
    batch_solver<Model> solver(m, std::min<index_t>(chunk, static_cast<index_t>(puzzles.size())));
    std::vector<std::int32_t> inputs;
    for (std::size_t first = 0; first < puzzles.size(); first += chunk) {
      const std::size_t last = std::min(puzzles.size(), first + chunk);
      inputs.clear();
      for (std::size_t i = first; i < last; ++i) inputs.insert(inputs.end(), puzzles[i].tokens.begin(), puzzles[i].tokens.end());
      const auto s0 = clock::now();
      auto rs = solver.solve(inputs.data(), nullptr, static_cast<index_t>(last - first), o);
      const double secs = std::chrono::duration<double>(clock::now() - s0).count() / static_cast<double>(last - first);
      for (std::size_t i = first; i < last; ++i) finish({puzzles[i], std::move(rs[i - first]), {}, {}, 0, 0, 0, secs});
    }
  }
  const double total = std::chrono::duration<double>(clock::now() - t0).count();

  std::string text;
  if (rq.format == "json") text = solve_json(t, p, rq, o, all, Model::cycles_v.max_act_steps, total).dump(2) + "\n";
  else if (rq.format == "svg") text = solve_svg(t, o, all);
  else text = solve_text(t, o, all, total);
  if (rq.output.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (std::fflush(stdout) != 0) throw cli_error("writing the answer to stdout failed");
  } else {
    write_file_atomic(rq.output, text);
    std::fprintf(stderr, "wrote %s (%zu puzzle%s)\n", rq.output.c_str(), all.size(), all.size() == 1 ? "" : "s");
  }
  return 0;
}

}  // namespace gtrm::cli
