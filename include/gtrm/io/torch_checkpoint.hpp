// PyTorch checkpoints (torch.save of a state_dict, the zip format of torch >= 1.6) read and written without Python:
//   <archive>/data.pkl          the OrderedDict, parsed by the restricted unpickler (io/torch_pickle.hpp)
//   <archive>/data/<key>        one record per storage, raw little-endian elements
//   <archive>/byteorder         "little" (absent in old files: little)
//   <archive>/version           the format version
// A tensor is a view of a storage: offset, sizes and strides (in elements); read_torch_checkpoint checks the view
// lies inside its storage and copies it out contiguous (row-major) in its stored dtype, so several tensors may share
// one storage. bf16/f16 stay as stored: add_to_safetensors keeps the dtype, and the safetensors reader converts to
// the model's type on load. The legacy format of torch < 1.6 (a bare pickle stream) is recognised and refused with
// a sentence saying how to re-save it; no official TRM/HRM checkpoint uses it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../backend/zip/zip_archive.hpp"
#include "error.hpp"
#include "safetensors.hpp"
#include "torch_pickle.hpp"

namespace gtrm::io {

struct torch_tensor {
  std::string name;                  // as stored (prefixes kept; strip_torch_prefixes removes them)
  dtype type;                        // the storage's element type
  std::vector<std::int64_t> shape;
  std::vector<std::byte> bytes;      // numel * dtype_size, row-major
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

struct torch_state_dict {
  std::string archive;               // the zip's top folder ("step_100", "archive")
  std::vector<torch_tensor> tensors; // in the pickle's order
};

// `_orig_mod.` (torch.compile) and `module.` (DataParallel/DDP) prefixes, as often as they repeat.
inline std::string strip_torch_prefixes(std::string k) {
  for (bool again = true; again;) {
    again = false;
    for (std::string_view p : {std::string_view("_orig_mod."), std::string_view("module.")})
      if (k.size() > p.size() && k.compare(0, p.size(), p) == 0) {
        k.erase(0, p.size());
        again = true;
      }
  }
  return k;
}

// Whether the bytes start like a zip archive (local file header) or like a legacy torch pickle stream.
inline bool looks_like_zip(std::span<const std::byte> b) {
  return b.size() >= 4 && b[0] == std::byte{'P'} && b[1] == std::byte{'K'} && b[2] == std::byte{3} && b[3] == std::byte{4};
}
inline bool looks_like_torch_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  char head[4] = {};
  if (!in.read(head, 4)) return false;
  const std::byte b[4] = {std::byte(head[0]), std::byte(head[1]), std::byte(head[2]), std::byte(head[3])};
  return looks_like_zip(b) || (static_cast<unsigned char>(head[0]) == 0x80 && head[1] == 2);
}

namespace detail {

inline const torch_pickle::dict_t* state_dict_of(const torch_pickle::value& root, const std::string& what) {
  const auto* d = root.get<torch_pickle::dict_t>();
  if (!d) throw error(what + ": the pickle holds no dict (torch.save of a state_dict holds an OrderedDict)");
  // a training checkpoint sometimes nests the weights: {"model": state_dict, "optimizer": ...}
  bool all_tensors = true;
  for (const auto& [k, v] : d->items) all_tensors = all_tensors && v->is<torch_pickle::tensor_ref>();
  if (all_tensors) return d;
  for (const char* key : {"model", "state_dict", "model_state_dict"})
    for (const auto& [k, v] : d->items)
      if (k->is<std::string>() && *k->get<std::string>() == key && v->is<torch_pickle::dict_t>())
        return state_dict_of(*v, what + "[" + key + "]");
  return d;  // the caller names the first entry that is not a tensor
}

// offset + sum((size_i - 1) * stride_i) + 1 elements, or -1 when an index would overflow or is negative.
inline std::int64_t view_extent(const torch_pickle::tensor_ref& t) {
  if (t.offset < 0) return -1;
  std::int64_t last = t.offset;
  for (std::size_t i = 0; i < t.shape.size(); ++i) {
    if (t.shape[i] < 0 || t.stride[i] < 0) return -1;
    if (t.shape[i] == 0) return 0;
    std::int64_t step = 0;
    if (__builtin_mul_overflow(t.shape[i] - 1, t.stride[i], &step) || __builtin_add_overflow(last, step, &last)) return -1;
  }
  return last == std::numeric_limits<std::int64_t>::max() ? -1 : last + 1;
}

}  // namespace detail

// The records of a checkpoint, from any container with names(), contains(name) and read(name) -> bytes (the zip
// reader; the fuzz target's in-memory map). `what` names the file in errors.
template <class Records>
torch_state_dict read_torch_records(const Records& zip, const std::string& what) {
  std::string pkl;
  for (const auto& n : zip.names())
    if (n.size() >= 8 && n.compare(n.size() - 8, 8, "data.pkl") == 0 && (n.size() == 8 || n[n.size() - 9] == '/')) {
      if (!pkl.empty()) throw error(what + " holds two pickles (" + pkl + ", " + n + "): not a single checkpoint");
      pkl = n;
    }
  if (pkl.empty()) throw error(what + " is a zip without data.pkl: not a PyTorch checkpoint");
  torch_state_dict out;
  const std::string prefix = pkl.substr(0, pkl.size() - 8);  // "<archive>/"
  out.archive = prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1);
  if (zip.contains(prefix + "byteorder")) {
    const auto b = zip.read(prefix + "byteorder");
    const std::string order(reinterpret_cast<const char*>(b.data()), b.size());
    if (order != "little")
      throw error(what + " was saved on a " + order + "-endian machine; gtrm reads little-endian checkpoints only");
  }
  const auto pickle_bytes = zip.read(pkl);
  const torch_pickle::document doc = torch_pickle::load(pickle_bytes, what + ":" + pkl);
  const auto* dict = detail::state_dict_of(*doc.root, what);
  std::map<std::string, std::vector<std::byte>> storages;
  for (const auto& [k, v] : dict->items) {
    const auto* key = k->template get<std::string>();
    if (!key) throw error(what + ": the state_dict has a key that is not a string");
    const auto* t = v->template get<torch_pickle::tensor_ref>();
    if (!t) throw error(what + ": state_dict entry " + *key + " is not a tensor");
    const std::string rec = prefix + "data/" + t->storage.key;
    if (!storages.count(t->storage.key)) {
      if (!zip.contains(rec))
        throw error(what + ": tensor " + *key + " refers to storage " + t->storage.key + ", but the archive has no record " + rec);
      storages[t->storage.key] = zip.read(rec);
    }
    const auto& st = storages[t->storage.key];
    const std::size_t item = dtype_size(t->storage.type);
    const std::uint64_t storage_elems = st.size() / item;
    if (static_cast<std::uint64_t>(t->storage.numel) > storage_elems)
      throw error(what + ": storage " + t->storage.key + " of tensor " + *key + " declares " + std::to_string(t->storage.numel) +
                  " elements but its record holds " + std::to_string(storage_elems));
    const std::int64_t extent = detail::view_extent(*t);
    torch_tensor out_t{*key, t->storage.type, t->shape, {}};
    const auto numel_opt = io::detail::checked_numel(t->shape);
    if (extent < 0 || !numel_opt)
      throw error(what + ": tensor " + *key + " has an invalid view (offset " + std::to_string(t->offset) + ", shape " +
                  shape_string(t->shape) + ")");
    if (static_cast<std::uint64_t>(extent) > static_cast<std::uint64_t>(t->storage.numel))
      throw error(what + ": tensor " + *key + " (shape " + shape_string(t->shape) + ", offset " + std::to_string(t->offset) +
                  ") reaches element " + std::to_string(extent) + " of storage " + t->storage.key + ", which holds " +
                  std::to_string(t->storage.numel));
    if (*numel_opt > static_cast<std::uint64_t>(t->storage.numel))
      throw error(what + ": tensor " + *key + " has more elements than its storage (a broadcast view); save it with .contiguous()");
    const std::size_t n = static_cast<std::size_t>(*numel_opt);
    out_t.bytes.resize(n * item);
    // walk the view in row-major order
    std::vector<std::int64_t> idx(t->shape.size(), 0);
    for (std::size_t e = 0; e < n; ++e) {
      std::int64_t src = t->offset;
      for (std::size_t d = 0; d < idx.size(); ++d) src += idx[d] * t->stride[d];
      std::memcpy(out_t.bytes.data() + e * item, st.data() + static_cast<std::size_t>(src) * item, item);
      for (std::size_t d = idx.size(); d-- > 0;) {
        if (++idx[d] < t->shape[d]) break;
        idx[d] = 0;
      }
    }
    out.tensors.push_back(std::move(out_t));
  }
  return out;
}

