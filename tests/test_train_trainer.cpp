// The deep-supervision trainer: the reference's two training iterations (a_rope_optim.safetensors: forward,
// backward of loss/4, sign-SGD, Adam-atan2) replayed end to end; bit-exact resume; a tiny model learning.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/io/reference_check.hpp>
#include <gtrm/presets.hpp>
#include <gtrm/train/evaluate.hpp>
#include <gtrm/train/trainer.hpp>

#include <cstdio>
#include <filesystem>

#include "reversal_task.hpp"

using namespace gtrm;

TEST_CASE("trainer: two reference training iterations (a_rope_optim) end to end") {
  using M = presets::golden_rope<cpu>;
  io::safetensors_reader f(std::string(GTRM_TEST_DATA_DIR) + "/golden/a_rope_optim.safetensors");
  M m(io::stored_puzzle_rows(f));
  io::load_state_dict(m, f);
  train::train_config cfg{.global_batch_size = 4, .total_steps = 10, .lr = 1e-3, .lr_warmup_steps = 0,
                          .puzzle_emb_lr = 1e-2, .puzzle_emb_weight_decay = 0.1, .halt_exploration_prob = 0.0, .ema = false};
  cfg.weight_decay = 0.1;
  train::trainer<M> tr(m, cfg);
  for (int it = 1; it <= 2; ++it) {
    const std::string p = "iter" + std::to_string(it) + "/";
    auto in = f.read<std::int32_t>(p + "batch/inputs"), lab = f.read<std::int32_t>(p + "batch/labels"),
         pid = f.read<std::int32_t>(p + "batch/puzzle_identifiers");
    const auto r = tr.train_batch({in.data(), lab.data(), pid.data(), 4});
    CHECK(r.loss == doctest::Approx(f.scalar<double>(p + "loss")).epsilon(1e-5));
    auto halted = f.read<std::int64_t>(p + "carry.halted");
    for (int b = 0; b < 4; ++b) CHECK(tr.carry().halted[b] == halted[b]);
    double worst = 0;
    for (std::size_t i = 0; i < M::layout.count; ++i) {
      const auto& s = M::layout[i];
      const auto want = f.read<double>(p + "param/" + s.full_name());
      auto c = io::detail::compare_values(s.full_name(), m.params().data() + s.offset, want, 1e-5);
      INFO(p << s.full_name() << " norm_rel " << c.norm_rel);
      CHECK(c.pass);
      worst = std::max(worst, c.norm_rel);
    }
    const auto table = f.read<double>(p + "param/model.inner.puzzle_emb.weights");
    auto c = io::detail::compare_values("table", m.puzzle_table().data(), table, 1e-5);
    CHECK(c.pass);
    std::printf("a_rope_optim iteration %d: parameters norm_rel <= %.2e, puzzle table %.2e\n", it, worst, c.norm_rel);
  }
}

namespace {

// The reversal task (reversal_task.hpp): labels are the inputs reversed.
inline constexpr dims toy_dims{.vocab = 6, .seq = 6, .puzzle_emb_len = 1, .puzzle_emb_ndim = 16, .hidden = 16, .heads = 2, .expansion = 2};
inline constexpr cycles toy_cycles{.h = 2, .l = 1, .layers = 1, .max_act_steps = 2};
using toy = trm<toy_dims, toy_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>;

using toy_data = testing::reversal_task;

train::train_config toy_config() {
  return {.global_batch_size = toy_data::B, .total_steps = 4000, .lr = 3e-3, .lr_warmup_steps = 20, .weight_decay = 0.01,
          .puzzle_emb_lr = 1e-2, .halt_exploration_prob = 0.1, .ema = true, .ema_rate = 0.99, .seed = 3};
}

}  // namespace

TEST_CASE("trainer: resuming from a saved state equals an uninterrupted run, bit for bit") {
  toy_data data(1, 12);
  auto cfg = toy_config();
  toy a(1), b(1);
  a.init(5);
  b.init(5);
  train::trainer<toy> ta(a, cfg), tb(b, cfg);
  for (int k = 0; k < 12; ++k) ta.train_batch(data.batch(k));
  for (int k = 0; k < 7; ++k) tb.train_batch(data.batch(k));
  const auto file = std::filesystem::temp_directory_path() / "gtrm_resume_test.safetensors";
  tb.save_state(file);
  toy c(1);
  c.init(99);  // different weights: everything must come from the file
  train::trainer<toy> tc(c, cfg);
  tc.load_state(file);
  CHECK(tc.step() == 7);
  for (int k = 7; k < 12; ++k) tc.train_batch(data.batch(k));
  CHECK(std::equal(a.params().begin(), a.params().end(), c.params().begin()));
  CHECK(std::equal(a.puzzle_table().begin(), a.puzzle_table().end(), c.puzzle_table().begin()));
  CHECK(std::equal(ta.carry().z_h.begin(), ta.carry().z_h.end(), tc.carry().z_h.begin()));
  CHECK(std::equal(ta.carry().steps.begin(), ta.carry().steps.end(), tc.carry().steps.begin()));
  toy ea(1), ec(1);
  ta.copy_eval_weights(ea);
  tc.copy_eval_weights(ec);
  CHECK(std::equal(ea.params().begin(), ea.params().end(), ec.params().begin()));
  std::filesystem::remove(file);
}

TEST_CASE("trainer: a tiny model learns to reverse sequences (exact accuracy 1.0)") {
  // Fresh random sequences of 4 tokens every batch; held-out random batches for evaluation. ~1300 steps,
  // a few seconds on one core.
  static constexpr dims d{.vocab = 6, .seq = 4, .puzzle_emb_len = 1, .puzzle_emb_ndim = 16, .hidden = 16, .heads = 2, .expansion = 2};
  static constexpr cycles c{.h = 2, .l = 1, .layers = 1, .max_act_steps = 2};
  using M = trm<d, c, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>;
  constexpr int B = 16, S = 4;
  M m(1);
  m.init(1);
  auto cfg = toy_config();
  cfg.global_batch_size = B;
  train::trainer<M> tr(m, cfg);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> tok(1, 5);
  std::vector<std::int32_t> in(B * S), lab(B * S), ids(B, 0);
  auto draw = [&] {
    for (int i = 0; i < B * S; ++i) in[i] = tok(rng);
    for (int b = 0; b < B; ++b)
      for (int s = 0; s < S; ++s) lab[b * S + s] = in[b * S + S - 1 - s];
    return batch_ref{in.data(), lab.data(), ids.data(), B};
  };
  M eval_model(1);
  double exact = 0, first_loss = -1, last_loss = 0;
  while (tr.step() < 5000 && exact < 1.0) {
    double sum = 0;
    for (int k = 0; k < 100; ++k) sum += tr.train_batch(draw()).loss;
    if (first_loss < 0) first_loss = sum;
    last_loss = sum;
    tr.copy_eval_weights(eval_model);
    int k = 0;
    exact = train::evaluate(eval_model, B, [&](batch_ref& b, index_t& real) {
              if (k++ == 8) return false;
              b = draw();
              real = B;
              return true;
            }).exact_accuracy();
  }
  std::printf("reversal: loss per 100 steps %.2f -> %.2f, held-out exact accuracy %.3f after %lld steps\n", first_loss,
              last_loss, exact, static_cast<long long>(tr.step()));
  CHECK(last_loss < 0.1 * first_loss);
  CHECK(exact == 1.0);
}
