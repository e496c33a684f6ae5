// `gtrm data ...`: the dataset builders and generators (include/gtrm/data/), flags named as the reference's:
//   gtrm data sudoku   --output-dir D --train-csv F [--test-csv F] ...   (dataset/build_sudoku_dataset.py)
//   gtrm data maze     --output-dir D --train-csv F [--test-csv F] ...   (dataset/build_maze_dataset.py)
//   gtrm data arc      --output-dir D --input-file-prefix P | --input-dir D [--subsets a,b=path,...] ...
//   gtrm data generate sudoku|maze --output-dir D ...                  (seeded puzzles)
// data_commands::add() wires them under a CLI11 (sub)command; run() builds what was parsed.
#pragma once
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <gtrm/data/arc.hpp>
#include <gtrm/data/maze.hpp>
#include <gtrm/data/sudoku.hpp>
#include <gtrm/data/sudoku_generator.hpp>

#include "checks.hpp"

namespace gtrm::cli {

// One progress line on stderr, rewritten in place on a terminal; elsewhere (logs) a line per 10%.
class data_progress {
 public:
  data_progress() : tty_(isatty(STDERR_FILENO) != 0) {}
  void operator()(std::string_view stage, std::size_t done, std::size_t total) {
    const int pct = total ? static_cast<int>(100 * done / total) : 100;
    if (stage == stage_ && (tty_ ? pct == pct_ : pct / 10 == pct_ / 10)) return;
    if (stage != stage_ && tty_ && !stage_.empty()) std::fputc('\n', stderr);
    stage_ = std::string(stage);
    pct_ = pct;
    std::fprintf(stderr, "%s%s: %zu/%zu (%d%%)%s", tty_ ? "\r" : "", stage_.c_str(), done, total, pct, tty_ ? "" : "\n");
    if (tty_ && done == total) {
      std::fputc('\n', stderr);
      stage_.clear();
    }
    std::fflush(stderr);
  }

 private:
  bool tty_;
  std::string stage_;
  int pct_ = -1;
};

struct data_commands {
  CLI::App* data = nullptr;
  CLI::App *sudoku = nullptr, *maze = nullptr, *arc = nullptr, *gen_sudoku = nullptr, *gen_maze = nullptr;
  bool quiet = false;

  data::sudoku::build_config sc;
  std::string s_test_csv;
  std::size_t s_subsample = 0;
  long long s_min_difficulty = 0;
  CLI::Option *s_test_opt = nullptr, *s_sub_opt = nullptr, *s_diff_opt = nullptr;

  data::maze::build_config mc;
  std::string m_test_csv;
  std::size_t m_subsample = 0;
  CLI::Option *m_test_opt = nullptr, *m_sub_opt = nullptr;

  data::arc_dataset_options ac;

  data::sudoku::generate_config gs;
  std::string gs_csv;
  CLI::Option* gs_csv_opt = nullptr;
  data::maze::generate_config gm;
  std::string gm_csv;
  CLI::Option* gm_csv_opt = nullptr;

