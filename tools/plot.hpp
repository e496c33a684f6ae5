// `gtrm plot RUNDIR`: training curves from RUNDIR/metrics.jsonl as one SVG (no dependency): loss, exact accuracy
// (training rows that halted, and held-out evaluations), ACT steps per puzzle, and the learning rate.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "common.hpp"
#include "svg.hpp"

namespace gtrm::cli {

struct series {
  std::string label, colour;
  std::vector<std::pair<double, double>> points;  // (step, value)
  bool markers = false;
};

// One panel: axes, ticks, a legend and the series.
inline void draw_panel(svg::document& d, double x0, double y0, double w, double h, const std::string& title,
                       const std::vector<series>& all, bool log_y, double x_max) {
  const double left = 56, right = 12, top = 26, bottom = 30;
  const double px = x0 + left, py = y0 + top, pw = w - left - right, ph = h - top - bottom;
  d.text(x0 + w / 2, y0 + 16, title, 13, "#111", "middle", "bold");
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& s : all)
    for (const auto& [x, y] : s.points)
      if (std::isfinite(y) && (!log_y || y > 0)) {
        lo = std::min(lo, y);
        hi = std::max(hi, y);
      }
  d.rect(px, py, pw, ph, "none", "#888", 1);
  if (!(lo <= hi)) {
    d.text(px + pw / 2, py + ph / 2, "no data", 12, "#888", "middle");
    return;
  }
  if (log_y) {
    lo = std::pow(10.0, std::floor(std::log10(lo)));
    hi = std::pow(10.0, std::ceil(std::log10(hi)));
    if (hi <= lo) hi = lo * 10;
  } else {
    if (hi - lo < 1e-12) {
      hi += 0.5 * std::max(std::abs(hi), 1e-3);
      lo -= 0.5 * std::max(std::abs(lo), 1e-3);
    }
    const double pad = 0.05 * (hi - lo);
    lo -= pad;
    hi += pad;
  }
  const auto fy = [&](double v) {
    const double t = log_y ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
    return py + ph - t * ph;
  };
  const double xm = x_max > 0 ? x_max : 1;
  const auto fx = [&](double v) { return px + v / xm * pw; };
  // y ticks
  for (int i = 0; i <= 4; ++i) {
    const double v = log_y ? std::pow(10.0, std::log10(lo) + i * (std::log10(hi) - std::log10(lo)) / 4) : lo + i * (hi - lo) / 4;
    const double y = fy(v);
    d.line(px, y, px + pw, y, "#e4e4e4", 1);
    char b[32];
    std::snprintf(b, sizeof b, std::abs(v) < 1e-3 && v != 0 ? "%.1e" : "%.3g", v);
    d.text(px - 4, y + 4, b, 10, "#444", "end");
  }
  // x ticks
  for (int i = 0; i <= 4; ++i) {
    const double v = xm * i / 4, x = fx(v);
    char b[32];
    std::snprintf(b, sizeof b, "%.0f", v);
    d.line(x, py + ph, x, py + ph + 4, "#888", 1);
    d.text(x, py + ph + 16, b, 10, "#444", "middle");
  }
  d.text(px + pw, py + ph + 28, "step", 10, "#444", "end");
  double ly = py + 12;
  for (const auto& s : all) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& [x, y] : s.points)
      if (std::isfinite(y) && (!log_y || y > 0)) pts.push_back({fx(x), fy(y)});
    if (pts.empty()) continue;
    d.polyline(pts, s.colour, 1.6);
    if (s.markers || pts.size() == 1)
      for (const auto& [x, y] : pts) d.circle(x, y, 3, s.colour);
    d.line(px + 8, ly - 4, px + 24, ly - 4, s.colour, 2.5);
    d.text(px + 28, ly, s.label, 10, "#333");
    ly += 14;
  }
}

