// safetensors reader/writer: the golden files read as documented, a round trip keeps tensors, dtypes,
// metadata and the (item size desc, name) layout, and every kind of damaged file gives one io::error that
// names the file, never a crash. Writing fails atomically: an error leaves the old file and no temporary.
#include <doctest/doctest.h>

#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gtrm/io/safetensors.hpp>

#if __has_include(<sys/resource.h>)
#include <sys/resource.h>
#endif

namespace fs = std::filesystem;
using namespace gtrm::io;

namespace {

const fs::path golden_dir = fs::path(GTRM_TEST_DATA_DIR) / "golden";

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("gtrm_test_io_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  fs::path operator/(const std::string& name) const { return path / name; }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(path), fs::directory_iterator{}));
  }
};

// The message of the io::error f throws, or "<no error>".
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const error& e) {
    return e.what();
  }
  return "<no error>";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A file with the given header text, header length field and data section.
void write_raw(const fs::path& p, const std::string& header, std::size_t data_bytes,
               std::optional<std::uint64_t> length_field = {}) {
  std::ofstream out(p, std::ios::binary);
  const std::uint64_t n = length_field.value_or(header.size());
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
  out << header;
  out << std::string(data_bytes, '\0');
}

std::vector<char> file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("safetensors: golden a_rope reads as documented") {
  const safetensors_reader r(golden_dir / "a_rope.safetensors");
  CHECK(r.path() == golden_dir / "a_rope.safetensors");

  const auto& lm = r.info("model.inner.lm_head.weight");
  CHECK(lm.type == dtype::F32);
  CHECK(lm.shape == std::vector<std::int64_t>{11, 64});
  CHECK(lm.numel() == 704);
  CHECK(lm.end - lm.begin == 704 * 4);
  const auto w = r.read<float>("model.inner.lm_head.weight");
  const auto wd = r.read<double>("model.inner.lm_head.weight");
  REQUIRE(w.size() == 704);
  CHECK(w[0] == doctest::Approx(-0.1209002435207367).epsilon(1e-7));
  CHECK(w[2] == doctest::Approx(0.021953867748379707).epsilon(1e-7));
  for (std::size_t i = 0; i < w.size(); ++i) REQUIRE(wd[i] == static_cast<double>(w[i]));
  std::vector<float> into(704);
  r.read_into<float>("model.inner.lm_head.weight", {11, 64}, into.data());
  CHECK(into == w);

  CHECK(r.info("step1/loss").type == dtype::F64);
  CHECK(r.info("step1/loss").shape.empty());
  CHECK(r.info("step1/loss").numel() == 1);
  CHECK(r.scalar<double>("step1/loss") == doctest::Approx(12.243375027332023).epsilon(1e-15));
  CHECK(r.scalar<float>("step1/loss") == static_cast<float>(r.scalar<double>("step1/loss")));

  // I64 argmax predictions into narrower integers; BOOL flags into bool and int.
  const auto preds = r.read<std::int32_t>("step1/preds");
  CHECK(preds.size() == 64);
  CHECK(std::vector<std::int32_t>(preds.begin(), preds.begin() + 4) == std::vector<std::int32_t>{5, 5, 5, 4});
  CHECK(r.read<bool>("step1/carry.halted") == std::vector<bool>{false, true, true, true});
  CHECK(r.read<int>("step1/carry.halted") == std::vector<int>{0, 1, 1, 1});
  CHECK(r.read<std::int64_t>("step1/carry.steps") == std::vector<std::int64_t>{1, 1, 1, 1});

  const auto config = nlohmann::json::parse(r.meta("config").value());
  CHECK(config.at("hidden_size").get<int>() == 64);
  CHECK(r.metadata().count("parameter_names") == 1);
  CHECK_FALSE(r.meta("no such key").has_value());

  const auto names = r.names();
  CHECK(names.size() == 131);
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(r.contains("batch/inputs"));
  CHECK_FALSE(r.contains("batch/input"));
}

