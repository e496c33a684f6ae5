// AdamATan2, the reference's main optimizer, on one flat buffer: the optimizer shell (optimizer.hpp) with the
// AdamATan2 rule (rules/adam_atan2.hpp: the formulas and the placement of the β1 correction).
// Every trainable tensor is one parameter group with the same hyper-parameters (no decay exclusions), so a
// single step counter serves the whole buffer.
#pragma once
#include "optimizer.hpp"
#include "rules/adam_atan2.hpp"

namespace gtrm::train {

template <class T, class Be = cpu>
using adam_atan2 = optimizer<rules::adam_atan2, T, Be>;

}  // namespace gtrm::train
