// Whole-model gradchecks in double: the whole recursion of one ACT step with grad::full_bptt (every
// application recorded) against central finite differences, for each mixer and positional encoding.
// The truncated policies (last_cycle, one_step) are checked structurally in test_model_structure.cpp:
// finite differences see through the no-grad cycles, the truncated gradient by design does not.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/model/trm.hpp>

#include "model_gradcheck.hpp"

using namespace gtrm;

namespace {
constexpr double H = 1e-6, SP = 0.05;  // finite-difference step, weight spread (model_gradcheck.hpp says why small)

inline constexpr dims tiny{.vocab = 5, .seq = 4, .puzzle_emb_len = 2, .puzzle_emb_ndim = 6, .hidden = 4, .heads = 2, .expansion = 1};
inline constexpr cycles tiny_cycles{.h = 2, .l = 2, .layers = 2, .max_act_steps = 3};

template <class Model>
void check_model_gradient(double tol, double fd_step, double spread) {
  testing::model_gradcheck<Model> g(spread, fd_step);
  const auto r = g.params();
  INFO("params: rel = " << r.rel << ", |g| = " << r.norm);
  CHECK(r.rel < tol);
  if constexpr (Model::E > 0) {
    const auto rp = g.puzzle_table();
    INFO("puzzle table: rel = " << rp.rel);
    CHECK(rp.rel < tol);
  }
}

}  // namespace

TEST_CASE("gradcheck: trm attention+rope, grad::full_bptt") {
  check_model_gradient<trm<tiny, tiny_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu, grad::full_bptt, double>>(1e-6, H, SP);
}
TEST_CASE("gradcheck: trm attention+learned positions, grad::full_bptt") {
  check_model_gradient<trm<tiny, tiny_cycles, mixer::attention<pos::learned>, gate::none, halt::q_head, cpu, grad::full_bptt, double>>(1e-6, H, SP);
}
TEST_CASE("gradcheck: trm token_mlp (mlp_t), grad::full_bptt") {
  check_model_gradient<trm<tiny, tiny_cycles, mixer::token_mlp<pos::none>, gate::none, halt::q_head, cpu, grad::full_bptt, double>>(1e-6, H, SP);
}

