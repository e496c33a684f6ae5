// Train a Tiny Recursive Model on generated 6x6 Sudoku, evaluate it on held-out puzzles and solve one, with the
// library API only (the gtrm program does the same with `gtrm data/train/eval/solve`).
//   ./example_sudoku [steps] [work-dir]
#include <gtrm/cpu.hpp>
#include <gtrm/data/sudoku_generator.hpp>
#include <gtrm/presets.hpp>
#include <gtrm/solve.hpp>
#include <gtrm/tasks/sudoku/sudoku.hpp>
#include <gtrm/train/fit.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

using namespace gtrm;
using model_t = presets::sudoku6_demo<cpu>;  // hidden 64, MLP token mixer, T=2 n=2, 8 ACT steps

int main(int argc, char** argv) {
  const std::int64_t steps = argc > 1 ? std::atoll(argv[1]) : 1200;
  const std::filesystem::path dir = argc > 2 ? argv[2] : "example-sudoku-data";

  // 1. Data: seeded 6x6 puzzles with a unique solution, written in the reference's dataset layout.
  data::sudoku::generate_dataset({.output_dir = dir, .size = 6, .givens = 11, .num_train = 30000, .num_test = 500,
                                  .seed = 1, .overwrite = true});
  const auto train_split = data::read_split(dir, "train"), test_split = data::read_split(dir, "test");

  // 2. Model, trainer (deep supervision, Adam-atan2, EMA) and the reference's data loader.
  model_t model(train_split.metadata.num_puzzle_identifiers);
  model.init(/*seed=*/0);
  train::trainer<model_t> trainer(model, {.global_batch_size = 64, .total_steps = steps, .lr = 2e-3, .lr_min_ratio = 0.1,
                                          .lr_warmup_steps = 100, .ema_rate = 0.99, .loss = lm_loss_kind::softmax});
  data::train_loader loader(train_split.data, train_split.metadata, {.seed = 0, .global_batch_size = 64});

  // 3. Train, printing progress every 100 steps.
  train::fit(trainer, loader, {.total_steps = steps, .log_every = 100},
             {.on_log = [](const train::fit_progress& p) {
               std::printf("step %5lld  loss %.4f  train exact %5.1f%%  %.1f steps/s\n", static_cast<long long>(p.step), p.loss,
                           100 * p.exact_accuracy, p.steps_per_second);
             }});

  // 4. Evaluate the EMA weights on the held-out puzzles as the reference does (every puzzle runs max_act_steps).
  model_t best(train_split.metadata.num_puzzle_identifiers);
  trainer.copy_eval_weights(best);
  const auto r = train::evaluate_split(best, test_split.data, test_split.metadata, /*batch_size=*/256);
  std::printf("held-out exact accuracy %.1f%% (token accuracy %.1f%%) on %lld puzzles\n", 100 * r.exact_accuracy(),
              100 * r.accuracy(), static_cast<long long>(r.examples));

  // 5. Solve one held-out puzzle and watch the answer form step by step.
  const std::vector<std::int32_t> puzzle(test_split.data.inputs.begin(), test_split.data.inputs.begin() + model_t::S);
  const tasks::sudoku_task task(model_t::V, model_t::S);
  const auto s = solve(best, puzzle, {.trajectory = true});
  for (const auto& st : s.trajectory)
    std::printf("step %d  confidence %5.1f%%  %s%s\n", st.step, 100 * st.confidence, task.to_line(st.prediction).c_str(),
                task.check(puzzle, st.prediction).value_or(false) ? "  (valid)" : "");

  // 6. Save a checkpoint that `gtrm solve`/`gtrm eval`/`gtrm info` read.
  io::safetensors_writer w;
  io::add_state_dict(best, w);
  w.metadata("gtrm.preset", "sudoku6-demo");
  w.save("example-sudoku.safetensors");
  std::printf("wrote example-sudoku.safetensors: try  gtrm solve example-sudoku.safetensors --trajectory <puzzle>\n");
  return 0;
}
