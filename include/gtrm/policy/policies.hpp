// Behaviours of a model are types. Each policy is an empty tag (with its compile-time data); the model
// reads them with `if constexpr`, so an unused behaviour costs nothing.
//
//   pos::rope / pos::learned / pos::none        positional encoding (TRM_REFERENCE.md §1.5)
//   mixer::attention<Pos> / mixer::token_mlp<Pos> the token mixer of each block (§1.6)
//   gate::none                                    no gating (GTRM gates: VARIANTS.md, later)
//   halt::q_head                                  TRM: halt when q_halt > 0, no continue loss
//   halt::q_head_continue                         HRM: halt when q_halt > q_continue, Q-continue target from an
//                                                 extra forward pass (the reference's path for TRM is broken; this works)
//   grad::last_cycle / one_step / full_bptt       which applications of the network get gradient (§1.7)
#pragma once
#include <concepts>
#include <type_traits>

namespace gtrm {

namespace pos {
struct rope { static constexpr double theta = 10000.0; };
struct learned { static constexpr double factor = 0.707106781; };  // the reference's literal, not 1/sqrt(2)
struct none {};
}  // namespace pos

template <class P>
concept position_policy = std::same_as<P, pos::rope> || std::same_as<P, pos::learned> || std::same_as<P, pos::none>;

namespace mixer {
template <position_policy Pos = pos::rope>
struct attention { using position = Pos; static constexpr bool is_attention = true; };
template <position_policy Pos = pos::none>
struct token_mlp { using position = Pos; static constexpr bool is_attention = false; };
}  // namespace mixer

template <class M>
concept mixer_policy = requires {
  typename M::position;
  { M::is_attention } -> std::convertible_to<bool>;
};

namespace gate {
struct none {};
}  // namespace gate

namespace halt {
struct q_head { static constexpr bool continue_target = false; };
struct q_head_continue { static constexpr bool continue_target = true; };
}  // namespace halt

template <class H>
concept halt_policy = requires { { H::continue_target } -> std::convertible_to<bool>; };

// Applications of the shared network are numbered k = 0 .. T·(n+1)−1 in execution order; those with
// k >= first_recorded(T, n) are recorded on the tape and receive gradient. The carry entering the first
// recorded application is a constant: TRM's detach falls out of where recording starts.
namespace grad {
struct last_cycle {  // TRM: the last full cycle (n z_L updates + 1 z_H update)
  static constexpr int first_recorded(int t, int n) { return (t - 1) * (n + 1); }
};
struct one_step {    // HRM: only the last z_L update and the last z_H update
  static constexpr int first_recorded(int t, int n) { return t * (n + 1) - 2; }
};
struct full_bptt {   // every application (for gradchecks and ablations)
  static constexpr int first_recorded(int, int) { return 0; }
};
}  // namespace grad

template <class G>
concept grad_policy = requires { { G::first_recorded(1, 1) } -> std::convertible_to<int>; };

}  // namespace gtrm
