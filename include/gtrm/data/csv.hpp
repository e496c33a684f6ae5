// A reader for the `source,question,answer,rating` CSV files (Hugging Face Sudoku-Extreme and Maze-Hard, the CSVs in
// shared/data/sudoku/csv), parsing as Python's csv.reader (excel dialect) does, which the reference builders use:
// comma separators, optional double-quoted fields with "" for a quote, LF or CRLF line ends, and a UTF-8 byte-order mark before the header (spreadsheets write one). Each row carries its
// 1-based line number so that errors can say "file:line". Wholly empty lines are skipped (csv.reader would yield an
// empty row there, which the reference then fails to unpack).
#pragma once
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "npy.hpp"  // data_error

namespace gtrm::data {

struct csv_row {
  std::size_t line = 0;  // line on which the row starts
  std::vector<std::string> fields;
};

class csv_reader {
 public:
  explicit csv_reader(const std::filesystem::path& file) : name_(file.string()), in_(file, std::ios::binary) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec) || !in_) throw data_error(name_ + ": cannot open CSV file");
  }

  const std::string& file() const { return name_; }

  // Next non-empty row; false at end of file. Throws data_error for a quote left open at end of file.
  bool next(csv_row& row) {
    std::string line;
    for (;;) {
      if (!std::getline(in_, line)) return false;
      ++line_no_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) break;
    }
    if (line_no_ == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // UTF-8 byte-order mark (Excel's CSV)
    row.line = line_no_;
    row.fields.clear();
    std::string field;
    bool quoted = false;       // inside a quoted section
    bool was_quoted = false;   // the current field began with a quote
    std::size_t i = 0;
    for (;;) {
      if (i == line.size()) {
        if (!quoted) break;
        // A quoted field continues on the next line, newline included (csv.reader does the same).
        std::string more;
        if (!std::getline(in_, more)) throw data_error(name_ + ":" + std::to_string(row.line) + ": unterminated quoted field");
        ++line_no_;
        if (!more.empty() && more.back() == '\r') more.pop_back();
        field += '\n';
        line = std::move(more);
        i = 0;
        continue;
      }
      const char c = line[i++];
      if (quoted) {
        if (c == '"') {
          if (i < line.size() && line[i] == '"') {
            field += '"';
            ++i;
          } else {
            quoted = false;
          }
        } else {
          field += c;
        }
      } else if (c == ',') {
        row.fields.push_back(std::move(field));
        field.clear();
        was_quoted = false;
      } else if (c == '"' && field.empty() && !was_quoted) {
        quoted = was_quoted = true;
      } else {
        field += c;
      }
    }
    row.fields.push_back(std::move(field));
    return true;
  }

 private:
  std::string name_;
  std::ifstream in_;
  std::size_t line_no_ = 0;
};

// Opens `file` and checks its header row is exactly `source,question,answer,rating` (the reference skips the first
// row unconditionally; a file without that header would silently lose its first puzzle there, so it is an error here).
inline csv_reader open_puzzle_csv(const std::filesystem::path& file) {
  csv_reader r(file);
  csv_row header;
  if (!r.next(header)) throw data_error(r.file() + ": empty file (expected the header source,question,answer,rating)");
  if (header.fields != std::vector<std::string>{"source", "question", "answer", "rating"})
    throw data_error(r.file() + ":" + std::to_string(header.line) +
                     ": expected the header source,question,answer,rating");
  return r;
}

}  // namespace gtrm::data
