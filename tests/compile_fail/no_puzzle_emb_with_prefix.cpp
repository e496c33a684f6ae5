// expect: needs puzzle_emb_len = 0
#include <gtrm/config.hpp>
inline constexpr gtrm::dims bad{.vocab = 11, .seq = 16, .puzzle_emb_len = 16, .puzzle_emb_ndim = 0, .hidden = 64, .heads = 4};
static_assert(gtrm::validate<bad, gtrm::cycles{}>());
int main() {}