// Reads a torch.save(state_dict) zip held in memory; `what` names it in errors. Every defect is an io::error that
// names the file and the tensor, record or pickle opcode at fault; nothing in the pickle is ever called.
inline torch_state_dict read_torch_checkpoint(std::vector<std::byte> bytes, const std::string& what) {
  if (!looks_like_zip(bytes)) {
    if (bytes.size() >= 2 && bytes[0] == std::byte{0x80})
      throw error(what + " is a PyTorch checkpoint in the legacy format (torch < 1.6, or "
                  "_use_new_zipfile_serialization=False), which gtrm does not read: re-save it with "
                  "torch.save(torch.load(f), f2) from torch >= 1.6");
    throw error(what + " is not a PyTorch checkpoint (no zip header)");
  }
  const zip::zip_reader zip(std::move(bytes), what);
  return read_torch_records(zip, what);
}

inline torch_state_dict read_torch_checkpoint(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw error("cannot open " + file.string());
  std::vector<std::byte> bytes;
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::streamoff>(in.tellg());
  in.seekg(0);
  if (size < 0) throw error("cannot read " + file.string());
  bytes.resize(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) throw error("cannot read " + file.string());
  return read_torch_checkpoint(std::move(bytes), file.string());
}

// Adds every tensor (prefixes stripped, dtype kept) to a safetensors writer.
inline void add_to_safetensors(const torch_state_dict& sd, safetensors_writer& w) {
  for (const auto& t : sd.tensors) w.add_raw(strip_torch_prefixes(t.name), t.type, t.shape, t.bytes);
}

