// The same model, trainer and solver on gtrm::cuda: this translation unit instantiates train::trainer (with fit and
// evaluate_split), the checkpoint I/O and the solver under nvcc, for the paper's Sudoku presets (attention and
// token-MLP) and, for the trainer step, an HRM and gated TRMs (every gate site: input injection scalar/channel/
// headwise, attention output, recurrent update). Its build is the test. Running it needs a device: one training step,
// a checkpoint round trip and a solve of each Sudoku preset; without one it prints "skipped: no CUDA device".
#include <gtrm/cuda.cuh>
#include <gtrm/gtrm.hpp>
#include <gtrm/solve.hpp>
#include <gtrm/train/fit.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <vector>

namespace gtrm {
template class train::trainer<presets::sudoku_att<cuda>>;
template class train::trainer<presets::sudoku_mlp<cuda>>;
template class batch_solver<presets::sudoku_att<cuda>>;
template class batch_solver<presets::sudoku_mlp<cuda>>;
template train::fit_status train::fit(train::trainer<presets::sudoku_att<cuda>>&, data::train_loader&,
                                      const train::fit_options&, const train::fit_callbacks&);
template train::eval_result train::evaluate_split(presets::sudoku_att<cuda>&, const data::split_data&,
                                                  const data::dataset_metadata&, index_t, std::int64_t,
                                                  train::no_final_hook&&);
template void io::load_state_dict(presets::sudoku_att<cuda>&, const io::safetensors_reader&, const std::string&);
template void io::add_state_dict(const presets::sudoku_att<cuda>&, io::safetensors_writer&);
// the golden-file checks (a step, an evaluation, optimizer iterations), through host copies of device memory
template io::reference_report io::check_reference<presets::golden_rope<cuda>>(const io::safetensors_reader&,
                                                                              const io::reference_tolerances&);
template io::reference_report io::check_optimizer_reference<presets::golden_rope<cuda>>(
    const io::safetensors_reader&, const io::reference_tolerances&);
// every gate and the HRM arch: their forward and backward through one trainer step
template train::train_step_result train::trainer<presets::golden_gate_hybrid<cuda>>::train_batch(const batch_ref&);
template train::train_step_result train::trainer<presets::golden_gate_scalar<cuda>>::train_batch(const batch_ref&);
template train::train_step_result train::trainer<presets::golden_gate_channel<cuda>>::train_batch(const batch_ref&);
template train::train_step_result train::trainer<presets::golden_gate_headwise<cuda>>::train_batch(const batch_ref&);
template train::train_step_result train::trainer<presets::golden_hrm<cuda>>::train_batch(const batch_ref&);
}  // namespace gtrm

namespace {
template <class Model>
void one_step_save_load_solve() {
  Model m(1, gtrm::cuda{});
  m.init(0);
  gtrm::train::train_config cfg;
  cfg.global_batch_size = 2;
  gtrm::train::trainer<Model> tr(m, cfg);
  std::vector<std::int32_t> inputs(2 * Model::S, 1), labels(2 * Model::S, 1), ids(2, 0);
  const auto r = tr.train_batch({inputs.data(), labels.data(), ids.data(), 2});
  CHECK(std::isfinite(r.loss));
  const auto file = std::filesystem::temp_directory_path() / "gtrm_test_cuda_compile.safetensors";
  tr.save_state(file);
  tr.load_state(file);
  std::filesystem::remove(file);
  Model eval_copy(1, gtrm::cuda{});
  tr.copy_eval_weights(eval_copy);
  const auto s = gtrm::solve(eval_copy, std::span<const std::int32_t>(inputs.data(), Model::S));
  CHECK(s.prediction.size() == static_cast<std::size_t>(Model::S));
}
}  // namespace

TEST_CASE("cuda: a training step, a training-state round trip and a solve of sudoku_att<cuda> and sudoku_mlp<cuda>") {
  if (gtrm::cuda::device_count() == 0) {
    std::printf("skipped: no CUDA device\n");
    return;
  }
  one_step_save_load_solve<gtrm::presets::sudoku_att<gtrm::cuda>>();
  one_step_save_load_solve<gtrm::presets::sudoku_mlp<gtrm::cuda>>();
}
