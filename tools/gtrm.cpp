// gtrm: one program to build data, train, evaluate and solve, and to check gtrm against the reference.
// Each subcommand's logic lives in its own header under tools/; this file only wires the command line. The model
// code is compiled once per preset in generated translation units (tools/presets.cmake), found via registry.hpp.
// Errors: one line "gtrm: error: ..." on stderr and exit status 1 (2 for command-line usage errors).
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

#include <gtrm/backend/cpu/cpu.hpp>

#include "common.hpp"
#include "bench.hpp"
#include "data.hpp"
#include "device.hpp"
#include "eval.hpp"
#include "export.hpp"
#include "import.hpp"
#include "info.hpp"
#include "plot.hpp"
#include "registry.hpp"
#include "solve.hpp"
#include "train.hpp"

namespace gtrm::tools {
#ifdef GTRM_CLI_NO_VERIFY
int run_verify_reference(const std::string&, double, double) {
  throw gtrm::cli::cli_error("verify-reference is not compiled into this gtrm (configured with -DGTRM_CLI_VERIFY=OFF)");
}
#else
int run_verify_reference(const std::string& file, double tensor_tol, double grad_tol);
#endif
}  // namespace gtrm::tools

namespace {

using namespace gtrm::cli;

int list_presets(bool as_json) {
  ojson all = ojson::array();
  for (const auto* p : compiled_presets())
    all.push_back({{"name", p->name}, {"task", p->task().name()}, {"parameters", p->param_count},
                   {"architecture", p->architecture}, {"description", p->description}, {"config", ojson::parse(p->config_json)}});
  if (as_json) {
    std::printf("%s\n", all.dump(2).c_str());
    return 0;
  }
  std::printf("%-14s %-18s %11s  %s\n", "preset", "task", "parameters", "description");
  for (const auto* p : compiled_presets())
    std::printf("%-14s %-18s %11s  %s\n               %s\n", p->name.c_str(), p->task().name().c_str(),
                thousands(p->param_count).c_str(), p->description.c_str(), p->architecture.c_str());
  std::string missing;
  for (const auto& k : known_preset_names()) {
    bool in = false;
    for (const auto* p : compiled_presets()) in = in || p->name == k;
    if (!in) missing += (missing.empty() ? "" : ", ") + k;
  }
  if (!missing.empty()) std::printf("not compiled in (GTRM_CLI_PRESETS=%s): %s\n", preset_selection(), missing.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A full disk or a file-size limit must be an error message, not a signal.
  std::signal(SIGXFSZ, SIG_IGN);

  CLI::App app{"gtrm: Tiny Recursive Models in C++ -- build data, train, evaluate, solve"};
  app.require_subcommand(1);
  app.set_version_flag("--version", GTRM_VERSION);
  int threads = 0;
  app.add_option("--threads", threads, "CPU threads (default: OMP_NUM_THREADS or all cores)")->check(CLI::NonNegativeNumber);
  app.footer("Run `gtrm SUBCOMMAND --help` for each subcommand's options; docs/cli.md has examples.");

  // ---- data ----
  auto* data_cmd = app.add_subcommand("data", "Build datasets in the reference layout (Sudoku, Maze, ARC) or generate seeded ones");
  data_cmd->require_subcommand(1);
  data_commands data;
  data.add(*data_cmd);

  // ---- train ----
  auto* train = app.add_subcommand("train", "Train a preset on a dataset: metrics, checkpoints, resumable state in --out RUNDIR");
  train_args ta;
  std::map<std::string, std::string> hp_text;
  std::map<std::string, CLI::Option*> hp_opts;
  train->add_option("--preset", ta.preset, "Compiled architecture (gtrm presets lists them)");
  train->add_option("--data", ta.data, "Dataset directory (train/ and test/ splits)");
  train->add_option("--out", ta.out, "Run directory to create");
  train->add_option("--resume", ta.resume, "Continue the run in this directory exactly where it stopped");
  train->add_option("--config", ta.config, "JSON file of settings (any flag's key, and preset/data; a run's config.json works)");
  for (const auto& d : hparam_defs()) hp_opts[d.key] = train->add_option(d.flag, hp_text[d.key], d.help);
  train->add_option("--stop-after", ta.stop_after, "Stop (saving the state, exit 0) after N steps of this invocation")
      ->check(CLI::NonNegativeNumber);
  train->add_flag("--overwrite", ta.overwrite, "Replace an existing run in --out");
  train->add_flag("--quiet,-q", ta.quiet, "No progress output");
  // the backend each command runs on (tools/device.hpp); not part of a run's configuration: a run resumes anywhere
  constexpr const char* device_help = "cpu, or cuda (a CUDA build, on a machine with a GPU)";
  std::string train_device = "cpu", eval_device = "cpu", solve_device = "cpu";
  train->add_option("--device", train_device, device_help)->capture_default_str();

  // ---- eval ----
  auto* eval = app.add_subcommand("eval", "Exact/token accuracy of a checkpoint on a dataset; ARC pass@K and submission.json");
  std::string eval_ckpt, eval_data, pass_ks;
  eval_request er;
  eval->add_option("checkpoint", eval_ckpt, "Checkpoint (.safetensors, or a PyTorch step_N/checkpoint of the official code) or run directory")->required();
  eval->add_option("--data", eval_data, "Dataset directory")->required();
  eval->add_option("--split", er.split, "Split to evaluate")->capture_default_str();
  eval->add_option("--batch", er.batch, "Puzzles per forward pass")->capture_default_str()->check(CLI::PositiveNumber);
  eval->add_option("--max-examples", er.max_examples, "Evaluate at most N examples (0: all)")->capture_default_str();
  eval->add_option("--steps", er.steps, "ACT steps (0: the model's halt_max_steps; more continues the recursion)")->capture_default_str();
  eval->add_flag("--adaptive", er.adaptive, "Stop each puzzle when the Q head halts (at --steps at the latest)");
  eval->add_option("--min-steps", er.min_steps, "With --adaptive: never stop before this step")->capture_default_str();
  eval->add_option("--vote", er.vote, "Sudoku/Maze: vote over N symmetric versions of each puzzle")->capture_default_str();
  eval->add_option("--seed", er.seed, "Seed of the --vote versions")->capture_default_str();
  eval->add_option("--submission", er.submission, "ARC: where to write submission.json")->capture_default_str();
  eval->add_option("--pass-k", pass_ks, "ARC: comma list of K for pass@K (default 1,2,5,10,100,1000)");
  eval->add_flag("--json", er.json_out, "Print the result as JSON");
  eval->add_flag("--quiet,-q", er.quiet, "No progress output");
  eval->add_option("--device", eval_device, device_help)->capture_default_str();

  // ---- solve ----
  auto* solve = app.add_subcommand("solve", "Solve puzzles (arguments, --file or stdin) with a checkpoint; text, JSON or SVG");
  std::string solve_ckpt;
  solve_request sr;
  solve->add_option("checkpoint", solve_ckpt, "Checkpoint (.safetensors, or a PyTorch step_N/checkpoint of the official code) or run directory")->required();
  // allow_extra_args(false): CLI11 would otherwise split a bracketed argument such as an ARC grid [[1,2],[3,4]] at commas
  solve->add_option("puzzles", sr.puzzles, "Puzzles (Sudoku: digits and '.', e.g. 1.3...; '-' reads stdin)")->allow_extra_args(false);
  solve->add_option("--file,-f", sr.puzzle_file, "Read puzzles from a file (one per line, drawn grids, or CSV rows)");
  solve->add_option("--format", sr.format, "text, json or svg")->capture_default_str()->check(CLI::IsMember({"text", "json", "svg"}));
  solve->add_option("--output,-o", sr.output, "Write to this file instead of stdout");
  solve->add_flag("--trajectory", sr.trajectory, "Show every ACT step's prediction and confidence");
  solve->add_option("--steps", sr.steps, "ACT steps (0: the model's halt_max_steps; more than trained continues the recursion)")
      ->capture_default_str();
  solve->add_flag("--adaptive", sr.adaptive, "Stop when the Q head halts (q_halt > 0), at --steps at the latest");
  solve->add_option("--min-steps", sr.min_steps, "With --adaptive: never stop before this step")->capture_default_str();
  solve->add_option("--vote", sr.vote, "Vote over N symmetric versions (Sudoku: digit/row/column shuffles; Maze: 8 dihedral)")
      ->capture_default_str();
  solve->add_option("--seed", sr.seed, "Seed of the --vote versions")->capture_default_str();
  solve->add_option("--puzzle-id", sr.puzzle_id, "Puzzle-embedding row to use (0: blank, as Sudoku and Maze data)")
      ->capture_default_str();
  solve->add_option("--device", solve_device, device_help)->capture_default_str();

  // ---- import, export (PyTorch checkpoints of the official code) ----
  auto* import_cmd = app.add_subcommand("import", "A checkpoint of the official PyTorch TRM/HRM code (step_N, checkpoint) as a gtrm run directory");
  import_request ir;
  import_cmd->add_option("path", ir.path, "PyTorch checkpoint file, or the folder with it and all_config.yaml")->required();
  import_cmd->add_option("--out", ir.out, "Run directory to write (model.safetensors, import.json)")->required();
  import_cmd->add_option("--preset", ir.preset, "Compiled preset to load it as (default: the one its config and tensors fit)");
  import_cmd->add_option("--data", ir.data, "Dataset directory: its seq_len and vocabulary (what the official config leaves to the data)");
  import_cmd->add_flag("--overwrite", ir.overwrite, "Replace an existing model.safetensors in --out");
  import_cmd->add_flag("--quiet,-q", ir.quiet, "No report");

  auto* export_cmd = app.add_subcommand("export", "A gtrm checkpoint as a PyTorch file for the official code (torch.load, weights_only=True)");
  export_request xr;
  export_cmd->add_option("run", xr.run, "Run directory or model checkpoint (.safetensors)")->required();
  export_cmd->add_option("--format", xr.format, "torch")->capture_default_str()->check(CLI::IsMember({"torch"}));
  export_cmd->add_option("--out", xr.out, "File to write (the official name is step_N); all_config.yaml goes beside it")->required();
  export_cmd->add_flag("--orig-mod", xr.orig_mod, "Prefix every key with _orig_mod. (a torch.compile'd model's state_dict, as pretrain.py saves)");
  export_cmd->add_flag("--no-config", xr.no_config, "Do not write all_config.yaml");

  // ---- info, plot, presets, verify-reference ----
  auto* info = app.add_subcommand("info", "Architecture, parameter count and provenance of a checkpoint");
  std::string info_ckpt;
  bool info_json = false;
  info->add_option("checkpoint", info_ckpt, "Checkpoint (.safetensors, or a PyTorch step_N/checkpoint of the official code) or run directory")->required();
  info->add_flag("--json", info_json, "Print as JSON");

  auto* plot = app.add_subcommand("plot", "Training curves of a run as SVG (loss, accuracy, ACT steps, learning rate)");
  std::string plot_run, plot_out;
  plot->add_option("run", plot_run, "Run directory (or its metrics.jsonl)")->required();
  plot->add_option("--out,-o", plot_out, "SVG file to write (default RUNDIR/curves.svg)");

  auto* bench = app.add_subcommand("bench", "Training throughput and batch-1 solve latency of a preset on synthetic data, as JSON");
  std::string bench_preset;
  bench_request br;
  bench->add_option("--preset", bench_preset, "Compiled architecture (gtrm presets lists them)")->required();
  bench->add_option("--batch", br.batch, "Rows per training step")->capture_default_str();
  bench->add_option("--steps", br.steps, "Timed training steps (one ACT step each)")->capture_default_str();
  bench->add_option("--device", br.device, device_help)->capture_default_str();
  bench->add_option("--threads", threads, "CPU threads (the same as gtrm --threads)")->check(CLI::NonNegativeNumber);

  auto* presets = app.add_subcommand("presets", "List the architectures compiled into this gtrm");
  bool presets_json = false;
  presets->add_flag("--json", presets_json, "Print as JSON");

  std::string golden_file;
  double tensor_tol = 1e-5, grad_tol = 1e-4;
  auto* verify = app.add_subcommand("verify-reference",
                                    "Run a golden file of the reference implementation through the matching compiled model "
                                    "and print the error of every stored quantity; exit 1 above tolerance");
  verify->add_option("file", golden_file, "golden .safetensors file (see tests/data/golden)")->required();
  verify->add_option("--tensor-tol", tensor_tol, "relative tolerance for logits, q, z, losses (norm)")->capture_default_str();
  verify->add_option("--grad-tol", grad_tol, "relative tolerance for parameter gradients (norm)")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "gtrm: error: %s (see --help)\n", e.what());
    return 2;
  }

