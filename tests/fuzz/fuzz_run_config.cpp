// libFuzzer target: the gtrm config JSON, `gtrm train --config FILE` (resolve_train in tools/train_hparams.hpp: the preset,
// the data, every hyper-parameter checked against its kind and range), once with the preset given on the command line
// and once taken from the file. cli_error is a rejection.
#include "../../tools/train.hpp"

#include "fuzz_common.hpp"
#include "fuzz_tools_stub.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace gc = gtrm::cli;
  const auto file = gtrm::fuzz::write_scratch("config.json", data, size);
  for (const bool preset_flag : {true, false}) {
    gc::train_args a;
    a.config = file.string();
    a.out = (gtrm::fuzz::scratch_dir() / "run").string();
    if (preset_flag) {
      a.preset = "sudoku6-demo";
      a.data = "data";
    }
    try {
      const auto rq = gc::resolve_train(a);
      (void)gc::to_train_config(rq.hparams, 1);
    } catch (const gc::cli_error&) {
    }
  }
  return 0;
}
