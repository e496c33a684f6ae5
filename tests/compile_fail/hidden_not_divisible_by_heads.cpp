// expect: dims.hidden must be divisible by dims.heads
#include <gtrm/config.hpp>
inline constexpr gtrm::dims bad{.vocab = 11, .seq = 81, .hidden = 100, .heads = 8};
static_assert(gtrm::validate_heads<bad>());
int main() {}
