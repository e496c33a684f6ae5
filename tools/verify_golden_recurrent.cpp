// `gtrm verify-reference`: the GTRM recurrence-gate presets (tests/data/golden_variants g3, g3r, and the hybrid g4).
#include "verify_reference.hpp"

namespace gtrm::tools {

std::vector<golden_candidate> golden_recurrent_candidates() {
  return {golden_entry<presets::golden_gate_recurrent<cpu>>("golden_gate_recurrent"),
          golden_entry<presets::golden_gate_recurrent_reset<cpu>>("golden_gate_recurrent_reset"),
          golden_entry<presets::golden_gate_hybrid<cpu>>("golden_gate_hybrid")};
}

}  // namespace gtrm::tools
