// The CUDA device count for tools/device.hpp, in a .cu of its own so that gtrm.cpp stays plain C++.
#include <gtrm/cuda.cuh>

#include "device.hpp"

namespace gtrm::cli {
int cuda_device_count() { return cuda::device_count(); }
}  // namespace gtrm::cli
