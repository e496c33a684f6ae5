// Checks a compiled model against a golden file of the reference implementation (tests/data/golden and
// tests/data/golden_variants, see their PROVENANCE.md): loads weights and inputs, runs ACT step 1 in training mode
// with backward, step 2 from the stored step-1 carry, and the evaluation run (halt_max_steps steps, each from the
// stored previous carry, the "strict" comparison), and compares every stored quantity. A model with the HRM
// Q-continue target (halt::q_head_continue) runs the extra forward pass through act_step's inference workspace and
// is compared on the target, the second pass's Q logits and q_continue_loss too.
//
// check_optimizer_reference replays the optimizer file (a_rope_optim: iter{1,2}/…) through train::trainer: one
// ACT step, backward of loss/B, sign-SGD on the puzzle rows and Adam-atan2, compared after each iteration.
//
// Error measures: max_abs = max |a − b|; norm_rel = ‖a − b‖ / ‖b‖ (the criterion); integers and flags
// must match exactly.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../concepts.hpp"
#include "../model/act.hpp"
#include "../ops/elementwise.hpp"
#include "../train/trainer.hpp"
#include "safetensors.hpp"
#include "state_dict.hpp"

namespace gtrm::io {

struct reference_tolerances {
  double tensor = 1e-5;      // logits, q, z, input embeddings (norm_rel)
  double loss = 1e-5;        // losses and float metrics (relative)
  double gradient = 1e-4;    // every parameter gradient (norm_rel)
};

struct comparison {
  std::string name;
  double max_abs = 0, norm_rel = 0, tolerance = 0;
  bool exact = false;        // integers / flags: pass only on equality
  bool pass = true;
};

struct reference_report {
  std::string file;
  std::vector<comparison> rows;
  bool pass() const { return std::all_of(rows.begin(), rows.end(), [](const comparison& c) { return c.pass; }); }
  const comparison* find(const std::string& n) const {
    for (const auto& r : rows) if (r.name == n) return &r;
    return nullptr;
  }
  double worst(const std::string& prefix) const {
    double w = 0;
    for (const auto& r : rows) if (r.name.rfind(prefix, 0) == 0 && !r.exact) w = std::max(w, r.norm_rel);
    return w;
  }
};

namespace detail {

template <class A>
comparison compare_values(const std::string& name, const A* got, const std::vector<double>& want, double tol) {
  comparison c{name, 0, 0, tol, false, true};
  double d2 = 0, n2 = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double d = static_cast<double>(got[i]) - want[i];
    c.max_abs = std::max(c.max_abs, std::abs(d));
    d2 += d * d;
    n2 += want[i] * want[i];
  }
  c.norm_rel = n2 > 0 ? std::sqrt(d2 / n2) : std::sqrt(d2);
  c.pass = std::isfinite(c.norm_rel) && c.norm_rel <= tol;
  return c;
}

template <class A>
comparison compare_exact(const std::string& name, const A* got, const std::vector<std::int64_t>& want) {
  comparison c{name, 0, 0, 0, true, true};
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double d = static_cast<double>(got[i]) - static_cast<double>(want[i]);
    c.max_abs = std::max(c.max_abs, std::abs(d));
    wrong += d != 0;
  }
  c.norm_rel = want.empty() ? 0 : static_cast<double>(wrong) / static_cast<double>(want.size());
  c.pass = wrong == 0;
  return c;
}

// n elements of backend memory as a host vector (to_host: a plain copy on a host backend).
template <class Be, class A>
std::vector<std::remove_cv_t<A>> to_host_vector(const Be& be, const A* p, std::size_t n) {
  using U = std::remove_cv_t<A>;
  std::vector<U> h(n);
  to_host(be, h, std::span<const U>(p, n));
  return h;
}

}  // namespace detail

