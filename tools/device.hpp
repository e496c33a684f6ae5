// --device and --dtype: the backend a command runs on. cpu always; cuda in a build configured with -DGTRM_ENABLE_CUDA=ON
// (GTRM_CLI_CUDA), for the presets tools/cuda_preset_impl.cuh compiles (GTRM_CLI_CUDA_PRESETS, tools/CMakeLists.txt),
// and only where a CUDA device is present. The cpu and cuda paths are the same templates (train.hpp, eval.hpp,
// solve.hpp, bench_timing.hpp) instantiated for the preset's model type on each backend.
// --dtype bf16 = precision::bf16_mixed: on the cpu gtrm::cpu_bf16 (oneDNN's bf16 matmul where configured), for the
// presets of GTRM_CLI_BF16_PRESETS (tools/CMakeLists.txt; kept short so the program's compile time does not double);
// on cuda the preset's model on gtrm::cuda_bf16 (compiled for bench only).
#pragma once
#include <string>

#include "common.hpp"
#include "registry.hpp"

namespace gtrm::cli {

// A preset's commands on one backend.
struct device_paths {
  int (*train)(const preset_entry&, const train_request&) = nullptr;
  int (*eval)(const preset_entry&, const eval_request&) = nullptr;
  int (*solve)(const preset_entry&, const solve_request&) = nullptr;
  int (*bench)(const preset_entry&, const bench_request&) = nullptr;
};

// Generated from tools/presets.cmake (GTRM_CLI_BF16_PRESETS): the preset's cpu_bf16 paths, null when it has none.
const device_paths* bf16_paths(const std::string& preset);
std::string bf16_preset_names();

#if defined(GTRM_CLI_CUDA)
// Generated from tools/presets.cmake (GTRM_CLI_CUDA_PRESETS): the preset's cuda paths for dtype "fp32" (gtrm::cuda)
// or "bf16" (gtrm::cuda_bf16, bench only), null when it has none.
const device_paths* cuda_paths(const std::string& preset, const std::string& dtype);
std::string cuda_preset_names();
int cuda_device_count();  // tools/cuda_device.cu: devices visible to this process, 0 without a device or driver
#endif

inline device_paths select_device(const preset_entry& p, const std::string& device, const std::string& dtype = "fp32") {
  if (dtype != "fp32" && dtype != "bf16") throw cli_error("--dtype " + dtype + ": unknown (fp32 or bf16)");
  if (device == "cpu") {
    if (dtype == "fp32") return {p.train, p.eval, p.solve, p.bench};
    const device_paths* d = bf16_paths(p.name);
    if (!d)
      throw cli_error("--dtype bf16: preset " + p.name + " is not compiled for bf16 in this gtrm (bf16 presets: " +
                      bf16_preset_names() + "; configure with -DGTRM_CLI_BF16_PRESETS=... to add it)");
    return *d;
  }
  if (device != "cuda") throw cli_error("--device " + device + ": unknown device (cpu or cuda)");
#if defined(GTRM_CLI_CUDA)
  const device_paths* d = cuda_paths(p.name, dtype);
  if (!d)
    throw cli_error("--device cuda: preset " + p.name + " is not compiled for CUDA in this gtrm (CUDA presets: " +
                    cuda_preset_names() + "; configure with -DGTRM_CLI_CUDA_PRESETS=... to add it)");
  if (cuda_device_count() == 0)
    throw cli_error("--device cuda: no CUDA device (this gtrm has the CUDA backend, but the machine shows no GPU)");
  return *d;
#else
  throw cli_error("--device cuda: this gtrm was built without CUDA (configure with -DGTRM_ENABLE_CUDA=ON and rebuild)");
#endif
}

}  // namespace gtrm::cli
