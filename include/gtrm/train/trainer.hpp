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
#pragma once
#include <charconv>
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
#include "../ops/elementwise.hpp"
#include "adam_atan2.hpp"
#include "adamw.hpp"
#include "ema.hpp"
#include "schedule.hpp"
#include "sign_sgd.hpp"

namespace gtrm::train {

enum class optimizer_kind { adam_atan2, adamw };

struct train_config {
  index_t global_batch_size = 768;      // rows per batch (one process)
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

template <class Model>
class trainer {
 public:
  using T = typename Model::scalar;

  trainer(Model& m, const train_config& cfg)
      : m_(m), cfg_(cfg), ws_(cfg.global_batch_size), carry_(m.backend(), cfg.global_batch_size), sc_(cfg.global_batch_size),
        adam_({cfg.lr, cfg.beta1, cfg.beta2, cfg.weight_decay, true}, m.params().size()),
        adamw_({cfg.lr, cfg.beta1, cfg.beta2, 1e-8, cfg.weight_decay}, cfg.optimizer == optimizer_kind::adamw ? m.params().size() : 0),
        sgd_({cfg.puzzle_emb_lr, cfg.puzzle_emb_weight_decay}, Model::E > 0 ? Model::E : 1, cfg.global_batch_size),
        ema_(cfg.ema_rate), rng_(cfg.seed),
        ids_host_(device_memory_backend<Be> ? static_cast<std::size_t>(cfg.global_batch_size) : 0) {
    if (cfg.global_batch_size < 1) throw std::invalid_argument("train_config.global_batch_size must be at least 1");
    if constexpr (Model::halt_type::continue_target) extra_ = std::make_unique<typename Model::workspace>(cfg.global_batch_size, false);
    if (cfg.ema) ema_.register_params(m.backend(), m.params().span());
  }

