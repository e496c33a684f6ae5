// JSON text exactly as Python's json.dump writes it with default arguments: ", " and ": " separators, no trailing
// newline, ensure_ascii string escapes, and floats in repr() form ("1.0", "4.155", "1e-05", "1e+16").
// Why not nlohmann::json::dump: it writes "," / ":" without spaces and floats differently ("1.0" vs "1"), and the
// reference's files (dataset.json, identifiers.json, test_puzzles.json) should come out byte for byte the same.
#pragma once
#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gtrm::data::pyjson {

// Python's repr(float): the shortest digits that round-trip, positional when -4 <= exponent < 16, else
// scientific with a signed exponent of at least two digits. json.dump writes NaN / Infinity as Python does.
inline std::string float_repr(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  char buf[64];
  // Shortest round-trip digits in scientific form "d.ddde+XX"; we re-lay them out by Python's rule.
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string_view s(buf, static_cast<std::size_t>(res.ptr - buf));
  std::string sign;
  std::size_t i = 0;
  if (s[0] == '-') { sign = "-"; i = 1; }
  const std::size_t epos = s.find('e');
  std::string digits;
  for (std::size_t k = i; k < epos; ++k)
    if (s[k] != '.') digits += s[k];
  int exp = 0;
  std::from_chars(s.data() + epos + 1 + (s[epos + 1] == '+' ? 1 : 0), s.data() + s.size(), exp);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  if (exp < -4 || exp >= 16) {
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    const int a = exp < 0 ? -exp : exp;
    out += exp < 0 ? "e-" : "e+";
    if (a < 10) out += '0';
    return out + std::to_string(a);
  }
  if (exp < 0) return sign + "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
  const std::size_t int_digits = static_cast<std::size_t>(exp) + 1;
  if (digits.size() <= int_digits) return sign + digits + std::string(int_digits - digits.size(), '0') + ".0";
  return sign + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
}

// A JSON string literal with ensure_ascii escapes: \" \\ \n \r \t \b \f, other control and all non-ASCII
// characters as \uXXXX (UTF-16, surrogate pairs above U+FFFF). Throws on invalid UTF-8.
inline std::string string(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  const auto u16 = [&](unsigned cp) {
    out += "\\u";
    for (int sh = 12; sh >= 0; sh -= 4) out += hex[(cp >> sh) & 0xf];
  };
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20) u16(c);
          else out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (len == 0 || i + static_cast<std::size_t>(len) > s.size())
      throw std::invalid_argument("pyjson: invalid UTF-8 in string");
    unsigned cp = c & (0x7fu >> len);
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((cc & 0xc0) != 0x80) throw std::invalid_argument("pyjson: invalid UTF-8 in string");
      cp = (cp << 6) | (cc & 0x3f);
    }
    i += static_cast<std::size_t>(len);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      u16(0xd800 + (cp >> 10));
      u16(0xdc00 + (cp & 0x3ff));
    } else {
      u16(cp);
    }
  }
  return out + "\"";
}

// ["a", "b"] as json.dump writes a list of strings.
inline std::string string_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += string(items[i]);
  }
  return out + "]";
}

// Builds a JSON object in insertion order (json.dump keeps dict order) with Python's separators.
class object_writer {
 public:
  object_writer& raw(std::string_view key, std::string_view json_value) {
    out_ += first_ ? "{" : ", ";
    first_ = false;
    out_ += string(key);
    out_ += ": ";
    out_ += json_value;
    return *this;
  }
  object_writer& integer(std::string_view key, std::int64_t v) { return raw(key, std::to_string(v)); }
  object_writer& real(std::string_view key, double v) { return raw(key, float_repr(v)); }
  object_writer& null(std::string_view key) { return raw(key, "null"); }
  std::string str() const { return first_ ? "{}" : out_ + "}"; }

 private:
  std::string out_;
  bool first_ = true;
};

}  // namespace gtrm::data::pyjson
