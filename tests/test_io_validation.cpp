// Validation at load (docs/robustness.md): what the file readers refuse, each with one message naming the file and
// the tensor, field or row. One case per kind of bad input; the CLI's side is tools/check_cli_reliability.cmake.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/data/csv.hpp>
#include <gtrm/data/dataset.hpp>
#include <gtrm/data/maze.hpp>
#include <gtrm/data/npy.hpp>
#include <gtrm/io/safetensors.hpp>
#include <gtrm/io/state_dict.hpp>
#include <gtrm/train/trainer.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "reversal_task.hpp"

namespace fs = std::filesystem;
using namespace gtrm;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path p = fs::path(GTRM_BINARY_DIR) / "test-validation-tmp" / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

inline constexpr dims toy_dims{.vocab = 6, .seq = 6, .puzzle_emb_len = 1, .puzzle_emb_ndim = 16, .hidden = 16, .heads = 2, .expansion = 2};
inline constexpr cycles toy_cycles{.h = 2, .l = 1, .layers = 1, .max_act_steps = 2};
using toy = trm<toy_dims, toy_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>;
using toy_data = testing::reversal_task;

train::train_config toy_config() {
  return {.global_batch_size = toy_data::B, .total_steps = 100, .lr = 3e-3, .lr_warmup_steps = 2, .weight_decay = 0.01,
          .puzzle_emb_lr = 1e-2, .halt_exploration_prob = 0.1, .ema = true, .ema_rate = 0.99, .seed = 3};
}

// Copies `from` to `to`, replacing the int32 tensor `name` by `values` (same shape) and metadata `meta_key` if given.
void rewrite(const fs::path& from, const fs::path& to, const std::string& name, const std::vector<std::int32_t>& values,
             const std::string& meta_key = "", const std::string& meta_value = "") {
  const io::safetensors_reader r(from);
  io::safetensors_writer w;
  for (const auto& n : r.names()) {
    const auto& t = r.info(n);
    if (n == name) w.add(n, t.shape, values.data());
    else w.add_raw(n, t.type, t.shape, r.raw(n));
  }
  for (const auto& [k, v] : r.metadata()) w.metadata(k, k == meta_key ? meta_value : v);
  w.save(to);
}

}  // namespace

TEST_CASE("validation: a checkpoint with a NaN or infinite weight is refused, the tensor named") {
  const auto dir = fresh_dir("nan");
  toy m(1);
  m.init(1);
  const auto& first = toy::layout[1];
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    toy damaged(1);
    damaged.init(1);
    damaged.params()[first.offset + 3] = bad;
    io::safetensors_writer w;
    io::add_state_dict(damaged, w);
    w.save(dir / "model.safetensors");
    toy loaded(1);
    const auto msg = error_of([&] { io::load_state_dict(loaded, io::safetensors_reader(dir / "model.safetensors")); });
    CAPTURE(msg);
    CHECK(has(msg, (dir / "model.safetensors").string()));
    CHECK(has(msg, "tensor " + first.full_name() + " holds a non-finite value (" + (bad != bad ? "NaN" : "-inf") + " at element 3)"));
  }
  // the same file with finite weights loads
  io::safetensors_writer w;
  io::add_state_dict(m, w);
  w.save(dir / "fine.safetensors");
  toy loaded(1);
  io::load_state_dict(loaded, io::safetensors_reader(dir / "fine.safetensors"));
  CHECK(std::equal(m.params().begin(), m.params().end(), loaded.params().begin()));
}

