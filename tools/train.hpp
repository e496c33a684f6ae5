// `gtrm train`: train a compiled preset on a dataset directory, into a run directory.
//
//   RUNDIR/config.json                 the resolved configuration (preset, data, every hyper-parameter, the model)
//   RUNDIR/metrics.jsonl               one JSON object per progress report ("split": "train") and evaluation ("eval")
//   RUNDIR/model.safetensors           the latest checkpoint: EMA weights, reference state_dict names, provenance
//   RUNDIR/checkpoints/step_N.safetensors   the checkpoint of every evaluation
//   RUNDIR/train_state.safetensors     everything a step reads (weights, optimizer moments, EMA, carry, RNG)
//   RUNDIR/train_state.json            the progress window and elapsed time at that step
// Hyper-parameters: built-in defaults (the reference's), then the preset's recommendations, then --config FILE
// (JSON; a run's config.json works), then flags. --resume RUNDIR takes everything from RUNDIR/config.json and
// continues at the saved step as if the run had never stopped (the loader replays its sampling up to that step).
// Ctrl-C (SIGINT/SIGTERM) is noticed between steps: the state and a checkpoint are saved, exit status 130.
// Under mpirun (dist.hpp) every rank trains its slice of each batch; rank 0 alone writes the run directory.
#pragma once
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtrm/data/dataset.hpp>
#include <gtrm/data/loader.hpp>
#include <gtrm/io/safetensors.hpp>
#include <gtrm/io/state_dict.hpp>
#include <gtrm/train/fit.hpp>
#include <gtrm/train/trainer.hpp>

#include "common.hpp"
#include "dist.hpp"
#include "registry.hpp"
#include "train_hparams.hpp"

namespace gtrm::cli {

// ---- the run directory's small files ----

inline ojson window_json(const train::fit_window& w) {
  const auto& m = w.metrics;
  return {{"batches", w.batches}, {"loss", w.loss}, {"count", m.count}, {"accuracy", m.accuracy},
          {"exact_accuracy", m.exact_accuracy}, {"q_halt_accuracy", m.q_halt_accuracy}, {"steps", m.steps},
          {"lm_loss", m.lm_loss}, {"q_halt_loss", m.q_halt_loss}, {"q_continue_loss", m.q_continue_loss}};
}

// Throws cli_error for a missing field or one of another type (a float where a count belongs would overflow its cast).
inline train::fit_window window_from_json(const ojson& j) {
  const auto field = [&](const char* k, bool integer) -> const ojson& {
    if (!j.is_object() || !j.contains(k) || !(integer ? j[k].is_number_integer() : j[k].is_number()))
      throw cli_error(std::string("the progress window's \"") + k + "\" must be " + (integer ? "an integer" : "a number"));
    return j[k];
  };
  const auto count = [&](const char* k) { return field(k, true).get<std::int64_t>(); };
  const auto number = [&](const char* k) { return field(k, false).get<double>(); };
  train::fit_window w;
  w.batches = count("batches");
  w.loss = number("loss");
  auto& m = w.metrics;
  m.count = count("count");
  m.accuracy = number("accuracy");
  m.exact_accuracy = count("exact_accuracy");
  m.q_halt_accuracy = count("q_halt_accuracy");
  m.steps = count("steps");
  m.lm_loss = number("lm_loss");
  m.q_halt_loss = number("q_halt_loss");
  m.q_continue_loss = number("q_continue_loss");
  return w;
}

// RUNDIR/train_state.json of a run resumed at `step` (the step train_state.safetensors holds): the progress window
// and the seconds trained before. Every defect is a cli_error naming the file.
struct train_progress {
  train::fit_window window;
  double elapsed_s = 0;
};
inline train_progress read_train_progress(const fs::path& dir, std::int64_t step) {
  const auto file = dir / "train_state.json";
  const ojson st = read_json_file(file, "training progress file");
  const auto stored_step = st.is_object() && st.contains("step") && st["step"].is_number_integer()
                               ? st["step"].get<std::int64_t>() : std::int64_t{-1};
  if (stored_step != step)
    throw cli_error(dir.string() + ": train_state.json (step " + std::to_string(stored_step) +
                    ") and train_state.safetensors (step " + std::to_string(step) + ") disagree");
  train_progress p;
  const std::string damaged = "training progress file " + file.string() + " is damaged: ";
  try {
    p.window = window_from_json(st.contains("window") ? st["window"] : ojson());
  } catch (const cli_error& e) {
    throw cli_error(damaged + e.what());
  }
  if (st.contains("elapsed_s") && !st["elapsed_s"].is_number()) throw cli_error(damaged + "\"elapsed_s\" must be a number");
  p.elapsed_s = st.value("elapsed_s", 0.0);
  return p;
}

// Keeps the metrics lines of steps <= step (a resumed run rewrites what came after its state).
inline void truncate_metrics(const fs::path& file, std::int64_t step) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return;
  std::istringstream in(read_text_file(file, "metrics file"));
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      const auto j = json::parse(line);
      if (!j.is_object()) continue;  // not a metrics line
      // an integer step only: value<int64_t>() of a float such as 1e300 would overflow its cast
      if (j.contains("step") && j["step"].is_number_integer() && j["step"].get<std::int64_t>() > step) continue;
    } catch (const std::exception&) {
      continue;  // a torn last line
    }
    kept += line + "\n";
  }
  write_file_atomic(file, kept);
}

