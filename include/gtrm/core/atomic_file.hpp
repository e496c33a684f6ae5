// Writing a file so that it is either the old file or the whole new one, never half written:
//   atomic_file f(FILE);  f.write(p, n) ...;  f.commit();
// writes an exclusive temporary FILE.tmp-XXXXXXXX in FILE's directory (same filesystem, so the rename is atomic),
// then commit() flushes, fsyncs (the data is on disk before the rename makes it visible), closes and renames it
// over FILE. Destroyed without a commit (an error, an exception elsewhere), it removes the temporary.
// Failures throw atomic_file_error naming FILE, the step that failed and the system's reason; the library's
// writers (io/safetensors.hpp, data/dataset.hpp) and the CLI (tools/common.hpp) turn it into their own error type.
#pragma once
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#if __has_include(<unistd.h>)
#include <unistd.h>  // fsync
#endif

namespace gtrm {

class atomic_file_error : public std::runtime_error {
 public:
  enum class stage { create, write, commit };  // creating the temporary; writing it; flush, fsync, close, rename

  atomic_file_error(std::filesystem::path file, stage at, std::string step, int err)
      : std::runtime_error("cannot write " + file.string() + ": " + step + reason(err) +
                           "; the file was left unchanged"),
        file_(std::move(file)), stage_(at), step_(std::move(step)), err_(err) {}

  const std::filesystem::path& file() const { return file_; }
  stage at() const { return stage_; }
  // What failed ("writing failed", "renaming X over it failed", ...) and the system's reason, " (…)" or empty.
  const std::string& step() const { return step_; }
  std::string reason() const { return reason(err_); }
  int error_code() const { return err_; }

 private:
  static std::string reason(int err) { return err ? " (" + std::generic_category().message(err) + ")" : ""; }
  std::filesystem::path file_;
  stage stage_;
  std::string step_;
  int err_;
};

class atomic_file {
 public:
  explicit atomic_file(std::filesystem::path target) : target_(std::move(target)) {
    std::random_device rd;
    const auto dir = target_.parent_path();
    for (int attempt = 0; attempt < 16 && !f_; ++attempt) {
      char suffix[16];
      std::snprintf(suffix, sizeof suffix, ".tmp-%08x", static_cast<unsigned>(rd()));
      path_ = dir / (target_.filename().string() + suffix);
      errno = 0;
      f_ = std::fopen(path_.string().c_str(), "wbx");  // "x": never reuse someone else's file
      if (!f_ && errno != EEXIST) fail(atomic_file_error::stage::create, "cannot create the temporary file " + path_.string(), errno);
    }
    if (!f_) fail(atomic_file_error::stage::create, "cannot find a free temporary file name next to it", EEXIST);
  }
  atomic_file(const atomic_file&) = delete;
  atomic_file& operator=(const atomic_file&) = delete;
  ~atomic_file() {
    if (f_) std::fclose(f_);
    if (!committed_) {
      std::error_code ec;
      std::filesystem::remove(path_, ec);
    }
  }

  void write(const void* p, std::size_t n) {
    if (n && std::fwrite(p, 1, n, f_) != n) fail(atomic_file_error::stage::write, "writing failed", errno);
  }
  void write(std::string_view text) { write(text.data(), text.size()); }

  void commit() {
    using st = atomic_file_error::stage;
    if (std::fflush(f_) != 0) fail(st::commit, "flushing failed", errno);
#if __has_include(<unistd.h>)
    if (::fsync(::fileno(f_)) != 0) fail(st::commit, "fsync failed", errno);
#endif
    std::FILE* f = std::exchange(f_, nullptr);
    if (std::fclose(f) != 0) fail(st::commit, "closing failed", errno);
    std::error_code ec;
    std::filesystem::rename(path_, target_, ec);
    if (ec) fail(st::commit, "renaming " + path_.string() + " over it failed", ec.value());
    committed_ = true;
  }

 private:
  [[noreturn]] void fail(atomic_file_error::stage at, std::string step, int err) const {
    throw atomic_file_error(target_, at, std::move(step), err);
  }

  std::filesystem::path target_, path_;
  std::FILE* f_ = nullptr;
  bool committed_ = false;
};

// The whole of `text` into FILE, atomically.
inline void write_file_atomic(const std::filesystem::path& file, std::string_view text) {
  atomic_file f(file);
  f.write(text);
  f.commit();
}

}  // namespace gtrm
