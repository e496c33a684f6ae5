// Pieces every gtrm subcommand shares: the one error type that becomes one line on stderr, files written whole or not
// at all (core/atomic_file.hpp), JSON Lines appends that notice a full disk, a
// progress line that rewrites itself on a terminal, and the Ctrl-C flag the training loop polls between steps.
#pragma once
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include <unistd.h>

#include <gtrm/core/atomic_file.hpp>
#include <gtrm/model/frozen_weights.hpp>
#include <nlohmann/json.hpp>

#ifndef GTRM_VERSION
#define GTRM_VERSION "0.1.0"
#endif

namespace gtrm::cli {

using gtrm::freeze_weights;  // model/frozen_weights.hpp: eval, solve and bench's solves hold one

namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// What main() prints as "gtrm: error: <what>" before exiting with status 1.
struct cli_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline std::string errno_text(int err) { return std::generic_category().message(err); }

inline std::string read_text_file(const fs::path& file, const std::string& what = "file") {
  std::error_code ec;
  if (!fs::exists(file, ec)) throw cli_error(what + " " + file.string() + " does not exist");
  if (fs::is_directory(file, ec)) throw cli_error(what + " " + file.string() + " is a directory, expected a file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw cli_error("cannot open " + what + " " + file.string() + " (" + errno_text(errno) + ")");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline ojson read_json_file(const fs::path& file, const std::string& what = "JSON file") {
  const std::string text = read_text_file(file, what);
  try {
    return ojson::parse(text);
  } catch (const std::exception& e) {
    throw cli_error(what + " " + file.string() + " is not valid JSON (" + e.what() + ")");
  }
}

// Writes `text` to FILE atomically (core/atomic_file.hpp): FILE is the old file or the whole new one.
inline void write_file_atomic(const fs::path& file, const std::string& text) {
  try {
    atomic_file f(file);
    f.write(text);
    f.commit();
  } catch (const atomic_file_error& e) {
    throw cli_error(e.what());
  }
}

// Appends one line (a newline is added) and flushes; a short write (disk full) is an error.
inline void append_line(const fs::path& file, const std::string& line) {
  std::FILE* f = std::fopen(file.c_str(), "ab");
  if (!f) throw cli_error("cannot append to " + file.string() + " (" + errno_text(errno) + ")");
  const std::string s = line + "\n";
  const bool ok = std::fwrite(s.data(), 1, s.size(), f) == s.size() && std::fflush(f) == 0;
  const int err = errno;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) throw cli_error("cannot append to " + file.string() + " (" + errno_text(err) + ")");
}

inline std::string now_utc_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// 75 -> "1m15s", 4000 -> "1h06m".
inline std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e8) return "?";
  const auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  return buf;
}

// A status line on stderr: rewritten in place on a terminal, one line per update elsewhere (logs, tests).
class status_line {
 public:
  explicit status_line(bool quiet = false) : quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0) {}
  bool tty() const { return tty_; }
  void update(const std::string& text) {
    if (quiet_) return;
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", text.c_str());
      open_ = true;
    } else {
      std::fprintf(stderr, "%s\n", text.c_str());
    }
    std::fflush(stderr);
  }
  // Ends an in-place line so that the next output starts on a fresh line.
  void finish() {
    if (open_) std::fputc('\n', stderr);
    open_ = false;
    std::fflush(stderr);
  }
  // A message that stays (printed above the in-place line).
  void message(const std::string& text) {
    if (quiet_) return;
    finish();
    std::fprintf(stderr, "%s\n", text.c_str());
    std::fflush(stderr);
  }

 private:
  bool quiet_, tty_;
  bool open_ = false;
};

// ---- Ctrl-C: the first SIGINT/SIGTERM sets a flag the training loop checks between steps; a second one kills ----
namespace detail {
inline volatile std::sig_atomic_t stop_flag = 0;
extern "C" inline void on_stop_signal(int sig) {
  stop_flag = sig;
  std::signal(sig, SIG_DFL);
}
}  // namespace detail

inline void install_stop_handler() {
  detail::stop_flag = 0;
  std::signal(SIGINT, detail::on_stop_signal);
  std::signal(SIGTERM, detail::on_stop_signal);
}
inline bool stop_requested() { return detail::stop_flag != 0; }
inline int stop_signal() { return static_cast<int>(detail::stop_flag); }

// 0.9731 -> "97.3%".
inline std::string percent_text(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", 100 * x);
  return b;
}

// A JSON value as a compact single line with numbers written to round-trip.
inline std::string json_line(const ojson& j) { return j.dump(); }

}  // namespace gtrm::cli
