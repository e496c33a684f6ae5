// gtrm: one program to build data, train, evaluate and solve, and to check gtrm against the reference.
// Each subcommand lives in its own header under tools/; this file only wires the command line.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "verify_reference.hpp"

int main(int argc, char** argv) {
  CLI::App app{"gtrm: Tiny Recursive Models in C++ (train, evaluate, solve; data builders)"};
  app.require_subcommand(1);

  std::string golden_file;
  double tensor_tol = 1e-5, grad_tol = 1e-4;
  auto* verify = app.add_subcommand("verify-reference",
                                    "Run a golden file of the reference implementation through the matching compiled model "
                                    "and print the error of every stored quantity; exit 1 above tolerance");
  verify->add_option("file", golden_file, "golden .safetensors file (see tests/data/golden)")->required();
  verify->add_option("--tensor-tol", tensor_tol, "relative tolerance for logits, q, z, losses (norm)")->capture_default_str();
  verify->add_option("--grad-tol", grad_tol, "relative tolerance for parameter gradients (norm)")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*verify) return gtrm::tools::verify_reference(golden_file, tensor_tol, grad_tol);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gtrm: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
