// libFuzzer target: the safetensors files of a run directory as gtrm loads them into a model (a TRM of the CLI presets'
// kind, attention with RoPE, at a tiny size so that its seed files stay a few kB): RUNDIR/train_state.safetensors through trainer::load_state (weights, optimizer moments, EMA, carry,
// step and RNG metadata: what `gtrm train --resume` reads) and a model checkpoint through io::load_state_dict (what
// eval and solve read). io::error is a rejection.
// Seeds: GTRM_FUZZ_WRITE_SEEDS=DIR fuzz_train_state writes a valid state and checkpoint into DIR and exits.
#include <gtrm/cpu.hpp>
#include <gtrm/io/state_dict.hpp>
#include <gtrm/presets.hpp>
#include <gtrm/train/trainer.hpp>

#include <cstdio>
#include <cstdlib>

#include "fuzz_common.hpp"

namespace {

inline constexpr gtrm::dims tiny_dims{.vocab = 4, .seq = 4, .puzzle_emb_len = 1, .hidden = 8, .heads = 1, .expansion = 1};
inline constexpr gtrm::cycles tiny_cycles{.h = 1, .l = 1, .layers = 1, .max_act_steps = 2};
using model_t = gtrm::trm<tiny_dims, tiny_cycles, gtrm::mixer::attention<gtrm::pos::rope>, gtrm::gate::none,
                          gtrm::halt::q_head, gtrm::cpu>;
constexpr int puzzle_ids = 3;

gtrm::train::train_config config() {
  gtrm::train::train_config c;
  c.global_batch_size = 2;
  c.total_steps = 10;
  c.lr_warmup_steps = 1;
  c.ema = true;
  return c;
}

struct fixture {
  model_t model{puzzle_ids};
  gtrm::train::trainer<model_t> trainer{model, config()};
};

fixture& the_fixture() {
  static fixture* f = [] {
    auto* x = new fixture;  // kept for the whole run: the model owns large buffers
    x->model.init(1);
    return x;
  }();
  return *f;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("GTRM_FUZZ_WRITE_SEEDS")) {
    auto& f = the_fixture();
    f.trainer.save_state(std::filesystem::path(dir) / "valid_train_state.safetensors");
    gtrm::io::safetensors_writer w;
    gtrm::io::add_state_dict(f.model, w);
    w.save(std::filesystem::path(dir) / "valid_model.safetensors");
    std::printf("wrote seeds into %s\n", dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& f = the_fixture();
  const auto path = gtrm::fuzz::write_scratch("train_state.safetensors", data, size);
  try {
    f.trainer.load_state(path);
  } catch (const gtrm::io::error&) {
  }
  try {
    gtrm::io::load_state_dict(f.model, gtrm::io::safetensors_reader(path));
  } catch (const gtrm::io::error&) {
  }
  return 0;
}
