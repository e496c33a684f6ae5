// expect: must be even, because RoPE rotates the two halves
#include <gtrm/config.hpp>
inline constexpr gtrm::dims bad{.vocab = 11, .seq = 81, .hidden = 24, .heads = 8};
static_assert(gtrm::validate_heads<bad>());
int main() {}
