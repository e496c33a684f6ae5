// A model's state_dict in a safetensors file, under the reference PyTorch names (docs/reference.md §1.2, §3.8):
// every trainable parameter, plus the buffers H_init, L_init and puzzle_emb.weights. Keys may carry the
// prefixes of the official checkpoints (`_orig_mod.` from torch.compile); they are stripped on load.
//
// Loading is all-or-nothing: every tensor is checked (present, shape, a float dtype) before anything is
// copied, and every key without '/' that the model does not know is an error — a checkpoint of another
// architecture never loads partially. A NaN or infinite weight is refused with the tensor named: such a file comes
// from a diverged run, and a model built from it answers with plausible garbage (and NaN confidences).
#pragma once
#include <bit>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "../concepts.hpp"
#include "../policy/policies.hpp"
#include "error.hpp"
#include "safetensors.hpp"

namespace gtrm::io {

// The metadata keys gtrm writes next to the tensors.
inline constexpr const char* meta_format = "gtrm_format";      // "trm-state-dict-1"
inline constexpr const char* meta_config = "config";           // the reference config JSON of the compiled model

namespace detail {
inline std::string strip_prefix(const std::string& k) {
  static const char* prefixes[] = {"_orig_mod."};
  for (const char* p : prefixes) {
    const std::string s(p);
    if (k.rfind(s, 0) == 0) return k.substr(s.size());
  }
  return k;
}
}  // namespace detail

// How the policies of a model type are named in its config (the keys model_config_json writes).
namespace detail {
struct gate_names {
  std::string_view context = "none";     // context_gate: none | scalar | channel | headwise | ...
  std::string_view attention = "none";   // attention_gate: none | headwise | elementwise
  std::string_view recurrence = "none";  // recurrence_gate: none | update | update_reset
};
// Each gate names itself (its tag's config_name, in model/gates/) under the key of its site, so a new gate needs no
// line here.
template <class G> struct gate_naming {
  static constexpr gate_names value = [] {
    gate_names n;
    if constexpr (requires { typename G::site; }) {
      if constexpr (std::is_same_v<typename G::site, gate::site::inject>) n.context = G::config_name;
      else if constexpr (std::is_same_v<typename G::site, gate::site::attn_out>) n.attention = G::config_name;
      else n.recurrence = G::config_name;
    }
    return n;
  }();
};
template <class... G> struct gate_naming<gate::all<G...>> {
  static constexpr gate_names value = [] {
    gate_names n;
    auto take = [&](const gate_names& g) {
      if (g.context != "none") n.context = g.context;
      if (g.attention != "none") n.attention = g.attention;
      if (g.recurrence != "none") n.recurrence = g.recurrence;
    };
    (take(gate_naming<G>::value), ...);
    return n;
  }();
};
template <class A> constexpr const char* arch_name() {
  if constexpr (std::is_same_v<A, arch::trm>) return "trm";
  else if constexpr (std::is_same_v<A, arch::transformer>) return "transformer";
  else return "hrm";
}
template <class H> constexpr const char* halt_name() {
  if constexpr (std::is_same_v<H, halt::q_head>) return "q_head";
  else if constexpr (std::is_same_v<H, halt::q_head_continue>) return "q_head_continue";
  else if constexpr (std::is_same_v<H, halt::q_compare>) return "q_compare";
  else return H::continue_target ? "q_head_continue" : halt_compares_continue<H>() ? "q_compare" : "q_head";
}
template <class G> constexpr const char* grad_name() {
  if constexpr (std::is_same_v<G, grad::last_cycle>) return "last_cycle";
  else if constexpr (std::is_same_v<G, grad::one_step>) return "one_step";
  else if constexpr (std::is_same_v<G, grad::full_bptt>) return "full_bptt";
  else return "custom";
}
template <class P> constexpr const char* pos_name() {
  return std::is_same_v<P, pos::rope> ? "rope" : std::is_same_v<P, pos::learned> ? "learned" : "none";
}
// (appends rather than "\"" + s: GCC 12 flags that concatenation with a false -Wrestrict at -O3, bug 105651)
inline std::string quoted(std::string_view v) {
  std::string s(1, '"');
  s.append(v);
  s.push_back('"');
  return s;
}

// Index of the first NaN or infinity in p[0, n), or n. Decided by the exponent bits, so that code compiled with
// -ffast-math (which may fold std::isfinite to true) still sees them.
template <class T>
std::size_t first_non_finite(const T* p, std::size_t n) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "first_non_finite: float or double");
  using U = std::conditional_t<std::is_same_v<T, float>, std::uint32_t, std::uint64_t>;
  constexpr U exp_mask = sizeof(T) == 4 ? static_cast<U>(0x7f800000u) : static_cast<U>(0x7ff0000000000000ull);
  for (std::size_t i = 0; i < n; ++i)
    if ((std::bit_cast<U>(p[i]) & exp_mask) == exp_mask) return i;
  return n;
}

