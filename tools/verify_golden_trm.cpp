// `gtrm verify-reference`: the plain TRM golden presets (tests/data/golden).
#include "verify_reference.hpp"

namespace gtrm::tools {

std::vector<golden_candidate> golden_trm_candidates() {
  return {golden_entry<presets::golden_rope<cpu>>("golden_rope"), golden_entry<presets::golden_mlpt<cpu>>("golden_mlpt"),
          golden_entry<presets::golden_learned<cpu>>("golden_learned"),
          golden_entry<presets::golden_no_puzzle<cpu>>("golden_no_puzzle")};
}

}  // namespace gtrm::tools
