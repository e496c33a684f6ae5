// SHA-256 known answers (FIPS 180-4 examples), chunked updates across block boundaries, and a real file checked
// against the digest published in shared/data/MANIFEST.md.
#include <doctest/doctest.h>

#include <gtrm/eval/sha256.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using gtrm::eval::sha256;
using gtrm::eval::sha256_hex;

TEST_CASE("sha256: FIPS 180-4 known answers") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // 55, 56 and 64 bytes: the padding edge cases (length field fits, does not fit, full block).
  CHECK(sha256_hex(std::string(55, 'a')) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  CHECK(sha256_hex(std::string(56, 'a')) == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  CHECK(sha256_hex(std::string(64, 'a')) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("sha256: chunked updates equal one update") {
  std::string msg;
  for (int i = 0; i < 1000; ++i) msg.push_back(static_cast<char>(i * 7 + 3));
  const auto whole = sha256_hex(msg);
  for (std::size_t chunk : {1u, 3u, 63u, 64u, 65u, 200u}) {
    CAPTURE(chunk);
    sha256 h;
    for (std::size_t i = 0; i < msg.size(); i += chunk) h.update(std::string_view(msg).substr(i, chunk));
    CHECK(h.hexdigest() == whole);
  }
}

TEST_CASE("sha256: a shared/data file matches MANIFEST.md") {
  const std::filesystem::path p =
      std::filesystem::path(GTRM_SOURCE_DIR) / ".." / "shared" / "data" / "arc-agi-1" / "evaluation" / "00576224.json";
  if (!std::filesystem::exists(p)) {
    MESSAGE("skipped: " << p.string() << " not present");
    return;
  }
  std::ifstream f(p, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  CHECK(sha256_hex(bytes) == "7ba34ffeebc522cccfe74ab4d7e06088ef6e057581b242cd8b5a7a01a77ac8eb");
}
