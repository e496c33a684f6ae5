// Optimizers, schedule and EMA. The golden replay starts from a_rope_optim's initial state_dict, applies the
// stored gradients of iterations 1 and 2 and compares parameters and moments with the reference PyTorch
// run (‖a − b‖/‖b‖ ≤ 1e-6 per tensor); the unit tests pin the formulas on hand-computed values.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <numbers>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gtrm/cpu.hpp>
#include <gtrm/io/safetensors.hpp>
#include <gtrm/train/adam_atan2.hpp>
#include <gtrm/train/adamw.hpp>
#include <gtrm/train/ema.hpp>
#include <gtrm/train/schedule.hpp>
#include <gtrm/train/sign_sgd.hpp>

// Counts every allocation through the replaceable global operator new, to prove a step allocates nothing.
// GCC inlines the replacement into std::allocator and then flags the malloc/free pair as mismatched with
// new/delete (a false positive for a replacement operator), so that warning is off for this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
std::atomic<long> allocations{0};
}
void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace gtrm;
using nlohmann::json;

namespace {

const char* const optim_file = GTRM_TEST_DATA_DIR "/golden/a_rope_optim.safetensors";

// ‖a − b‖ / ‖b‖ in double.
template <class T>
double rel_err(const T* a, const std::vector<double>& b) {
  double d2 = 0, b2 = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    d2 += d * d;
    b2 += b[i] * b[i];
  }
  return std::sqrt(d2) / std::sqrt(b2);
}

// The trainable tensors of the optimizer file laid out as a model would: one flat, padded buffer.
struct golden_params {
  io::safetensors_reader file{optim_file};
  std::vector<std::string> names;
  param_layout<32> layout;
  json optimizer;

  golden_params() {
    names = json::parse(file.meta("parameter_names").value()).get<std::vector<std::string>>();
    optimizer = json::parse(file.meta("optimizer").value());
    for (const auto& n : names) {
      const auto& shape = file.info(n).shape;
      if (shape.size() == 1) layout.add_vector(n, shape[0]);
      else layout.add(n, shape[0], shape[1]);
    }
  }
  // Loads tensor `prefix + name` of every parameter into buf at its layout offset.
  template <class T>
  void load(const std::string& prefix, buffer<T>& buf) const {
    for (const auto& spec : layout) {
      const std::string name(spec.name);
      file.read_into<T>(prefix + name, file.info(name).shape, buf.data() + spec.offset);
    }
  }
};

struct replay_errors {
  double param = 0, exp_avg = 0, exp_avg_sq = 0;
};

template <class T>
replay_errors replay_adam_atan2(const golden_params& g, int iter, buffer<T>& theta, train::adam_atan2<T>& opt,
                                buffer<T>& grad, bool parallel) {
  const auto it = "iter" + std::to_string(iter) + "/";
  grad.zero();
  g.load(it + "grad/", grad);
  const double lr = g.optimizer.at("lr").get<double>();
  if (parallel) opt.step(cpu{}, theta.span(), std::span<const T>(grad.span()), lr);
  else opt.step(theta.span(), std::span<const T>(grad.span()), lr);
  replay_errors e;
  for (const auto& spec : g.layout) {
    const std::string name(spec.name);
    CAPTURE(name);
    const auto p = g.file.read<double>(it + "param/" + name);
    const auto m = g.file.read<double>(it + "exp_avg/" + name);
    const auto v = g.file.read<double>(it + "exp_avg_sq/" + name);
    e.param = std::max(e.param, rel_err(theta.data() + spec.offset, p));
    e.exp_avg = std::max(e.exp_avg, rel_err(opt.state().m.data() + spec.offset, m));
    e.exp_avg_sq = std::max(e.exp_avg_sq, rel_err(opt.state().v.data() + spec.offset, v));
  }
  return e;
}

