// Gradient modes, chosen at compile time: a no_grad forward saves nothing for backward.
#pragma once
#include <concepts>

namespace gtrm {

struct no_grad_t { static constexpr bool records = false; };
struct with_grad_t { static constexpr bool records = true; };
inline constexpr no_grad_t no_grad{};
inline constexpr with_grad_t with_grad{};

template <class M>
concept grad_mode = requires { { M::records } -> std::convertible_to<bool>; };

}  // namespace gtrm
