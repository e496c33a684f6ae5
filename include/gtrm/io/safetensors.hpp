// safetensors reading and writing (https://github.com/huggingface/safetensors):
//   bytes [0, 8)        N, the header length, little-endian u64
//   bytes [8, 8 + N)    UTF-8 JSON: name -> {"dtype", "shape", "data_offsets": [begin, end]}, plus an optional
//                       "__metadata__" string -> string map; padded with spaces to a multiple of 8
//   bytes [8 + N, end)  the data section; offsets are relative to its start; little-endian, row-major
// The writer orders tensors by (item size descending, name), as the golden files do, so every tensor is
// naturally aligned and reading a file and writing it back reproduces its layout.
// The reader checks the whole header before handing out anything: a damaged file gives one io::error that
// names the file and the tensor, never a crash or an out-of-range read; the tensors must cover the data section
// exactly (no gap, no trailing bytes).
#pragma once
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/atomic_file.hpp"
#include "error.hpp"


namespace gtrm::io {

static_assert(std::endian::native == std::endian::little,
              "gtrm::io::safetensors copies little-endian file data directly: a big-endian host is not supported");

enum class dtype { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

inline constexpr dtype all_dtypes[] = {dtype::F64, dtype::F32, dtype::F16, dtype::BF16, dtype::I64,
                                       dtype::I32, dtype::I16, dtype::I8,  dtype::U8,   dtype::BOOL};

namespace detail {
// Indexed by dtype: the header's spelling and the item size in bytes.
inline constexpr std::string_view dtype_names[] = {"F64", "F32", "F16", "BF16", "I64",
                                                   "I32", "I16", "I8",  "U8",   "BOOL"};
inline constexpr std::size_t dtype_sizes[] = {8, 4, 2, 2, 8, 4, 2, 1, 1, 1};
}  // namespace detail

inline std::string_view dtype_name(dtype t) { return detail::dtype_names[static_cast<int>(t)]; }
inline std::size_t dtype_size(dtype t) { return detail::dtype_sizes[static_cast<int>(t)]; }

inline bool dtype_is_float(dtype t) {
  return t == dtype::F64 || t == dtype::F32 || t == dtype::F16 || t == dtype::BF16;
}

inline std::optional<dtype> dtype_from_name(std::string_view s) {
  for (dtype t : all_dtypes)
    if (dtype_name(t) == s) return t;
  return std::nullopt;
}

inline std::string shape_string(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

struct tensor_info {
  std::string name;
  dtype type = dtype::F32;
  std::vector<std::int64_t> shape;
  std::size_t begin = 0, end = 0;  // byte range in the data section (after the header)

  std::int64_t numel() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

namespace detail {

// IEEE binary16 -> binary32; exact for every half value, subnormals and NaN payloads included.
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  const std::uint32_t mant = h & 0x3ffu;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24
    const float f = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -f : f;
  }
  const std::uint32_t bits = exp == 0x1f ? (sign | 0x7f800000u | (mant << 13))
                                         : (sign | ((exp + 112u) << 23) | (mant << 13));
  return std::bit_cast<float>(bits);
}

inline float bf16_to_float(std::uint16_t h) { return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16); }

// float -> bfloat16, round to nearest, ties to even (what torch's .to(bfloat16) does); NaN stays a quiet NaN.
inline std::uint16_t float_to_bf16(float f) {
  std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

template <class S>
S load(const std::byte* p, std::size_t i) {
  S s;
  std::memcpy(&s, p + i * sizeof(S), sizeof(S));  // memcpy: files written by others need not be aligned
  return s;
}

template <class T>
std::string type_label() {
  if constexpr (std::is_same_v<T, float>) return "float";
  else if constexpr (std::is_same_v<T, double>) return "double";
  else if constexpr (std::is_same_v<T, bool>) return "bool";
  else return (std::is_signed_v<T> ? "int" : "uint") + std::to_string(8 * sizeof(T));
}

template <class T>
inline constexpr bool is_readable = std::is_same_v<T, float> || std::is_same_v<T, double> || std::integral<T>;

template <class T>
constexpr std::optional<dtype> dtype_of() {
  if constexpr (std::is_same_v<T, double>) return dtype::F64;
  else if constexpr (std::is_same_v<T, float>) return dtype::F32;
  else if constexpr (std::is_same_v<T, bool>) return dtype::BOOL;
  else if constexpr (std::is_same_v<T, std::int64_t>) return dtype::I64;
  else if constexpr (std::is_same_v<T, std::int32_t>) return dtype::I32;
  else if constexpr (std::is_same_v<T, std::int16_t>) return dtype::I16;
  else if constexpr (std::is_same_v<T, std::int8_t>) return dtype::I8;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return dtype::U8;
  else return std::nullopt;
}

// Product of the dimensions, or nullopt if one is negative or the product overflows.
inline std::optional<std::uint64_t> checked_numel(std::span<const std::int64_t> shape) {
  std::uint64_t n = 1;
  for (auto d : shape) {
    if (d < 0) return std::nullopt;
    const auto u = static_cast<std::uint64_t>(d);
    if (u != 0 && n > std::numeric_limits<std::uint64_t>::max() / u) return std::nullopt;
    n *= u;
  }
  return n;
}

}  // namespace detail

class safetensors_reader {
 public:
  // Reads the whole file and validates the header; throws io::error naming the file on any defect.
  explicit safetensors_reader(const std::filesystem::path& file) : path_(file) {
    load_file();
    parse_header();
  }

