// `gtrm verify-reference`, in its own translation unit: it compiles the four golden-file models.
#include "verify_reference.hpp"

namespace gtrm::tools {

int run_verify_reference(const std::string& file, double tensor_tol, double grad_tol) {
  return verify_reference(file, tensor_tol, grad_tol);
}

}  // namespace gtrm::tools