  try {
    if (threads > 0) gtrm::cpu::set_threads(threads);
    if (data.parsed()) return data.run("gtrm data");
    if (*train) {
      for (const auto& [k, opt] : hp_opts)
        if (opt->count() > 0) ta.flags[k] = hp_text[k];
      const auto rq = resolve_train(ta);
      const auto& p = find_preset(rq.preset);
      return select_device(p, train_device).train(p, rq);
    }
    if (*eval) {
      const auto ck = open_any_checkpoint(eval_ckpt);
      er.file = &ck.file;
      er.data = eval_data;
      if (!pass_ks.empty()) {
        er.pass_ks.clear();
        for (const auto& k : split_commas(pass_ks)) {
          try {
            er.pass_ks.push_back(std::stoi(k));
          } catch (const std::exception&) {
            throw cli_error("--pass-k: '" + k + "' is not an integer");
          }
        }
      }
      return select_device(*ck.preset, eval_device).eval(*ck.preset, er);
    }
    if (*solve) {
      const auto ck = open_any_checkpoint(solve_ckpt);
      sr.file = &ck.file;
      return select_device(*ck.preset, solve_device).solve(*ck.preset, sr);
    }
    if (*bench) {
      const auto& p = find_preset(bench_preset);
      return select_device(p, br.device).bench(p, br);
    }
    if (*info) {
      if (!is_torch_checkpoint(info_ckpt)) return run_info(info_ckpt, info_json);
      temp_checkpoint tmp;  // a PyTorch file: what gtrm import would make of it
      import_torch_checkpoint(info_ckpt, tmp.path, "", "");
      return run_info(tmp.path.string(), info_json, info_ckpt + " (PyTorch checkpoint, imported in memory)");
    }
    if (*import_cmd) return run_import(ir);
    if (*export_cmd) return run_export(xr);
    if (*plot) return run_plot(plot_run, plot_out);
    if (*presets) return list_presets(presets_json);
    if (*verify) return gtrm::tools::run_verify_reference(golden_file, tensor_tol, grad_tol);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "gtrm: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gtrm: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
