// `gtrm verify-reference --dtype bf16`: the plain TRM golden presets (tests/data/golden) on gtrm::cpu_bf16.
#include "verify_reference.hpp"

namespace gtrm::tools {

std::vector<golden_candidate> golden_trm_bf16_candidates() {
  return {golden_entry<presets::golden_rope<cpu_bf16>>("golden_rope (bf16)"),
          golden_entry<presets::golden_mlpt<cpu_bf16>>("golden_mlpt (bf16)"),
          golden_entry<presets::golden_learned<cpu_bf16>>("golden_learned (bf16)"),
          golden_entry<presets::golden_no_puzzle<cpu_bf16>>("golden_no_puzzle (bf16)")};
}

}  // namespace gtrm::tools