TEST_CASE("validation: a training state with out-of-range carry ids or unreadable counters is refused at load") {
  const auto dir = fresh_dir("state");
  toy_data data(1, 12);
  toy a(1);
  a.init(5);
  train::trainer<toy> ta(a, toy_config());
  for (int k = 0; k < 3; ++k) ta.train_batch(data.batch(k));
  ta.save_state(dir / "state.safetensors");
  const auto load = [&](const fs::path& f) {
    toy b(1);
    train::trainer<toy> tb(b, toy_config());
    tb.load_state(f);
  };
  load(dir / "state.safetensors");  // the saved state itself loads

  const std::size_t cells = static_cast<std::size_t>(toy_data::B) * toy::S;
  std::vector<std::int32_t> tokens(cells, 1);
  tokens[5] = 99;  // outside the vocabulary of 6
  rewrite(dir / "state.safetensors", dir / "bad_inputs.safetensors", "train/carry.inputs", tokens);
  auto msg = error_of([&] { load(dir / "bad_inputs.safetensors"); });
  CAPTURE(msg);
  CHECK(has(msg, "training state " + (dir / "bad_inputs.safetensors").string()));
  CHECK(has(msg, "tensor train/carry.inputs holds 99 at element 5, expected ids in [0, 6)"));

  tokens[5] = -100;  // the ignore label: fine for labels
  rewrite(dir / "state.safetensors", dir / "ignored_labels.safetensors", "train/carry.labels", tokens);
  load(dir / "ignored_labels.safetensors");

  std::vector<std::int32_t> ids(static_cast<std::size_t>(toy_data::B), 0);
  ids[1] = 7;  // the toy model has one puzzle embedding row
  rewrite(dir / "state.safetensors", dir / "bad_ids.safetensors", "train/carry.puzzle_identifiers", ids);
  msg = error_of([&] { load(dir / "bad_ids.safetensors"); });
  CHECK(has(msg, "tensor train/carry.puzzle_identifiers holds 7 at element 1, expected ids in [0, 1)"));

  rewrite(dir / "state.safetensors", dir / "bad_step.safetensors", "", {}, "train.step", "3x");
  msg = error_of([&] { load(dir / "bad_step.safetensors"); });
  CHECK(has(msg, "metadata train.step is '3x', expected a whole number >= 0"));
}

TEST_CASE("validation: an npy shape whose element count overflows is refused before allocating") {
  const auto dir = fresh_dir("npy");
  std::string header = "{'descr': '|u1', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::ofstream out(dir / "huge.npy", std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  out.put(static_cast<char>(header.size() & 0xff));
  out.put(static_cast<char>(header.size() >> 8));
  out << header << std::string(16, '\0');
  out.close();
  const auto msg = error_of([&] { data::read_npy<std::uint8_t>(dir / "huge.npy"); });
  CAPTURE(msg);
  CHECK(has(msg, (dir / "huge.npy").string()));
  CHECK(has(msg, "has more elements than memory can address"));
}

TEST_CASE("validation: a dataset split with no examples is refused when read") {
  const auto dir = fresh_dir("empty");
  data::split_data d;
  d.seq_len = 3;
  data::dataset_metadata m;
  m.vocab_size = 5;
  m.seq_len = 3;
  m.num_puzzle_identifiers = 1;
  m.total_groups = 0;
  m.total_puzzles = 0;
  data::write_split(dir, "test", m, d);  // writing one is allowed (a builder may have no test pairs)
  const auto msg = error_of([&] { data::read_split(dir, "test"); });
  CAPTURE(msg);
  CHECK(has(msg, "all__inputs.npy: the test split holds no examples; expected at least one"));
}

TEST_CASE("validation: a UTF-8 byte-order mark before a CSV header is skipped (spreadsheets write one)") {
  const auto dir = fresh_dir("bom");
  std::ofstream(dir / "excel.csv", std::ios::binary) << "\xEF\xBB\xBFsource,question,answer,rating\r\nx,1.,12,0\r\n";
  auto r = data::open_puzzle_csv(dir / "excel.csv");
  data::csv_row row;
  REQUIRE(r.next(row));
  CHECK(row.fields == std::vector<std::string>{"x", "1.", "12", "0"});
  // a BOM elsewhere is data, not a marker: the header check still names the file
  std::ofstream(dir / "twice.csv", std::ios::binary) << "\xEF\xBB\xBF\xEF\xBB\xBFsource,question,answer,rating\n";
  CHECK(has(error_of([&] { data::open_puzzle_csv(dir / "twice.csv"); }), "expected the header source,question,answer,rating"));
}

TEST_CASE("validation: the maze generator refuses an impossible path length up front") {
  const auto dir = fresh_dir("maze");
  data::maze::generate_config cfg;
  cfg.output_dir = dir / "out";
  cfg.size = 5;
  cfg.min_path_length = 24;  // 25 cells: a shortest path has at most 24 moves
  cfg.num_train = cfg.num_test = 1;
  const auto msg = error_of([&] { data::maze::generate_dataset(cfg); });
  CAPTURE(msg);
  CHECK(has(msg, "--min-path-length: a shortest path on a 5x5 grid has at most 24 moves"));
  CHECK(!fs::exists(cfg.output_dir));
}