// ---- the run ----

template <class Model>
int run_train(const preset_entry& p, const train_request& rq) {
  using clock = std::chrono::steady_clock;
  const ojson& h = rq.hparams;
  const fs::path dir = rq.out;
  const comm::any& world = process_comm();
  const bool root = world.rank() == 0;
  status_line status(rq.quiet || !root);
  const std::string settings = rq.resolved().dump();
  ranks_agree(world, fnv1a(settings.data(), settings.size()), "the preset, data or hyper-parameters");

  // data
  const auto train_split = load_split_for(rq.data, "train", p);
  std::optional<data::loaded_split> test_split;
  std::error_code ec;
  if (fs::exists(rq.data / "test" / "dataset.json", ec)) test_split = load_split_for(rq.data, "test", p);
  const auto& meta = train_split.metadata;
  const auto batch = h["batch"].get<index_t>();
  std::int64_t total = h["steps"].get<std::int64_t>();
  if (total == 0)
    total = static_cast<std::int64_t>(static_cast<double>(h["epochs"].get<std::int64_t>()) * meta.total_groups *
                                      meta.mean_puzzle_examples / static_cast<double>(batch));
  if (total < 1) throw cli_error("the run would have no steps (epochs x groups x mean examples < batch)");
  if (static_cast<std::size_t>(batch) > train_split.data.num_examples())
    throw cli_error("batch " + std::to_string(batch) + " exceeds the " + std::to_string(train_split.data.num_examples()) +
                    " training examples of " + rq.data.string());
  if (world.size() > 1) {
    ranks_agree(world, split_fingerprint(train_split.data), "the training data");
    if (batch % world.size() != 0)
      throw collective_error("batch " + std::to_string(batch) + " is not a multiple of the " + std::to_string(world.size()) +
                             " ranks (mpirun -np)");
  }

  // run directory (rank 0's checks and files; the other ranks wait for its word)
  root_decides(world, [&] {
    if (rq.resume) {
      if (!fs::exists(dir / "train_state.safetensors", ec))
        throw cli_error(dir.string() + " has no train_state.safetensors to resume from");
    } else {
      if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) throw cli_error(dir.string() + " exists and is not a directory");
      if (fs::exists(dir / "config.json", ec) && !rq.overwrite)
        throw cli_error(dir.string() + " already holds a run: continue it with --resume " + dir.string() +
                        " or replace it with --overwrite");
      if (fs::exists(dir, ec) && !fs::is_empty(dir, ec) && !fs::exists(dir / "config.json", ec))
        throw cli_error(dir.string() + " exists and is not a run directory; choose another --out");
      fs::create_directories(dir / "checkpoints", ec);
      if (ec) throw cli_error("cannot create " + (dir / "checkpoints").string() + " (" + ec.message() + ")");
      for (const char* f : {"metrics.jsonl", "train_state.safetensors", "train_state.json", "model.safetensors"}) fs::remove(dir / f, ec);
      for (const auto& e : fs::directory_iterator(dir / "checkpoints", ec)) fs::remove(e.path(), ec);
      ojson cfg = rq.resolved();
      cfg["data"] = fs::absolute(rq.data).lexically_normal().string();
      cfg["model"] = ojson::parse(p.config_json);
      cfg["gtrm_version"] = GTRM_VERSION;
      cfg["created"] = now_utc_iso8601();
      write_file_atomic(dir / "config.json", cfg.dump(2) + "\n");
    }
  });
  const std::string run_config = read_text_file(dir / "config.json", "run configuration");

  // model, trainer, loader
  const auto rows = static_cast<index_t>(meta.num_puzzle_identifiers);
  Model model(rows);
  model.init(h["seed"].get<std::uint64_t>());
  train::trainer<Model, comm::any> tr(model, to_train_config(h, total), world);
  // a pass of the loader must fill at least one batch: small datasets (a few ARC tasks) take several epochs per pass
  const auto groups = static_cast<index_t>(std::max<std::size_t>(1, train_split.data.num_groups()));
  const int epochs_per_pass = static_cast<int>(std::max<index_t>(1, (batch + groups - 1) / groups));
  data::train_loader loader(train_split.data, meta,
                            {.seed = h["seed"].get<std::uint64_t>(), .global_batch_size = batch, .epochs_per_iter = epochs_per_pass,
                             .rank = world.rank(), .num_replicas = world.size()});
  train::fit_window window;
  double elapsed_before = 0;
  if (rq.resume) {
    tr.load_state(dir / "train_state.safetensors");
    const auto progress = read_train_progress(dir, tr.step());
    window = progress.window;
    elapsed_before = progress.elapsed_s;
    if (root) truncate_metrics(dir / "metrics.jsonl", tr.step());
    train::skip_batches(loader, tr.step());
    if (tr.step() >= total) {
      status.message("run " + dir.string() + " already finished at step " + std::to_string(tr.step()));
      return 0;
    }
    status.message("resuming " + dir.string() + " at step " + std::to_string(tr.step()) + " of " + std::to_string(total));
  }

  Model eval_model(rows);
  const index_t eval_batch = h["eval_batch"].get<index_t>() > 0 ? h["eval_batch"].get<index_t>() : batch;
  if (eval_batch % world.size() != 0)
    throw collective_error("eval_batch " + std::to_string(eval_batch) + " is not a multiple of the " +
                           std::to_string(world.size()) + " ranks (mpirun -np)");
  const auto start = clock::now();
  const auto elapsed = [&] { return elapsed_before + std::chrono::duration<double>(clock::now() - start).count(); };
  const fs::path metrics = dir / "metrics.jsonl";
  std::optional<train::eval_result> last_eval;
  std::optional<std::int64_t> saved_step;  // the step of the checkpoint in RUNDIR (all of whose weights are finite)
  if (rq.resume) saved_step = tr.step();

  // A diverged run stops here, before anything is saved, so RUNDIR keeps its last finite checkpoint and state.
  const auto diverged = [&](std::int64_t step, const std::string& what) {
    return cli_error("step " + std::to_string(step) + ": " + what +
                     ": training diverged (try a lower --lr, or check --beta1/--beta2); stopped without saving, so " +
                     (saved_step ? dir.string() + " keeps its last finite checkpoint and state (step " +
                                       std::to_string(*saved_step) + ")"
                                 : std::string("no checkpoint was saved (none had been)")));
  };
  // The weights a checkpoint and the state would hold: the trained ones and the evaluated (EMA) copy.
  const auto check_finite = [&](std::int64_t step) {
    tr.copy_eval_weights(eval_model);
    for (const Model* m : {&model, &eval_model}) {
      host_stage w(m->backend(), m->params());
      w.download();
      const auto n = static_cast<std::size_t>(std::size(m->params()));
      if (const auto i = io::detail::first_non_finite(w.data(), n); i < n)
        throw diverged(step, std::string(m == &model ? "a weight" : "an EMA weight") + " is " +
                                 io::detail::non_finite_text(w.data()[i]) + " (element " + std::to_string(i) + ")");
    }
  };

  const auto save_checkpoint = [&](bool step_file) {
    tr.copy_eval_weights(eval_model);
    if (!root) return;
    io::safetensors_writer w;
    io::add_state_dict(eval_model, w);
    w.metadata(meta_preset, p.name);
    w.metadata(meta_task, p.task().name());
    w.metadata(meta_version, GTRM_VERSION);
    w.metadata("gtrm.created", now_utc_iso8601());
    w.metadata("train.step", std::to_string(tr.step()));
    w.metadata("train.total_steps", std::to_string(total));
    w.metadata("train.run_config", run_config);
    w.metadata("data.path", fs::absolute(rq.data).lexically_normal().string());
    w.metadata("data.train_examples", std::to_string(train_split.data.num_examples()));
    w.metadata("data.num_puzzle_identifiers", std::to_string(meta.num_puzzle_identifiers));
    if (last_eval) {
      w.metadata("eval.step", std::to_string(tr.step()));
      w.metadata("eval.exact_accuracy", std::to_string(last_eval->exact_accuracy()));
      w.metadata("eval.accuracy", std::to_string(last_eval->accuracy()));
      w.metadata("eval.examples", std::to_string(last_eval->examples));
    }
    char name[48];
    std::snprintf(name, sizeof name, "step_%lld.safetensors", static_cast<long long>(tr.step()));
    if (step_file && h["keep_checkpoints"].get<bool>()) w.save(dir / "checkpoints" / name);
    w.save(dir / "model.safetensors");
    saved_step = tr.step();
  };
  const auto save_state = [&] {
    tr.save_state(dir / "train_state.safetensors");   // collective: rank 0 writes
    if (root)
      write_file_atomic(dir / "train_state.json",
                        ojson{{"step", tr.step()}, {"window", window_json(window)}, {"elapsed_s", elapsed()}}.dump() + "\n");
  };

  // Saves the checkpoint and the state BEFORE evaluating, so that an evaluation that fails (out of memory, killed)
  // never costs the training; the checkpoint is written again afterwards with the evaluation's figures.
  const auto on_eval = [&](std::int64_t step) {
    check_finite(step);
    last_eval.reset();
    save_checkpoint(!test_split);
    save_state();
    if (test_split) {
      status.update("step " + std::to_string(step) + ": evaluating on " + rq.data.string() + "/test ...");
      const auto t0 = clock::now();
      tr.copy_eval_weights(eval_model);
      const auto failed = [&](const std::string& why) {
        return cli_error("step " + std::to_string(step) + ": the evaluation on " + rq.data.string() + "/test failed (" + why +
                         "); the weights were saved before it: " + (dir / "model.safetensors").string() +
                         " and a resumable state (gtrm train --resume " + dir.string() + ")");
      };
      try {
        last_eval = train::evaluate_split(eval_model, test_split->data, test_split->metadata, eval_batch,
                                          h["eval_examples"].get<std::int64_t>(), train::no_final_hook{}, world);
      } catch (const std::bad_alloc&) {
        throw failed("out of memory: lower --eval-batch");
      } catch (const std::length_error&) {
        throw failed("out of memory: lower --eval-batch");
      } catch (const cli_error& e) {
        throw failed(e.what());
      } catch (const data::data_error& e) {
        throw failed(e.what());
      } catch (const io::error& e) {
        throw failed(e.what());
      }
      const double secs = std::chrono::duration<double>(clock::now() - t0).count();
      if (root) append_line(metrics, ojson{{"step", step}, {"split", "eval"}, {"exact_accuracy", last_eval->exact_accuracy()},
                                 {"accuracy", last_eval->accuracy()}, {"act_steps", last_eval->mean_steps()},
                                 {"examples", last_eval->examples}, {"seconds", secs}, {"elapsed_s", elapsed()}}
                               .dump());
      status.message("step " + std::to_string(step) + ": held-out exact accuracy " + percent_text(last_eval->exact_accuracy()) +
                     ", token accuracy " + percent_text(last_eval->accuracy()) + " on " + std::to_string(last_eval->examples) +
                     " puzzles (" + format_duration(secs) + ")");
      save_checkpoint(true);  // again, now with the evaluation's figures in its metadata
    }
  };

  auto last_draw = clock::now() - std::chrono::seconds(1);
  const auto first_step = tr.step();
  const auto progress_text = [&](std::int64_t step, double loss, double exact, double sps) {
    char b[200];
    std::snprintf(b, sizeof b, "step %lld/%lld | loss %.4f | exact %s | %.1f steps/s | ETA %s", static_cast<long long>(step),
                  static_cast<long long>(total), loss, percent_text(exact).c_str(), sps,
                  format_duration(sps > 0 ? static_cast<double>(total - step) / sps : -1).c_str());
    return std::string(b);
  };
  train::fit_callbacks cb;
  cb.stop_requested = [&] { return any_rank(world, stop_requested()); };
  cb.on_eval = on_eval;
  cb.on_log = [&](const train::fit_progress& pr) {
    if (root) append_line(metrics, ojson{{"step", pr.step}, {"split", "train"}, {"loss", pr.loss}, {"accuracy", pr.accuracy},
                               {"exact_accuracy", pr.exact_accuracy}, {"q_halt_accuracy", pr.q_halt_accuracy},
                               {"act_steps", pr.mean_steps}, {"halted", pr.halted}, {"lr", pr.lr},
                               {"steps_per_s", pr.steps_per_second}, {"elapsed_s", elapsed()}}
                             .dump());
    if (!status.tty()) status.update(progress_text(pr.step, pr.loss, pr.exact_accuracy, pr.steps_per_second));
  };
  cb.on_step = [&](std::int64_t step, const train::train_step_result& r) {
    if (!finite_bits(r.loss)) throw diverged(step, "the loss is " + std::string(r.loss != r.loss ? "NaN" : "infinite"));
    if (status.tty()) {
      const auto now = clock::now();
      if (now - last_draw < std::chrono::milliseconds(250)) return;
      last_draw = now;
      const auto pr = train::make_progress(window, step, total, 0, 1);
      const double secs = std::chrono::duration<double>(now - start).count();
      status.update(progress_text(step, pr.loss, pr.exact_accuracy, secs > 0 ? static_cast<double>(step - first_step) / secs : 0));
    }
  };

  install_stop_handler();
  const auto result = train::fit(tr, loader,
                                 {.total_steps = total, .log_every = h["log_every"].get<std::int64_t>(),
                                  .eval_every = h["eval_every"].get<std::int64_t>(), .max_steps = rq.stop_after},
                                 cb, window);
  status.finish();
  if (result != train::fit_status::finished) {
    const bool interrupted = result == train::fit_status::interrupted;
    // a second Ctrl-C while saving kills the process; the files are then the old ones (atomic writes)
    check_finite(tr.step());
    save_checkpoint(false);
    save_state();
    status.message(std::string(interrupted ? "interrupted" : "paused") + " at step " + std::to_string(tr.step()) + " of " +
                   std::to_string(total) + "; saved " + (dir / "train_state.safetensors").string() +
                   "; continue with: gtrm train --resume " + dir.string());
    return interrupted ? 130 : 0;
  }
  std::string summary = "trained " + p.name + " for " + std::to_string(total) + " steps in " + format_duration(elapsed());
  if (last_eval)
    summary += "; held-out exact accuracy " + percent_text(last_eval->exact_accuracy()) + " (" +
               std::to_string(last_eval->examples) + " puzzles)";
  status.message(summary + "; checkpoint " + (dir / "model.safetensors").string());
  return 0;
}

}  // namespace gtrm::cli
