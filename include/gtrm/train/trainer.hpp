// Deep-supervision training exactly as pretrain.py does it (docs/reference.md §3.1): one ACT step and one
// optimizer step per data-loader batch, with a carry that persists across batches.
//
//   step += 1
//   carry, loss = act_step(carry, batch)                  rows restart only when they halted
//   backward of loss / global_batch_size
//   sign-SGD on the puzzle-table rows of the batch        (lr_e = schedule(puzzle_emb_lr, step))
//   Adam-atan2 (or AdamW) on every trainable parameter   (lr = schedule(lr, step))
//   EMA of the parameters                                 (evaluation and checkpoints use the shadow)
//
// The trainer owns everything a step touches (workspace, carry, optimizer state, EMA, RNG), allocates it once,
// and saves/restores all of it, so a resumed run continues bit for bit.
//
// Data parallel (train/comm.hpp): trainer<Model, Comm> with N ranks trains rows [r·B/N, (r+1)·B/N) of each global
// batch of B rows on rank r; the step adds one all-reduce of the flat gradient (each rank's loss already carries
// 1/B), an all-gather of the puzzle-table rows' gradients and ids (so every rank makes the same sign-SGD update, in
// the single process's order), and a sum of the step's metrics. Exploration draws are made for all B rows on every
// rank, each keeping its own, so N ranks equal one process up to the gradient sum's order. The saved state holds the
// whole batch's carry (gathered), so a run resumes with any N dividing B. With comm::none nothing of this runs.
#pragma once
#include <charconv>
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../io/safetensors.hpp"
#include "../io/state_dict.hpp"
#include "../model/act.hpp"
#include "../model/frozen_weights.hpp"
#include "../ops/elementwise.hpp"
#include "adam_atan2.hpp"
#include "adamw.hpp"
#include "comm.hpp"
#include "ema.hpp"
#include "schedule.hpp"
#include "sign_sgd.hpp"

namespace gtrm::train {

enum class optimizer_kind { adam_atan2, adamw };

struct train_config {
  index_t global_batch_size = 768;      // rows per batch over all ranks (a multiple of their number)
  std::int64_t total_steps = 0;         // for the cosine part of the schedule
  double lr = 1e-4, lr_min_ratio = 1.0;
  std::int64_t lr_warmup_steps = 2000;
  double beta1 = 0.9, beta2 = 0.95, weight_decay = 0.1;
  optimizer_kind optimizer = optimizer_kind::adam_atan2;
  double puzzle_emb_lr = 1e-2, puzzle_emb_weight_decay = 0.1;
  double halt_exploration_prob = 0.1;
  bool ema = true;
  double ema_rate = 0.999;
  bool freeze_weights = false;          // train only the puzzle embeddings
  lm_loss_kind loss = lm_loss_kind::stablemax;
  std::uint64_t seed = 0;
};

struct train_step_result {
  double loss = 0;                      // unscaled total of the step (sum over rows)
  act_metrics metrics;
  double lr = 0, puzzle_emb_lr = 0;
};

template <class Model, comm::communicator Comm = comm::none>
class trainer {
 public:
  using T = typename Model::scalar;
  using comm_type = Comm;

