// Typed, checked .npy reading and writing through xtensor's npy support (xtensor/xnpy.hpp).
// Why not xt::load_npy directly: it reads the data into its own buffer (a second full copy of multi-GB ARC arrays),
// never checks that the file was long enough, and its 16-bit header length decoding sign-extends bytes >= 0x80.
// So the magic and header length are read here, the header dictionary is parsed by xtensor, and the data goes
// straight into the caller's vector; every failure becomes one data_error that names the file. Readers may accept
// any integer dtype, narrowed with a range check, since the reference does not always write the dtype it means to.
#pragma once
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

namespace gtrm::data {

// Every data-layer failure (missing or malformed file, bad CSV row, inconsistent dataset): one line for the user.
class data_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class T>
struct npy_array {
  std::vector<std::size_t> shape;
  std::vector<T> data;  // row-major
};

namespace npy_detail {

template <class T>
constexpr const char* dtype_name() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return "uint8";
  else if constexpr (std::is_same_v<T, std::int32_t>) return "int32";
  else if constexpr (std::is_same_v<T, std::int64_t>) return "int64";
  else if constexpr (std::is_same_v<T, float>) return "float32";
  else return "?";
}

inline std::string shape_str(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace npy_detail

// numpy's dtype.str of T on this machine, e.g. "|u1" for uint8 and "<i4" for int32.
template <class T>
std::string npy_typestring() {
  return xt::detail::build_typestring<T>();
}

namespace npy_detail {

struct header_info {
  std::string descr;
  std::vector<std::size_t> shape;
  std::size_t count = 1;
  std::uintmax_t data_bytes = 0;  // bytes after the header
};

// The header dict numpy writes, {'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }, keys in that order (as
// numpy and xtensor have them), blanks anywhere between tokens. Written here because xtensor's parser reads back() of
// empty strings on some malformed headers (undefined behaviour, found by tests/fuzz/fuzz_npy). False if malformed.
class header_scanner {
 public:
  explicit header_scanner(std::string_view s) : s_(s) {}
  bool parse(std::string& descr, bool& fortran, std::vector<std::size_t>& shape) {
    if (!eat("{") || !eat("'descr'") || !eat(":") || !quoted(descr) || !eat(",")) return false;
    if (!eat("'fortran_order'") || !eat(":")) return false;
    if (eat("True")) fortran = true;
    else if (eat("False")) fortran = false;
    else return false;
    if (!eat(",") || !eat("'shape'") || !eat(":") || !eat("(")) return false;
    shape.clear();
    while (!eat(")")) {  // (), (5,), (2, 3)
      std::size_t d = 0;
      if (!number(d)) return false;
      shape.push_back(d);
      if (!eat(",")) {
        if (!eat(")")) return false;
        break;
      }
    }
    eat(",");
    if (!eat("}")) return false;
    skip();
    return i_ == s_.size();
  }

 private:
  void skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(std::string_view t) {
    skip();
    if (s_.substr(i_, t.size()) != t) return false;
    i_ += t.size();
    return true;
  }
  bool quoted(std::string& out) {
    skip();
    if (i_ >= s_.size() || s_[i_] != '\'') return false;
    const auto end = s_.find('\'', i_ + 1);
    if (end == std::string_view::npos) return false;
    out = std::string(s_.substr(i_ + 1, end - i_ - 1));
    i_ = end + 1;
    return true;
  }
  bool number(std::size_t& v) {  // decimal digits that fit size_t
    skip();
    const auto r = std::from_chars(s_.data() + i_, s_.data() + s_.size(), v);
    if (r.ec != std::errc()) return false;
    i_ = static_cast<std::size_t>(r.ptr - s_.data());
    return true;
  }
  std::string_view s_;
  std::size_t i_ = 0;
};

// Reads magic, version and header of an open file; leaves `in` at the first data byte.
inline header_info read_header(std::ifstream& in, const std::filesystem::path& file) {
  const std::string name = file.string();
  unsigned char pre[8];
  in.read(reinterpret_cast<char*>(pre), 8);
  if (!in || std::string(reinterpret_cast<char*>(pre), 6) != "\x93NUMPY")
    throw data_error(name + ": not an .npy file (bad magic string)");
  std::size_t header_len = 0;
  if (pre[6] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = std::size_t{b[0]} | (std::size_t{b[1]} << 8);
  } else if (pre[6] == 2 || pre[6] == 3) {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = std::size_t{b[0]} | (std::size_t{b[1]} << 8) | (std::size_t{b[2]} << 16) | (std::size_t{b[3]} << 24);
  } else {
    throw data_error(name + ": unsupported .npy format version " + std::to_string(pre[6]));
  }
  // The header length is checked against the file before allocating: a corrupt one cannot ask for gigabytes.
  std::error_code size_ec;
  const std::uintmax_t size = std::filesystem::file_size(file, size_ec);
  const auto header_start = static_cast<std::uintmax_t>(in.tellg());
  if (!in || size_ec || size < header_start || header_len > size - header_start)
    throw data_error(name + ": truncated .npy header (" + std::to_string(header_len) + " bytes announced)");
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));
  if (!in || header_len == 0) throw data_error(name + ": truncated .npy header");
  header_info h;
  bool fortran = false;
  if (!header_scanner(header).parse(h.descr, fortran, h.shape))
    throw data_error(name + ": malformed .npy header (expected {'descr': '<type>', 'fortran_order': False, "
                            "'shape': (<dims>), } as numpy writes it)");
  // Overflow-checked: a wrapped product would let a huge shape pass the size check (an empty array has no limit).
  if (std::find(h.shape.begin(), h.shape.end(), std::size_t{0}) != h.shape.end()) h.count = 0;
  for (std::size_t d : h.shape) {
    if (h.count == 0) break;
    if (h.count > std::numeric_limits<std::size_t>::max() / d)
      throw data_error(name + ": shape " + shape_str(h.shape) + " has more elements than memory can address");
    h.count *= d;
  }
  if (fortran && h.shape.size() > 1) throw data_error(name + ": Fortran-ordered array, expected C order");
  std::error_code ec;
  const auto data_start = static_cast<std::uintmax_t>(in.tellg());
  const std::uintmax_t file_size = std::filesystem::file_size(file, ec);
  if (ec || file_size < data_start) throw data_error(name + ": cannot determine the file size");
  h.data_bytes = file_size - data_start;
  return h;
}

inline void check_size(const header_info& h, std::size_t elem, const std::filesystem::path& file) {
  // Checked before allocating, so a corrupt header cannot ask for terabytes.
  if (h.data_bytes / elem < h.count)  // (a division: count * elem could overflow)
    throw data_error(file.string() + ": truncated data (shape " + shape_str(h.shape) + " needs " +
                     std::to_string(h.count * elem) + " bytes after the header)");
}

// Converts little-endian integers of type S to T chunk by chunk, refusing values T cannot hold.
template <class T, class S>
void convert_into(std::ifstream& in, std::vector<T>& out, const std::filesystem::path& file) {
  std::vector<S> buf(std::min<std::size_t>(out.size(), std::size_t{1} << 20));
  for (std::size_t done = 0; done < out.size();) {
    const std::size_t n = std::min(buf.size(), out.size() - done);
    in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(n * sizeof(S)));
    if (!in) throw data_error(file.string() + ": read error");
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::in_range<T>(buf[i]))
        throw data_error(file.string() + ": value " + std::to_string(buf[i]) + " at element " +
                         std::to_string(done + i) + " does not fit " + dtype_name<T>());
      out[done + i] = static_cast<T>(buf[i]);
    }
    done += n;
  }
}

}  // namespace npy_detail

