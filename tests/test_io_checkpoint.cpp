// Checkpoints under the reference names: a save/load round trip, official-style `_orig_mod.` prefixes, and one
// clear error (naming the tensor and both shapes) for every kind of bad checkpoint, with nothing loaded.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/io/state_dict.hpp>
#include <gtrm/presets.hpp>

#include <filesystem>
#include <fstream>

using namespace gtrm;
namespace fs = std::filesystem;

namespace {
using M = presets::golden_rope<cpu>;
using Mlp = presets::golden_mlpt<cpu>;

fs::path tmp(const char* name) { return fs::temp_directory_path() / (std::string("gtrm_ckpt_") + name); }

// Writes m's state dict with one change applied by `edit` (drop/rename/reshape a tensor).
template <class Edit>
fs::path write_edited(const M& m, const char* name, Edit edit) {
  io::safetensors_writer w;
  for (std::size_t i = 0; i < M::layout.count; ++i) {
    const auto& s = M::layout[i];
    std::vector<std::int64_t> shape = s.ndim == 1 ? std::vector<std::int64_t>{s.rows} : std::vector<std::int64_t>{s.rows, s.cols};
    std::string key = s.full_name();
    if (edit(key, shape)) w.add(key, shape, m.params().data() + s.offset);
  }
  w.add(M::h_init_name, {M::D}, m.h_init().data());
  w.add(M::l_init_name, {M::D}, m.l_init().data());
  w.add(M::puzzle_table_name, {m.num_puzzle_ids(), M::E}, m.puzzle_table().data());
  const auto f = tmp(name);
  w.save(f);
  return f;
}

std::string load_error(const fs::path& f) {
  M m(8);
  m.init(1);
  const auto before = std::vector<float>(m.params().begin(), m.params().end());
  try {
    io::load_state_dict(m, io::safetensors_reader(f));
  } catch (const std::exception& e) {
    CHECK(std::equal(before.begin(), before.end(), m.params().begin()));  // nothing loaded
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("checkpoint: save and load round trip, and official _orig_mod.model. prefixes") {
  M a(8), b(8);
  a.init(1);
  b.init(2);
  io::safetensors_writer w;
  io::add_state_dict(a, w);
  w.save(tmp("roundtrip.safetensors"));
  io::safetensors_reader f(tmp("roundtrip.safetensors"));
  CHECK(f.meta("config").value().find("\"hidden_size\": 64") != std::string::npos);
  io::load_state_dict(b, f);
  CHECK(std::equal(a.params().begin(), a.params().end(), b.params().begin()));
  CHECK(std::equal(a.h_init().begin(), a.h_init().end(), b.h_init().begin()));
  // The official checkpoints' keys: "_orig_mod.model.inner.…"
  io::safetensors_writer pw;
  for (const auto& k : f.names()) pw.add_raw("_orig_mod." + k, f.info(k).type, f.info(k).shape, f.raw(k));
  pw.save(tmp("prefixed.safetensors"));
  M c(8);
  c.init(3);
  io::load_state_dict(c, io::safetensors_reader(tmp("prefixed.safetensors")));
  CHECK(std::equal(a.params().begin(), a.params().end(), c.params().begin()));
  CHECK(std::equal(a.puzzle_table().begin(), a.puzzle_table().end(), c.puzzle_table().begin()));
  fs::remove(tmp("prefixed.safetensors"));
  fs::remove(tmp("roundtrip.safetensors"));
}

TEST_CASE("checkpoint: bad checkpoints give one error naming the tensor and both shapes, and load nothing") {
  M m(8);
  m.init(1);
  const std::string qkv = "model.inner.L_level.layers.1.self_attn.qkv_proj.weight";

  auto missing = write_edited(m, "missing.safetensors", [&](std::string& k, auto&) { return k != qkv; });
  auto e = load_error(missing);
  CHECK(e.find("has no tensor " + qkv) != std::string::npos);
  CHECK(e.find("[192, 64]") != std::string::npos);

  auto shaped = write_edited(m, "shaped.safetensors", [&](std::string& k, std::vector<std::int64_t>& s) {
    if (k == qkv) s = {64, 192};
    return true;
  });
  e = load_error(shaped);
  CHECK(e.find(qkv + " has shape [64, 192], the compiled model expects [192, 64]") != std::string::npos);

  auto extra = write_edited(m, "extra.safetensors", [&](std::string& k, auto&) {
    if (k == qkv) k = "model.inner.L_level.layers.2.self_attn.qkv_proj.weight";
    return true;
  });
  e = load_error(extra);
  CHECK(!e.empty());

  // wrong dtype: an integer tensor where a weight belongs
  {
    io::safetensors_reader ok(missing);
    io::safetensors_writer w;
    for (const auto& k : ok.names()) w.add_raw(k, ok.info(k).type, ok.info(k).shape, ok.raw(k));
    std::vector<std::int32_t> ints(192 * 64, 1);
    w.add(qkv, {192, 64}, ints.data());
    w.save(tmp("dtype.safetensors"));
    e = load_error(tmp("dtype.safetensors"));
    CHECK(e.find(qkv + " has dtype I32") != std::string::npos);
  }

  // a checkpoint of another architecture (mlp_t) into the attention model
  {
    Mlp other(8);
    other.init(1);
    io::safetensors_writer w;
    io::add_state_dict(other, w);
    w.save(tmp("other.safetensors"));
    e = load_error(tmp("other.safetensors"));
    CHECK(e.find("another architecture") != std::string::npos);
  }

  // truncated file
  {
    io::safetensors_writer w;
    io::add_state_dict(m, w);
    w.save(tmp("whole.safetensors"));
    const auto size = fs::file_size(tmp("whole.safetensors"));
    fs::copy_file(tmp("whole.safetensors"), tmp("cut.safetensors"), fs::copy_options::overwrite_existing);
    fs::resize_file(tmp("cut.safetensors"), size / 2);
    M t(8);
    CHECK_THROWS_AS(io::load_state_dict(t, io::safetensors_reader(tmp("cut.safetensors"))), io::error);
  }
  for (const char* n : {"missing.safetensors", "shaped.safetensors", "extra.safetensors", "dtype.safetensors",
                        "other.safetensors", "whole.safetensors", "cut.safetensors"})
    fs::remove(tmp(n));
}

TEST_CASE("checkpoint: the config names every policy; another variant is refused by key, old checkpoints load as plain TRM") {
  M a(8);
  a.init(1);
  io::safetensors_writer w;
  io::add_state_dict(a, w);
  w.save(tmp("policies.safetensors"));
  const auto cfg = io::safetensors_reader(tmp("policies.safetensors")).meta("config").value();
  for (const char* k : {"\"arch\": \"trm\"", "\"H_layers\": 0", "\"mixer\": \"attention\"", "\"pos_encodings\": \"rope\"",
                        "\"context_gate\": \"none\"", "\"attention_gate\": \"none\"", "\"recurrence_gate\": \"none\"",
                        "\"halt_rule\": \"q_head\"", "\"grad_rule\": \"last_cycle\""}) {
    INFO(k);
    CHECK(cfg.find(k) != std::string::npos);
  }
  // same tensors, other halting / gradient rule: refused, naming the key
  using compare_halt = trm<presets::golden_dims, presets::golden_cycles, mixer::attention<pos::rope>, gate::none, halt::q_compare, cpu>;
  using one_step = trm<presets::golden_dims, presets::golden_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu, grad::one_step>;
  compare_halt h(8);
  one_step g(8);
  std::string e1, e2;
  try { io::load_state_dict(h, io::safetensors_reader(tmp("policies.safetensors"))); } catch (const io::error& e) { e1 = e.what(); }
  try { io::load_state_dict(g, io::safetensors_reader(tmp("policies.safetensors"))); } catch (const io::error& e) { e2 = e.what(); }
  CHECK(e1.find("halt_rule: checkpoint \"q_head\", compiled \"q_compare\"") != std::string::npos);
  CHECK(e2.find("grad_rule: checkpoint \"last_cycle\", compiled \"one_step\"") != std::string::npos);
  // a gated model's checkpoint into the plain model: refused by its gate key before its extra tensor
  presets::golden_gate_headwise<cpu> gated(8);
  gated.init(1);
  io::safetensors_writer gw;
  io::add_state_dict(gated, gw);
  gw.save(tmp("gated.safetensors"));
  CHECK(load_error(tmp("gated.safetensors")).find("attention_gate: checkpoint \"headwise\", compiled \"none\"") != std::string::npos);
  // a checkpoint written before the policy keys: the plain TRM's defaults
  const std::string old_cfg = R"({"H_cycles": 3, "L_cycles": 2, "L_layers": 2, "expansion": 4.0, "halt_max_steps": 4, )"
                              R"("hidden_size": 64, "mlp_t": false, "no_ACT_continue": true, "num_heads": 4, "pos_encodings": "rope", )"
                              R"("puzzle_emb_len": 16, "puzzle_emb_ndim": 64, "seq_len": 16, "vocab_size": 11})";
  w.metadata("config", old_cfg);
  w.save(tmp("old.safetensors"));
  M b(8);
  io::load_state_dict(b, io::safetensors_reader(tmp("old.safetensors")));
  CHECK(std::equal(a.params().begin(), a.params().end(), b.params().begin()));
  std::string e3;
  try { io::load_state_dict(h, io::safetensors_reader(tmp("old.safetensors"))); } catch (const io::error& e) { e3 = e.what(); }
  CHECK(e3.find("halt_rule") != std::string::npos);
  for (const char* n : {"policies.safetensors", "gated.safetensors", "old.safetensors"}) fs::remove(tmp(n));
}