  // Collective with several ranks: every rank constructs its trainer (rank 0's weights are broadcast).
  trainer(Model& m, const train_config& cfg, Comm c = Comm{})
      : m_(m), cfg_(cfg), comm_(std::move(c)), local_(local_rows(cfg.global_batch_size, comm_.size())), ws_(local_),
        carry_(m.backend(), local_), sc_(local_),
        adam_({cfg.lr, cfg.beta1, cfg.beta2, cfg.weight_decay, true}, m.params().size()),
        adamw_({cfg.lr, cfg.beta1, cfg.beta2, 1e-8, cfg.weight_decay}, cfg.optimizer == optimizer_kind::adamw ? m.params().size() : 0),
        sgd_({cfg.puzzle_emb_lr, cfg.puzzle_emb_weight_decay}, Model::E > 0 ? Model::E : 1, cfg.global_batch_size),
        ema_(cfg.ema_rate), rng_(cfg.seed),
        ids_host_(device_memory_backend<Be> ? static_cast<std::size_t>(cfg.global_batch_size) : 0) {
    if constexpr (Model::halt_type::continue_target) extra_ = std::make_unique<typename Model::workspace>(local_, false);
    if (comm_.size() > 1) {
      if constexpr (!Comm::device_memory) {  // host values (a device communicator's caller checks over MPI)
        comm::check_same(comm_, cfg.global_batch_size, "the global batch size");
        comm::check_same(comm_, static_cast<std::int64_t>(m.params().size()), "the model (parameter count)");
        comm::check_same(comm_, static_cast<std::int64_t>(m.puzzle_table().size()), "the puzzle table's size");
      }
      if constexpr (stage_grads) stage_t_.resize(std::max<std::size_t>(m.params().size(), static_cast<std::size_t>((cfg.global_batch_size + local_) * Model::E)));
      if constexpr (Model::E > 0) {
        ids_all_.resize(cfg.global_batch_size);
        demb_all_.resize(cfg.global_batch_size * Model::E);
        if constexpr (stage_grads) stage_i_.resize(static_cast<std::size_t>(cfg.global_batch_size + local_));
      }
      if constexpr (Comm::device_memory) metrics_dev_.resize(1 + act_metrics::packed_size);
      // every rank starts from rank 0's weights and buffers
      for (auto* b : {&m.params(), &m.h_init(), &m.l_init(), &m.puzzle_table()}) {
        const std::span<T> s(b->data(), b->size());
        in_comm_memory(s, [&](std::span<T> x) { comm::broadcast(comm_, x, 0); });
      }
    }
    if (cfg.ema) ema_.register_params(m.backend(), m.params().span());
  }

  // One batch: one ACT step, one optimizer step.
  train_step_result train_batch(const batch_ref& batch) {
    ++step_;
    m_.zero_grads();
    ops::fill<Be, T, Model::E_cols>(m_.backend(), ws_.dlocal, T(0));
    act_options opt{.training = true, .exploration_prob = cfg_.halt_exploration_prob, .loss = cfg_.loss,
                    .loss_scale = 1.0 / static_cast<double>(cfg_.global_batch_size), .backward = true,
                    .row_offset = comm_.rank() * local_, .global_rows = cfg_.global_batch_size};
    act_step_result r;
    {
      // The weights hold still until the optimizer step below: a backend that converts them for its products
      // (cpu_bf16) converts each once per step instead of once per call.
      [[maybe_unused]] const auto frozen = freeze_weights(m_, frozen_use::step);
      r = act_step(m_, ws_, carry_, batch, sc_, opt, rng_, extra_.get());
    }
    train_step_result out{r.loss, r.metrics, lr_at(cfg_.lr), lr_at(cfg_.puzzle_emb_lr)};
    if (comm_.size() > 1) {
      reduce_step_metrics(out);
      const std::span<T> g(m_.grads().data(), m_.grads().size());
      if (!cfg_.freeze_weights) in_comm_memory(g, [&](std::span<T> x) { comm::all_reduce_sum(comm_, x); });
      if constexpr (Model::E > 0) gathered_sign_sgd(out.puzzle_emb_lr);
    } else if constexpr (Model::E > 0) {
      // sign-SGD checks the ids on the host: a device carry's ids come down first (O(batch), into memory sized once)
      std::span<const std::int32_t> ids = carry_.puzzle_ids.span();
      if constexpr (device_memory_backend<Be>) {
        to_host(m_.backend(), ids_host_, carry_.puzzle_ids);
        ids = ids_host_;
      }
      sgd_.step(m_.backend(), m_.puzzle_table().span(), std::span<const T>(ws_.dlocal.data(), static_cast<std::size_t>(carry_.batch * Model::E)),
                ids, out.puzzle_emb_lr);
    }
    if (!cfg_.freeze_weights) {
      if (cfg_.optimizer == optimizer_kind::adam_atan2) adam_.step(m_.backend(), m_.params().span(), m_.grads().span(), out.lr);
      else adamw_.step(m_.backend(), m_.params().span(), m_.grads().span(), out.lr);
    }
    if (cfg_.ema) ema_.update(m_.backend(), m_.params().span());
    return out;
  }