template <class T>
void golden_adam_atan2(bool parallel, bool bc1_inside = true) {
  const golden_params g;
  REQUIRE(g.names.size() == 12);
  CHECK(g.optimizer.at("beta1").get<double>() == 0.9);
  CHECK(g.optimizer.at("beta2").get<double>() == 0.95);
  buffer<T> theta(g.layout.total), grad(g.layout.total);
  g.load("", theta);
  train::adam_atan2<T> opt({.lr = g.optimizer.at("lr").get<double>(),
                            .beta1 = g.optimizer.at("beta1").get<double>(),
                            .beta2 = g.optimizer.at("beta2").get<double>(),
                            .weight_decay = g.optimizer.at("weight_decay").get<double>(),
                            .bc1_inside_atan2 = bc1_inside},
                           g.layout.total);
  for (int iter = 1; iter <= 2; ++iter) {
    const auto e = replay_adam_atan2(g, iter, theta, opt, grad, parallel);
    if (!bc1_inside) {  // the variant with the β1 correction outside atan2 does not reproduce the file
      MESSAGE("adam_atan2 with bc1 outside atan2, iter " << iter << ": max rel err param " << e.param);
      CHECK(e.param > 1e-4);
      CHECK(e.exp_avg <= 1e-6);
      continue;
    }
    MESSAGE("adam_atan2<" << (sizeof(T) == 4 ? std::string("float") : std::string("double")) << ">"
                          << (parallel ? std::string(" (parallel)") : std::string())
                          << " iter " << iter << ": max rel err param " << e.param << ", exp_avg " << e.exp_avg
                          << ", exp_avg_sq " << e.exp_avg_sq);
    CHECK(e.param <= 1e-6);
    CHECK(e.exp_avg <= 1e-6);
    CHECK(e.exp_avg_sq <= 1e-6);
  }
  CHECK(opt.state().step == 2);
  // The layout's padding had zero gradient throughout: it stays exactly zero.
  for (std::size_t k = 0; k < g.layout.count; ++k) {
    const auto& s = g.layout[k];
    const index_t end = k + 1 < g.layout.count ? g.layout[k + 1].offset : g.layout.total;
    for (index_t i = s.offset + s.size(); i < end; ++i) REQUIRE(theta[i] == T(0));
  }
}

}  // namespace

TEST_CASE("adam_atan2: replays the reference's two iterations (a_rope_optim), float") {
  golden_adam_atan2<float>(false);
}
TEST_CASE("adam_atan2: replays the reference's two iterations, double") { golden_adam_atan2<double>(false); }
TEST_CASE("adam_atan2: the parallel step replays the reference too") { golden_adam_atan2<float>(true); }
TEST_CASE("adam_atan2: the bc1-outside-atan2 variant does not match the reference file") {
  golden_adam_atan2<float>(false, false);
}

TEST_CASE("sign_sgd: replays the reference's puzzle-embedding updates (a_rope_optim)") {
  const io::safetensors_reader f(optim_file);
  const auto opt_cfg = json::parse(f.meta("optimizer").value());
  const auto& info = f.info("model.inner.puzzle_emb.weights");
  const index_t rows = info.shape[0], width = info.shape[1];
  auto table = f.read<float>("model.inner.puzzle_emb.weights");
  train::sign_sgd<float> opt({.lr = opt_cfg.at("puzzle_emb_lr").get<double>(),
                              .weight_decay = opt_cfg.at("puzzle_emb_weight_decay").get<double>()},
                             width, 4);
  for (int iter = 1; iter <= 2; ++iter) {
    const auto it = "iter" + std::to_string(iter) + "/";
    const auto grads = f.read<float>(it + "grad/model.inner.puzzle_emb.local_weights");
    const auto ids = f.read<std::int32_t>(it + "puzzle_emb.local_ids");
    const auto want = f.read<double>(it + "param/model.inner.puzzle_emb.weights");
    const auto before = table;
    opt.step(table, grads, ids, opt.hparams().lr);
    const double err = rel_err(table.data(), want);
    MESSAGE("sign_sgd iter " << iter << " (ids " << json(ids).dump() << "): rel err " << err);
    CHECK(err <= 1e-6);
    for (index_t r = 0; r < rows; ++r)
      if (std::find(ids.begin(), ids.end(), r) == ids.end())
        for (index_t e = 0; e < width; ++e) REQUIRE(table[r * width + e] == before[r * width + e]);
  }
}