  // One batch: one ACT step, one optimizer step.
  train_step_result train_batch(const batch_ref& batch) {
    ++step_;
    m_.zero_grads();
    ops::fill<Be, T, Model::E_cols>(m_.backend(), ws_.dlocal, T(0));
    act_options opt{.training = true, .exploration_prob = cfg_.halt_exploration_prob, .loss = cfg_.loss,
                    .loss_scale = 1.0 / static_cast<double>(cfg_.global_batch_size), .backward = true};
    const act_step_result r = act_step(m_, ws_, carry_, batch, sc_, opt, rng_, extra_.get());
    train_step_result out{r.loss, r.metrics, lr_at(cfg_.lr), lr_at(cfg_.puzzle_emb_lr)};
    if constexpr (Model::E > 0) {
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
  void save_state(const std::filesystem::path& file) const {
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
    const std::int64_t rows = carry_.batch;
    w.add("train/carry.z_H", {rows * Model::L, Model::D}, host_stage(be, carry_.z_h).download().data());
    w.add("train/carry.z_L", {rows * Model::L, Model::D}, host_stage(be, carry_.z_l).download().data());
    w.add("train/carry.steps", {rows}, host_stage(be, carry_.steps).download().data());
    w.add("train/carry.halted", {rows}, host_stage(be, carry_.halted).download().data());
    w.add("train/carry.inputs", {rows, Model::S}, host_stage(be, carry_.inputs).download().data());
    w.add("train/carry.labels", {rows, Model::S}, host_stage(be, carry_.labels).download().data());
    w.add("train/carry.puzzle_identifiers", {rows}, host_stage(be, carry_.puzzle_ids).download().data());
    std::ostringstream rng;
    rng << rng_;
    w.metadata("train.step", std::to_string(step_));
    w.metadata("train.optimizer_step", std::to_string(optimizer_step()));
    w.metadata("train.rng", rng.str());
    w.metadata("train.global_batch_size", std::to_string(cfg_.global_batch_size));
    w.metadata("gtrm_format", "trm-train-state-1");
    w.save(file);
  }

  void load_state(const std::filesystem::path& file) {
    io::safetensors_reader f(file);
    const std::string where = "training state " + file.string();
    if (f.meta("gtrm_format").value_or("") != "trm-train-state-1")
      throw io::error(where + " is not a gtrm training state (metadata gtrm_format != trm-train-state-1)");
    const auto gbs = meta_count(f, "train.global_batch_size", where);
    if (gbs != cfg_.global_batch_size)
      throw io::error(where + " was saved with global batch size " + std::to_string(gbs) + ", this run uses " +
                      std::to_string(cfg_.global_batch_size));
    io::load_state_dict(m_, f);
    const std::int64_t n = static_cast<std::int64_t>(m_.params().size()), rows = carry_.batch;
    if (cfg_.optimizer == optimizer_kind::adam_atan2) adam_.load(m_.backend(), f, "train/optimizer.");
    else adamw_.load(m_.backend(), f, "train/optimizer.");
    const auto& be = m_.backend();   // read on the host, then uploaded (host_stage)
    const auto read = [&]<class U>(const char* name, std::vector<std::int64_t> shape, auto& dst) {
      host_stage h(be, dst);
      f.read_into<U>(name, shape, h.data());
      h.upload();
    };
    if (cfg_.ema) {
      auto shadow = ema_.shadow();
      read.template operator()<T>("train/ema.shadow", {n}, shadow);
    }
    read.template operator()<T>("train/carry.z_H", {rows * Model::L, Model::D}, carry_.z_h);
    read.template operator()<T>("train/carry.z_L", {rows * Model::L, Model::D}, carry_.z_l);
    read.template operator()<std::int32_t>("train/carry.steps", {rows}, carry_.steps);
    read.template operator()<std::uint8_t>("train/carry.halted", {rows}, carry_.halted);
    read.template operator()<std::int32_t>("train/carry.inputs", {rows, Model::S}, carry_.inputs);
    read.template operator()<std::int32_t>("train/carry.labels", {rows, Model::S}, carry_.labels);
    read.template operator()<std::int32_t>("train/carry.puzzle_identifiers", {rows}, carry_.puzzle_ids);
    step_ = meta_count(f, "train.step", where);
    const std::int64_t ostep = meta_count(f, "train.optimizer_step", where);
    if (cfg_.optimizer == optimizer_kind::adam_atan2) adam_.state().step = ostep; else adamw_.state().step = ostep;
    std::istringstream rng(f.meta("train.rng").value_or(""));
    rng >> rng_;
    if (rng.fail()) throw io::error(where + ": the RNG state in metadata train.rng is unreadable");
  }

 private:
  // A count the state keeps in its metadata (absent: 0); text that is not a non-negative integer is an io::error.
  static std::int64_t meta_count(const io::safetensors_reader& f, const char* key, const std::string& where) {
    const std::string s = f.meta(key).value_or("0");
    std::int64_t v = -1;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v < 0)
      throw io::error(where + ": metadata " + key + " is \"" + s + "\", expected a non-negative integer");
    return v;
  }

  std::int64_t optimizer_step() const {
    return cfg_.optimizer == optimizer_kind::adam_atan2 ? adam_.state().step : adamw_.state().step;
  }

  Model& m_;
  train_config cfg_;
  typename Model::workspace ws_;
  std::unique_ptr<typename Model::workspace> extra_;
  act_carry<Model> carry_;
  act_scratch<Model> sc_;
  using Be = typename Model::backend_type;
  adam_atan2<T, Be> adam_;
  adamw<T, Be> adamw_;
  sign_sgd<T, Be> sgd_;
  ema<T, Be> ema_;
  std::mt19937_64 rng_;
  std::vector<std::int32_t> ids_host_;   // device backends: the carry's puzzle ids for sign-SGD's host check
  std::int64_t step_ = 0;
};

}  // namespace gtrm::train
