// A restricted unpickler for the data.pkl of a PyTorch checkpoint (torch.save of a state_dict), and the writer of
// the same. It makes the promise of torch.load(weights_only=True): it builds only containers, numbers, strings and
// tensor descriptions, and never calls anything. Of the pickle globals it accepts only those a state_dict needs —
//   collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter(_with_state),
//   the typed storages torch.{Float,BFloat16,Half,Double,Long,Int,Short,Char,Byte,Bool}Storage, torch.device —
// and refuses every other global and every opcode outside the protocol 2-5 subset torch writes, with an error
// naming it. Every length is checked against the bytes that remain; the memo, stack and nesting are bounded.
//
// The result is a value tree; tensors stay descriptions (storage key, dtype, offset, shape, stride) that
// io/torch_checkpoint.hpp resolves against the zip's data/<key> records.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "error.hpp"
#include "safetensors.hpp"

namespace gtrm::io::torch_pickle {

struct value;
// Values live in the document's arena (no reference counting): a hostile pickle can build cycles or deep nesting
// through the memo, and neither leaks nor recurses when the document is freed.
using value_ptr = value*;

struct global_ref { std::string module, name; };
struct storage_ref { dtype type; std::string key, location; std::int64_t numel = 0; };
struct tensor_ref {
  storage_ref storage;
  std::int64_t offset = 0;
  std::vector<std::int64_t> shape, stride;
};
struct none_t {};
struct mark_t {};
using tuple_t = std::vector<value_ptr>;
struct list_t { std::vector<value_ptr> items; };
struct dict_t { std::vector<std::pair<value_ptr, value_ptr>> items; };

struct value {
  std::variant<none_t, bool, std::int64_t, double, std::string, tuple_t, list_t, dict_t, global_ref, storage_ref,
               tensor_ref, mark_t>
      v;
  template <class T> bool is() const { return std::holds_alternative<T>(v); }
  template <class T> const T* get() const { return std::get_if<T>(&v); }
  template <class T> T* get() { return std::get_if<T>(&v); }
};

// A parsed pickle: root points into values.
struct document {
  std::deque<value> values;
  value_ptr root = nullptr;
};

// The storage classes torch pickles (as GLOBAL torch.<Name>Storage) and their element types.
inline std::optional<dtype> storage_dtype(std::string_view name) {
  static constexpr std::pair<std::string_view, dtype> table[] = {
      {"FloatStorage", dtype::F32}, {"BFloat16Storage", dtype::BF16}, {"HalfStorage", dtype::F16},
      {"DoubleStorage", dtype::F64}, {"LongStorage", dtype::I64},     {"IntStorage", dtype::I32},
      {"ShortStorage", dtype::I16},  {"CharStorage", dtype::I8},      {"ByteStorage", dtype::U8},
      {"BoolStorage", dtype::BOOL}};
  for (const auto& [n, t] : table)
    if (n == name) return t;
  return std::nullopt;
}
inline std::string_view storage_name(dtype t) {
  switch (t) {
    case dtype::F32: return "FloatStorage";
    case dtype::BF16: return "BFloat16Storage";
    case dtype::F16: return "HalfStorage";
    case dtype::F64: return "DoubleStorage";
    case dtype::I64: return "LongStorage";
    case dtype::I32: return "IntStorage";
    case dtype::I16: return "ShortStorage";
    case dtype::I8: return "CharStorage";
    case dtype::U8: return "ByteStorage";
    case dtype::BOOL: return "BoolStorage";
  }
  return "FloatStorage";
}

inline bool global_allowed(std::string_view module, std::string_view name) {
  if (module == "collections" && name == "OrderedDict") return true;
  if (module == "torch._utils" &&
      (name == "_rebuild_tensor_v2" || name == "_rebuild_parameter" || name == "_rebuild_parameter_with_state"))
    return true;
  if (module == "torch" && (name == "device" || storage_dtype(name))) return true;
  return false;
}

namespace detail {

inline constexpr std::size_t max_stack = 1u << 20;    // values on the stack
inline constexpr std::size_t max_memo = 1u << 20;     // memo slots

class unpickler {
 public:
  unpickler(std::span<const std::byte> data, std::string what, document& doc) : d_(data), what_(std::move(what)), doc_(doc) {}

