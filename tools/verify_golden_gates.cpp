// `gtrm verify-reference`: the GTRM injection and attention gate presets (tests/data/golden_variants g1, g1c,
// g2h, g2e).
#include "verify_reference.hpp"

namespace gtrm::tools {

std::vector<golden_candidate> golden_gate_candidates() {
  return {golden_entry<presets::golden_gate_scalar<cpu>>("golden_gate_scalar"),
          golden_entry<presets::golden_gate_channel<cpu>>("golden_gate_channel"),
          golden_entry<presets::golden_gate_headwise<cpu>>("golden_gate_headwise"),
          golden_entry<presets::golden_gate_elementwise<cpu>>("golden_gate_elementwise")};
}

}  // namespace gtrm::tools