TEST_CASE("safetensors: read errors name the tensor, the file and what was expected") {
  const auto file = golden_dir / "a_rope.safetensors";
  const safetensors_reader r(file);
  const std::string f = file.string();

  auto msg = error_of([&] { (void)r.info("model.inner.nope"); });
  CHECK(has(msg, "model.inner.nope"));
  CHECK(has(msg, f));

  std::vector<float> out(704);
  msg = error_of([&] { r.read_into<float>("model.inner.lm_head.weight", {64, 11}, out.data()); });
  CHECK(msg == "tensor model.inner.lm_head.weight in " + f + " has shape [11, 64], expected [64, 11]");

  msg = error_of([&] { (void)r.read<std::int32_t>("model.inner.lm_head.weight"); });
  CHECK(has(msg, "model.inner.lm_head.weight"));
  CHECK(has(msg, f));
  CHECK(has(msg, "F32"));
  CHECK(has(msg, "int32"));
  msg = error_of([&] { (void)r.read<float>("batch/inputs"); });
  CHECK(has(msg, "batch/inputs"));
  CHECK(has(msg, "I32"));
  CHECK(has(msg, "float"));

  msg = error_of([&] { (void)r.scalar<double>("step1/q_halt_logits"); });
  CHECK(has(msg, "step1/q_halt_logits"));
  CHECK(has(msg, "[4]"));
  CHECK(has(msg, "scalar"));
}

TEST_CASE("safetensors: round trip of every writable dtype, with metadata and layout") {
  temp_dir dir;
  const auto file = dir / "round.safetensors";
  const std::vector<double> d{1.0, -2.5, 1e-300, std::numeric_limits<double>::infinity()};
  const std::vector<float> f{0.5f, -1.25f, 3.0e38f, 1e-45f, 7.0f, 8.0f};
  const std::vector<std::int64_t> i64{-(std::int64_t{1} << 40), 0, 42};
  const std::vector<std::int32_t> i32{-7, 2147483647};
  const std::vector<std::uint8_t> u8{0, 255, 17};
  const bool flags[3] = {true, false, true};
  const double loss = 12.25;

  safetensors_writer w;
  w.add("b/doubles", {2, 2}, d.data());
  w.add("a/floats", {2, 3}, f.data());
  w.add("ints64", {3}, i64.data());
  w.add("ints32", {1, 2}, i32.data());
  w.add("bytes", {3}, u8.data());
  w.add("flags", {3}, flags);
  w.add("loss", {}, &loss);
  w.add<float>("empty", {0, 4}, nullptr);
  w.metadata("config", R"({"hidden_size": 8})");
  w.metadata("note", "written by test_io_safetensors");
  w.save(file);
  CHECK(dir.entries() == 1);  // no temporary left behind
  {
    const auto bytes = file_bytes(file);
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
    CHECK((8 + n) % 8 == 0);  // header padded: the data section starts 8-aligned
  }

  const safetensors_reader r(file);
  CHECK(r.names() == std::vector<std::string>{"a/floats", "b/doubles", "bytes", "empty", "flags", "ints32",
                                              "ints64", "loss"});
  CHECK(r.read<double>("b/doubles") == d);
  CHECK(r.read<float>("a/floats") == f);
  CHECK(r.read<std::int64_t>("ints64") == i64);
  CHECK(r.read<std::int32_t>("ints32") == i32);
  CHECK(r.read<std::uint8_t>("bytes") == u8);
  CHECK(r.read<int>("bytes") == std::vector<int>{0, 255, 17});
  CHECK(r.read<bool>("flags") == std::vector<bool>{true, false, true});
  CHECK(r.scalar<double>("loss") == 12.25);
  CHECK(r.read<float>("empty").empty());
  CHECK(r.info("empty").shape == std::vector<std::int64_t>{0, 4});
  CHECK(r.info("ints32").shape == std::vector<std::int64_t>{1, 2});
  CHECK(r.info("flags").type == dtype::BOOL);
  CHECK(r.meta("note") == "written by test_io_safetensors");
  CHECK(nlohmann::json::parse(r.meta("config").value())["hidden_size"] == 8);

  // Layout: (item size descending, name), contiguous from 0.
  std::vector<const tensor_info*> by_offset;
  for (const auto& n : r.names()) by_offset.push_back(&r.info(n));
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::size_t at = 0;
  for (std::size_t k = 0; k < by_offset.size(); ++k) {
    CHECK(by_offset[k]->begin == at);
    at = by_offset[k]->end;
    if (k > 0 && by_offset[k]->end > by_offset[k]->begin && by_offset[k - 1]->end > by_offset[k - 1]->begin)
      CHECK(dtype_size(by_offset[k - 1]->type) >= dtype_size(by_offset[k]->type));
  }

  // Range-checked integer narrowing.
  const auto msg = error_of([&] { (void)r.read<std::int32_t>("ints64"); });
  CHECK(has(msg, "ints64"));
  CHECK(has(msg, "does not fit in int32"));
  CHECK(has(error_of([&] { (void)r.read<std::int8_t>("bytes"); }), "does not fit in int8"));
}