TEST_CASE("adam_atan2: first step is lr*pi/4*sign(g) after decay; zero gradients only decay") {
  const train::adam_atan2_hparams h{.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.95, .weight_decay = 0.1};
  train::adam_atan2<double> opt(h, 3);
  std::vector<double> p{1.0, -2.0, 0.5};
  const std::vector<double> g{3.0, -1e-6, 0.0};
  opt.step(p, g, h.lr);
  // m/bc1 = g and sqrt(v)/sqrt(bc2) = |g| at t = 1, so every non-zero coordinate moves by lr·atan2(±1, 1).
  const double decay = 1 - h.lr * h.weight_decay, mag = h.lr * std::numbers::pi / 4;
  CHECK(p[0] == doctest::Approx(1.0 * decay - mag).epsilon(1e-14));
  CHECK(p[1] == doctest::Approx(-2.0 * decay + mag).epsilon(1e-14));
  CHECK(p[2] == doctest::Approx(0.5 * decay).epsilon(1e-14));  // atan2(0, 0) = 0: no NaN
  CHECK(opt.state().m[0] == doctest::Approx(0.3));
  CHECK(opt.state().v[0] == doctest::Approx(0.05 * 9));

  // Second step against the formula written out independently, at another (scheduled) rate.
  const std::vector<double> g2{-1.0, 2.0, 0.25};
  const std::vector<double> p1 = p;
  opt.step(p, g2, 5e-4);
  for (std::size_t i = 0; i < 3; ++i) {
    const double m1 = 0.1 * g[i], v1 = 0.05 * g[i] * g[i];
    const double m2 = 0.9 * m1 + 0.1 * g2[i], v2 = 0.95 * v1 + 0.05 * g2[i] * g2[i];
    const double want = p1[i] * (1 - 5e-4 * 0.1) -
                        5e-4 * std::atan2(m2 / (1 - 0.81), std::sqrt(v2) / std::sqrt(1 - 0.95 * 0.95));
    CHECK(p[i] == doctest::Approx(want).epsilon(1e-13));
  }
  std::vector<double> wrong(2);
  CHECK_THROWS_AS(opt.step(wrong, g, 1e-3), std::invalid_argument);

  // The docs/reference.md §3.2 variant: (lr/bc1)·atan2(m, ·), a first step of lr/(1−β1)·atan(1−β1).
  train::adam_atan2<double> out({.lr = 1e-3, .weight_decay = 0.1, .bc1_inside_atan2 = false}, 1);
  std::vector<double> q{1.0};
  out.step(q, std::vector<double>{3.0}, 1e-3);
  CHECK(q[0] == doctest::Approx(decay - 1e-3 / 0.1 * std::atan(0.1)).epsilon(1e-14));
}

TEST_CASE("adamw: matches the textbook bias-corrected form; first step is about lr*sign(g)") {
  const train::adamw_hparams h{.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01};
  train::adamw<double> opt(h, 4);
  std::vector<double> p{1.0, -1.0, 0.25, 2.0}, pm = p, m(4, 0.0), v(4, 0.0);
  const std::vector<std::vector<double>> grads{{0.5, -2.0, 0.0, 1e-3}, {0.1, 1.0, -0.3, 0.0}, {-0.7, 0.2, 0.4, 5.0}};
  for (int t = 1; t <= 3; ++t) {
    const auto& g = grads[static_cast<std::size_t>(t - 1)];
    const double lr = h.lr * t / 3.0;  // a changing (scheduled) rate
    opt.step(p, g, lr);
    for (std::size_t i = 0; i < 4; ++i) {
      m[i] = h.beta1 * m[i] + (1 - h.beta1) * g[i];
      v[i] = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
      const double mhat = m[i] / (1 - std::pow(h.beta1, t));
      const double vhat = v[i] / (1 - std::pow(h.beta2, t));
      pm[i] = pm[i] * (1 - lr * h.weight_decay) - lr * mhat / (std::sqrt(vhat) + h.eps);
      CAPTURE(t);
      CAPTURE(i);
      CHECK(p[i] == doctest::Approx(pm[i]).epsilon(1e-12));
    }
    if (t == 1) {
      CHECK(p[0] == doctest::Approx(1.0 * (1 - lr * 0.01) - lr).epsilon(1e-6));
      CHECK(p[2] == doctest::Approx(0.25 * (1 - lr * 0.01)).epsilon(1e-14));
    }
  }
  CHECK(opt.state().step == 3);
}

TEST_CASE("sign_sgd: equal ids sum before the sign, sign(0) = 0, absent rows untouched, no allocation") {
  constexpr index_t width = 3;
  std::vector<float> table{1, 1, 1,   2, 2, 2,   3, 3, 3,   4, 4, 4,   5, 5, 5};  // 5 rows
  const std::vector<std::int32_t> ids{3, 1, 3, 0};
  const std::vector<float> grads{
      1.0f, 2.0f, -1.0f,    // id 3
      -4.0f, 0.0f, 1e-30f,  // id 1
      -0.5f, -2.0f, 0.5f,   // id 3 again: sum [0.5, 0, -0.5]
      0.0f, 0.0f, 0.0f,     // id 0: zero gradient, decay only
  };
  train::sign_sgd<float> opt({.lr = 0.1, .weight_decay = 0.5}, width, 8);
  const long before = allocations.load();
  opt.step(table, grads, ids, 0.1);
  CHECK(allocations.load() == before);
  const float d = 1.0f - 0.1f * 0.5f;
  const std::vector<float> want{
      1 * d, 1 * d, 1 * d,
      2 * d + 0.1f, 2 * d, 2 * d - 0.1f,
      3, 3, 3,
      4 * d - 0.1f, 4 * d, 4 * d + 0.1f,
      5, 5, 5,
  };
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(table[i] == doctest::Approx(want[i]).epsilon(1e-7));
  }
  CHECK(table[6] == 3.0f);   // exactly untouched, not decayed
  CHECK(table[12] == 5.0f);

  const std::vector<std::int32_t> bad{0, 5};
  CHECK_THROWS_AS(opt.step(table, std::vector<float>(6), bad, 0.1), std::out_of_range);
  CHECK_THROWS_AS(opt.step(table, std::vector<float>(5), std::vector<std::int32_t>{0, 1}, 0.1), std::invalid_argument);
  CHECK_THROWS_AS(opt.step(table, std::vector<float>(27), std::vector<std::int32_t>(9), 0.1), std::invalid_argument);
}

