// gtrm_ablation: trains every model variant (the plain TRM, each GTRM gate and two compositions, HRM, the
// transformer baseline) on the same generated Sudoku data with the same seed and data order, evaluates each
// on the same held-out puzzles, and writes one comparison table as Markdown and CSV.
//
//   gtrm_ablation [--steps 400] [--batch 32] [--givens 6] [--train 2000] [--test 256] [--seed 0]
//                 [--lr 1e-3] [--out benchmarks/results/ablation] [--only trm,hrm,...]
//
// The model configuration is compile-time (below): L = 16 cells + 1 puzzle slot, hidden 64, 4 heads, T = 2,
// n = 2, 2 layers, 4 ACT steps. Every variant sees the same batches: a data RNG seeded with --seed draws
// the batch rows, independent of the model; the models are initialised with the same seed too (the
// variant's extra tensors are drawn after the shared ones, so the shared tensors start identical except
// qkv_proj with an attention gate, whose gate rows sit between Q and K).
// Columns: exact accuracy and token accuracy on the test puzzles (eval mode: exactly max_act_steps ACT steps
// from a fresh carry, as the reference's evaluation), the mean per-row LM loss over the last 10% of the
// training steps, the mean ACT steps of halted rows in training, process CPU milliseconds per training step and
// training steps per second (one batch = one ACT step + one optimizer step), parameters.
#include <gtrm/cpu.hpp>
#include <gtrm/data/sudoku_generator.hpp>
#include <gtrm/model/hrm.hpp>
#include <gtrm/model/transformer.hpp>
#include <gtrm/model/trm.hpp>
#include <gtrm/train/evaluate.hpp>
#include <gtrm/train/trainer.hpp>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace gtrm;

namespace {

// 4x4 Sudoku tokens: 0 PAD, 1 blank, 2..5 digits (vocab 6). 6x6 would need vocab 8 and seq 36.
inline constexpr dims abl_dims{.vocab = 6, .seq = 16, .puzzle_emb_len = 1, .hidden = 64, .heads = 4, .expansion = 4};
inline constexpr cycles abl_cycles{.h = 2, .l = 2, .layers = 2, .max_act_steps = 4};
using att = mixer::attention<pos::rope>;
using hw = gate::attention<gate::headwise>;
using ew = gate::attention<gate::elementwise>;
template <class Gate>
using gated = trm<abl_dims, abl_cycles, att, Gate, halt::q_head, cpu>;
// HRM: two 2-block nets in TRM's schedule (H_cycles = 2, L_cycles = 2), one-step gradient, Q-continue halting.
using hrm_model = hrm<abl_dims, abl_cycles, 2, att, halt::q_head_continue, cpu>;
// Transformer baseline: 4 blocks (HRM's parameter count), one application per ACT step.
using transformer_model = transformer<abl_dims, cycles{.layers = 4, .max_act_steps = 4}, att, halt::q_compare, cpu>;
using hybrid_model = gated<gate::all<ew, gate::recurrent<false>>>;                        // GTRM's exp4
using all_model = gated<gate::all<gate::context_channel, hw, gate::recurrent<true>>>;
// LMA as the author's HRM port builds it (docs/lma.md): L' = L, d' = 32, tied encoder, lma_final_proj; latent
// space has no RoPE, so positions are learned at token level
using lma_model = trm<abl_dims, abl_cycles, mixer::latent_meta<mixer::attention<pos::learned>, mixer::lma_hrm_port>, gate::none,
                      halt::q_head, cpu>;

struct options {
  int steps = 400, batch = 32, givens = 6, train = 2000, test = 256;
  std::uint64_t seed = 0;
  double lr = 1e-3;
  std::string out = "benchmarks/results/ablation";
  std::set<std::string> only;
};

struct dataset {
  std::vector<std::int32_t> inputs, labels;  // (N, 16)
  std::size_t size() const { return inputs.size() / abl_dims.seq; }
};

dataset make_data(int count, int givens, std::uint64_t seed) {
  data::rng r(seed);
  dataset d;
  for (int i = 0; i < count; ++i) {
    const auto p = data::sudoku::generate(r, 4, givens);
    for (int c = 0; c < 16; ++c) {
      d.inputs.push_back(p.question[static_cast<std::size_t>(c)] + 1);
      d.labels.push_back(p.answer[static_cast<std::size_t>(c)] + 1);
    }
  }
  return d;
}

// Process CPU time (user + system), all threads: on a shared machine a steadier cost measure than wall time.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct row {
  std::string name, description;
  std::int64_t params = 0;
  double exact = 0, token = 0, loss = 0, mean_steps = 0, steps_per_s = 0, seconds = 0, cpu_ms_per_step = 0;
};