  const std::filesystem::path& path() const { return path_; }
  bool contains(std::string_view name) const { return tensors_.find(name) != tensors_.end(); }

  const tensor_info& info(std::string_view name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end())
      throw error("tensor " + std::string(name) + " not found in " + path_.string() + " (it holds " +
                  std::to_string(tensors_.size()) + " tensors)");
    return it->second;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(tensors_.size());
    for (const auto& kv : tensors_) out.push_back(kv.first);  // std::map: already sorted
    return out;
  }

  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::optional<std::string> meta(std::string_view key) const {
    auto it = metadata_.find(std::string(key));
    if (it == metadata_.end()) return std::nullopt;
    return it->second;
  }

  // The stored bytes of a tensor, unconverted (for copying a tensor to another file as it is).
  std::span<const std::byte> raw(std::string_view name) const {
    const auto& t = info(name);
    return {bytes_.data() + data_begin_ + t.begin, t.end - t.begin};
  }

  // F64/F32/F16/BF16 read into float or double; I64/I32/I16/I8/U8/BOOL into any integer type or bool
  // (an integer that does not fit the target type is an error; any non-zero value reads as true).
  template <class T>
  std::vector<T> read(std::string_view name) const {
    const auto& t = info(name);
    std::vector<T> out(static_cast<std::size_t>(t.numel()));
    if constexpr (std::is_same_v<T, bool>) {  // std::vector<bool> has no data()
      decode<T>(t, [&](std::size_t i, bool v) { out[i] = v; });
    } else {
      copy_out(t, out.data());
    }
    return out;
  }

  // As read(), into caller memory of numel elements, after checking the shape exactly.
  template <class T>
  void read_into(std::string_view name, std::span<const std::int64_t> expected_shape, T* out) const {
    const auto& t = info(name);
    if (!std::ranges::equal(t.shape, expected_shape))
      throw error("tensor " + t.name + " in " + path_.string() + " has shape " + shape_string(t.shape) +
                  ", expected " + shape_string(expected_shape));
    copy_out(t, out);
  }
  template <class T>
  void read_into(std::string_view name, std::initializer_list<std::int64_t> expected_shape, T* out) const {
    read_into(name, std::span<const std::int64_t>(expected_shape.begin(), expected_shape.size()), out);
  }

  // A tensor of shape [] or [1].
  template <class T>
  T scalar(std::string_view name) const {
    const auto& t = info(name);
    if (!(t.shape.empty() || (t.shape.size() == 1 && t.shape[0] == 1)))
      throw error("tensor " + t.name + " in " + path_.string() + " has shape " + shape_string(t.shape) +
                  ", expected a scalar ([] or [1])");
    T v{};
    decode<T>(t, [&](std::size_t, T x) { v = x; });
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw error("safetensors file " + path_.string() + ": " + what);
  }

  void load_file() {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path_, ec);
    if (ec) fail("cannot read it: " + ec.message());
    std::ifstream in(path_, std::ios::binary);
    if (!in) fail("cannot open it for reading");
    bytes_.resize(static_cast<std::size_t>(size));
    in.read(reinterpret_cast<char*>(bytes_.data()), static_cast<std::streamsize>(size));
    if (static_cast<std::uintmax_t>(in.gcount()) != size)
      fail("read only " + std::to_string(in.gcount()) + " of its " + std::to_string(size) + " bytes");
  }

