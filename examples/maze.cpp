// Train a Tiny Recursive Model on generated 8x8 mazes (find the shortest path from S to G), with a model type defined
// right here, evaluate it and draw one solved maze.
//   ./example_maze [steps] [work-dir]
#include <gtrm/cpu.hpp>
#include <gtrm/data/maze.hpp>
#include <gtrm/solve.hpp>
#include <gtrm/tasks/maze/maze.hpp>
#include <gtrm/train/fit.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

using namespace gtrm;

// A model is a type: its numbers are compile-time data, its behaviours are policies.
inline constexpr dims maze_dims{.vocab = 6, .seq = 64, .puzzle_emb_len = 1, .hidden = 64, .heads = 4};
inline constexpr cycles maze_cycles{.h = 2, .l = 2, .layers = 2, .max_act_steps = 8};
using model_t = trm<maze_dims, maze_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>;

int main(int argc, char** argv) {
  const std::int64_t steps = argc > 1 ? std::atoll(argv[1]) : 2000;
  const std::filesystem::path dir = argc > 2 ? argv[2] : "example-maze-data";

  // 1. Data: 8x8 mazes whose shortest S-G path is longer than 8 moves, the 8 dihedral versions of each for training.
  data::maze::generate_dataset({.output_dir = dir, .size = 8, .num_train = 4000, .num_test = 200, .min_path_length = 8,
                                .wall_prob = 0.3, .aug = true, .seed = 1, .overwrite = true});
  const auto train_split = data::read_split(dir, "train"), test_split = data::read_split(dir, "test");

  // 2. Model and trainer.
  model_t model(train_split.metadata.num_puzzle_identifiers);
  model.init(0);
  train::trainer<model_t> trainer(model, {.global_batch_size = 64, .total_steps = steps, .lr = 2e-3, .lr_warmup_steps = 100,
                                          .ema_rate = 0.99, .loss = lm_loss_kind::softmax});
  data::train_loader loader(train_split.data, train_split.metadata, {.seed = 0, .global_batch_size = 64});

  // 3. Train with an evaluation every 500 steps.
  model_t eval_model(train_split.metadata.num_puzzle_identifiers);
  train::fit(trainer, loader, {.total_steps = steps, .log_every = 100, .eval_every = 500},
             {.on_log = [](const train::fit_progress& p) {
                std::printf("step %5lld  loss %.4f  train exact %5.1f%%\n", static_cast<long long>(p.step), p.loss,
                            100 * p.exact_accuracy);
              },
              .on_eval = [&](std::int64_t step) {
                trainer.copy_eval_weights(eval_model);
                const auto r = train::evaluate_split(eval_model, test_split.data, test_split.metadata, 200);
                std::printf("step %5lld  held-out exact accuracy %.1f%%\n", static_cast<long long>(step), 100 * r.exact_accuracy());
              }});

  // 4. Solve one held-out maze, voting over its 8 dihedral versions; the task checks and draws the answer.
  const tasks::maze_task task(model_t::V, model_t::S);
  const std::vector<std::int32_t> maze(test_split.data.inputs.begin(), test_split.data.inputs.begin() + model_t::S);
  const auto v = solve_voting(eval_model, maze, task.augmentations(8, 0));
  std::printf("%d of %d versions agree (confidence %.1f%%), %s:\n", v.ranking.front().votes, v.versions,
              100 * v.best.confidence, task.check(maze, v.best.prediction).value_or(false) ? "a valid path" : "not a valid path");
  for (const auto& row : task.to_grid_lines(v.best.prediction)) std::printf("%s\n", row.c_str());
  return 0;
}