  value_ptr run() {
    while (true) {
      const std::size_t at = pos_;
      const auto op = static_cast<unsigned char>(byte());
      switch (op) {
        case 0x80: {  // PROTO
          const auto v = static_cast<unsigned char>(byte());
          if (v < 2 || v > 5) fail(at, "pickle protocol " + std::to_string(v) + " (torch writes 2 to 5)");
          break;
        }
        case 0x95: skip(8); break;  // FRAME: a length hint, the bytes follow inline
        case '.':                   // STOP
          if (stack_.size() != 1 || !marks_.empty()) fail(at, "STOP with " + std::to_string(stack_.size()) + " values on the stack");
          return stack_.back();
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case ')': push(make(tuple_t{})); break;            // EMPTY_TUPLE
        case '}': push(make(dict_t{})); break;             // EMPTY_DICT
        case ']': push(make(list_t{})); break;             // EMPTY_LIST
        case 'N': push(make(none_t{})); break;             // NONE
        case 0x88: push(make(true)); break;                // NEWTRUE
        case 0x89: push(make(false)); break;               // NEWFALSE
        case 'K': push(make(static_cast<std::int64_t>(u_le(1)))); break;  // BININT1
        case 'M': push(make(static_cast<std::int64_t>(u_le(2)))); break;  // BININT2
        case 'J': push(make(static_cast<std::int64_t>(static_cast<std::int32_t>(u_le(4))))); break;  // BININT
        case 0x8a: {  // LONG1: n little-endian two's-complement bytes
          const std::size_t n = static_cast<std::size_t>(u_le(1));
          if (n > 8) fail(at, "LONG1 of " + std::to_string(n) + " bytes (more than 64 bits)");
          need(n);
          std::uint64_t u = 0;
          for (std::size_t i = 0; i < n; ++i) u |= static_cast<std::uint64_t>(static_cast<unsigned char>(d_[pos_ + i])) << (8 * i);
          if (n > 0 && n < 8 && (static_cast<unsigned char>(d_[pos_ + n - 1]) & 0x80)) u |= ~std::uint64_t{0} << (8 * n);
          pos_ += n;
          push(make(static_cast<std::int64_t>(u)));
          break;
        }
        case 'G': {  // BINFLOAT, big-endian
          need(8);
          std::uint64_t u = 0;
          for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<unsigned char>(d_[pos_ + static_cast<std::size_t>(i)]);
          pos_ += 8;
          double x;
          std::memcpy(&x, &u, 8);
          push(make(x));
          break;
        }
        case 0x8c: push(make(text(u_le(1)))); break;  // SHORT_BINUNICODE
        case 'X': push(make(text(u_le(4)))); break;   // BINUNICODE
        case 0x8d: push(make(text(u_le(8)))); break;  // BINUNICODE8
        case 'c': {  // GLOBAL "module\nname\n"
          std::string module = line(at), name = line(at);
          push(global(at, std::move(module), std::move(name)));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          auto name = pop(at), module = pop(at);
          if (!module->is<std::string>() || !name->is<std::string>()) fail(at, "STACK_GLOBAL of non-strings");
          push(global(at, *module->get<std::string>(), *name->get<std::string>()));
          break;
        }
        case 'q': memo_put(at, u_le(1)); break;  // BINPUT
        case 'r': memo_put(at, u_le(4)); break;  // LONG_BINPUT
        case 0x94: memo_put(at, memo_.size()); break;  // MEMOIZE
        case 'h': push(memo_get(at, u_le(1))); break;  // BINGET
        case 'j': push(memo_get(at, u_le(4))); break;  // LONG_BINGET
        case 't': push(make(pop_mark(at))); break;     // TUPLE
        case 0x85: case 0x86: case 0x87: {             // TUPLE1..3
          const std::size_t n = static_cast<std::size_t>(op - 0x84);
          if (stack_.size() < n + floor()) fail(at, "TUPLE" + std::to_string(n) + " on a short stack");
          tuple_t t(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(make(std::move(t)));
          break;
        }
        case 'a': {  // APPEND
          auto x = pop(at);
          list_of(at, top(at)).items.push_back(std::move(x));
          break;
        }
        case 'e': {  // APPENDS
          auto items = pop_mark(at);
          auto& l = list_of(at, top(at));
          for (auto& x : items) l.items.push_back(std::move(x));
          break;
        }
        case 's': {  // SETITEM
          auto v = pop(at), k = pop(at);
          dict_of(at, top(at)).items.emplace_back(std::move(k), std::move(v));
          break;
        }
        case 'u': {  // SETITEMS
          auto items = pop_mark(at);
          if (items.size() % 2) fail(at, "SETITEMS with an odd number of values");
          auto& dct = dict_of(at, top(at));
          for (std::size_t i = 0; i < items.size(); i += 2) dct.items.emplace_back(items[i], items[i + 1]);
          break;
        }
        case 'b': {  // BUILD: only the state torch attaches to an OrderedDict (_metadata) or a parameter; ignored
          (void)pop(at);
          const value_ptr obj = top(at);
          if (!obj->is<dict_t>() && !obj->is<tensor_ref>()) fail(at, "BUILD on something other than a dict or a tensor");
          break;
        }
        case 'Q': {  // BINPERSID: torch's storage reference ('storage', StorageClass, key, location, numel)
          auto pid = pop(at);
          push(persistent(at, *pid));
          break;
        }
        case 'R': {  // REDUCE: only the allow-listed callables, interpreted here, never called
          auto args = pop(at), fn = pop(at);
          push(reduce(at, *fn, *args));
          break;
        }
        default: {
          static constexpr std::pair<unsigned char, const char*> named[] = {
              {'i', "INST"}, {'o', "OBJ"}, {0x81, "NEWOBJ"}, {0x92, "NEWOBJ_EX"}, {0x82, "EXT1"}, {0x83, "EXT2"},
              {0x84, "EXT4"}, {'P', "PERSID"}, {'S', "STRING"}, {'U', "SHORT_BINSTRING"}, {'T', "BINSTRING"},
              {'V', "UNICODE"}, {'B', "BINBYTES"}, {'C', "SHORT_BINBYTES"}, {0x8e, "BINBYTES8"}, {'I', "INT"},
              {'L', "LONG"}, {'F', "FLOAT"}, {0x8b, "LONG4"}, {'p', "PUT"}, {'g', "GET"}, {'l', "LIST"}, {'d', "DICT"},
              {0x8f, "EMPTY_SET"}, {0x90, "ADDITEMS"}, {0x91, "FROZENSET"}, {0x96, "BYTEARRAY8"},
              {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"}, {'0', "POP"}, {'1', "POP_MARK"}, {'2', "DUP"}};
          std::string name = "unknown";
          for (const auto& [c, n] : named)
            if (c == op) name = n;
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", op);
          fail(at, "opcode " + name + " (" + hex + "), which a state_dict does not use");
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& why) const {
    throw error(what_ + ": refused at byte " + std::to_string(at) + ": " + why);
  }
  void need(std::size_t n) const {
    if (n > d_.size() - pos_)
      throw error(what_ + ": truncated: needs " + std::to_string(n) + " more bytes at byte " + std::to_string(pos_) +
                  ", " + std::to_string(d_.size() - pos_) + " remain");
  }
  std::byte byte() {
    need(1);
    return d_[pos_++];
  }
  void skip(std::size_t n) {
    need(n);
    pos_ += n;
  }
  std::uint64_t u_le(std::size_t n) {
    need(n);
    std::uint64_t u = 0;
    for (std::size_t i = 0; i < n; ++i) u |= static_cast<std::uint64_t>(static_cast<unsigned char>(d_[pos_ + i])) << (8 * i);
    pos_ += n;
    return u;
  }
  std::string text(std::uint64_t n) {
    if (n > d_.size() - pos_) need(d_.size() - pos_ + 1);  // a length beyond the data: truncated
    const auto len = static_cast<std::size_t>(n);
    std::string s(reinterpret_cast<const char*>(d_.data() + pos_), len);
    pos_ += len;
    return s;
  }
  std::string line(std::size_t at) {
    std::string s;
    while (true) {
      const char c = static_cast<char>(byte());
      if (c == '\n') return s;
      if (s.size() > 256) fail(at, "GLOBAL name longer than 256 characters");
      s.push_back(c);
    }
  }
  template <class T> value_ptr make(T x) { return &doc_.values.emplace_back(value{std::move(x)}); }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(value_ptr v) {
    if (stack_.size() >= max_stack) throw error(what_ + ": more than " + std::to_string(max_stack) + " values on the pickle stack");
    stack_.push_back(std::move(v));
  }
  value_ptr pop(std::size_t at) {
    if (stack_.size() <= floor()) fail(at, "pop from an empty stack");
    auto v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  value_ptr top(std::size_t at) const {
    if (stack_.size() <= floor()) fail(at, "empty stack");
    return stack_.back();
  }
  std::vector<value_ptr> pop_mark(std::size_t at) {
    if (marks_.empty()) fail(at, "no MARK on the stack");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<value_ptr> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  list_t& list_of(std::size_t at, const value_ptr& v) {
    if (!v->is<list_t>()) fail(at, "APPEND to something other than a list");
    return *v->get<list_t>();
  }
  dict_t& dict_of(std::size_t at, const value_ptr& v) {
    if (!v->is<dict_t>()) fail(at, "SETITEM on something other than a dict");
    return *v->get<dict_t>();
  }
  void memo_put(std::size_t at, std::uint64_t i) {
    if (i >= max_memo) fail(at, "memo index " + std::to_string(i) + " beyond " + std::to_string(max_memo));
    if (i >= memo_.size()) memo_.resize(static_cast<std::size_t>(i) + 1);
    memo_[static_cast<std::size_t>(i)] = top(at);
  }
  value_ptr memo_get(std::size_t at, std::uint64_t i) {
    if (i >= memo_.size() || !memo_[static_cast<std::size_t>(i)]) fail(at, "memo index " + std::to_string(i) + " was never set");
    return memo_[static_cast<std::size_t>(i)];
  }
  value_ptr global(std::size_t at, std::string module, std::string name) {
    if (!global_allowed(module, name))
      fail(at, "global " + module + "." + name + " is not allowed (a state_dict needs only OrderedDict, tensors, "
               "storages and torch.device; a pickle that names anything else could run code)");
    return make(global_ref{std::move(module), std::move(name)});
  }
  static std::optional<std::int64_t> as_int(const value& v) {
    if (auto p = v.get<std::int64_t>()) return *p;
    return std::nullopt;
  }
  std::vector<std::int64_t> int_tuple(std::size_t at, const value& v, const char* what) const {
    const auto* t = v.get<tuple_t>();
    if (!t) fail(at, std::string(what) + " is not a tuple");
    if (t->size() > 32) fail(at, std::string(what) + " has more than 32 dimensions");
    std::vector<std::int64_t> out;
    for (const auto& x : *t) {
      const auto i = as_int(*x);
      if (!i) fail(at, std::string(what) + " holds a non-integer");
      out.push_back(*i);
    }
    return out;
  }
  value_ptr persistent(std::size_t at, const value& pid) {
    const auto* t = pid.get<tuple_t>();
    if (!t || t->size() != 5 || !(*t)[0]->is<std::string>() || *(*t)[0]->get<std::string>() != "storage")
      fail(at, "a persistent id other than torch's ('storage', type, key, location, numel)");
    const auto* cls = (*t)[1]->get<global_ref>();
    const auto* key = (*t)[2]->get<std::string>();
    const auto* loc = (*t)[3]->get<std::string>();
    const auto numel = as_int(*(*t)[4]);
    if (!cls || cls->module != "torch" || !storage_dtype(cls->name)) fail(at, "a storage of an unknown type");
    if (!key || !loc || !numel || *numel < 0) fail(at, "a malformed storage reference");
    return make(storage_ref{*storage_dtype(cls->name), *key, *loc, *numel});
  }
  value_ptr reduce(std::size_t at, const value& fn, const value& args_v) {
    const auto* g = fn.get<global_ref>();
    if (!g) fail(at, "REDUCE of something that is not an allowed global");
    const auto* args = args_v.get<tuple_t>();
    if (!args) fail(at, "REDUCE with arguments that are not a tuple");
    const std::string full = g->module + "." + g->name;
    if (full == "collections.OrderedDict") {
      if (!args->empty()) fail(at, "OrderedDict with arguments");
      return make(dict_t{});
    }
    if (full == "torch.device") {
      if (args->empty() || !(*args)[0]->is<std::string>()) fail(at, "torch.device without a name");
      return make(*(*args)[0]->get<std::string>());
    }
    if (full == "torch._utils._rebuild_tensor_v2") {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (args->size() < 4 || args->size() > 7) fail(at, "_rebuild_tensor_v2 with " + std::to_string(args->size()) + " arguments");
      const auto* s = (*args)[0]->get<storage_ref>();
      const auto off = as_int(*(*args)[1]);
      if (!s || !off) fail(at, "_rebuild_tensor_v2 without a storage and an offset");
      tensor_ref tr{*s, *off, int_tuple(at, *(*args)[2], "tensor size"), int_tuple(at, *(*args)[3], "tensor stride")};
      if (tr.shape.size() != tr.stride.size()) fail(at, "a tensor whose size and stride differ in length");
      return make(std::move(tr));
    }
    if (full == "torch._utils._rebuild_parameter" || full == "torch._utils._rebuild_parameter_with_state") {
      if (args->empty() || !(*args)[0]->is<tensor_ref>()) fail(at, g->name + " without a tensor");
      return (*args)[0];
    }
    fail(at, "REDUCE of " + full + ", which builds no state_dict value");
  }

  std::span<const std::byte> d_;
  std::string what_;
  document& doc_;
  std::size_t pos_ = 0;
  std::vector<value_ptr> stack_, memo_;
  std::vector<std::size_t> marks_;
};

}  // namespace detail

// Parses a data.pkl; `what` names it in errors ("step_100/data.pkl").
inline document load(std::span<const std::byte> data, const std::string& what) {
  document doc;
  doc.root = detail::unpickler(data, what, doc).run();
  return doc;
}

// A state_dict's tensors as protocol-2 pickle bytes, as torch.save writes them: an OrderedDict of
// _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()) with one storage per tensor, keyed "0",
// "1", ... in order (io/torch_checkpoint.hpp stores data/<i> beside it).
struct pickled_tensor {
  std::string name;
  dtype type;
  std::vector<std::int64_t> shape;
};
inline std::vector<std::byte> dump_state_dict(const std::vector<pickled_tensor>& tensors) {
  std::string p;
  auto op = [&](unsigned char c) { p.push_back(static_cast<char>(c)); };
  auto le = [&](std::uint64_t v, int n) { for (int i = 0; i < n; ++i) p.push_back(static_cast<char>((v >> (8 * i)) & 0xff)); };
  auto str = [&](std::string_view s) { op('X'); le(s.size(), 4); p.append(s); };
  auto integer = [&](std::int64_t v) {
    if (v >= 0 && v < 256) { op('K'); le(static_cast<std::uint64_t>(v), 1); }
    else if (v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max()) { op('J'); le(static_cast<std::uint32_t>(static_cast<std::int32_t>(v)), 4); }
    else { op(0x8a); op(8); le(static_cast<std::uint64_t>(v), 8); }
  };
  auto global = [&](std::string_view m, std::string_view n) { op('c'); p.append(m); p.push_back('\n'); p.append(n); p.push_back('\n'); };
  auto int_tuple = [&](const std::vector<std::int64_t>& v) { op('('); for (auto x : v) integer(x); op('t'); };
  op(0x80); op(2);
  global("collections", "OrderedDict");
  op(')'); op('R');
  op('(');
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    std::int64_t numel = 1;
    for (auto d : t.shape) numel *= d;
    std::vector<std::int64_t> stride(t.shape.size());
    std::int64_t s = 1;
    for (std::size_t k = t.shape.size(); k-- > 0;) { stride[k] = s; s *= t.shape[k]; }
    str(t.name);
    global("torch._utils", "_rebuild_tensor_v2");
    op('(');
    op('(');
    str("storage");
    global("torch", storage_name(t.type));
    str(std::to_string(i));
    str("cpu");
    integer(numel);
    op('t'); op('Q');
    integer(0);
    int_tuple(t.shape);
    int_tuple(stride);
    op(0x89);
    global("collections", "OrderedDict");
    op(')'); op('R');
    op('t'); op('R');
  }
  op('u');
  op('.');
  std::vector<std::byte> out(p.size());
  std::memcpy(out.data(), p.data(), p.size());
  return out;
}

}  // namespace gtrm::io::torch_pickle