template <class M>
row run_variant(const std::string& name, const std::string& description, const options& o, const dataset& tr,
                const dataset& te) {
  constexpr int S = M::S;
  auto m = std::make_unique<M>(1);
  m->init(o.seed);
  train::train_config cfg{.global_batch_size = o.batch, .total_steps = o.steps, .lr = o.lr, .lr_warmup_steps = 50,
                          .weight_decay = 0.1, .puzzle_emb_lr = 1e-2, .puzzle_emb_weight_decay = 0.1,
                          .halt_exploration_prob = 0.1, .ema = false, .seed = o.seed};
  train::trainer<M> trn(*m, cfg);
  std::mt19937_64 data_rng(o.seed + 1);  // the same batch order for every variant
  std::uniform_int_distribution<std::size_t> pick(0, tr.size() - 1);
  std::vector<std::int32_t> in(static_cast<std::size_t>(o.batch * S)), lab(in.size()), ids(static_cast<std::size_t>(o.batch), 0);
  double loss_tail = 0;
  std::int64_t tail_rows = 0, halted_steps = 0, halted_rows = 0;
  const int tail_from = o.steps - std::max(1, o.steps / 10);
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  for (int step = 0; step < o.steps; ++step) {
    for (int b = 0; b < o.batch; ++b) {
      const std::size_t k = pick(data_rng);
      std::copy_n(tr.inputs.begin() + static_cast<std::ptrdiff_t>(k * S), S, in.begin() + b * S);
      std::copy_n(tr.labels.begin() + static_cast<std::ptrdiff_t>(k * S), S, lab.begin() + b * S);
    }
    const auto r = trn.train_batch({in.data(), lab.data(), ids.data(), o.batch});
    if (step >= tail_from) { loss_tail += r.metrics.lm_loss; tail_rows += o.batch; }
    halted_steps += r.metrics.steps;
    halted_rows += r.metrics.count;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu_ms = (cpu_seconds() - c0) * 1e3 / o.steps;
  // evaluation on the test puzzles (padding rows of the last batch carry no labels)
  std::size_t next_row = 0;
  std::vector<std::int32_t> ein(in.size()), elab(in.size());
  auto next = [&](batch_ref& b, index_t& real) {
    if (next_row >= te.size()) return false;
    real = static_cast<index_t>(std::min<std::size_t>(static_cast<std::size_t>(o.batch), te.size() - next_row));
    std::fill(ein.begin(), ein.end(), 1);
    std::fill(elab.begin(), elab.end(), ignore_label);
    std::copy_n(te.inputs.begin() + static_cast<std::ptrdiff_t>(next_row * S), real * S, ein.begin());
    std::copy_n(te.labels.begin() + static_cast<std::ptrdiff_t>(next_row * S), real * S, elab.begin());
    next_row += static_cast<std::size_t>(real);
    b = {ein.data(), elab.data(), ids.data(), o.batch};
    return true;
  };
  const auto ev = train::evaluate(*m, o.batch, next);
  row r{name, description, M::param_count, ev.exact_accuracy(), ev.accuracy(), loss_tail / std::max<std::int64_t>(tail_rows, 1),
        halted_rows ? static_cast<double>(halted_steps) / static_cast<double>(halted_rows) : 0.0, o.steps / secs, secs, cpu_ms};
  std::fprintf(stderr, "%-18s exact %.3f  token %.3f  loss %.4f  steps/s %.2f  cpu ms/step %.0f  (%.0f s)\n", name.c_str(), r.exact,
               r.token, r.loss, r.steps_per_s, cpu_ms, secs);
  return r;
}

std::string cpu_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}
std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) { std::fprintf(stderr, "gtrm_ablation: %s needs a value\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--steps") o.steps = std::stoi(val());
    else if (a == "--batch") o.batch = std::stoi(val());
    else if (a == "--givens") o.givens = std::stoi(val());
    else if (a == "--train") o.train = std::stoi(val());
    else if (a == "--test") o.test = std::stoi(val());
    else if (a == "--seed") o.seed = std::stoull(val());
    else if (a == "--lr") o.lr = std::stod(val());
    else if (a == "--out") o.out = val();
    else if (a == "--only") {
      std::stringstream ss(val());
      std::string t;
      while (std::getline(ss, t, ',')) o.only.insert(t);
    } else {
      std::fprintf(stderr, "gtrm_ablation: unknown option %s (see the header of examples/ablation/ablation.cpp)\n", a.c_str());
      std::exit(2);
    }
  }
  if (o.steps < 1 || o.batch < 1 || o.train < 1 || o.test < 1) {
    std::fprintf(stderr, "gtrm_ablation: --steps, --batch, --train and --test must be positive\n");
    std::exit(2);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  const auto t_data = std::chrono::steady_clock::now();
  const dataset tr = make_data(o.train, o.givens, o.seed), te = make_data(o.test, o.givens, o.seed + 1000003);
  std::fprintf(stderr, "data: %zu train / %zu test 4x4 puzzles with %d givens (%.1f s)\n", tr.size(), te.size(), o.givens,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t_data).count());
  std::vector<row> rows;
  auto want = [&](const char* n) { return o.only.empty() || o.only.count(n) > 0; };
