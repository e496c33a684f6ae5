// Typed, checked .npy reading and writing through xtensor's npy support (xtensor/xnpy.hpp).
// Why not xt::load_npy directly: it reads the data into its own buffer (a second full copy of multi-GB ARC arrays),
// never checks that the file was long enough, and its 16-bit header length decoding sign-extends bytes >= 0x80.
// So the magic and header length are read here, the header dictionary is parsed by xtensor, and the data goes
// straight into the caller's vector; every failure becomes one data_error that names the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <type_traits>
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

// Reads a whole array of element type T. Errors (each naming the file): missing, not an .npy file, unsupported
// version, unparsable header, dtype other than T, Fortran order with more than one dimension, truncated data.
template <class T>
npy_array<T> read_npy(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw data_error(name + ": missing file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw data_error(name + ": cannot open");
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
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));
  if (!in || header_len == 0) throw data_error(name + ": truncated .npy header");

  npy_array<T> out;
  std::string descr;
  bool fortran = false;
  try {
    xt::detail::parse_header(header, descr, &fortran, out.shape);
  } catch (const std::exception& e) {
    throw data_error(name + ": malformed .npy header (" + e.what() + ")");
  }
  if (descr != npy_typestring<T>())
    throw data_error(name + ": dtype '" + descr + "', expected '" + npy_typestring<T>() + "' (" +
                     npy_detail::dtype_name<T>() + ")");
  std::size_t count = 1;
  for (std::size_t d : out.shape) count *= d;
  if (fortran && out.shape.size() > 1) throw data_error(name + ": Fortran-ordered array, expected C order");

  // Check the size before allocating, so a corrupt header cannot ask for terabytes.
  const auto data_start = static_cast<std::uintmax_t>(in.tellg());
  const std::uintmax_t file_size = std::filesystem::file_size(file, ec);
  if (ec || file_size < data_start || (file_size - data_start) / sizeof(T) < count)
    throw data_error(name + ": truncated data (shape " + npy_detail::shape_str(out.shape) + " needs " +
                     std::to_string(count * sizeof(T)) + " bytes after the header)");
  out.data.resize(count);
  in.read(reinterpret_cast<char*>(out.data.data()), static_cast<std::streamsize>(count * sizeof(T)));
  if (!in) throw data_error(name + ": read error");
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
