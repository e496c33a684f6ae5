// The same model, trainer and solver on gtrm::cuda: this translation unit instantiates train::trainer, fit's step,
// evaluate and solve for the paper's Sudoku presets (attention and token-MLP) with the cuda backend, under nvcc.
// Its build is the test (no device is needed); running it only checks that a device-less machine is told so.
#include <gtrm/cuda.cuh>
#include <gtrm/gtrm.hpp>
#include <gtrm/solve.hpp>
#include <gtrm/train/fit.hpp>

#include <doctest/doctest.h>

#include <cstdio>

namespace gtrm {
template class train::trainer<presets::sudoku_att<cuda>>;
template class train::trainer<presets::sudoku_mlp<cuda>>;
template class batch_solver<presets::sudoku_att<cuda>>;
template class batch_solver<presets::sudoku_mlp<cuda>>;
}  // namespace gtrm

namespace {
template <class Model>
void build_one_step() {
  Model m(1, gtrm::cuda{});
  m.init(0);
  gtrm::train::train_config cfg;
  cfg.global_batch_size = 2;
  gtrm::train::trainer<Model> tr(m, cfg);
  std::vector<std::int32_t> inputs(2 * Model::S, 1), labels(2 * Model::S, 1), ids(2, 0);
  gtrm::batch_ref b{inputs.data(), labels.data(), ids.data(), 2};
  (void)tr.train_batch(b);
  Model eval_copy(1, gtrm::cuda{});
  tr.copy_eval_weights(eval_copy);
  gtrm::solve_options o;
  (void)gtrm::solve(eval_copy, std::span<const std::int32_t>(inputs.data(), Model::S), o);
}
}  // namespace

TEST_CASE("cuda: trainer and solver instantiate for sudoku_att<cuda> and sudoku_mlp<cuda>") {
  if (gtrm::cuda::device_count() == 0) {
    std::printf("skipped: no CUDA device\n");
    return;
  }
  build_one_step<gtrm::presets::sudoku_att<gtrm::cuda>>();
  build_one_step<gtrm::presets::sudoku_mlp<gtrm::cuda>>();
}
