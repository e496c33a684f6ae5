// Consumes an installed gtrm: a linear layer forward on the CPU backend.
#include <gtrm/cpu.hpp>

#include <cstdio>

int main() {
  const float x[2 * 3] = {1, 2, 3, 4, 5, 6};
  const float w[2 * 3] = {1, 0, 0, 0, 1, 0};  // picks columns 0 and 1
  float y[2 * 2];
  gtrm::ops::linear_forward<gtrm::cpu, float, 3, 2>(gtrm::cpu{}, gtrm::cview<float, 3>(x, 2),
                                                    gtrm::cview<float, 3>(w, 2), gtrm::view<float, 2>(y, 2));
  std::printf("gtrm consumer: y = [%g %g; %g %g]\n", y[0], y[1], y[2], y[3]);
  return (y[0] == 1 && y[1] == 2 && y[2] == 4 && y[3] == 5) ? 0 : 1;
}