inline std::string plot_svg(const std::vector<ojson>& rows, const std::string& title) {
  series loss{"train loss", "#1f5fbf", {}}, train_exact{"train (halted rows)", "#1f5fbf", {}},
      eval_exact{"held-out", "#d1495b", {}, true}, train_steps{"train", "#1f5fbf", {}}, eval_steps{"held-out", "#d1495b", {}, true},
      lr{"learning rate", "#2a9d4a", {}}, train_tok{"train token acc.", "#8bb3ea", {}}, eval_tok{"held-out token acc.", "#eea0aa", {}, true};
  double x_max = 0;
  for (const auto& r : rows) {
    const double step = r.value("step", 0.0);
    x_max = std::max(x_max, step);
    const bool eval = r.value("split", std::string()) == "eval";
    const auto num = [&](const char* k) { return r.contains(k) && r[k].is_number() ? r[k].get<double>() : std::nan(""); };
    if (eval) {
      eval_exact.points.push_back({step, num("exact_accuracy")});
      eval_tok.points.push_back({step, num("accuracy")});
      eval_steps.points.push_back({step, num("act_steps")});
    } else {
      loss.points.push_back({step, num("loss")});
      train_exact.points.push_back({step, num("exact_accuracy")});
      train_tok.points.push_back({step, num("accuracy")});
      train_steps.points.push_back({step, num("act_steps")});
      lr.points.push_back({step, num("lr")});
    }
  }
  svg::document d;
  const double w = 440, h = 260;
  d.text(10, 20, title, 14, "#111", "start", "bold");
  draw_panel(d, 0, 30, w, h, "loss (mean per puzzle, log scale)", {loss}, true, x_max);
  draw_panel(d, w, 30, w, h, "accuracy", {train_exact, eval_exact, train_tok, eval_tok}, false, x_max);
  draw_panel(d, 0, 30 + h, w, h, "ACT steps per puzzle", {train_steps, eval_steps}, false, x_max);
  draw_panel(d, w, 30 + h, w, h, "learning rate", {lr}, false, x_max);
  return d.str(2 * w, 30 + 2 * h);
}

inline std::vector<ojson> read_metrics(const fs::path& file) {
  std::istringstream in(read_text_file(file, "metrics file"));
  std::vector<ojson> rows;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    ojson row;
    try {
      row = ojson::parse(line);
    } catch (const std::exception&) {
      throw cli_error(file.string() + ":" + std::to_string(n) + ": not a JSON object");
    }
    // plot_svg reads "step" as a number and "split" as text (value() of another type throws nlohmann's type_error)
    if (!row.is_object() || (row.contains("step") && !row["step"].is_number()) ||
        (row.contains("split") && !row["split"].is_string()))
      throw cli_error(file.string() + ":" + std::to_string(n) + ": not a metrics line (a JSON object with a number "
                      "\"step\" and a text \"split\")");
    rows.push_back(std::move(row));
  }
  return rows;
}

inline int run_plot(const std::string& run, const std::string& out_arg) {
  fs::path dir = run, metrics = dir / "metrics.jsonl";
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw cli_error("run directory " + dir.string() + " does not exist");
  if (!fs::is_directory(dir, ec)) {
    metrics = dir;
    dir = dir.parent_path();
  }
  if (!fs::exists(metrics, ec)) throw cli_error(dir.string() + " has no metrics.jsonl: is it a gtrm train --out directory?");
  const auto rows = read_metrics(metrics);
  if (rows.empty()) throw cli_error(metrics.string() + " is empty: the run has not logged yet");
  const fs::path out = out_arg.empty() ? dir / "curves.svg" : fs::path(out_arg);
  std::string title = "gtrm training curves: " + dir.string();
  try {
    const auto cfg = read_json_file(dir / "config.json", "run configuration");
    title += " (" + cfg.value("preset", std::string("?")) + ")";
  } catch (const cli_error&) {
  }
  write_file_atomic(out, plot_svg(rows, title));
  std::printf("wrote %s (%zu metrics lines)\n", out.string().c_str(), rows.size());
  return 0;
}

}  // namespace gtrm::cli