// "NaN" or "inf" / "-inf", for messages.
template <class T>
std::string non_finite_text(T x) {
  return x != x ? "NaN" : (x < 0 ? "-inf" : "inf");
}
}  // namespace detail

// The config of a compiled model type, as JSON text: what gtrm writes to a checkpoint and what a golden file's
// `config` metadata is matched against. The reference's keys (trm.py:TinyRecursiveReasoningModel_ACTV1Config:
// cycles, sizes, mlp_t, pos_encodings, no_ACT_continue, ...) plus one key per policy, so that a checkpoint of one
// variant is never taken for another even where the tensors agree (halting and gradient rule have none):
//   arch          trm | hrm | transformer, with H_layers (the H_level blocks of hrm, 0 otherwise)
//   mixer         attention | token_mlp | latent_meta (LMA, one key per mixer::lma_config field: lma_inner,
//                 lma_stack_heads, lma_length, lma_width, lma_heads, lma_relu, lma_residual, lma_tied,
//                 lma_encoder_bias, lma_decoder_bias, lma_stack_scale, lma_torch_init, lma_decoder
//                 proj_to_hidden | reshape_linear | reshape_gated | inverse_linear; docs/lma.md)
//   pos_encodings rope | learned | none
//   context_gate none | scalar | channel;  attention_gate none | headwise | elementwise;
//   recurrence_gate none | update | update_reset   (GTRM, docs/variants.md §1)
//   halt_rule     q_head (q_halt > 0) | q_head_continue (q_halt > q_continue, Q-continue target) | q_compare
//   grad_rule     last_cycle | one_step | full_bptt
template <class Model>
std::string model_config_json() {
  constexpr auto d = Model::dims_v;
  constexpr auto c = Model::cycles_v;
  using mixer_t = typename Model::mixer_type;
  constexpr detail::gate_names g = detail::gate_naming<typename Model::gate_type>::value;
  std::string s = "{";
  auto kv = [&](const char* k, const std::string& v) { if (s.size() > 1) s += ", "; s += '"'; s += k; s += "\": "; s += v; };
  auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
  kv("H_cycles", std::to_string(c.h));
  kv("H_layers", std::to_string(Model::arch_type::h_layers));
  kv("L_cycles", std::to_string(c.l));
  kv("L_layers", std::to_string(c.layers));
  kv("arch", detail::quoted(detail::arch_name<typename Model::arch_type>()));
  kv("attention_gate", detail::quoted(g.attention));
  kv("context_gate", detail::quoted(g.context));
  kv("expansion", std::to_string(d.expansion) + ".0");
  kv("grad_rule", detail::quoted(detail::grad_name<typename Model::grad_type>()));
  kv("halt_max_steps", std::to_string(c.max_act_steps));
  kv("halt_rule", detail::quoted(detail::halt_name<typename Model::halt_type>()));
  kv("hidden_size", std::to_string(d.hidden));
  if constexpr (latent_mixer<mixer_t>) {
    constexpr mixer::lma_config l = mixer_t::config;
    constexpr const char* decoder = l.decoder == mixer::lma_decoder::proj_to_hidden   ? "proj_to_hidden"
                                    : l.decoder == mixer::lma_decoder::reshape_linear ? "reshape_linear"
                                    : l.decoder == mixer::lma_decoder::reshape_gated  ? "reshape_gated"
                                                                                      : "inverse_linear";
    kv("lma_decoder", detail::quoted(decoder));
    kv("lma_decoder_bias", flag(l.decoder_bias));
    kv("lma_encoder_bias", flag(l.encoder_bias));
    kv("lma_heads", std::to_string(l.heads));
    kv("lma_inner", detail::quoted(mixer_t::is_attention ? "attention" : "token_mlp"));
    kv("lma_length", std::to_string(l.length));
    kv("lma_relu", flag(l.relu));
    kv("lma_residual", flag(l.residual));
    kv("lma_stack_heads", std::to_string(l.stack_heads));
    kv("lma_stack_scale", flag(l.stack_scale));
    kv("lma_tied", flag(l.tied));
    kv("lma_torch_init", flag(l.torch_init));
    kv("lma_width", std::to_string(l.width));
  }
  kv("mixer", detail::quoted(latent_mixer<mixer_t> ? "latent_meta" : Model::attention ? "attention" : "token_mlp"));
  kv("mlp_t", flag(!Model::attention));
  kv("no_ACT_continue", flag(!Model::halt_type::continue_target));
  kv("num_heads", std::to_string(d.heads));
  kv("pos_encodings", detail::quoted(detail::pos_name<typename Model::position>()));
  kv("puzzle_emb_len", std::to_string(d.puzzle_emb_len));
  kv("puzzle_emb_ndim", std::to_string(Model::E));
  kv("recurrence_gate", detail::quoted(g.recurrence));
  kv("seq_len", std::to_string(d.seq));
  kv("vocab_size", std::to_string(d.vocab));
  return s + "}";
}

