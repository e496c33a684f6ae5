// expect: cycles.l (L_cycles, n) must be at least 1
#include <gtrm/config.hpp>
inline constexpr gtrm::dims d{.vocab = 11, .seq = 16, .hidden = 64, .heads = 4};
static_assert(gtrm::validate<d, gtrm::cycles{.h = 3, .l = 0}>());
int main() {}
