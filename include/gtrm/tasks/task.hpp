// What a task is to the library: everything about a puzzle family that is not the model. A task (one folder under
// include/gtrm/tasks/, registered in tasks/registry.hpp) owns
//   its vocabulary and grid shape      made for a model's (vocab, seq); throws input_error when they do not fit
//   text parsing and formatting        parse, parse_answer, read_puzzles; to_line, to_grid_lines, grid_values
//   a validity check                   check(puzzle, prediction): true/false, or nullopt where the task has none
//   augmentations and their inverses   augmentations(count, seed) as token_augmentation (tasks/augmentation.hpp)
//   its evaluator                      scoring(): exact/token accuracy, or the ARC vote over the dataset's versions
//   how it is drawn                    cell_label, cell_fill, box lines, for the SVG of `gtrm solve`
// The interface is virtual because the program picks the task at run time from a checkpoint's preset; every call
// is per puzzle, far from a training step. Errors are input_error: one sentence that starts with where the input
// came from ("argument 1", "puzzles.txt:3").
#pragma once
#include <cmath>
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "augmentation.hpp"

namespace gtrm::tasks {

using token_ids = std::vector<std::int32_t>;

struct input_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct puzzle_input {
  std::string where;                   // "argument 1", "puzzles.txt:3", "stdin:2"
  token_ids tokens;
  std::optional<token_ids> answer;     // from a CSV row
};

// How `gtrm eval` scores a task: exact and token accuracy of the prediction, or in addition the ARC evaluator's
// pass@K over the dataset's augmented versions (eval/arc_vote.hpp).
enum class scoring { exact, arc_vote };

class task {
 public:
  virtual ~task() = default;

  virtual const char* kind() const = 0;   // "sudoku": the name presets and checkpoints use
  virtual std::string name() const = 0;   // "sudoku 6x6", for humans
  int vocab() const { return vocab_; }
  int seq() const { return seq_; }
  int side() const { return side_; }      // grid side (Sudoku n, maze side, ARC 30)

  // ---- text ----
  virtual token_ids parse(std::string_view text, const std::string& where) const = 0;
  virtual token_ids parse_answer(std::string_view text, const std::string& where) const = 0;
  // Puzzles of a stream (a file, stdin, or an argument that holds several): the task's file format.
  virtual std::vector<puzzle_input> read_puzzles(std::istream& in, const std::string& name) const = 0;
  // Whether a command-line argument holds a whole stream (CSV rows, or a drawn grid over lines) rather than one puzzle.
  virtual bool argument_is_stream(std::string_view arg) const { return arg.find(',') != std::string_view::npos; }
  virtual std::string to_line(const token_ids& tok) const = 0;
  virtual std::vector<std::string> to_grid_lines(const token_ids& tok) const = 0;
  virtual std::vector<std::vector<int>> grid_values(const token_ids& tok) const = 0;  // rows for JSON output
  virtual int grids_per_row() const { return 3; }  // trajectory grids side by side in text output

  // ---- meaning ----
  virtual std::optional<bool> check(const token_ids& puzzle, const token_ids& prediction) const = 0;
  bool has_check() const { return has_check_; }
  // `count` symmetric versions, the identity first; empty where the task votes otherwise (ARC: its dataset's
  // versions). Seeded, reproducible.
  virtual std::vector<token_augmentation> augmentations(int count, std::uint64_t seed) const = 0;
  bool votes_on_augmentations() const { return !augmentations(1, 0).empty(); }
  virtual scoring scoring_rule() const { return scoring::exact; }
  // "" when the answers (labels) of dataset `data` look like this task's, else a sentence saying why preset
  // `preset` does not fit it.
  virtual std::string labels_mismatch(const std::vector<std::uint8_t>& labels, const std::string& data,
                                      const std::string& preset) const {
    (void)labels, (void)data, (void)preset;
    return "";
  }

  // ---- drawing (one cell of a grid; ARC draws its cropped grid, see draw_cells) ----
  virtual std::string cell_label(std::int32_t tok) const { (void)tok; return ""; }
  virtual std::string cell_fill(std::int32_t puzzle_tok, std::int32_t tok) const = 0;
  virtual int box_h() const { return 0; }  // heavy rules every box_h rows / box_w columns; 0: a frame only
  virtual int box_w() const { return 0; }
  // The cells to draw (h x w, row-major tokens) for a prediction; the full grid unless the task crops.
  virtual token_ids draw_cells(const token_ids& tok, int& h, int& w) const {
    h = w = side_;
    return tok;
  }
  virtual bool draws_cropped() const { return false; }
  virtual double drawn_size() const { return 240.0; }

 protected:
  task(int vocab, int seq, int side, bool has_check) : vocab_(vocab), seq_(seq), side_(side), has_check_(has_check) {}

 private:
  int vocab_, seq_, side_;
  bool has_check_;
};

// The side of a square grid of seq cells; throws when seq is not a square.
inline int square_side(const char* kind, int seq) {
  const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(seq))));
  if (side * side != seq)
    throw input_error("a " + std::string(kind) + " model needs a square grid, seq_len is " + std::to_string(seq));
  return side;
}

}  // namespace gtrm::tasks