  // Non-negative JSON integer, or nullopt.
  static std::optional<std::uint64_t> as_u64(const nlohmann::json& j) {
    if (j.is_number_unsigned()) return j.get<std::uint64_t>();
    if (j.is_number_integer() && j.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(j.get<std::int64_t>());
    return std::nullopt;
  }

  void parse_header() {
    const std::size_t size = bytes_.size();
    if (size < 8)
      fail("truncated: " + std::to_string(size) + " bytes, but the 8-byte header length alone needs 8");
    const auto n = detail::load<std::uint64_t>(bytes_.data(), 0);
    if (n > size - 8)
      fail("header length " + std::to_string(n) + " is larger than the " + std::to_string(size - 8) +
           " bytes that follow it (truncated, or not a safetensors file)");
    data_begin_ = 8 + static_cast<std::size_t>(n);
    const std::size_t data_size = size - data_begin_;

    nlohmann::json header;
    try {
      const auto* text = reinterpret_cast<const char*>(bytes_.data() + 8);
      header = nlohmann::json::parse(text, text + n);
    } catch (const nlohmann::json::exception& e) {
      fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!header.is_object()) fail("header is not a JSON object");

    for (const auto& [key, value] : header.items()) {
      if (key == "__metadata__") {
        if (!value.is_object()) fail("__metadata__ is not a JSON object");
        for (const auto& [mk, mv] : value.items()) {
          if (!mv.is_string()) fail("metadata value of key " + mk + " is not a string");
          metadata_.emplace(mk, mv.get<std::string>());
        }
        continue;
      }
      tensors_.emplace(key, parse_entry(key, value, data_size));
    }
    check_overlaps();
  }

  tensor_info parse_entry(const std::string& name, const nlohmann::json& e, std::size_t data_size) const {
    const std::string where = "tensor " + name + ": ";
    if (!e.is_object()) fail(where + "header entry is not a JSON object");
    if (!e.contains("dtype") || !e["dtype"].is_string()) fail(where + "missing the string field \"dtype\"");
    if (!e.contains("shape") || !e["shape"].is_array()) fail(where + "missing the array field \"shape\"");
    if (!e.contains("data_offsets") || !e["data_offsets"].is_array() || e["data_offsets"].size() != 2)
      fail(where + "missing the field \"data_offsets\": [begin, end]");

    tensor_info t;
    t.name = name;
    const auto type_str = e["dtype"].get<std::string>();
    const auto type = dtype_from_name(type_str);
    if (!type) fail(where + "unknown dtype \"" + type_str + "\" (known: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
    t.type = *type;
    for (const auto& d : e["shape"]) {
      const auto u = as_u64(d);
      if (!u || *u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        fail(where + "shape " + e["shape"].dump() + " holds something other than a non-negative integer");
      t.shape.push_back(static_cast<std::int64_t>(*u));
    }
    const auto b = as_u64(e["data_offsets"][0]), en = as_u64(e["data_offsets"][1]);
    const std::string offsets = e["data_offsets"].dump();
    if (!b || !en) fail(where + "data_offsets " + offsets + " are not non-negative integers");
    if (*b > *en) fail(where + "data_offsets " + offsets + " end before they begin");
    if (*en > data_size)
      fail(where + "data_offsets " + offsets + " lie outside the data section of " + std::to_string(data_size) +
           " bytes");
    t.begin = static_cast<std::size_t>(*b);
    t.end = static_cast<std::size_t>(*en);
    const auto numel = detail::checked_numel(t.shape);
    const auto item = dtype_size(t.type);
    if (!numel || *numel > std::numeric_limits<std::uint64_t>::max() / item)
      fail(where + "shape " + shape_string(t.shape) + " is too large");
    if (*numel * item != t.end - t.begin)
      fail(where + "dtype " + std::string(dtype_name(t.type)) + " and shape " + shape_string(t.shape) + " need " +
           std::to_string(*numel * item) + " bytes, but data_offsets " + offsets + " hold " +
           std::to_string(t.end - t.begin));
    return t;
  }

  // The tensors must cover the data section exactly, as the format requires (and as safetensors' own loader
  // checks): no overlap, no gap between two tensors, nothing after the last one. A gap or trailing bytes mean a
  // damaged or hand-edited file whose offsets cannot be trusted.
  void check_overlaps() const {
    std::vector<const tensor_info*> order;
    for (const auto& kv : tensors_)
      if (kv.second.end > kv.second.begin) order.push_back(&kv.second);  // empty tensors occupy nothing
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
    std::size_t covered = 0;  // the data section is covered up to here
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (i > 0 && order[i]->begin < order[i - 1]->end)
        fail("tensors " + order[i - 1]->name + " (bytes " + std::to_string(order[i - 1]->begin) + ".." +
             std::to_string(order[i - 1]->end) + ") and " + order[i]->name + " (bytes " +
             std::to_string(order[i]->begin) + ".." + std::to_string(order[i]->end) + ") overlap");
      if (order[i]->begin > covered)
        fail("bytes " + std::to_string(covered) + ".." + std::to_string(order[i]->begin) +
             " of the data section belong to no tensor (a gap before tensor " + order[i]->name +
             "); expected the tensors to cover the data section exactly");
      covered = order[i]->end;
    }
    const std::size_t data_size = bytes_.size() - data_begin_;
    if (covered != data_size)
      fail(std::to_string(data_size - covered) + " trailing bytes after the last tensor (the data section has " +
           std::to_string(data_size) + " bytes, the tensors cover " + std::to_string(covered) +
           "); expected the tensors to cover the data section exactly");
  }

  template <class T>
  void check_kind(const tensor_info& t) const {
    static_assert(detail::is_readable<T>, "safetensors_reader: T must be float, double, an integer type or bool");
    if (dtype_is_float(t.type) != (std::is_same_v<T, float> || std::is_same_v<T, double>))
      throw error("tensor " + t.name + " in " + path_.string() + " has dtype " + std::string(dtype_name(t.type)) +
                  " and cannot be read as " + detail::type_label<T>() +
                  ": floating-point dtypes read into float or double, integer and BOOL dtypes into integers or bool");
  }

  template <class T>
  void copy_out(const tensor_info& t, T* out) const {
    check_kind<T>(t);
    if (detail::dtype_of<T>() == t.type && !std::is_same_v<T, bool>) {  // same representation: one copy
      if (t.end > t.begin) std::memcpy(out, bytes_.data() + data_begin_ + t.begin, t.end - t.begin);
      return;
    }
    decode<T>(t, [out](std::size_t i, T v) { out[i] = v; });
  }

  // Calls put(i, value-as-T) for every element, converting from the stored dtype.
  template <class T, class Put>
  void decode(const tensor_info& t, Put&& put) const {
    check_kind<T>(t);
    using detail::load;
    const std::byte* src = bytes_.data() + data_begin_ + t.begin;
    const auto n = static_cast<std::size_t>(t.numel());
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      switch (t.type) {
        case dtype::F64: for (std::size_t i = 0; i < n; ++i) put(i, static_cast<T>(load<double>(src, i))); break;
        case dtype::F32: for (std::size_t i = 0; i < n; ++i) put(i, static_cast<T>(load<float>(src, i))); break;
        case dtype::F16:
          for (std::size_t i = 0; i < n; ++i)
            put(i, static_cast<T>(detail::half_to_float(load<std::uint16_t>(src, i))));
          break;
        case dtype::BF16:
          for (std::size_t i = 0; i < n; ++i)
            put(i, static_cast<T>(detail::bf16_to_float(load<std::uint16_t>(src, i))));
          break;
        default: break;  // excluded by check_kind
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        std::int64_t v = 0;
        switch (t.type) {
          case dtype::I64: v = load<std::int64_t>(src, i); break;
          case dtype::I32: v = load<std::int32_t>(src, i); break;
          case dtype::I16: v = load<std::int16_t>(src, i); break;
          case dtype::I8: v = load<std::int8_t>(src, i); break;
          case dtype::U8: v = load<std::uint8_t>(src, i); break;
          case dtype::BOOL: v = load<std::uint8_t>(src, i) != 0; break;
          default: break;  // excluded by check_kind
        }
        if constexpr (std::is_same_v<T, bool>) {
          put(i, v != 0);
        } else {
          const bool fits = std::is_signed_v<T>
                                ? v >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
                                      v <= static_cast<std::int64_t>(std::numeric_limits<T>::max())
                                : v >= 0 && static_cast<std::uint64_t>(v) <=
                                                static_cast<std::uint64_t>(std::numeric_limits<T>::max());
          if (!fits)
            throw error("tensor " + t.name + " in " + path_.string() + ": element " + std::to_string(i) + " = " +
                        std::to_string(v) + " (" + std::string(dtype_name(t.type)) + ") does not fit in " +
                        detail::type_label<T>());
          put(i, static_cast<T>(v));
        }
      }
    }
  }

  std::filesystem::path path_;
  std::vector<std::byte> bytes_;  // the whole file
  std::size_t data_begin_ = 0;    // 8 + header length
  std::map<std::string, tensor_info, std::less<>> tensors_;
  std::map<std::string, std::string> metadata_;
};

class safetensors_writer {
 public:
  // Copies numel(shape) elements of data. T: double, float, int64_t, int32_t, int16_t, int8_t, uint8_t, bool.
  template <class T>
  void add(std::string name, std::vector<std::int64_t> shape, const T* data) {
    constexpr auto type = detail::dtype_of<T>();
    static_assert(type.has_value(),
                  "safetensors_writer::add: T must be double, float, int64_t, int32_t, int16_t, int8_t, "
                  "uint8_t or bool");
    const auto n = count(name, shape, data);
    std::vector<std::byte> bytes(n * sizeof(T));
    if constexpr (std::is_same_v<T, bool>) {
      for (std::size_t i = 0; i < n; ++i) bytes[i] = std::byte{static_cast<unsigned char>(data[i] ? 1 : 0)};
    } else if (n) {
      std::memcpy(bytes.data(), data, bytes.size());
    }
    insert(std::move(name), *type, std::move(shape), std::move(bytes));
  }