  // Adds the builders as subcommands of `parent` (gtrm adds them under `gtrm data`). Every number has its range
  // (checks.hpp): counts up to 10^8, seeds as each generator takes them.
  void add(CLI::App& parent) {
    constexpr long long max_count = 100'000'000, seed_max = 9'223'372'036'854'775'807LL;
    // ---- sudoku ----
    sudoku = parent.add_subcommand("sudoku", "Build Sudoku(-Extreme) from CSV files (source,question,answer,rating)");
    sudoku->add_option("--output-dir", sc.output_dir, "Dataset directory to create")->required();
    sudoku->add_option("--train-csv", sc.train_csv, "Training CSV")->required()->check(CLI::ExistingFile);
    s_test_opt = sudoku->add_option("--test-csv", s_test_csv, "Test CSV (default: split --train-csv)")->check(CLI::ExistingFile);
    sudoku->add_option("--test-fraction", sc.test_fraction, "Share of --train-csv used for test when no --test-csv")
        ->capture_default_str()
        ->check(real_number(0, 1))
        ->excludes(s_test_opt);
    s_sub_opt = sudoku->add_option("--subsample-size", s_subsample, "Keep this many random training puzzles")
                    ->check(whole_number(1, max_count));
    sudoku->add_option("--num-aug", sc.num_aug, "Shuffled versions per training puzzle (§5.1)")
        ->capture_default_str()
        ->check(whole_number(0, 100'000));
    s_diff_opt = sudoku->add_option("--min-difficulty", s_min_difficulty, "Keep rows whose rating is at least this");
    sudoku->add_option("--seed", sc.seed, "Seed (numpy legacy RNG: same choices as the reference after np.random.seed)")
        ->capture_default_str()
        ->check(whole_number(0, 4'294'967'295));
    sudoku->add_flag("--skip-bad", sc.skip_bad, "Skip malformed rows with a warning instead of failing");
    sudoku->add_flag("--overwrite", sc.overwrite, "Replace an existing dataset at --output-dir");

    // ---- maze ----
    maze = parent.add_subcommand("maze", "Build Maze(-Hard) from CSV files (source,question,answer,rating; \"# SGo\")");
    maze->add_option("--output-dir", mc.output_dir, "Dataset directory to create")->required();
    maze->add_option("--train-csv", mc.train_csv, "Training CSV")->required()->check(CLI::ExistingFile);
    m_test_opt = maze->add_option("--test-csv", m_test_csv, "Test CSV (default: split --train-csv)")->check(CLI::ExistingFile);
    maze->add_option("--test-fraction", mc.test_fraction, "Share of --train-csv used for test when no --test-csv")
        ->capture_default_str()
        ->check(real_number(0, 1))
        ->excludes(m_test_opt);
    m_sub_opt = maze->add_option("--subsample-size", m_subsample, "Keep this many random training mazes")
                    ->check(whole_number(1, max_count));
    maze->add_flag("--aug", mc.aug, "Add the 8 dihedral versions of each training maze (one group)");
    maze->add_option("--seed", mc.seed, "Seed (numpy legacy RNG: same choices as the reference after np.random.seed)")
        ->capture_default_str()
        ->check(whole_number(0, 4'294'967'295));
    maze->add_flag("--skip-bad", mc.skip_bad, "Skip malformed rows with a warning instead of failing");
    maze->add_flag("--overwrite", mc.overwrite, "Replace an existing dataset at --output-dir");

    // ---- arc ----
    arc = parent.add_subcommand(
        "arc", "Build ARC (ARC-AGI-1/2, ConceptARC) from per-task JSON folders or combined challenges/solutions files");
    arc->add_option("--output-dir", ac.output_dir, "Dataset directory to create")->required();
    auto* a_dir_opt = arc->add_option("--input-dir", ac.source.input_dir,
                                      "Folder holding one folder of per-task JSON files per subset (<dir>/<name>/)")
                          ->check(CLI::ExistingDirectory);
    arc->add_option("--input-file-prefix", ac.source.input_file_prefix,
                    "Combined files <prefix>_<name>_challenges.json (+ <prefix>_<name>_solutions.json)")
        ->excludes(a_dir_opt);
    arc->add_option("--subsets", ac.source.subsets,
                    "Comma list of subsets, in order; each 'name' (found via --input-dir or --input-file-prefix) or "
                    "'name=path' (a per-task folder, searched recursively, or a *_challenges.json file)")
        ->delimiter(',')
        ->capture_default_str();
    arc->add_option("--test-set-name", ac.build.test_set_name, "Subset whose test pairs form the test split")->capture_default_str();
    arc->add_option("--test-set-name2", ac.build.test_set_name2, "A second such subset")->capture_default_str();
    arc->add_option("--seed", ac.build.seed, "Seed (numpy legacy RNG: same draws as the reference after np.random.seed)")
        ->capture_default_str()
        ->check(whole_number(0, 4'294'967'295));
    arc->add_option("--num-aug", ac.build.num_aug, "Augmented versions per task (dihedral + colour, deduplicated)")
        ->capture_default_str()
        ->check(whole_number(0, 1'000'000));
    arc->add_option("--puzzle-identifiers-start", ac.build.puzzle_identifiers_start,
                    "First puzzle identifier (0 is <blank>; ids 1..start-1 are <blank> too)")
        ->capture_default_str()
        ->check(whole_number(1, 1'000'000));
    arc->add_flag("--skip-bad", ac.source.skip_bad, "Skip malformed tasks with a warning instead of failing");
    arc->add_flag("--overwrite", ac.overwrite, "Replace an existing dataset at --output-dir");
    arc->add_flag("--quiet", quiet, "No progress bar and no summary (warnings and errors still go to stderr)");

    // ---- generate sudoku | maze ----
    auto* generate = parent.add_subcommand("generate", "Generate seeded puzzles and write them as a dataset");
    generate->require_subcommand(1);
    gen_sudoku = generate->add_subcommand("sudoku", "Sudoku with a unique solution (4x4, 6x6 or 9x9)");
    gen_sudoku->add_option("--output-dir", gs.output_dir, "Dataset directory to create")->required();
    gen_sudoku->add_option("--size", gs.size, "Grid side: 4 (2x2 boxes), 6 (2x3 boxes) or 9 (3x3 boxes)")
        ->capture_default_str()
        ->check(CLI::IsMember({4, 6, 9}));
    gen_sudoku->add_option("--givens", gs.givens, "Givens per puzzle (at most size x size)")->capture_default_str()->check(whole_number(0, 81));
    gen_sudoku->add_option("--num-train", gs.num_train, "Training puzzles")->capture_default_str()->check(whole_number(1, max_count));
    gen_sudoku->add_option("--num-test", gs.num_test, "Test puzzles")->capture_default_str()->check(whole_number(1, max_count));
    gen_sudoku->add_option("--num-aug", gs.num_aug, "Shuffled versions per training puzzle (9x9 only)")
        ->capture_default_str()
        ->check(whole_number(0, 100'000));
    gen_sudoku->add_option("--seed", gs.seed, "Seed")->capture_default_str()->check(whole_number(0, seed_max));
    gs_csv_opt = gen_sudoku->add_option("--csv-dir", gs_csv, "Also write train.csv and test.csv here");
    gen_sudoku->add_flag("--overwrite", gs.overwrite, "Replace an existing dataset at --output-dir");

    gen_maze = generate->add_subcommand("maze", "Mazes whose shortest path is longer than a threshold");
    gen_maze->add_option("--output-dir", gm.output_dir, "Dataset directory to create")->required();
    gen_maze->add_option("--size", gm.size, "Grid side")->capture_default_str()->check(whole_number(2, 255));
    gen_maze->add_option("--num-train", gm.num_train, "Training mazes")->capture_default_str()->check(whole_number(1, max_count));
    gen_maze->add_option("--num-test", gm.num_test, "Test mazes")->capture_default_str()->check(whole_number(1, max_count));
    gen_maze->add_option("--min-path-length", gm.min_path_length,
                         "Keep mazes whose shortest S-G path has more moves than this (below size x size - 1)")
        ->capture_default_str()
        ->check(whole_number(0, 65'023));
    gen_maze->add_option("--wall-prob", gm.wall_prob, "Probability that a cell is a wall")
        ->capture_default_str()
        ->check(real_number(0, 0.99));
    gen_maze->add_flag("--unique-path", gm.unique_path, "Keep only mazes with exactly one shortest path");
    gen_maze->add_flag("--aug", gm.aug, "Add the 8 dihedral versions of each training maze (one group)");
    gen_maze->add_option("--seed", gm.seed, "Seed")->capture_default_str()->check(whole_number(0, seed_max));
    gm_csv_opt = gen_maze->add_option("--csv-dir", gm_csv, "Also write train.csv and test.csv here");
    gen_maze->add_flag("--overwrite", gm.overwrite, "Replace an existing dataset at --output-dir");
  }

  bool parsed() const {
    return sudoku->parsed() || maze->parsed() || arc->parsed() || gen_sudoku->parsed() || gen_maze->parsed();
  }

  static void report_rows(const char* what, const data::row_report& r) {
    std::fprintf(stderr, "%s: %zu rows, %zu kept, %zu filtered, %zu skipped as bad\n", what, r.rows, r.kept, r.filtered, r.skipped);
  }

  // The dataset writer refuses an occupied output directory only after the build; say so before any work.
  static void check_output_dir(const std::filesystem::path& dir, bool overwrite) {
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) return;
    if (!std::filesystem::is_directory(dir, ec)) throw data::data_error(dir.string() + ": exists and is not a directory");
    if (std::filesystem::is_empty(dir, ec)) return;
    if (!overwrite) throw data::data_error(dir.string() + ": output directory exists and is not empty (use --overwrite)");
    if (!std::filesystem::exists(dir / "identifiers.json", ec))
      throw data::data_error(dir.string() + ": refusing to overwrite a directory that is not a dataset (no identifiers.json)");
  }

  // Runs the parsed builder; errors propagate as exceptions (the caller prints one line). `prog` prefixes warnings.
  int run(const std::string& prog) {
    if (sudoku->parsed()) check_output_dir(sc.output_dir, sc.overwrite);
    if (maze->parsed()) check_output_dir(mc.output_dir, mc.overwrite);
    if (arc->parsed()) check_output_dir(ac.output_dir, ac.overwrite);
    if (gen_sudoku->parsed()) check_output_dir(gs.output_dir, gs.overwrite);
    if (gen_maze->parsed()) check_output_dir(gm.output_dir, gm.overwrite);
    data_progress progress;
    const data::progress_fn prog_fn = [&](std::string_view s, std::size_t d, std::size_t t) { progress(s, d, t); };
    const data::warn_fn warn = [&](const std::string& msg) { std::fprintf(stderr, "%s: warning: %s\n", prog.c_str(), msg.c_str()); };
    if (sudoku->parsed()) {
      if (*s_test_opt) sc.test_csv = s_test_csv;
      if (*s_sub_opt) sc.subsample_size = s_subsample;
      if (*s_diff_opt) sc.min_difficulty = s_min_difficulty;
      const auto sum = data::sudoku::build(sc, prog_fn, warn);
      report_rows("train csv", sum.train_rows);
      if (sc.test_csv) report_rows("test csv", sum.test_rows);
      std::fprintf(stderr, "wrote %s: train %zu groups / %zu examples, test %zu groups / %zu examples\n",
                   sc.output_dir.string().c_str(), sum.train_groups, sum.train_examples, sum.test_groups, sum.test_examples);
    } else if (maze->parsed()) {
      if (*m_test_opt) mc.test_csv = m_test_csv;
      if (*m_sub_opt) mc.subsample_size = m_subsample;
      const auto sum = data::maze::build(mc, prog_fn, warn);
      report_rows("train csv", sum.train_rows);
      if (mc.test_csv) report_rows("test csv", sum.test_rows);
      std::fprintf(stderr, "wrote %s (%dx%d): train %zu groups / %zu examples, test %zu groups / %zu examples\n",
                   mc.output_dir.string().c_str(), sum.side, sum.side, sum.train_groups, sum.train_examples, sum.test_groups,
                   sum.test_examples);
    } else if (arc->parsed()) {
      ac.build.progress = !quiet;
      const auto sum = data::build_arc_dataset(ac);
      if (!quiet)
        std::fprintf(stderr,
                     "wrote %s: %d tasks (%d skipped as bad, %d with fewer than %d versions), %d identifiers; "
                     "train %zu puzzles / %zu examples, test %zu puzzles / %zu examples; %.1f s\n",
                     ac.output_dir.c_str(), sum.tasks, sum.skipped, sum.not_full, ac.build.num_aug + 1, sum.num_identifiers,
                     sum.train_puzzles, sum.train_examples, sum.test_puzzles, sum.test_examples, sum.seconds);
    } else if (gen_sudoku->parsed()) {
      if (*gs_csv_opt) gs.csv_dir = gs_csv;
      const auto sum = data::sudoku::generate_dataset(gs, prog_fn);
      std::fprintf(stderr, "wrote %s (%dx%d, %d givens): train %zu groups / %zu examples, test %zu\n",
                   gs.output_dir.string().c_str(), gs.size, gs.size, gs.givens, sum.train_groups, sum.train_examples,
                   sum.test_examples);
    } else if (gen_maze->parsed()) {
      if (*gm_csv_opt) gm.csv_dir = gm_csv;
      const auto sum = data::maze::generate_dataset(gm, prog_fn);
      std::fprintf(stderr, "wrote %s (%dx%d): train %zu groups / %zu examples, test %zu\n", gm.output_dir.string().c_str(),
                   gm.size, gm.size, sum.train_groups, sum.train_examples, sum.test_examples);
    }
    return 0;
  }
};

}  // namespace gtrm::cli
