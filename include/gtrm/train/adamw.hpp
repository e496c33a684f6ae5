// AdamW with torch.optim.AdamW's arithmetic on one flat buffer: the optimizer shell (optimizer.hpp) with the AdamW
// rule (rules/adamw.hpp: the formulas and TRM's defaults).
#pragma once
#include "optimizer.hpp"
#include "rules/adamw.hpp"

namespace gtrm::train {

template <class T, class Be = cpu>
using adamw = optimizer<rules::adamw, T, Be>;

}  // namespace gtrm::train