template <class Model>
reference_report check_reference(const safetensors_reader& f, const reference_tolerances& tol = {}) {
  using T = typename Model::scalar;
  constexpr int S = Model::S, L = Model::L, D = Model::D, V = Model::V, N = Model::cycles_v.max_act_steps;
  reference_report rep;
  rep.file = f.path().string();
  const auto ids_shape = f.info("batch/puzzle_identifiers").shape;
  const index_t B = ids_shape.at(0);
  const index_t n_ids = Model::E > 0 ? f.info("model.inner.puzzle_emb.weights").shape.at(0) : 1;
  Model m(n_ids);
  load_state_dict(m, f, "");
  const auto& be = m.backend();
  auto add = [&](comparison c) { rep.rows.push_back(std::move(c)); };
  // cmp/cmp_exact take the model's (backend) memory and bring it to the host; cmp_host takes host memory
  auto cmp_host = [&](const std::string& key, const auto* got, double t) {
    if (f.contains(key)) add(detail::compare_values(key, got, f.read<double>(key), t));
  };
  auto cmp = [&](const std::string& key, const auto* got, double t) {
    if (!f.contains(key)) return;
    const auto want = f.read<double>(key);
    add(detail::compare_values(key, detail::to_host_vector(be, got, want.size()).data(), want, t));
  };
  auto cmp_exact = [&](const std::string& key, const auto* got) {
    if (!f.contains(key)) return;
    const auto want = f.read<std::int64_t>(key);
    add(detail::compare_exact(key, detail::to_host_vector(be, got, want.size()).data(), want));
  };
  auto cmp_scalar = [&](const std::string& key, double got, double t, bool exact = false) {
    if (!f.contains(key)) return;
    if (exact) { const std::int64_t g = static_cast<std::int64_t>(got); add(detail::compare_exact(key, &g, f.read<std::int64_t>(key))); }
    else add(detail::compare_values(key, &got, f.read<double>(key), t));
  };

  typename Model::workspace ws(B);
  act_scratch<Model> sc(B);
  // the Q-continue target's extra forward pass (HRM) runs in an inference workspace
  constexpr bool continue_target = Model::halt_type::continue_target;
  typename Model::workspace extra(continue_target ? B : 1, false);
  typename Model::workspace* extra_ptr = continue_target ? &extra : nullptr;
  std::mt19937_64 rng(0);
  act_options train_opt{.training = true, .exploration_prob = 0.0, .loss = lm_loss_kind::stablemax, .loss_scale = 1.0, .backward = true};

  auto read_batch = [&](const std::string& prefix, std::vector<std::int32_t>& in, std::vector<std::int32_t>& lab,
                        std::vector<std::int32_t>& pid) {
    in = f.read<std::int32_t>(prefix + "inputs");
    lab = f.read<std::int32_t>(prefix + "labels");
    pid = f.read<std::int32_t>(prefix + "puzzle_identifiers");
    return batch_ref{in.data(), lab.data(), pid.data(), B};
  };
  auto compare_step = [&](const std::string& p, act_carry<Model>& c, const act_step_result& r) {
    cmp(p + "logits", ws.logits.data(), tol.tensor);
    std::vector<T> qh(static_cast<std::size_t>(B)), qc(static_cast<std::size_t>(B));
    const auto q = detail::to_host_vector(be, ws.q.data(), static_cast<std::size_t>(2 * B));
    for (std::size_t b = 0; b < qh.size(); ++b) { qh[b] = q[2 * b]; qc[b] = q[2 * b + 1]; }
    cmp_host(p + "q_halt_logits", qh.data(), tol.tensor);
    cmp_host(p + "q_continue_logits", qc.data(), tol.tensor);
    cmp(p + "carry.z_H", c.z_h.data(), tol.tensor);
    cmp(p + "carry.z_L", c.z_l.data(), tol.tensor);
    cmp_exact(p + "carry.steps", c.steps.data());
    cmp_exact(p + "carry.halted", c.halted.data());
    cmp_exact(p + "carry.current_data.inputs", c.inputs.data());
    cmp_exact(p + "carry.current_data.labels", c.labels.data());
    cmp_exact(p + "carry.current_data.puzzle_identifiers", c.puzzle_ids.data());
    cmp_exact(p + "preds", sc.preds.data());
    cmp_scalar(p + "loss", r.loss, tol.loss);
    cmp_scalar(p + "metrics.lm_loss", r.metrics.lm_loss, tol.loss);
    cmp_scalar(p + "metrics.q_halt_loss", r.metrics.q_halt_loss, tol.loss);
    if constexpr (continue_target) if (p != "eval/") {  // the second pass exists in training only
      std::vector<T> nh(static_cast<std::size_t>(B)), nc(static_cast<std::size_t>(B));
      const auto q = detail::to_host_vector(be, extra.q.data(), static_cast<std::size_t>(2 * B));
      for (std::size_t b = 0; b < nh.size(); ++b) { nh[b] = q[2 * b]; nc[b] = q[2 * b + 1]; }
      cmp(p + "target_q_continue", sc.q_cont_target.data(), tol.tensor);
      cmp_host(p + "next_q_halt_logits", nh.data(), tol.tensor);
      cmp_host(p + "next_q_continue_logits", nc.data(), tol.tensor);
      cmp_scalar(p + "metrics.q_continue_loss", r.metrics.q_continue_loss, tol.loss);
    }
    cmp_scalar(p + "metrics.accuracy", r.metrics.accuracy, tol.loss);
    cmp_scalar(p + "metrics.count", static_cast<double>(r.metrics.count), 0, true);
    cmp_scalar(p + "metrics.exact_accuracy", static_cast<double>(r.metrics.exact_accuracy), 0, true);
    cmp_scalar(p + "metrics.q_halt_accuracy", static_cast<double>(r.metrics.q_halt_accuracy), 0, true);
    cmp_scalar(p + "metrics.steps", static_cast<double>(r.metrics.steps), 0, true);
    cmp_scalar(p + "all_halted", r.all_halted ? 1.0 : 0.0, 0, true);
  };
  // Puts the stored carry of a previous step into c (the strict comparison).
  auto load_carry = [&](const std::string& p, act_carry<Model>& c) {
    host_stage z_h(be, c.z_h), z_l(be, c.z_l);
    f.read_into<T>(p + "carry.z_H", f.info(p + "carry.z_H").shape, z_h.data());
    f.read_into<T>(p + "carry.z_L", f.info(p + "carry.z_L").shape, z_l.data());
    z_h.upload();
    z_l.upload();
  };

  std::vector<std::int32_t> in, lab, pid;
  // ---- step 1: training mode, with backward ----
  {
    act_carry<Model> c(be, B);
    const batch_ref b1 = read_batch("batch/", in, lab, pid);
    m.zero_grads();
    ops::fill<typename Model::backend_type, T, Model::E_cols>(be, ws.dlocal, T(0));
    const act_step_result r = act_step(m, ws, c, b1, sc, train_opt, rng, extra_ptr);
    cmp("step1/input_embeddings", ws.x.data(), tol.tensor);
    compare_step("step1/", c, r);
    for (std::size_t i = 0; i < Model::layout.count; ++i) {
      const auto& s = Model::layout[i];
      cmp("grad/" + s.full_name(), m.grads().data() + s.offset, tol.gradient);
    }
    if constexpr (Model::E > 0) {
      cmp("grad/model.inner.puzzle_emb.local_weights", ws.dlocal.data(), tol.gradient);
      cmp_exact("step1/puzzle_emb.local_ids", c.puzzle_ids.data());
    }
    // ---- step 2: train mode from the stored step-1 carry, weights unchanged ----
    if (f.contains("step2/batch/inputs")) {
      load_carry("step1/", c);
      std::vector<std::int32_t> in2, lab2, pid2;
      const batch_ref b2 = read_batch("step2/batch/", in2, lab2, pid2);
      m.zero_grads();
      const act_step_result r2 = act_step(m, ws, c, b2, sc, train_opt, rng, extra_ptr);
      compare_step("step2/", c, r2);
    }
  }
  // ---- evaluation: fresh carry, exactly N steps ----
  if (f.contains("eval/logits")) {
    act_carry<Model> c(be, B);
    const batch_ref b1 = read_batch("batch/", in, lab, pid);
    act_options eval_opt = train_opt;
    eval_opt.training = false;
    eval_opt.backward = false;
    act_step_result r;
    for (int step = 1; step <= N; ++step) {
      const std::string p = "eval/step" + std::to_string(step) + "/";
      if (step > 1 && f.contains("eval/step" + std::to_string(step - 1) + "/carry.z_H"))
        load_carry("eval/step" + std::to_string(step - 1) + "/", c);
      r = act_step(m, ws, c, b1, sc, eval_opt, rng, extra_ptr);
      cmp(p + "logits", ws.logits.data(), tol.tensor);
      cmp(p + "carry.z_H", c.z_h.data(), tol.tensor);
      cmp(p + "carry.z_L", c.z_l.data(), tol.tensor);
    }
    compare_step("eval/", c, r);
    cmp_scalar("eval/num_steps", N, 0, true);
  }
  (void)S; (void)L; (void)D; (void)V;
  return rep;
}

