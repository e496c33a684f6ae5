// ARC augmentation as the reference's build_arc_dataset.py (aug, inverse_aug, convert_single_arc_puzzle):
//   a version = (dihedral id t in 0..7, colour map [0] + permutation(1..9)); grid -> dihedral(map[grid], t);
//   name "<id>|||t<t>|||<the 10 map digits>" (the original keeps the bare id); the inverse is
//   grid -> inv_map[dihedral(grid, dihedral_inverse[t])] with inv_map = argsort(map).
// Collecting versions: up to 5 * num_aug tries, each drawing randint(0, 8) then permutation(9) from the numpy
// stream, keeping a try only if its augmented task (all pairs of both splits, as a multiset of (input, output))
// differs from the original and every version kept so far; stop at num_aug + 1 versions. The reference compares
// SHA-256 digests of those multisets; comparing the multisets themselves makes exactly the same decisions.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "arc_task.hpp"
#include "dihedral.hpp"
#include "numpy_random.hpp"

namespace gtrm::data {

inline constexpr std::string_view arc_name_separator = "|||";
inline constexpr int arc_augment_retries_factor = 5;

struct arc_aug {
  int tid = 0;
  std::array<std::uint8_t, 10> colours = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};  // colour c -> colours[c]
  bool is_identity() const {
    if (tid != 0) return false;
    for (int c = 0; c < 10; ++c)
      if (colours[static_cast<std::size_t>(c)] != c) return false;
    return true;
  }
};

// "<id>|||t<tid>|||<digits>", the reference's name_with_aug_repr.
inline std::string arc_aug_name(std::string_view id, const arc_aug& a) {
  std::string s(id);
  s += arc_name_separator;
  s += 't';
  s += static_cast<char>('0' + a.tid);
  s += arc_name_separator;
  for (auto c : a.colours) s += static_cast<char>('0' + c);
  return s;
}

struct arc_parsed_name {
  std::string original;  // the task id
  arc_aug aug;           // identity for a bare id
  bool augmented = false;
};

// inverse_aug's parsing: a name without "|||" is an original; otherwise the last two fields are t<tid> and the
// digits, and the original is the text before the first "|||". Throws data_error on a malformed name.
inline arc_parsed_name parse_arc_name(std::string_view name) {
  arc_parsed_name p;
  const auto first = name.find(arc_name_separator);
  if (first == std::string_view::npos) {
    p.original = std::string(name);
    return p;
  }
  p.original = std::string(name.substr(0, first));
  p.augmented = true;
  const auto last = name.rfind(arc_name_separator);
  const auto before = last == first ? std::string_view::npos : name.rfind(arc_name_separator, last - 1);
  const auto bad = [&] { return data_error("identifier '" + std::string(name) + "': not <id>|||t<0..7>|||<10 digits>"); };
  if (before == std::string_view::npos || last < before + arc_name_separator.size()) throw bad();
  const auto t = name.substr(before + arc_name_separator.size(), last - before - arc_name_separator.size());
  const auto digits = name.substr(last + arc_name_separator.size());
  if (t.size() != 2 || t[0] != 't' || t[1] < '0' || t[1] > '7' || digits.size() != 10) throw bad();
  p.aug.tid = t[1] - '0';
  std::array<bool, 10> seen{};
  for (std::size_t i = 0; i < 10; ++i) {
    if (digits[i] < '0' || digits[i] > '9' || seen[static_cast<std::size_t>(digits[i] - '0')]) throw bad();
    seen[static_cast<std::size_t>(digits[i] - '0')] = true;
    p.aug.colours[i] = static_cast<std::uint8_t>(digits[i] - '0');
  }
  return p;
}

// dihedral(colours[g], tid).
inline arc_grid arc_apply(const arc_grid& g, const arc_aug& a) {
  arc_grid out;
  out.cells = dihedral(g.cells.data(), g.h, g.w, a.tid, out.h, out.w);
  for (auto& c : out.cells) c = a.colours[c];
  return out;
}

// The inverse of arc_apply: inv_colours[dihedral(g, dihedral_inverse[tid])]. Cells must be 0..9.
inline arc_grid arc_invert(const arc_grid& g, const arc_aug& a) {
  std::array<std::uint8_t, 10> inv{};
  for (std::uint8_t c = 0; c < 10; ++c) inv[a.colours[c]] = c;
  arc_grid out;
  out.cells = dihedral(g.cells.data(), g.h, g.w, dihedral_inverse[a.tid], out.h, out.w);
  for (auto& c : out.cells) c = inv[c];
  return out;
}

// One augmentation draw in the reference's order: trans_id = randint(0, 8), then [0] + permutation(arange(1, 10)).
inline arc_aug arc_draw_aug(numpy_random& rng) {
  arc_aug a;
  a.tid = static_cast<int>(rng.randint(0, 8));
  const auto p = rng.permutation(9);
  for (std::size_t i = 0; i < 9; ++i) a.colours[i + 1] = static_cast<std::uint8_t>(p[i] + 1);
  return a;
}

namespace arc_detail {

inline void append_grid(std::string& s, const arc_grid& g) {
  s += static_cast<char>(g.h);
  s += static_cast<char>(g.w);
  s.append(reinterpret_cast<const char*>(g.cells.data()), g.cells.size());
}

// The augmented task as a canonical byte string: every (input, output) pair of both splits, encoded with shapes
// (so the encoding is unambiguous), sorted, concatenated. Equal strings <=> equal multisets of pairs.
inline std::string canonical_pairs(const arc_task& t, const arc_aug& a) {
  std::vector<std::string> enc;
  enc.reserve(t.train.size() + t.test.size());
  for (const auto* list : {&t.train, &t.test})
    for (const auto& p : *list) {
      std::string e;
      append_grid(e, arc_apply(p.input, a));
      append_grid(e, arc_apply(p.output, a));
      enc.push_back(std::move(e));
    }
  std::sort(enc.begin(), enc.end());
  std::string s;
  for (const auto& e : enc) s += e;
  return s;
}

}  // namespace arc_detail

// The versions of one task: the identity first, then up to num_aug distinct augmentations (fewer when the task's
// symmetries leave too few distinct versions within 5 * num_aug tries). Draws from rng exactly as the reference.
inline std::vector<arc_aug> arc_augmentations(const arc_task& t, int num_aug, numpy_random& rng) {
  std::vector<arc_aug> versions(1);
  if (num_aug <= 0) return versions;
  std::unordered_set<std::string> seen;
  seen.insert(arc_detail::canonical_pairs(t, versions[0]));
  for (int trial = 0; trial < arc_augment_retries_factor * num_aug; ++trial) {
    const arc_aug a = arc_draw_aug(rng);
    if (seen.insert(arc_detail::canonical_pairs(t, a)).second) versions.push_back(a);
    if (static_cast<int>(versions.size()) >= num_aug + 1) break;
  }
  return versions;
}

}  // namespace gtrm::data