#define VARIANT(name, type, desc) \
  if (want(name)) rows.push_back(run_variant<type>(name, desc, o, tr, te));
  VARIANT("trm", gated<gate::none>, "TRM, no gate")
  VARIANT("ctx_scalar", gated<gate::context_scalar>, "context gate, scalar per call (GTRM main)")
  VARIANT("ctx_channel", gated<gate::context_channel>, "context gate, per channel (GTRM inputGate)")
  VARIANT("attn_headwise", gated<hw>, "attention output gate, headwise")
  VARIANT("attn_elementwise", gated<ew>, "attention output gate, elementwise")
  VARIANT("recurrent", gated<gate::recurrent<false>>, "recurrent update gate")
  VARIANT("recurrent_reset", gated<gate::recurrent<true>>, "recurrent update + reset gate")
  VARIANT("hybrid", hybrid_model, "elementwise attention + recurrent (GTRM exp4)")
  VARIANT("all", all_model, "channel + headwise + recurrent/reset")
  VARIANT("hrm", hrm_model, "HRM: H_level 2 + L_level 2 blocks, one-step grad, Q-continue")
  VARIANT("transformer", transformer_model, "transformer baseline, 4 blocks, 1 application per ACT step")
  VARIANT("lma", lma_model, "LMA, the HRM port's module (tied encoder, lma_final_proj), d' = 32, learned positions")
#undef VARIANT

  std::filesystem::path out(o.out);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  const std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  std::ostringstream cfg;
  cfg << "4x4 Sudoku, " << o.givens << " givens (unique solution), " << o.train << " train / " << o.test
      << " test puzzles generated with seed " << o.seed << " (test: seed " << o.seed + 1000003 << "); model: L = 16 + 1 puzzle slot, "
      << "hidden 64, 4 heads, expansion 4, RoPE, T = 2, n = 2, 2 layers, 4 ACT steps; training: " << o.steps << " steps of batch "
      << o.batch << ", Adam-atan2 lr " << o.lr << " (50 warm-up steps), weight decay 0.1, puzzle-embedding sign-SGD lr 1e-2, "
      << "exploration 0.1, no EMA, seed " << o.seed << " for init and data order";
  std::ostringstream machine;
  machine << cpu_name() << ", " << std::thread::hardware_concurrency() << " hardware threads, " << cpu::threads()
          << " OpenMP threads; load average at the end " << load_average() << " (a shared machine: steps/s are indicative)";
  {
    std::ofstream md(out.string() + ".md");
    md << "# Model-variant ablation (examples/ablation)\n\n"
       << "- date: " << date << "\n- machine: " << machine.str() << "\n- config: " << cfg.str() << "\n"
       << "- evaluation: every test puzzle from a fresh carry, exactly 4 ACT steps (eval mode), raw weights\n"
       << "- loss: mean per-puzzle LM loss (stablemax CE, mean over cells) over the last 10% of training steps\n\n"
       << "| variant | description | params | exact acc | token acc | train loss | mean ACT steps | cpu ms/step | steps/s |\n"
       << "|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
    char buf[512];
    for (const auto& r : rows) {
      std::snprintf(buf, sizeof buf, "| %s | %s | %lld | %.3f | %.3f | %.4f | %.2f | %.0f | %.2f |\n", r.name.c_str(),
                    r.description.c_str(), static_cast<long long>(r.params), r.exact, r.token, r.loss, r.mean_steps,
                    r.cpu_ms_per_step, r.steps_per_s);
      md << buf;
    }
  }
  {
    std::ofstream csv(out.string() + ".csv");
    csv << "# " << date << "; " << machine.str() << "\n# " << cfg.str() << "\n"
        << "variant,params,exact_accuracy,token_accuracy,train_loss,mean_act_steps,cpu_ms_per_step,steps_per_s,train_seconds\n";
    char buf[256];
    for (const auto& r : rows) {
      std::snprintf(buf, sizeof buf, "%s,%lld,%.4f,%.4f,%.5f,%.3f,%.1f,%.3f,%.1f\n", r.name.c_str(), static_cast<long long>(r.params),
                    r.exact, r.token, r.loss, r.mean_steps, r.cpu_ms_per_step, r.steps_per_s, r.seconds);
      csv << buf;
    }
  }
  std::fprintf(stderr, "wrote %s.md and %s.csv\n", o.out.c_str(), o.out.c_str());
  return 0;
}
