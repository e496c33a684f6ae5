// The LMA golden modules of `gtrm verify-reference` (tests/data/golden_lma), compiled in their own translation unit.
#include "verify_reference.hpp"

namespace gtrm::tools {

std::vector<io::lma_golden_candidate> golden_lma_candidates() { return io::lma_golden_candidates(); }

}  // namespace gtrm::tools