TEST_CASE("adam_atan2 and adamw: a step allocates nothing") {
  train::adam_atan2<float> a({}, 100);
  train::adamw<float> w({}, 100);
  std::vector<float> p(100, 1.0f), g(100, 0.5f);
  const long before = allocations.load();
  a.step(p, g, 1e-3);
  w.step(p, g, 1e-3);
  CHECK(allocations.load() == before);
}

TEST_CASE("schedule: linear warm-up, then cosine to min_ratio (constant when min_ratio = 1)") {
  using train::cosine_schedule_with_warmup;
  const double base = 1e-4;
  // The TRM configs: 2000 warm-up steps, r = 1.
  CHECK(cosine_schedule_with_warmup(0, base, 2000, 100000, 1.0) == 0.0);
  CHECK(cosine_schedule_with_warmup(1, base, 2000, 100000, 1.0) == doctest::Approx(base / 2000));
  CHECK(cosine_schedule_with_warmup(1000, base, 2000, 100000, 1.0) == doctest::Approx(base / 2));
  CHECK(cosine_schedule_with_warmup(1999, base, 2000, 100000, 1.0) == doctest::Approx(base * 1999 / 2000));
  CHECK(cosine_schedule_with_warmup(2000, base, 2000, 100000, 1.0) == base);
  CHECK(cosine_schedule_with_warmup(60000, base, 2000, 100000, 1.0) == base);
  CHECK(cosine_schedule_with_warmup(100000, base, 2000, 100000, 1.0) == base);
  // Cosine decay with r = 0 and r = 0.1: half-way is (1 + r)/2, the end is r.
  CHECK(cosine_schedule_with_warmup(2000, base, 2000, 12000, 0.0) == doctest::Approx(base));
  CHECK(cosine_schedule_with_warmup(7000, base, 2000, 12000, 0.0) == doctest::Approx(base * 0.5));
  CHECK(cosine_schedule_with_warmup(12000, base, 2000, 12000, 0.0) == doctest::Approx(0.0).epsilon(1e-12));
  CHECK(cosine_schedule_with_warmup(4500, base, 2000, 12000, 0.0) ==
        doctest::Approx(base * 0.5 * (1 + std::cos(std::numbers::pi / 4))));
  CHECK(cosine_schedule_with_warmup(7000, base, 2000, 12000, 0.1) == doctest::Approx(base * 0.55));
  CHECK(cosine_schedule_with_warmup(12000, base, 2000, 12000, 0.1) == doctest::Approx(base * 0.1));
  // No warm-up: step 0 already has the full rate.
  CHECK(cosine_schedule_with_warmup(0, base, 0, 100, 1.0) == base);
}

TEST_CASE("ema: register copies, update is (1 - mu) theta + mu shadow") {
  train::ema<double> e(0.9);
  std::vector<double> theta{1.0, 2.0};
  CHECK_THROWS_AS(e.update(theta), std::invalid_argument);
  e.register_params(theta);
  theta[0] = 100.0;  // a copy, not a view
  CHECK(e.shadow()[0] == 1.0);
  theta = {3.0, 4.0};
  e.update(theta);
  CHECK(e.shadow()[0] == doctest::Approx(0.1 * 3 + 0.9 * 1));
  CHECK(e.shadow()[1] == doctest::Approx(0.1 * 4 + 0.9 * 2));
  e.update(theta);
  CHECK(e.shadow()[0] == doctest::Approx(0.1 * 3 + 0.9 * 1.2));
  CHECK_THROWS_AS(e.update(std::vector<double>(3)), std::invalid_argument);

  // Float at the reference's rate converges to a constant θ geometrically: |shadow − θ| = 0.999^k |θ0 − θ|.
  train::ema<float> f;
  CHECK(f.rate() == 0.999);
  std::vector<float> t0{0.0f}, t1{1.0f};
  f.register_params(t0);
  for (int k = 0; k < 1000; ++k) f.update(t1);
  CHECK(f.shadow()[0] == doctest::Approx(1.0 - std::pow(0.999, 1000)).epsilon(1e-4));
}
