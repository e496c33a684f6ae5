// gtrm: one program to build data, train, evaluate and solve, and to check gtrm against the reference.
// Each subcommand's logic lives in its own header under tools/; this file only wires the command line. The model
// code is compiled once per preset in generated translation units (tools/presets.cmake), found via registry.hpp.
// Errors: one line "gtrm: error: <file or flag>: <what was expected>" on stderr and exit status 1 (2 for command-line
// usage errors); gtrm's own error types carry such a line, and the library exceptions that escape them are turned
// into words here (main's last catch clauses), never printed raw. docs/robustness.md lists the checks.
#include <CLI/CLI.hpp>

#include <charconv>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

#include <gtrm/backend/cpu/cpu.hpp>
#include <gtrm/backend/cpu/threads.hpp>
#ifdef GTRM_HAS_MPI
#include <gtrm/backend/mpi/comm.hpp>
#endif

#include "common.hpp"
#include "checks.hpp"
#include "bench.hpp"
#include "data.hpp"
#include "device.hpp"
#include "dist.hpp"
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
int run_verify_reference(const std::string&, double, double, const std::string&) {
  throw gtrm::cli::cli_error("verify-reference is not compiled into this gtrm (configured with -DGTRM_CLI_VERIFY=OFF)");
}
#else
int run_verify_reference(const std::string& file, double tensor_tol, double grad_tol, const std::string& dtype);
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

// Prints the one error line; `detail` (a library's own text) only with GTRM_DEBUG set.
int report_error(const std::string& what, const char* detail = nullptr) {
  std::fprintf(stderr, "gtrm: error: %s\n", what.c_str());
  if (detail && std::getenv("GTRM_DEBUG")) std::fprintf(stderr, "gtrm: debug: %s\n", detail);
  return 1;
}