TEST_CASE("safetensors: the golden file written back keeps its tensors, metadata and layout") {
  temp_dir dir;
  const safetensors_reader a(golden_dir / "a_rope.safetensors");
  safetensors_writer w;
  for (const auto& n : a.names()) w.add_raw(n, a.info(n).type, a.info(n).shape, a.raw(n));
  for (const auto& [k, v] : a.metadata()) w.metadata(k, v);
  w.save(dir / "copy.safetensors");
  const safetensors_reader b(dir / "copy.safetensors");
  CHECK(b.names() == a.names());
  CHECK(b.metadata() == a.metadata());
  for (const auto& n : a.names()) {
    const auto &x = a.info(n), &y = b.info(n);
    CHECK_MESSAGE(x.type == y.type, n);
    CHECK_MESSAGE(x.shape == y.shape, n);
    CHECK_MESSAGE(x.begin == y.begin, n);  // same (item size desc, name) order as the reference writer
    CHECK_MESSAGE(x.end == y.end, n);
    const auto rx = a.raw(n), ry = b.raw(n);
    CHECK_MESSAGE(std::equal(rx.begin(), rx.end(), ry.begin(), ry.end()), n);
  }
}

TEST_CASE("safetensors: BF16 rounds to nearest even; F16 and BF16 read as float") {
  temp_dir dir;
  const float one_plus_half_ulp = 1.0f + std::ldexp(1.0f, -8);       // exactly between 1 and 1+2^-7: to even (1)
  const float three_halves_ulp = 1.0f + 3 * std::ldexp(1.0f, -8);    // between 1+2^-7 and 1+2^-6: to even (1+2^-6)
  const float just_above_half = 1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20);  // above the tie: up
  const std::vector<float> in{1.0f, -2.5f, 3.14159265f, one_plus_half_ulp, three_halves_ulp, just_above_half,
                              0.0f, -0.0f, std::numeric_limits<float>::infinity(), 1e-40f};
  const std::vector<float> want{1.0f, -2.5f, 3.140625f, 1.0f, 1.0f + std::ldexp(1.0f, -6),
                                1.0f + std::ldexp(1.0f, -7), 0.0f, -0.0f, std::numeric_limits<float>::infinity(),
                                std::bit_cast<float>(0x00010000u)};  // 1e-40 = 0x000116c2: rounds down
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // F16: 1, -2, the smallest subnormal 2^-24, 65504 (the largest finite), +inf.
  const std::uint16_t half[5] = {0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00};
  safetensors_writer w;
  w.add_bf16("bf", {static_cast<std::int64_t>(in.size())}, in.data());
  w.add_bf16("nan", {1}, &nan);
  w.add_raw("half", dtype::F16, {5}, std::as_bytes(std::span(half)));
  w.save(dir / "bf16.safetensors");

  const safetensors_reader r(dir / "bf16.safetensors");
  CHECK(r.info("bf").type == dtype::BF16);
  const auto got = r.read<float>("bf");
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(std::bit_cast<std::uint32_t>(got[i]) == std::bit_cast<std::uint32_t>(want[i]));
  }
  CHECK(std::isnan(r.scalar<float>("nan")));
  CHECK(r.read<double>("half") == std::vector<double>{1.0, -2.0, std::ldexp(1.0, -24), 65504.0,
                                                      std::numeric_limits<double>::infinity()});
}

