// Range checks of command-line values, with the range said in words. CLI11's own NonNegativeNumber, PositiveNumber
// and Range print the limits of the C++ type ("not in range [0 - 1.79769e+308]"); these print
//   gtrm: error: --batch: expected a whole number from 1 to 65536, got 0
// and their description (the range) appears after the option in --help, so every flag documents its range.
#pragma once
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>

#include <CLI/CLI.hpp>

namespace gtrm::cli {

// "1000000" -> "1,000,000" (ranges in messages and help).
inline std::string with_commas(long long v) {
  std::string s = std::to_string(v < 0 ? -v : v), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return (v < 0 ? "-" : "") + out;
}

// An integer in [lo, hi], written in decimal without anything after it.
inline CLI::Validator whole_number(long long lo, long long hi) {
  const std::string words = "a whole number from " + with_commas(lo) + " to " + with_commas(hi);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        long long v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi)
          return "expected " + words + ", got '" + text + "'";
        return {};
      },
      "(" + with_commas(lo) + " to " + with_commas(hi) + ")");
}

// A finite number in [lo, hi] (or [lo, hi) with hi_open).
inline CLI::Validator real_number(double lo, double hi, bool hi_open = false) {
  const auto num = [](double x) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", x);
    return std::string(b);
  };
  const std::string range = "[" + num(lo) + ", " + num(hi) + (hi_open ? ")" : "]");
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !(v >= lo) ||
            (hi_open ? !(v < hi) : !(v <= hi)))
          return "expected a number in " + range + ", got '" + text + "'";
        return {};
      },
      range);
}

}  // namespace gtrm::cli