// Whether f is an optimizer file (iterations of training, no single-step outputs).
inline bool is_optimizer_reference(const safetensors_reader& f) { return f.contains("iter1/batch/inputs"); }

// Replays the optimizer file's training iterations (iter1/, iter2/, …) through train::trainer with the file's
// `optimizer` hyper-parameters (lr as given, no warm-up, no EMA, no exploration) and compares, after each one,
// the loss (tol.loss), the halting flags (exact), every parameter gradient of loss/B (tol.gradient) and every
// parameter and the puzzle table after the update (tol.tensor).
template <class Model>
reference_report check_optimizer_reference(const safetensors_reader& f, const reference_tolerances& tol = {}) {
  reference_report rep;
  rep.file = f.path().string();
  const auto opt_text = f.meta("optimizer");
  if (!opt_text) throw error(rep.file + " has iterations but no `optimizer` metadata: not an optimizer golden file");
  // The metadata is flat JSON of numbers: {"lr": 0.001, "puzzle_emb_lr": 0.01, ...}
  auto number = [&](const std::string& key) {
    const auto at = opt_text->find("\"" + key + "\"");
    if (at == std::string::npos) throw error(rep.file + ": its `optimizer` metadata has no " + key);
    return std::stod(opt_text->substr(opt_text->find(':', at) + 1));
  };
  const index_t B = f.info("iter1/batch/puzzle_identifiers").shape.at(0);
  Model m(Model::E > 0 ? f.info("model.inner.puzzle_emb.weights").shape.at(0) : 1);
  load_state_dict(m, f, "");
  train::train_config cfg;
  cfg.global_batch_size = B;
  cfg.total_steps = 1 << 20;
  cfg.lr = number("lr");
  cfg.lr_warmup_steps = 0;
  cfg.beta1 = number("beta1");
  cfg.beta2 = number("beta2");
  cfg.weight_decay = number("weight_decay");
  cfg.puzzle_emb_lr = number("puzzle_emb_lr");
  cfg.puzzle_emb_weight_decay = number("puzzle_emb_weight_decay");
  cfg.halt_exploration_prob = 0.0;
  cfg.ema = false;
  train::trainer<Model> tr(m, cfg);
  // the model's (backend) memory against a stored tensor, through a host copy
  auto cmp = [&](const std::string& key, const auto* got, double t) {
    const auto want = f.read<double>(key);
    rep.rows.push_back(detail::compare_values(key, detail::to_host_vector(m.backend(), got, want.size()).data(), want, t));
  };
  for (int it = 1; f.contains("iter" + std::to_string(it) + "/batch/inputs"); ++it) {
    const std::string p = "iter" + std::to_string(it) + "/";
    const auto in = f.read<std::int32_t>(p + "batch/inputs"), lab = f.read<std::int32_t>(p + "batch/labels"),
               pid = f.read<std::int32_t>(p + "batch/puzzle_identifiers");
    const auto r = tr.train_batch({in.data(), lab.data(), pid.data(), B});
    if (f.contains(p + "loss")) rep.rows.push_back(detail::compare_values(p + "loss", &r.loss, f.read<double>(p + "loss"), tol.loss));
    if (f.contains(p + "carry.halted")) {
      const auto want = f.read<std::int64_t>(p + "carry.halted");
      const auto got = detail::to_host_vector(m.backend(), tr.carry().halted.data(), want.size());
      rep.rows.push_back(detail::compare_exact(p + "carry.halted", got.data(), want));
    }
    for (std::size_t i = 0; i < Model::layout.count; ++i) {
      const auto& s = Model::layout[i];
      const std::string g = p + "grad/" + s.full_name(), w = p + "param/" + s.full_name();
      if (f.contains(g)) cmp(g, m.grads().data() + s.offset, tol.gradient);
      if (f.contains(w)) cmp(w, m.params().data() + s.offset, tol.tensor);
    }
    if constexpr (Model::E > 0) {
      const std::string t = p + "param/" + std::string(Model::puzzle_table_name);
      if (f.contains(t)) cmp(t, m.puzzle_table().data(), tol.tensor);
    }
  }
  return rep;
}

}  // namespace gtrm::io