TEST_CASE("safetensors: damaged files give one clear error naming the file") {
  temp_dir dir;
  const std::string ok_entry = R"("t":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})";
  struct bad_case {
    const char* file;
    std::string header;
    std::size_t data;
    std::optional<std::uint64_t> length;
    const char* expect;  // part of the message
  };
  const std::vector<bad_case> cases = {
      {"zero_header", "", 0, std::nullopt, "not valid JSON"},
      {"huge_length", "{" + ok_entry + "}", 16, 1u << 30, "larger than"},
      {"length_past_end", "{" + ok_entry + "}", 0, 200, "larger than"},
      {"not_json", R"({"t": {"dtype": "F32", )", 16, std::nullopt, "not valid JSON"},
      {"not_object", "[1, 2, 3]", 0, std::nullopt, "not a JSON object"},
      {"entry_not_object", R"({"t": 3})", 0, std::nullopt, "tensor t"},
      {"no_dtype", R"({"t":{"shape":[1],"data_offsets":[0,4]}})", 4, std::nullopt, "dtype"},
      {"unknown_dtype", R"({"t":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})", 2, std::nullopt,
       "unknown dtype \"F8\""},
      {"negative_dim", R"({"t":{"dtype":"F32","shape":[-1,2],"data_offsets":[0,8]}})", 8, std::nullopt,
       "non-negative integer"},
      {"fractional_dim", R"({"t":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4, std::nullopt,
       "non-negative integer"},
      {"offsets_out_of_range", "{" + ok_entry + "}", 8, std::nullopt, "outside the data section"},
      {"offsets_reversed", R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8, std::nullopt,
       "end before they begin"},
      {"offsets_not_pair", R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4, std::nullopt,
       "data_offsets"},
      {"byte_count", R"({"t":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}})", 16, std::nullopt,
       "need 24 bytes"},
      {"overlap",
       R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F64","shape":[2],"data_offsets":[8,24]}})",
       24, std::nullopt, "overlap"},
      {"shape_overflow",
       R"({"t":{"dtype":"F64","shape":[4294967296,4294967296,4],"data_offsets":[0,8]}})", 8, std::nullopt,
       "too large"},
      {"metadata_not_string", R"({"__metadata__":{"k":1}})", 0, std::nullopt, "key k is not a string"},
      // the tensors must cover the data section exactly
      {"gap",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}})",
       24, std::nullopt, "bytes 8..16 of the data section belong to no tensor (a gap before tensor b)"},
      {"gap_at_start", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16, std::nullopt,
       "bytes 0..8 of the data section belong to no tensor"},
      {"trailing", "{" + ok_entry + "}", 20, std::nullopt, "4 trailing bytes after the last tensor"},
      {"no_tensors_trailing", "{}", 8, std::nullopt, "8 trailing bytes"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.file));
    const auto p = dir / c.file;
    write_raw(p, c.header, c.data, c.length);
    const auto msg = error_of([&] { safetensors_reader r(p); });
    CAPTURE(msg);
    CHECK(has(msg, p.string()));
    CHECK(has(msg, c.expect));
  }
  // The same entry with a well-formed layout reads.
  write_raw(dir / "fine", "{" + ok_entry + "}", 16);
  CHECK(safetensors_reader(dir / "fine").read<float>("t").size() == 4);
  std::ofstream(dir / "seven_bytes", std::ios::binary) << "1234567";
  std::ofstream(dir / "zero_bytes", std::ios::binary).flush();
  CHECK(has(error_of([&] { safetensors_reader r(dir / "zero_bytes"); }), "truncated: 0 bytes"));
  CHECK(has(error_of([&] { safetensors_reader r(dir / "seven_bytes"); }), "truncated: 7 bytes"));

  // A real file cut short: its last tensors point past the end.
  const auto golden = file_bytes(golden_dir / "a_rope.safetensors");
  {
    std::ofstream out(dir / "cut.safetensors", std::ios::binary);
    out.write(golden.data(), static_cast<std::streamsize>(golden.size() / 2));
  }
  auto msg = error_of([&] { safetensors_reader r(dir / "cut.safetensors"); });
  CHECK(has(msg, (dir / "cut.safetensors").string()));
  CHECK(has(msg, "outside the data section"));

  msg = error_of([&] { safetensors_reader r(dir / "missing.safetensors"); });
  CHECK(has(msg, (dir / "missing.safetensors").string()));
}