// Reads a whole array of element type T. Errors (each naming the file): missing, not an .npy file, unsupported
// version, unparsable header, a dtype other than T, Fortran order with more than one dimension, truncated data.
// With convert_integers, any little-endian integer dtype is accepted and narrowed to T with a range check: the
// reference's Sudoku builder writes int64 tokens when it augments (its digit map is an int64 array).
template <class T>
npy_array<T> read_npy(const std::filesystem::path& file, bool convert_integers = false) {
  const std::string name = file.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw data_error(name + ": missing file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw data_error(name + ": cannot open");
  const auto h = npy_detail::read_header(in, file);
  npy_array<T> out;
  out.shape = h.shape;
  const auto convert = [&](auto tag) {
    using S = decltype(tag);
    npy_detail::check_size(h, sizeof(S), file);
    out.data.resize(h.count);
    npy_detail::convert_into<T, S>(in, out.data, file);
  };
  if (h.descr == npy_typestring<T>()) {
    npy_detail::check_size(h, sizeof(T), file);
    out.data.resize(h.count);
    in.read(reinterpret_cast<char*>(out.data.data()), static_cast<std::streamsize>(h.count * sizeof(T)));
    if (!in) throw data_error(name + ": read error");
  } else if (convert_integers && h.descr == "|u1") {
    convert(std::uint8_t{});
  } else if (convert_integers && h.descr == "|i1") {
    convert(std::int8_t{});
  } else if (convert_integers && h.descr == npy_typestring<std::int16_t>()) {
    convert(std::int16_t{});
  } else if (convert_integers && h.descr == npy_typestring<std::uint16_t>()) {
    convert(std::uint16_t{});
  } else if (convert_integers && h.descr == npy_typestring<std::int32_t>()) {
    convert(std::int32_t{});
  } else if (convert_integers && h.descr == npy_typestring<std::uint32_t>()) {
    convert(std::uint32_t{});
  } else if (convert_integers && h.descr == npy_typestring<std::int64_t>()) {
    convert(std::int64_t{});
  } else if (convert_integers && h.descr == npy_typestring<std::uint64_t>()) {
    convert(std::uint64_t{});
  } else {
    throw data_error(name + ": dtype '" + h.descr + "', expected '" + npy_typestring<T>() + "' (" +
                     npy_detail::dtype_name<T>() + (convert_integers ? " or another integer type" : "") + ")");
  }
  return out;
}

// Writes `data` (row-major, product(shape) elements) as an .npy file numpy reads back with the same dtype and shape.
template <class T>
void write_npy(const std::filesystem::path& file, const T* data, const std::vector<std::size_t>& shape) {
  std::size_t count = 1;
  for (std::size_t d : shape) count *= d;
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) throw data_error(file.string() + ": cannot create");
  // xtensor writes the numpy header (descr, fortran_order False, shape) and the raw row-major data.
  xt::detail::dump_npy_stream(out, xt::adapt(data, count, xt::no_ownership(), shape));
  out.flush();
  if (!out) throw data_error(file.string() + ": write error (disk full?)");
}

}  // namespace gtrm::data
