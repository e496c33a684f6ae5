// `gtrm verify-reference`: the HRM golden presets (tests/data/golden_variants h, h2).
#include "verify_reference.hpp"

namespace gtrm::tools {

std::vector<golden_candidate> golden_hrm_candidates() {
  return {golden_entry<presets::golden_hrm<cpu>>("golden_hrm"), golden_entry<presets::golden_hrm_sudoku<cpu>>("golden_hrm_sudoku")};
}

}  // namespace gtrm::tools