// The keys a checkpoint written before the policy keys existed does not have, and what they mean there: gtrm
// could then only save the plain TRM through its CLI presets (last-cycle gradient, q_halt > 0 halting, no gates),
// and any other architecture differs in its tensors, which load_state_dict checks one by one. So a missing key
// reads as the plain TRM's value ("mixer" follows the stored mlp_t).
inline nlohmann::json with_config_defaults(nlohmann::json cfg) {
  if (!cfg.is_object()) return cfg;
  const nlohmann::json defaults = {{"arch", "trm"}, {"H_layers", 0}, {"context_gate", "none"}, {"attention_gate", "none"},
                                   {"recurrence_gate", "none"}, {"halt_rule", "q_head"}, {"grad_rule", "last_cycle"}};
  for (const auto& [k, v] : defaults.items())
    if (!cfg.contains(k)) cfg[k] = v;
  if (!cfg.contains("mixer") && cfg.contains("mlp_t") && cfg["mlp_t"].is_boolean())
    cfg["mixer"] = cfg["mlp_t"].get<bool>() ? "token_mlp" : "attention";
  return cfg;
}

// The first key where a stored config (a checkpoint's, old ones read with_config_defaults) differs from the
// compiled model's, as "key: stored X, compiled Y"; empty when they agree. Numbers compare by value (4 == 4.0);
// num_heads is ignored for a token-MLP model (it has no heads).
inline std::string config_mismatch(const nlohmann::json& compiled, const nlohmann::json& stored_raw) {
  const nlohmann::json stored = with_config_defaults(stored_raw);
  const bool mlp = compiled.contains("mlp_t") && compiled["mlp_t"] == true;
  for (const auto& [k, v] : compiled.items()) {
    if (k == "num_heads" && mlp) continue;
    if (!stored.contains(k)) return k + ": missing in the checkpoint, compiled " + v.dump();
    const auto& w = stored[k];
    const bool same = v.is_number() ? w.is_number() && w.get<double>() == v.get<double>() : w == v;
    if (!same) return k + ": checkpoint " + w.dump() + ", compiled " + v.dump();
  }
  return "";
}

