// freeze_weights(model, use): a guard that, while alive, tells the model's backend its weights do not change, so a
// backend that prepares weights for its products does so once under the guard instead of on every call:
//   cpu_bf16  converts each weight to bf16 and packs it into oneDNN's layout once (both uses)
//   cpu       with frozen_use::inference, runs the products with weights on oneDNN's f32 matmul, packed once
//             (1.3-1.6x OpenBLAS's products at batch 1, 2 threads); with frozen_use::step it stays on OpenBLAS, whose steps allocate nothing
// Nothing on backends without such a cache (it returns a plain int then).
//   { auto frozen = freeze_weights(m, frozen_use::inference); ...solves, evaluation... }
// No optimizer step and no load inside a guard. The trainer holds a frozen_use::step guard per step around the
// forward and backward; evaluation and the tools' solves hold an inference one for the whole run. Guards nest: an
// inner guard over the same weights for the same use changes nothing.
#pragma once
#include <cstddef>

namespace gtrm {

enum class frozen_use { inference, step };

template <class Model>
[[nodiscard]] auto freeze_weights(const Model& m, frozen_use use = frozen_use::inference) {
  using Be = typename Model::backend_type;
  if constexpr (requires { typename Be::frozen_weights; })
    return typename Be::frozen_weights(m.params().data(), static_cast<std::size_t>(m.params().size()),
                                       use == frozen_use::inference);
  else
    return 0;
}

}  // namespace gtrm
