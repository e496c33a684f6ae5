// Zip containers through libzip (Debian libzip-dev): the only place gtrm touches the zip format, used for PyTorch
// checkpoints (io/torch_checkpoint.hpp). A torch.save file is a zip of uncompressed records:
//   <archive>/data.pkl, <archive>/data/<storage key>, <archive>/version, <archive>/byteorder, ...
//
// zip_reader reads an archive held in memory and hands out each record's bytes, whole. Every size libzip reports is
// checked against what was actually read, and a record may not inflate beyond deflate's ceiling (1032:1) of its
// stored size, so a hostile archive cannot make us allocate more than a bounded multiple of its own length.
// zip_writer stores records uncompressed (what torch writes) and replaces its file only when closed successfully.
#pragma once
#include <zip.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../../io/error.hpp"

namespace gtrm::zip {

namespace detail {
inline std::string libzip_error_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}
struct archive_closer {
  void operator()(zip_t* z) const { zip_discard(z); }
};
}  // namespace detail

class zip_reader {
 public:
  // Reads FILE whole; `what` names it in errors.
  static zip_reader from_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw io::error("cannot open " + file.string());
    std::vector<std::byte> bytes;
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::streamoff>(in.tellg());
    if (size < 0) throw io::error("cannot read " + file.string());
    in.seekg(0);
    bytes.resize(static_cast<std::size_t>(size));
    if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) throw io::error("cannot read " + file.string());
    return zip_reader(std::move(bytes), file.string());
  }

  zip_reader(std::vector<std::byte> bytes, std::string what) : bytes_(std::move(bytes)), what_(std::move(what)) {
    zip_error_t err;
    zip_error_init(&err);
    // freep = 0: the source borrows bytes_, which lives as long as this reader
    zip_source_t* src = zip_source_buffer_create(bytes_.empty() ? nullptr : bytes_.data(), bytes_.size(), 0, &err);
    if (!src) {
      zip_error_fini(&err);
      throw io::error(what_ + ": cannot read it as a zip archive");
    }
    zip_t* z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (!z) {
      const std::string why = zip_error_strerror(&err);
      zip_source_free(src);
      zip_error_fini(&err);
      throw io::error(what_ + " is not a valid zip archive (" + why + ")");
    }
    zip_error_fini(&err);
    archive_.reset(z);
    const zip_int64_t n = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < n; ++i) {
      const char* name = zip_get_name(z, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
      if (!name) throw io::error(what_ + ": zip entry " + std::to_string(i) + " has no readable name");
      names_.emplace_back(name);
    }
  }

  const std::string& what() const { return what_; }
  const std::vector<std::string>& names() const { return names_; }
  bool contains(std::string_view name) const { return index_of(name).has_value(); }

  // The record's bytes, whole. Throws io::error naming the archive and the record when it is absent or damaged.
  std::vector<std::byte> read(std::string_view name) const {
    const auto idx = index_of(name);
    if (!idx) throw io::error(what_ + " has no record " + std::string(name));
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive_.get(), *idx, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE))
      throw io::error(what_ + ": cannot read the size of record " + std::string(name));
    // a record cannot honestly inflate beyond deflate's 1032:1 of its stored bytes, and those lie inside the file
    if (st.comp_size > bytes_.size() || st.size > st.comp_size * 1032 + 64)
      throw io::error(what_ + ": record " + std::string(name) + " claims " + std::to_string(st.size) +
                      " bytes, more than its stored " + std::to_string(st.comp_size) + " can hold");
    std::vector<std::byte> out(static_cast<std::size_t>(st.size));
    zip_file_t* f = zip_fopen_index(archive_.get(), *idx, 0);
    if (!f) throw io::error(what_ + ": cannot open record " + std::string(name) + " (" + zip_strerror(archive_.get()) + ")");
    std::size_t got = 0;
    while (got < out.size()) {
      const zip_int64_t r = zip_fread(f, out.data() + got, out.size() - got);
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    std::byte extra;
    const bool longer = zip_fread(f, &extra, 1) > 0;
    const int closed = zip_fclose(f);  // checks the CRC
    if (got != out.size() || longer || closed != 0)
      throw io::error(what_ + ": record " + std::string(name) + " is damaged (" +
                      (closed != 0 ? detail::libzip_error_text(closed) : std::string("its length differs from its header")) + ")");
    return out;
  }

 private:
  std::optional<zip_uint64_t> index_of(std::string_view name) const {
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == name) return static_cast<zip_uint64_t>(i);
    return std::nullopt;
  }

  std::vector<std::byte> bytes_;
  std::string what_;
  std::unique_ptr<zip_t, detail::archive_closer> archive_;
  std::vector<std::string> names_;
};

// Collects records, then writes FILE in one go on close(): libzip writes a temporary beside FILE and renames it, so
// FILE is the old file or the whole new one.
class zip_writer {
 public:
  explicit zip_writer(std::filesystem::path file) : file_(std::move(file)) {}

  void add(std::string name, std::vector<std::byte> bytes) { records_.push_back({std::move(name), std::move(bytes)}); }
  void add(std::string name, std::string_view text) {
    std::vector<std::byte> b(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) b[i] = static_cast<std::byte>(text[i]);
    add(std::move(name), std::move(b));
  }

  void close() {
    int code = 0;
    zip_t* z = zip_open(file_.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    if (!z) throw io::error("cannot create " + file_.string() + " (" + detail::libzip_error_text(code) + ")");
    std::unique_ptr<zip_t, detail::archive_closer> guard(z);
    for (const auto& r : records_) {
      // freep = 0: records_ outlives zip_close, which is when libzip reads the buffers
      zip_source_t* src = zip_source_buffer(z, r.bytes.empty() ? nullptr : r.bytes.data(), r.bytes.size(), 0);
      if (!src) throw io::error("cannot write " + file_.string() + ": " + zip_strerror(z));
      const zip_int64_t idx = zip_file_add(z, r.name.c_str(), src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
      if (idx < 0) {
        zip_source_free(src);
        throw io::error("cannot write " + file_.string() + ": record " + r.name + ": " + zip_strerror(z));
      }
      if (zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0) != 0)
        throw io::error("cannot write " + file_.string() + ": " + zip_strerror(z));
    }
    if (zip_close(z) != 0) throw io::error("cannot write " + file_.string() + ": " + zip_strerror(z));
    guard.release();  // zip_close freed it
  }

 private:
  struct record {
    std::string name;
    std::vector<std::byte> bytes;
  };
  std::filesystem::path file_;
  std::vector<record> records_;
};

}  // namespace gtrm::zip