// Loads weights and buffers into m. The puzzle table's row count must equal m.num_puzzle_ids().
template <class Model>
void load_state_dict(Model& m, const safetensors_reader& f, const std::string& key_prefix = "") {
  using T = typename Model::scalar;
  const std::string file = f.path().string();
  // A gtrm checkpoint names its architecture and policies: refuse another variant before looking at tensors
  // (golden files of the reference carry the reference's config, without gtrm_format: their tensors decide).
  if (f.meta(meta_format) && f.meta(meta_config)) {
    nlohmann::json stored;
    try {
      stored = nlohmann::json::parse(*f.meta(meta_config));
    } catch (const std::exception&) {
      throw error("checkpoint " + file + ": its config metadata is not valid JSON");
    }
    const std::string diff = config_mismatch(nlohmann::json::parse(model_config_json<Model>()), stored);
    if (!diff.empty())
      throw error("checkpoint " + file + " was saved from another architecture than the compiled model (" + diff +
                  "); load it with the preset it was saved from");
  }
  std::map<std::string, std::string> by_name;  // stripped name -> stored key
  for (const auto& k : f.names()) {
    if (k.find('/') != std::string::npos) continue;  // golden files keep non-state tensors under prefixes with '/'
    std::string n = detail::strip_prefix(k);
    if (!key_prefix.empty() && n.rfind(key_prefix, 0) == 0) n = n.substr(key_prefix.size());
    by_name[n] = k;
  }
  struct wanted { std::string name; std::vector<std::int64_t> shape; T* dst; };
  std::vector<wanted> want;
  // read on the host, then uploaded (the model's own memory on a host backend)
  host_stage params(m.backend(), m.params()), h_init(m.backend(), m.h_init()), l_init(m.backend(), m.l_init()),
      table(m.backend(), m.puzzle_table());
  for (std::size_t i = 0; i < Model::layout.count; ++i) {
    const auto& s = Model::layout[i];
    std::vector<std::int64_t> shape = s.ndim == 1 ? std::vector<std::int64_t>{s.rows} : std::vector<std::int64_t>{s.rows, s.cols};
    want.push_back({s.full_name(), shape, params.data() + s.offset});
  }
  want.push_back({Model::h_init_name, {Model::D}, h_init.data()});
  want.push_back({Model::l_init_name, {Model::D}, l_init.data()});
  if constexpr (Model::E > 0) want.push_back({Model::puzzle_table_name, {m.num_puzzle_ids(), Model::E}, table.data()});

  std::set<std::string> known;
  for (const auto& w : want) {
    known.insert(w.name);
    auto it = by_name.find(w.name);
    if (it == by_name.end())
      throw error("checkpoint " + file + " has no tensor " + w.name + " (shape " + shape_string(w.shape) +
                  "), which the compiled model needs: is it a checkpoint of another architecture?");
    const auto& info = f.info(it->second);
    if (!dtype_is_float(info.type))
      throw error("checkpoint " + file + ": tensor " + w.name + " has dtype " + std::string(dtype_name(info.type)) +
                  ", expected a floating-point dtype (F32, F64, BF16 or F16)");
    if (info.shape != w.shape)
      throw error("checkpoint " + file + ": tensor " + w.name + " has shape " + shape_string(info.shape) +
                  ", the compiled model expects " + shape_string(w.shape));
  }
  for (const auto& [name, key] : by_name)
    if (!known.count(name))
      throw error("checkpoint " + file + " has tensor " + key + " that the compiled model does not have: "
                  "it was saved from another architecture (check the preset)");
  for (const auto& w : want) {
    f.read_into<T>(by_name[w.name], w.shape, w.dst);
    std::size_t n = 1;
    for (auto d : w.shape) n *= static_cast<std::size_t>(d);
    if (const auto i = detail::first_non_finite(w.dst, n); i < n)
      throw error("checkpoint " + file + ": tensor " + by_name[w.name] + " holds a non-finite value (" +
                  detail::non_finite_text(w.dst[i]) + " at element " + std::to_string(i) +
                  "); expected finite weights (the run that saved it diverged, or the file is damaged)");
  }
  params.upload();
  h_init.upload();
  l_init.upload();
  table.upload();
}

// Adds the model's state_dict (under "model.inner.…") and its config to a writer.
template <class Model>
void add_state_dict(const Model& m, safetensors_writer& w) {
  const auto& be = m.backend();
  host_stage params(be, m.params());
  params.download();
  for (std::size_t i = 0; i < Model::layout.count; ++i) {
    const auto& s = Model::layout[i];
    std::vector<std::int64_t> shape = s.ndim == 1 ? std::vector<std::int64_t>{s.rows} : std::vector<std::int64_t>{s.rows, s.cols};
    w.add(s.full_name(), shape, params.data() + s.offset);
  }
  w.add(Model::h_init_name, {Model::D}, host_stage(be, m.h_init()).download().data());
  w.add(Model::l_init_name, {Model::D}, host_stage(be, m.l_init()).download().data());
  if constexpr (Model::E > 0)
    w.add(Model::puzzle_table_name, {m.num_puzzle_ids(), Model::E}, host_stage(be, m.puzzle_table()).download().data());
  w.metadata(meta_format, "trm-state-dict-1");
  w.metadata(meta_config, model_config_json<Model>());
}

// The number of puzzle-table rows stored in a checkpoint (to construct the model before loading).
inline std::int64_t stored_puzzle_rows(const safetensors_reader& f, const char* name = "model.inner.puzzle_emb.weights") {
  for (const auto& k : f.names())
    if (detail::strip_prefix(k) == name) return f.info(k).shape.at(0);
  return 1;
}

// A compiled model with the weights of a checkpoint file: the puzzle table is sized from the file, and every
// tensor must match the type's architecture (load_state_dict's errors name the first that does not).
//   auto model = gtrm::io::load_model<gtrm::presets::sudoku6_demo<gtrm::cpu>>("run/model.safetensors");
template <class Model>
Model load_model(const std::filesystem::path& path) {
  safetensors_reader f(path);
  Model m(stored_puzzle_rows(f));
  load_state_dict(m, f);
  return m;
}

}  // namespace gtrm::io
