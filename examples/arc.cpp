// Train a Tiny Recursive Model on an ARC dataset built by `gtrm data arc` and score it as the reference does: every
// augmented version of a test puzzle votes (after undoing its augmentation), pass@K over tasks, and a Kaggle-style
// submission.json. A real ARC run needs the paper's model and days of GPU time; this shows the API on any size.
//   gtrm data arc --input-file-prefix tests/data/arc/tiny/combined/tiny --subsets training,evaluation --num-aug 8 --output-dir arc-data
//   ./example_arc arc-data [steps]
#include <gtrm/cpu.hpp>
#include <gtrm/eval/arc_submission.hpp>
#include <gtrm/eval/arc_vote.hpp>
#include <gtrm/train/fit.hpp>

#include <cstdio>
#include <cstdlib>

using namespace gtrm;

// The paper's ARC model is presets::arc_att<cpu> (hidden 512); a small one keeps this example quick.
inline constexpr dims arc_dims{.vocab = 12, .seq = 900, .puzzle_emb_len = 1, .hidden = 64, .heads = 4};
inline constexpr cycles arc_cycles{.h = 2, .l = 2, .layers = 2, .max_act_steps = 4};
using model_t = trm<arc_dims, arc_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s ARC_DATASET_DIR [steps]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const std::int64_t steps = argc > 2 ? std::atoll(argv[2]) : 200;
  const auto train_split = data::read_split(dir, "train"), test_split = data::read_split(dir, "test");

  // Every task version has its own puzzle embedding (identifiers.json), trained by sign-SGD next to the weights.
  model_t model(train_split.metadata.num_puzzle_identifiers);
  model.init(0);
  const index_t batch = 16;
  train::trainer<model_t> trainer(model, {.global_batch_size = batch, .total_steps = steps, .lr = 1e-3, .lr_warmup_steps = 20,
                                          .puzzle_emb_lr = 1e-2, .ema_rate = 0.99});
  data::train_loader loader(train_split.data, train_split.metadata, {.seed = 0, .global_batch_size = batch});
  train::fit(trainer, loader, {.total_steps = steps, .log_every = 20},
             {.on_log = [](const train::fit_progress& p) {
               std::printf("step %5lld  loss %.4f  token accuracy %5.1f%%\n", static_cast<long long>(p.step), p.loss,
                           100 * p.accuracy);
             }});

  // Evaluation: the final ACT step of every test example feeds the voting evaluator.
  model_t eval_model(train_split.metadata.num_puzzle_identifiers);
  trainer.copy_eval_weights(eval_model);
  auto arc = eval::arc_evaluator::from_dataset(dir);
  std::vector<std::int32_t> preds;
  std::vector<float> q;
  train::evaluate_split(eval_model, test_split.data, test_split.metadata, batch, 0,
                        [&](const act_carry<model_t>& carry, typename model_t::workspace& ws, const act_scratch<model_t>& sc, index_t rows) {
                          q.resize(static_cast<std::size_t>(rows));
                          for (index_t r = 0; r < rows; ++r) q[static_cast<std::size_t>(r)] = ws.q(r, 0);
                          arc.update(carry.puzzle_ids.data(), carry.inputs.data(), sc.preds.data(), q.data(),
                                     static_cast<std::size_t>(rows));
                        });
  const auto res = arc.result();
  for (std::size_t i = 0; i < res.ks.size(); ++i) std::printf("pass@%d %.1f%%  ", res.ks[i], 100 * res.pass[i]);
  std::printf("over %d tasks\n", res.tasks);
  eval::write_arc_submission("submission.json", arc.submission());
  std::printf("wrote submission.json\n");
  return 0;
}