// Writes FILE as torch.save(state_dict) does (protocol 2, one storage per tensor, uncompressed records), readable by
// torch.load(FILE, weights_only=True). `archive` is the zip's top folder (torch uses the file's stem).
inline void write_torch_checkpoint(const std::filesystem::path& file, const std::vector<torch_tensor>& tensors,
                                   std::string archive = "") {
  if (archive.empty()) archive = file.stem().string().empty() ? "archive" : file.stem().string();
  std::vector<torch_pickle::pickled_tensor> desc;
  for (const auto& t : tensors) {
    if (t.bytes.size() != static_cast<std::size_t>(t.numel()) * dtype_size(t.type))
      throw error("write_torch_checkpoint: tensor " + t.name + " has " + std::to_string(t.bytes.size()) + " bytes for shape " +
                  shape_string(t.shape));
    desc.push_back({t.name, t.type, t.shape});
  }
  zip::zip_writer z(file);
  z.add(archive + "/data.pkl", torch_pickle::dump_state_dict(desc));
  z.add(archive + "/byteorder", std::string_view("little"));
  for (std::size_t i = 0; i < tensors.size(); ++i) z.add(archive + "/data/" + std::to_string(i), tensors[i].bytes);
  z.add(archive + "/version", std::string_view("3\n"));
  z.close();
}

}  // namespace gtrm::io
