// libFuzzer target: what `gtrm train --resume RUNDIR` reads from a run directory besides the safetensors state
// (fuzz_safetensors covers that format): RUNDIR/config.json (resolve_train), RUNDIR/train_state.json
// (read_train_progress) and RUNDIR/metrics.jsonl (truncate_metrics, which keeps the lines up to the resumed step), all
// from tools/train.hpp, and metrics.jsonl as `gtrm plot` reads and draws it (tools/plot.hpp). cli_error is a rejection.
#include "../../tools/plot.hpp"
#include "../../tools/train.hpp"

#include "fuzz_common.hpp"
#include "fuzz_tools_stub.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace gc = gtrm::cli;
  const auto& dir = gtrm::fuzz::scratch_dir();
  gtrm::fuzz::write_scratch("config.json", data, size);
  gtrm::fuzz::write_scratch("train_state.json", data, size);
  gtrm::fuzz::write_scratch("metrics.jsonl", data, size);
  try {
    gc::train_args a;
    a.resume = dir.string();
    const auto rq = gc::resolve_train(a);
    (void)gc::to_train_config(rq.hparams, 1);
  } catch (const gc::cli_error&) {
  }
  try {
    (void)gc::read_train_progress(dir, 100);
  } catch (const gc::cli_error&) {
  }
  try {
    gc::truncate_metrics(dir / "metrics.jsonl", 100);
  } catch (const gc::cli_error&) {
  }
  try {
    (void)gc::plot_svg(gc::read_metrics(dir / "metrics.jsonl"), "fuzz");
  } catch (const gc::cli_error&) {
  }
  return 0;
}
