// expect: a site takes at most one gate
#include <gtrm/model/trm.hpp>
inline constexpr gtrm::dims d{.vocab = 11, .seq = 16, .hidden = 64, .heads = 4};
using M = gtrm::trm<d, gtrm::cycles{.h = 3, .l = 2}, gtrm::mixer::attention<>,
                    gtrm::gate::all<gtrm::gate::context_scalar, gtrm::gate::context_channel>, gtrm::halt::q_head, struct no_backend>;
int main() { return M::param_count > 0 ? 0 : 1; }