  // Stores float data as BF16, rounding to nearest-even.
  void add_bf16(std::string name, std::vector<std::int64_t> shape, const float* data) {
    const auto n = count(name, shape, data);
    std::vector<std::byte> bytes(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint16_t h = detail::float_to_bf16(data[i]);
      std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
    insert(std::move(name), dtype::BF16, std::move(shape), std::move(bytes));
  }

  // Stores already-encoded bytes (e.g. safetensors_reader::raw), so any tensor can be copied unchanged.
  void add_raw(std::string name, dtype type, std::vector<std::int64_t> shape, std::span<const std::byte> bytes) {
    const auto n = detail::checked_numel(shape);
    if (!n || *n * dtype_size(type) != bytes.size())
      throw error("safetensors_writer: tensor " + name + " has dtype " + std::string(dtype_name(type)) +
                  " and shape " + shape_string(shape) + " but " + std::to_string(bytes.size()) + " bytes");
    insert(std::move(name), type, std::move(shape), std::vector<std::byte>(bytes.begin(), bytes.end()));
  }

  // Sets (or replaces) a "__metadata__" entry.
  void metadata(std::string key, std::string value) { metadata_[std::move(key)] = std::move(value); }

  // Writes FILE atomically (core/atomic_file.hpp: a synced temporary renamed over it), so FILE is either the old
  // file or the complete new one. On failure the temporary is removed and io::error names FILE.
  void save(const std::filesystem::path& file) const {
    std::vector<const entry*> order;
    for (const auto& kv : entries_) order.push_back(&kv.second);
    std::sort(order.begin(), order.end(), [](const entry* a, const entry* b) {
      const auto sa = dtype_size(a->type), sb = dtype_size(b->type);
      return sa != sb ? sa > sb : a->name < b->name;
    });
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata_.empty()) header["__metadata__"] = metadata_;
    std::size_t offset = 0;
    for (const entry* e : order) {
      header[e->name] = {{"dtype", dtype_name(e->type)},
                         {"shape", e->shape},
                         {"data_offsets", {offset, offset + e->bytes.size()}}};
      offset += e->bytes.size();
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    const auto n = static_cast<std::uint64_t>(text.size());
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));