  double lr_at(double base) const {
    return cosine_schedule_with_warmup(step_, base, cfg_.lr_warmup_steps, cfg_.total_steps, cfg_.lr_min_ratio);
  }

  Model& model() { return m_; }
  const train_config& config() const { return cfg_; }
  const Comm& communicator() const { return comm_; }
  index_t local_batch_size() const { return local_; }   // this rank's rows of each batch
  std::int64_t step() const { return step_; }
  const act_carry<Model>& carry() const { return carry_; }
  typename Model::workspace& workspace() { return ws_; }
  // The active optimizer's moments and step count (backend storage).
  const optimizer_state<T, typename Model::backend_type>& optimizer_moments() const {
    return cfg_.optimizer == optimizer_kind::adam_atan2 ? adam_.state() : adamw_.state();
  }

  // The weights evaluation and checkpoints use: the EMA shadow (raw weights without EMA), with the current
  // buffers (puzzle table, H_init, L_init), as pretrain.py's EMA copy.
  void copy_eval_weights(Model& out) const {
    const auto& be = m_.backend();
    const auto src = cfg_.ema ? ema_.shadow() : std::span<const T>(m_.params().span());
    copy(be, out.params(), src);
    copy(be, out.h_init(), m_.h_init());
    copy(be, out.l_init(), m_.l_init());
    if (out.puzzle_table().size() != m_.puzzle_table().size()) throw std::invalid_argument("copy_eval_weights: puzzle tables differ in size");
    copy(be, out.puzzle_table(), m_.puzzle_table());
    synchronize(be);  // `out` may run on another stream of the backend (its own tag): the copies land first
  }

  // ---- training state: everything a step reads, so that a resumed run equals an uninterrupted one ----
  // Collective with several ranks: the carry is gathered to the whole batch and rank 0 alone writes the file.
  void save_state(const std::filesystem::path& file) const {
    const auto z_h = gathered<T>(carry_.z_h), z_l = gathered<T>(carry_.z_l);
    const auto steps = gathered<std::int32_t>(carry_.steps), inputs = gathered<std::int32_t>(carry_.inputs),
               labels = gathered<std::int32_t>(carry_.labels), ids = gathered<std::int32_t>(carry_.puzzle_ids);
    const auto halted = gathered<std::uint8_t>(carry_.halted);
    if (comm_.rank() != 0) return;
    io::safetensors_writer w;
    io::add_state_dict(m_, w);
    const auto n = static_cast<std::int64_t>(m_.params().size());
    if (cfg_.optimizer == optimizer_kind::adam_atan2) adam_.save(m_.backend(), w, "train/optimizer.");
    else adamw_.save(m_.backend(), w, "train/optimizer.");
    const auto& be = m_.backend();   // backend memory goes through host copies (host_stage)
    if (cfg_.ema) {
      const auto shadow = ema_.shadow();
      w.add("train/ema.shadow", {n}, host_stage(be, shadow).download().data());
    }
    const std::int64_t rows = cfg_.global_batch_size;
    w.add("train/carry.z_H", {rows * Model::L, Model::D}, z_h.data());
    w.add("train/carry.z_L", {rows * Model::L, Model::D}, z_l.data());
    w.add("train/carry.steps", {rows}, steps.data());
    w.add("train/carry.halted", {rows}, halted.data());
    w.add("train/carry.inputs", {rows, Model::S}, inputs.data());
    w.add("train/carry.labels", {rows, Model::S}, labels.data());
    w.add("train/carry.puzzle_identifiers", {rows}, ids.data());
    std::ostringstream rng;
    rng << rng_;
    w.metadata("train.step", std::to_string(step_));
    w.metadata("train.optimizer_step", std::to_string(optimizer_step()));
    w.metadata("train.rng", rng.str());
    w.metadata("train.global_batch_size", std::to_string(cfg_.global_batch_size));
    w.metadata("gtrm_format", "trm-train-state-1");
    w.save(file);
  }

