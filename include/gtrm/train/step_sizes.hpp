// The size check every optimizer's step makes (CPU and CUDA alike): parameters, gradients and the optimizer state
// must have the same number of elements. One message for all of them, naming the optimizer.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>

#include "../core/types.hpp"

namespace gtrm::train::detail {

inline void check_step_sizes(const char* who, std::size_t params, std::size_t grads, index_t state) {
  if (params != grads || static_cast<index_t>(params) != state)
    throw std::invalid_argument(std::string(who) + "::step: " + std::to_string(params) + " parameters, " +
                                std::to_string(grads) + " gradients and a state of " + std::to_string(state) +
                                " must all be equal");
}

}  // namespace gtrm::train::detail