TEST_CASE("safetensors: writer errors") {
  safetensors_writer w;
  const float x[2] = {1, 2};
  w.add("x", {2}, x);
  CHECK(has(error_of([&] { w.add("x", {2}, x); }), "tensor x was added twice"));
  CHECK(has(error_of([&] { w.add_bf16("x", {2}, x); }), "added twice"));
  CHECK(has(error_of([&] { w.add("y", {-2}, x); }), "invalid shape [-2]"));
  CHECK(has(error_of([&] { w.add<float>("z", {2}, nullptr); }), "no data"));
  CHECK(has(error_of([&] { w.add("__metadata__", {2}, x); }), "reserved"));
  const std::byte three[3]{};
  CHECK(has(error_of([&] { w.add_raw("r", dtype::F32, {1}, three); }), "3 bytes"));
}

TEST_CASE("safetensors: a failed save leaves the old file and no temporary") {
  temp_dir dir;
  const float x[4] = {1, 2, 3, 4};
  safetensors_writer w;
  w.add("x", {4}, x);

  // Missing directory.
  auto target = dir / "no_such_dir" / "out.safetensors";
  auto msg = error_of([&] { w.save(target); });
  CHECK(has(msg, target.string()));
  CHECK(has(msg, "left unchanged"));

  // Target is a directory: the rename fails after the temporary was written.
  fs::create_directory(dir / "a_directory");
  msg = error_of([&] { w.save(dir / "a_directory"); });
  CHECK(has(msg, (dir / "a_directory").string()));
  CHECK(has(msg, "renaming"));
  CHECK(dir.entries() == 1);  // only the directory: the temporary is gone

#if __has_include(<sys/resource.h>) && defined(SIGXFSZ)
  // A full disk, simulated with a file-size limit: writes past it fail with EFBIG.
  w.save(dir / "keep.safetensors");
  const auto before = file_bytes(dir / "keep.safetensors");
  std::vector<float> big(1 << 16, 1.0f);
  safetensors_writer wb;
  wb.add("big", {1 << 16}, big.data());
  rlimit old{};
  getrlimit(RLIMIT_FSIZE, &old);
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  msg = error_of([&] { wb.save(dir / "keep.safetensors"); });
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  CAPTURE(msg);
  CHECK(has(msg, (dir / "keep.safetensors").string()));
  CHECK(file_bytes(dir / "keep.safetensors") == before);
  CHECK(dir.entries() == 2);  // a_directory and keep.safetensors
  CHECK(safetensors_reader(dir / "keep.safetensors").read<float>("x") == std::vector<float>{1, 2, 3, 4});
#endif
}

TEST_CASE("safetensors: dtype names and sizes, shape strings") {
  CHECK(dtype_name(dtype::BF16) == "BF16");
  CHECK(dtype_size(dtype::BF16) == 2);
  CHECK(dtype_size(dtype::BOOL) == 1);
  CHECK(dtype_size(dtype::I64) == 8);
  for (dtype t : all_dtypes) CHECK(dtype_from_name(dtype_name(t)) == t);
  CHECK_FALSE(dtype_from_name("F8").has_value());
  const std::int64_t s[2] = {4, 16};
  CHECK(shape_string(s) == "[4, 16]");
  CHECK(shape_string({}) == "[]");
}