  // Refuses, naming the file and the tensor or key, a state of another run (format, batch size), non-finite weights
  // or EMA, unreadable step counters, and a carry whose ids lie outside the vocabulary or the puzzle table: what a
  // step would otherwise trip over deep inside the model is reported here, at load.
  // Every rank reads the file and takes its rows of the saved carry (any number of ranks dividing the batch).
  void load_state(const std::filesystem::path& file) {
    io::safetensors_reader f(file);
    const std::string where = "training state " + file.string();
    if (f.meta("gtrm_format").value_or("") != "trm-train-state-1")
      throw io::error(where + " is not a gtrm training state (metadata gtrm_format != trm-train-state-1)");
    const auto meta_int = [&](const char* key) {
      const std::string text = f.meta(key).value_or("");
      std::int64_t v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 0)
        throw io::error(where + ": metadata " + key + " is '" + text + "', expected a whole number >= 0");
      return v;
    };
    const auto gbs = meta_int("train.global_batch_size");
    if (gbs != cfg_.global_batch_size)
      throw io::error(where + " was saved with global batch size " + std::to_string(gbs) + ", this run uses " +
                      std::to_string(cfg_.global_batch_size));
    io::load_state_dict(m_, f);
    const std::int64_t n = static_cast<std::int64_t>(m_.params().size()), rows = cfg_.global_batch_size;
    if (cfg_.optimizer == optimizer_kind::adam_atan2) adam_.load(m_.backend(), f, "train/optimizer.");
    else adamw_.load(m_.backend(), f, "train/optimizer.");
    const auto& be = m_.backend();   // read on the host, checked, then uploaded (host_stage)
    const auto read = [&]<class U>(const char* name, std::vector<std::int64_t> shape, auto& dst, auto check) {
      host_stage h(be, dst);
      f.read_into<U>(name, shape, h.data());
      check(name, h.data(), static_cast<std::size_t>(std::size(dst)));
      h.upload();
    };
    const auto finite = [&](const char* name, const T* p, std::size_t count) {
      if (const auto i = io::detail::first_non_finite(p, count); i < count)
        throw io::error(where + ": tensor " + name + " holds a non-finite value (" + io::detail::non_finite_text(p[i]) +
                        " at element " + std::to_string(i) + "); expected finite values");
    };
    const auto ids_in = [&](std::int64_t lo, std::int64_t hi, bool allow_ignore) {
      return [=](const char* name, const std::int32_t* p, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i)
          if ((p[i] < lo || p[i] >= hi) && !(allow_ignore && p[i] == ignore_label))
            throw io::error(where + ": tensor " + name + " holds " + std::to_string(p[i]) + " at element " +
                            std::to_string(i) + ", expected ids in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                            ")" + (allow_ignore ? " or the ignore label " + std::to_string(ignore_label) : "") +
                            " (the state is damaged or belongs to another dataset)");
      };
    };
    const auto any = [](const char*, const auto*, std::size_t) {};
    // the carry: the whole batch's rows in the file, checked, this rank's slice uploaded
    const auto read_rows = [&]<class U>(const char* name, std::vector<std::int64_t> shape, auto& dst, auto check) {
      std::int64_t total = 1;
      for (auto d : shape) total *= d;
      std::vector<U> all(static_cast<std::size_t>(total));
      f.read_into<U>(name, shape, all.data());
      check(name, all.data(), all.size());
      const std::size_t mine = std::size(dst);
      from_host(be, dst, std::span<const U>(all.data() + static_cast<std::size_t>(comm_.rank()) * mine, mine));
    };
    if (cfg_.ema) {
      auto shadow = ema_.shadow();
      read.template operator()<T>("train/ema.shadow", {n}, shadow, finite);
    }
    read_rows.template operator()<T>("train/carry.z_H", {rows * Model::L, Model::D}, carry_.z_h, finite);
    read_rows.template operator()<T>("train/carry.z_L", {rows * Model::L, Model::D}, carry_.z_l, finite);
    read_rows.template operator()<std::int32_t>("train/carry.steps", {rows}, carry_.steps, ids_in(0, 1 << 30, false));
    read_rows.template operator()<std::uint8_t>("train/carry.halted", {rows}, carry_.halted, any);
    read_rows.template operator()<std::int32_t>("train/carry.inputs", {rows, Model::S}, carry_.inputs, ids_in(0, Model::V, false));
    read_rows.template operator()<std::int32_t>("train/carry.labels", {rows, Model::S}, carry_.labels, ids_in(0, Model::V, true));
    read_rows.template operator()<std::int32_t>("train/carry.puzzle_identifiers", {rows}, carry_.puzzle_ids,
                                           ids_in(0, m_.num_puzzle_ids() > 0 ? m_.num_puzzle_ids() : (1LL << 31) - 1, false));
    step_ = meta_int("train.step");
    const std::int64_t ostep = meta_int("train.optimizer_step");
    if (cfg_.optimizer == optimizer_kind::adam_atan2) adam_.state().step = ostep; else adamw_.state().step = ostep;
    std::istringstream rng(f.meta("train.rng").value_or(""));
    rng >> rng_;
    if (rng.fail()) throw io::error(where + ": the RNG state in metadata train.rng is unreadable");
  }

 private:
  using Be = typename Model::backend_type;
  // MPI with a device backend: collectives on backend memory go through host copies (sized once)
  static constexpr bool stage_grads = device_memory_backend<Be> && !Comm::device_memory;
  static_assert(!Comm::device_memory || device_memory_backend<Be>,
                "a device-memory communicator (comm::nccl) needs a device backend (gtrm::cuda)");

  std::int64_t optimizer_step() const {
    return cfg_.optimizer == optimizer_kind::adam_atan2 ? adam_.state().step : adamw_.state().step;
  }

  static index_t local_rows(index_t global, int ranks) {
    if (global < 1) throw std::invalid_argument("train_config.global_batch_size must be at least 1");
    if (global % ranks != 0)
      throw std::invalid_argument("the global batch size " + std::to_string(global) + " is not a multiple of the " +
                                  std::to_string(ranks) + " ranks");
    return global / ranks;
  }

  // A collective on backend memory d, where the communicator can reach it (host copies for MPI with a device backend).
  template <class F>
  void in_comm_memory(std::span<T> d, F&& f) {
    if constexpr (stage_grads) {
      std::vector<T> big;  // only the initial broadcast of a table larger than the stage
      std::span<T> h;
      if (stage_t_.size() >= d.size()) h = std::span<T>(stage_t_.data(), d.size());
      else { big.resize(d.size()); h = big; }
      to_host(m_.backend(), h, d);
      f(h);
      from_host(m_.backend(), d, std::span<const T>(h));
    } else {
      f(d);
    }
  }

  // all_gather of backend memory (rank order: the global batch's row order)
  template <class U>
  void gather_backend(std::span<const U> mine, std::span<U> all, std::vector<U>& stage) {
    if constexpr (stage_grads) {
      const auto& be = m_.backend();
      const std::span<U> hm(stage.data(), mine.size()), ha(stage.data() + mine.size(), all.size());
      to_host(be, hm, mine);
      comm::all_gather(comm_, std::span<const U>(hm), ha);
      from_host(be, all, std::span<const U>(ha));
    } else {
      comm::all_gather(comm_, mine, all);
    }
  }

  // sign-SGD on the whole batch's (id, gradient row) pairs, gathered from every rank: the same update everywhere
  void gathered_sign_sgd(double lr) {
    const auto& be = m_.backend();
    const index_t G = cfg_.global_batch_size;
    gather_backend(std::span<const T>(ws_.dlocal.data(), static_cast<std::size_t>(local_ * Model::E)),
                   std::span<T>(demb_all_.data(), static_cast<std::size_t>(G * Model::E)), stage_t_);
    gather_backend(std::span<const std::int32_t>(carry_.puzzle_ids.data(), static_cast<std::size_t>(local_)),
                   std::span<std::int32_t>(ids_all_.data(), static_cast<std::size_t>(G)), stage_i_);
    std::span<const std::int32_t> ids(ids_all_.data(), static_cast<std::size_t>(G));
    if constexpr (device_memory_backend<Be>) {
      to_host(be, ids_host_, ids_all_);
      ids = ids_host_;
    }
    sgd_.step(be, m_.puzzle_table().span(), std::span<const T>(demb_all_.data(), static_cast<std::size_t>(G * Model::E)), ids, lr);
  }

  // the step's loss and metrics summed over ranks (every rank reports the whole batch)
  void reduce_step_metrics(train_step_result& out) {
    double v[1 + act_metrics::packed_size];
    v[0] = out.loss;
    out.metrics.pack(v + 1);
    const std::span<double> h(v, 1 + act_metrics::packed_size);
    if constexpr (Comm::device_memory) {
      const auto& be = m_.backend();
      from_host(be, metrics_dev_, std::span<const double>(h));
      comm::all_reduce_sum(comm_, std::span<double>(metrics_dev_.data(), h.size()));
      to_host(be, h, metrics_dev_);
    } else {
      comm::all_reduce_sum(comm_, h);
    }
    out.loss = v[0];
    out.metrics.unpack(v + 1);
  }

  // a carry buffer of this rank's rows, on the host, gathered to the whole batch (not in a step: allocates)
  template <class U, class Buf>
  std::vector<U> gathered(const Buf& local) const {
    const auto& be = m_.backend();
    std::vector<U> mine(std::size(local)), all(std::size(local) * static_cast<std::size_t>(comm_.size()));
    to_host(be, mine, local);
    if constexpr (Comm::device_memory) {
      buffer_t<Be, U> a(static_cast<index_t>(mine.size())), b(static_cast<index_t>(all.size()));
      from_host(be, a, mine);
      comm::all_gather(comm_, std::span<const U>(a.data(), a.size()), std::span<U>(b.data(), b.size()));
      to_host(be, all, b);
    } else {
      comm::all_gather(comm_, std::span<const U>(mine), std::span<U>(all));
    }
    return all;
  }

  Model& m_;
  train_config cfg_;
  Comm comm_;
  index_t local_;
  typename Model::workspace ws_;
  std::unique_ptr<typename Model::workspace> extra_;
  act_carry<Model> carry_;
  act_scratch<Model> sc_;
  adam_atan2<T, Be> adam_;
  adamw<T, Be> adamw_;
  sign_sgd<T, Be> sgd_;
  ema<T, Be> ema_;
  std::mt19937_64 rng_;
  std::vector<std::int32_t> ids_host_;   // device backends: the carry's puzzle ids for sign-SGD's host check
  // several ranks: the gathered puzzle-row gradients and ids, host stages, a device copy of the step's metrics
  buffer_t<Be, std::int32_t> ids_all_;
  buffer_t<Be, T> demb_all_;
  std::vector<T> stage_t_;
  std::vector<std::int32_t> stage_i_;
  buffer_t<Be, double> metrics_dev_;
  std::int64_t step_ = 0;
};

}  // namespace gtrm::train
