// A few lines of SVG, no dependency: rectangles, lines, text, polylines, and a document that closes itself.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

namespace gtrm::cli::svg {

inline std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  std::string s = b;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

inline std::string escape(const std::string& t) {
  std::string s;
  for (char c : t) {
    switch (c) {
      case '<': s += "&lt;"; break;
      case '>': s += "&gt;"; break;
      case '&': s += "&amp;"; break;
      case '"': s += "&quot;"; break;
      default: s += c;
    }
  }
  return s;
}

class document {
 public:
  void rect(double x, double y, double w, double h, const std::string& fill, const std::string& stroke = "none",
            double stroke_width = 1) {
    body_ += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" + num(h) + "\" fill=\"" +
             fill + "\" stroke=\"" + stroke + "\" stroke-width=\"" + num(stroke_width) + "\"/>\n";
  }
  void line(double x1, double y1, double x2, double y2, const std::string& stroke, double width = 1,
            const std::string& dash = "") {
    body_ += "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" + num(y2) + "\" stroke=\"" +
             stroke + "\" stroke-width=\"" + num(width) + "\"" + (dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"") +
             "/>\n";
  }
  // anchor: start, middle or end
  void text(double x, double y, const std::string& t, double size = 12, const std::string& fill = "#222",
            const std::string& anchor = "start", const std::string& weight = "normal") {
    body_ += "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" font-size=\"" + num(size) + "\" fill=\"" + fill +
             "\" text-anchor=\"" + anchor + "\" font-weight=\"" + weight + "\">" + escape(t) + "</text>\n";
  }
  void polyline(const std::vector<std::pair<double, double>>& pts, const std::string& stroke, double width = 1.5) {
    if (pts.empty()) return;
    body_ += "<polyline fill=\"none\" stroke=\"" + stroke + "\" stroke-width=\"" + num(width) + "\" points=\"";
    for (const auto& [x, y] : pts) body_ += num(x) + "," + num(y) + " ";
    body_ += "\"/>\n";
  }
  void circle(double x, double y, double r, const std::string& fill) {
    body_ += "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"" + num(r) + "\" fill=\"" + fill + "\"/>\n";
  }
  std::string str(double width, double height) const {
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) + "\" height=\"" + num(height) +
           "\" viewBox=\"0 0 " + num(width) + " " + num(height) +
           "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" +
           body_ + "</svg>\n";
  }

 private:
  std::string body_;
};

}  // namespace gtrm::cli::svg