// "gtrm train", "gtrm data generate maze": the subcommand that was run.
std::string command_name(const CLI::App& app) {
  std::string name = "gtrm";
  for (const CLI::App* a = &app;;) {
    const auto subs = a->get_subcommands();
    if (subs.empty()) return name;
    a = subs.front();
    name += " " + a->get_name();
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Idle OpenMP threads spin only briefly before they sleep, so a busy neighbour costs its share of the machine, not
  // 10-100x (include/gtrm/backend/cpu/threads.hpp); re-executes once unless the user set OMP_WAIT_POLICY or
  // GOMP_SPINCOUNT.
  gtrm::cpu_threads::ensure_short_spin_wait_policy(argv);
  // A full disk or a file-size limit must be an error message, not a signal.
  std::signal(SIGXFSZ, SIG_IGN);

  CLI::App app{"gtrm: Tiny Recursive Models in C++ -- build data, train, evaluate, solve"};
  // ACT steps beyond the trained ones continue the recursion; 1,000 is ~60x the presets' 16 and bounds the time a
  // mistyped --steps 2147483647 would take (it ran for hours). Seeds: what every generator takes (int64 >= 0).
  constexpr long long max_act_steps_flag = 1000, seed_max = 9'223'372'036'854'775'807LL;
  app.require_subcommand(1);
  app.set_version_flag("--version", GTRM_VERSION);
  int threads = 0;
  app.add_option("--threads", threads, "CPU threads (default: OMP_NUM_THREADS or all cores; more than the cores available are capped)")->check(whole_number(0, 1000000));
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
      ->check(whole_number(0, 1'000'000'000'000));
  train->add_flag("--overwrite", ta.overwrite, "Replace an existing run in --out");
  train->add_flag("--quiet,-q", ta.quiet, "No progress output");
  // the backend each command runs on (tools/device.hpp); not part of a run's configuration: a run resumes anywhere
  constexpr const char* device_help = "cpu, or cuda (a CUDA build, on a machine with a GPU)";
  std::string train_device = "cpu", eval_device = "cpu", solve_device = "cpu";
  train->add_option("--device", train_device, device_help)->capture_default_str();
  // the precision of the matrix products (tools/device.hpp); like --device, not part of a run's configuration
  constexpr const char* dtype_help = "fp32, or bf16 (bf16 products, fp32 accumulation and master weights; cpu, some presets)";
  std::string train_dtype = "fp32", eval_dtype = "fp32", solve_dtype = "fp32";
  const auto dtypes = CLI::IsMember({"fp32", "bf16"});
  train->add_option("--dtype", train_dtype, dtype_help)->capture_default_str()->check(dtypes);

  // ---- eval ----
  auto* eval = app.add_subcommand("eval", "Exact/token accuracy of a checkpoint on a dataset; ARC pass@K and submission.json");
  std::string eval_ckpt, eval_data, pass_ks;
  eval_request er;
  eval->add_option("checkpoint", eval_ckpt, "Checkpoint (.safetensors, or a PyTorch step_N/checkpoint of the official code) or run directory")->required();
  eval->add_option("--data", eval_data, "Dataset directory")->required();
  eval->add_option("--split", er.split, "Split to evaluate")->capture_default_str();
  eval->add_option("--batch", er.batch, "Puzzles per forward pass")->capture_default_str()->check(whole_number(1, 65536));
  eval->add_option("--max-examples", er.max_examples, "Evaluate at most N examples (0: all)")->capture_default_str()
      ->check(whole_number(0, 1'000'000'000'000));
  eval->add_option("--steps", er.steps, "ACT steps (0: the model's halt_max_steps; more continues the recursion)")->capture_default_str()
      ->check(whole_number(0, max_act_steps_flag));
  eval->add_flag("--adaptive", er.adaptive, "Stop each puzzle when the Q head halts (at --steps at the latest)");
  eval->add_option("--min-steps", er.min_steps, "With --adaptive: never stop before this step")->capture_default_str()
      ->check(whole_number(1, max_act_steps_flag));
  eval->add_option("--vote", er.vote, "Sudoku/Maze: vote over N symmetric versions of each puzzle")->capture_default_str()
      ->check(whole_number(0, 1024));
  eval->add_option("--seed", er.seed, "Seed of the --vote versions")->capture_default_str()->check(whole_number(0, seed_max));
  eval->add_option("--submission", er.submission, "ARC: where to write submission.json")->capture_default_str();
  eval->add_option("--pass-k", pass_ks, "ARC: comma list of K for pass@K (default 1,2,5,10,100,1000)");
  eval->add_flag("--json", er.json_out, "Print the result as JSON");
  eval->add_flag("--quiet,-q", er.quiet, "No progress output");
  eval->add_option("--device", eval_device, device_help)->capture_default_str();
  eval->add_option("--dtype", eval_dtype, dtype_help)->capture_default_str()->check(dtypes);

  // ---- solve ----
  auto* solve = app.add_subcommand("solve", "Solve puzzles (arguments, --file or stdin) with a checkpoint; text, JSON or SVG");
  std::string solve_ckpt;
  solve_request sr;
  solve->add_option("checkpoint", solve_ckpt, "Checkpoint (.safetensors, or a PyTorch step_N/checkpoint of the official code) or run directory")->required();
  // allow_extra_args(false): CLI11 would otherwise split a bracketed argument such as an ARC grid [[1,2],[3,4]] at commas
  // and a positional without extra args takes one value: the second and later puzzles are collected as extras (below)
  solve->add_option("puzzles", sr.puzzles, "Puzzles, any number (Sudoku: digits and '.', e.g. 1.3...; '-' reads stdin)")
      ->allow_extra_args(false);
  solve->allow_extras();
  solve->add_option("--file,-f", sr.puzzle_file, "Read puzzles from a file (one per line, drawn grids, or CSV rows)");
  solve->add_option("--format", sr.format, "text, json or svg")->capture_default_str()->check(CLI::IsMember({"text", "json", "svg"}));
  solve->add_option("--output,-o", sr.output, "Write to this file instead of stdout");
  solve->add_flag("--trajectory", sr.trajectory, "Show every ACT step's prediction and confidence");
  solve->add_option("--steps", sr.steps, "ACT steps (0: the model's halt_max_steps; more than trained continues the recursion)")
      ->capture_default_str()
      ->check(whole_number(0, max_act_steps_flag));
  solve->add_flag("--adaptive", sr.adaptive, "Stop when the Q head halts (q_halt > 0), at --steps at the latest");
  solve->add_option("--min-steps", sr.min_steps, "With --adaptive: never stop before this step")->capture_default_str()
      ->check(whole_number(1, max_act_steps_flag));
  solve->add_option("--vote", sr.vote, "Vote over N symmetric versions (Sudoku: digit/row/column shuffles; Maze: 8 dihedral)")
      ->capture_default_str()
      ->check(whole_number(0, 1024));
  solve->add_option("--seed", sr.seed, "Seed of the --vote versions")->capture_default_str()->check(whole_number(0, seed_max));
  solve->add_option("--puzzle-id", sr.puzzle_id, "Puzzle-embedding row to use (0: blank, as Sudoku and Maze data)")
      ->capture_default_str()
      ->check(whole_number(0, 2'147'483'647));
  solve->add_option("--device", solve_device, device_help)->capture_default_str();
  solve->add_option("--dtype", solve_dtype, dtype_help)->capture_default_str()->check(dtypes);

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
  auto* info = app.add_subcommand("info", "Architecture, parameter count and provenance of a checkpoint; without one, this build "
                                          "(backends, MPI, NCCL)");
  std::string info_ckpt;
  bool info_json = false;
  info->add_option("checkpoint", info_ckpt, "Checkpoint (.safetensors, or a PyTorch step_N/checkpoint of the official code) or run directory; none: what this gtrm was built with");
  info->add_flag("--json", info_json, "Print as JSON");

  auto* plot = app.add_subcommand("plot", "Training curves of a run as SVG (loss, accuracy, ACT steps, learning rate)");
  std::string plot_run, plot_out;
  plot->add_option("run", plot_run, "Run directory (or its metrics.jsonl)")->required();
  plot->add_option("--out,-o", plot_out, "SVG file to write (default RUNDIR/curves.svg)");

  auto* bench = app.add_subcommand("bench", "Training throughput and batch-1 solve latency of a preset on synthetic data, as JSON");
  std::string bench_preset;
  bench_request br;
  bench->add_option("--preset", bench_preset, "Compiled architecture (gtrm presets lists them)")->required();
  bench->add_option("--batch", br.batch, "Rows per training step")->capture_default_str()->check(whole_number(1, 65536));
  bench->add_option("--steps", br.steps, "Timed training steps (one ACT step each)")->capture_default_str()->check(whole_number(1, 1'000'000));
  bench->add_option("--device", br.device, device_help)->capture_default_str();
  bench->add_option("--dtype", br.dtype, dtype_help)->capture_default_str()->check(dtypes);
  bench->add_option("--threads", threads, "CPU threads (the same as gtrm --threads)")->check(whole_number(0, 1000000));

  auto* presets = app.add_subcommand("presets", "List the architectures compiled into this gtrm");
  bool presets_json = false;
  presets->add_flag("--json", presets_json, "Print as JSON");

  std::string golden_file;
  double tensor_tol = 1e-5, grad_tol = 1e-4;
  auto* verify = app.add_subcommand("verify-reference",
                                    "Run a golden file of the reference implementation through the matching compiled model "
                                    "and print the error of every stored quantity; exit 1 above tolerance");
  verify->add_option("file", golden_file, "golden .safetensors file (see tests/data/golden)")->required();
  verify->add_option("--tensor-tol", tensor_tol, "relative tolerance for logits, q, z, losses (norm)")->capture_default_str()
      ->check(real_number(0, 1e6));
  verify->add_option("--grad-tol", grad_tol, "relative tolerance for parameter gradients (norm)")->capture_default_str()
      ->check(real_number(0, 1e6));
  std::string verify_dtype = "fp32";
  verify->add_option("--dtype", verify_dtype,
                     "fp32 (parity), or bf16: the TRM golden files on cpu_bf16, within bf16 bounds per tensor class")
      ->capture_default_str()->check(dtypes);

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

  // solve's second and later puzzles; anything else left over is an unknown option (no puzzle starts with '-')
  for (const auto& extra : solve->remaining()) {
    if (extra.size() > 1 && extra[0] == '-') {
      std::fprintf(stderr, "gtrm: error: solve: %s is not an option of gtrm solve (see --help)\n", extra.c_str());
      return 2;
    }
    sr.puzzles.push_back(extra);
  }
  // Under mpirun (or srun) `gtrm train` and `gtrm eval` are data-parallel (dist.hpp); the other subcommands run once,
  // without it.
  const int launched = gtrm::comm::launcher_world_size();
#ifdef GTRM_HAS_MPI
  std::unique_ptr<gtrm::comm::mpi_session> mpi;
#endif
  if (launched > 1) {
    if (!*train && !*eval) {
      if (std::getenv("OMPI_COMM_WORLD_RANK") == nullptr || std::string(std::getenv("OMPI_COMM_WORLD_RANK")) == "0")
        std::fprintf(stderr, "gtrm: error: only `gtrm train` and `gtrm eval` run under mpirun; run this subcommand once, "
                             "without it\n");
      return 2;
    }
#ifdef GTRM_HAS_MPI
    mpi = std::make_unique<gtrm::comm::mpi_session>(argc, argv);
    process_comm() = gtrm::comm::mpi{};
#else
    std::fprintf(stderr, "gtrm: error: started by mpirun with %d processes, but this gtrm was built without MPI "
                         "(configure with -DGTRM_ENABLE_MPI=ON)\n", launched);
    return 2;
#endif
  }
  const gtrm::comm::any& world = process_comm();
  // An error on one rank of a multi-rank run: that rank reports it, then ends the others (they would wait in a
  // collective for it). A collective_error is raised by every rank together and reported once, by rank 0.
  const auto ended = [&](int rc) {
    if (world.size() > 1) world.abort(rc);
    return rc;
  };

  try {
    // More threads than usable cores only add waits (and thousands make every parallel region crawl): capped.
    const int cores = gtrm::cpu_threads::usable_cores();
    if (threads > cores)
      std::fprintf(stderr, "gtrm: note: --threads %d is more than the %d cores this process may use; using %d\n", threads,
                   cores, cores);
    else if (threads == 0 && gtrm::cpu::threads() > cores) {
      std::fprintf(stderr, "gtrm: note: OMP_NUM_THREADS asks for %d threads, more than the %d cores this process may use; "
                   "using %d\n", gtrm::cpu::threads(), cores, cores);
      threads = cores;
    }
    if (threads > 0) gtrm::cpu::set_threads(gtrm::cpu_threads::capped_threads(threads));
    // GTRM_BATCH_SPLIT=0: one parallel region per op, as before the batch split (for benchmarks/threads.sh)
    if (const char* split = std::getenv("GTRM_BATCH_SPLIT"); split && std::string(split) == "0")
      gtrm::cpu::set_batch_split(false);
    if (data.parsed()) return data.run("gtrm data");
    if (*train) {
      for (const auto& [k, opt] : hp_opts)
        if (opt->count() > 0) ta.flags[k] = hp_text[k];
      const auto rq = resolve_train(ta);
      const auto& p = find_preset(rq.preset);
      return select_device(p, train_device, train_dtype).train(p, rq);
    }
    if (*eval) {
      const auto ck = open_any_checkpoint(eval_ckpt);
      er.file = &ck.file;
      er.data = eval_data;
      if (!pass_ks.empty()) {
        er.pass_ks.clear();
        for (const auto& k : split_commas(pass_ks)) {
          int v = 0;
          const auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), v);
          if (k.empty() || ec != std::errc() || end != k.data() + k.size() || v < 1)
            throw cli_error("--pass-k: expected a comma list of whole numbers from 1, got '" + k + "'");
          er.pass_ks.push_back(v);
        }
      }
      return select_device(*ck.preset, eval_device, eval_dtype).eval(*ck.preset, er);
    }
    if (*solve) {
      const auto ck = open_any_checkpoint(solve_ckpt);
      sr.file = &ck.file;
      return select_device(*ck.preset, solve_device, solve_dtype).solve(*ck.preset, sr);
    }
    if (*bench) {
      const auto& p = find_preset(bench_preset);
      return select_device(p, br.device, br.dtype).bench(p, br);
    }
    if (*info) {
      if (info_ckpt.empty()) return run_build_info(info_json);
      if (!is_torch_checkpoint(info_ckpt)) return run_info(info_ckpt, info_json);
      temp_checkpoint tmp;  // a PyTorch file: what gtrm import would make of it
      import_torch_checkpoint(info_ckpt, tmp.path, "", "");
      return run_info(tmp.path.string(), info_json, info_ckpt + " (PyTorch checkpoint, imported in memory)");
    }
    if (*import_cmd) return run_import(ir);
    if (*export_cmd) return run_export(xr);
    if (*plot) return run_plot(plot_run, plot_out);
    if (*presets) return list_presets(presets_json);
    if (*verify) return gtrm::tools::run_verify_reference(golden_file, tensor_tol, grad_tol, verify_dtype);
  } catch (const collective_error& e) {  // every rank raised it together: one message, from rank 0
    if (world.rank() == 0) return report_error(e.what());
    return 1;
  } catch (const cli_error& e) {  // gtrm's own errors: each what() is already "<file or flag>: <what was expected>"
    return ended(report_error(e.what()));
  } catch (const gtrm::io::error& e) {
    return ended(report_error(e.what()));
  } catch (const gtrm::data::data_error& e) {
    return ended(report_error(e.what()));
  } catch (const gtrm::tasks::input_error& e) {
    return ended(report_error(e.what()));
  } catch (const gtrm::atomic_file_error& e) {
    return ended(report_error(e.what()));
  } catch (const std::bad_alloc&) {  // sizes are checked against the files before allocating; this is what is left
    return ended(report_error(std::string(command_name(app)) +
                        ": out of memory: the input or the flags ask for more memory than this machine has "
                        "(a smaller --batch or --eval-batch may fit)"));
  } catch (const std::length_error&) {
    return ended(report_error(std::string(command_name(app)) +
                        ": out of memory: the input or the flags ask for more memory than this machine has "
                        "(a smaller --batch or --eval-batch may fit)"));
  } catch (const std::exception& e) {  // a library's text (stod, json type_error, ...) would not help: an internal error
    return ended(report_error(std::string(command_name(app)) +
                        ": internal error (an unexpected exception; set GTRM_DEBUG=1 to see it); please report the "
                        "command line",
                        e.what()));
  }
  return 0;
}