    try {
      atomic_file tmp(file);
      tmp.write(len, 8);
      tmp.write(text.data(), text.size());
      for (const entry* e : order) tmp.write(e->bytes.data(), e->bytes.size());
      tmp.commit();
    } catch (const atomic_file_error& e) {
      throw error("cannot write safetensors file " + file.string() + ": " + e.step() + e.reason() +
                  "; the file was left unchanged");
    }
  }

 private:
  struct entry {
    std::string name;
    dtype type;
    std::vector<std::int64_t> shape;
    std::vector<std::byte> bytes;
  };

  template <class T>
  std::size_t count(const std::string& name, const std::vector<std::int64_t>& shape, const T* data) const {
    const auto n = detail::checked_numel(shape);
    if (!n || *n > std::numeric_limits<std::size_t>::max() / 8)
      throw error("safetensors_writer: tensor " + name + " has an invalid shape " + shape_string(shape));
    if (*n && !data) throw error("safetensors_writer: tensor " + name + " has no data (null pointer)");
    return static_cast<std::size_t>(*n);
  }

  void insert(std::string name, dtype type, std::vector<std::int64_t> shape, std::vector<std::byte> bytes) {
    if (name == "__metadata__")
      throw error("safetensors_writer: \"__metadata__\" is reserved and cannot name a tensor");
    if (entries_.count(name)) throw error("safetensors_writer: tensor " + name + " was added twice");
    entry e{name, type, std::move(shape), std::move(bytes)};
    entries_.emplace(std::move(name), std::move(e));
  }

  std::map<std::string, entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace gtrm::io
