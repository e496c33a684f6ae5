// The inference API (include/gtrm/solve.hpp) and the tasks' puzzle text formats (include/gtrm/tasks/): augmentations
// invert and keep Sudokus valid, batch and single solving agree, fixed/adaptive/extended step counts behave, voting
// maps answers back; puzzle parsing accepts the documented forms and rejects the rest with one clear sentence.
#include <doctest/doctest.h>

#include <gtrm/cpu.hpp>
#include <gtrm/data/sudoku_generator.hpp>
#include <gtrm/presets.hpp>
#include <gtrm/solve.hpp>

#include <set>
#include <sstream>

#include <gtrm/tasks/registry.hpp>

using namespace gtrm;

namespace {
inline constexpr dims tiny_dims{.vocab = 6, .seq = 16, .puzzle_emb_len = 1, .hidden = 16, .heads = 2, .expansion = 2};
inline constexpr cycles tiny_cycles{.h = 2, .l = 1, .layers = 1, .max_act_steps = 3};
using tiny = trm<tiny_dims, tiny_cycles, mixer::attention<pos::rope>, gate::none, halt::q_head, cpu>;

std::vector<std::int32_t> sudoku4_tokens(std::uint64_t seed, bool answer) {
  data::rng r(seed);
  const auto p = data::sudoku::generate(r, 4, 6);
  const auto& g = answer ? p.answer : p.question;
  std::vector<std::int32_t> t;
  for (auto d : g) t.push_back(d + 1);
  return t;
}
}  // namespace

TEST_CASE("solve: sudoku augmentations invert and keep solutions valid") {
  for (int n : {4, 6, 9}) {
    const auto s = data::sudoku::shape_for(n);
    data::rng r(static_cast<std::uint64_t>(n));
    const auto p = data::sudoku::generate(r, n, n * n - n);
    std::vector<std::int32_t> q, a;
    for (std::size_t i = 0; i < p.question.size(); ++i) {
      q.push_back(p.question[i] + 1);
      a.push_back(p.answer[i] + 1);
    }
    const auto augs = tasks::sudoku_augmentations(n, s.box_h, s.box_w, 12, 7);
    REQUIRE(augs.size() == 12);
    CHECK(augs[0].apply(q) == q);
    for (const auto& aug : augs) {
      const auto qa = aug.apply(q), aa = aug.apply(a);
      CHECK(aug.invert(qa) == q);
      CHECK(aug.invert(aa) == a);
      std::vector<std::uint8_t> g;
      for (auto x : aa) g.push_back(static_cast<std::uint8_t>(x - 1));
      CHECK(data::sudoku::is_valid_solution(g.data(), n, s.box_h, s.box_w));
      for (std::size_t i = 0; i < qa.size(); ++i) CHECK((qa[i] == 1) == (aa[i] != qa[i]));  // blanks stay blanks
    }
  }
  CHECK_THROWS_AS(tasks::sudoku_augmentations(6, 4, 3, 2, 0), std::invalid_argument);
}

TEST_CASE("solve: dihedral augmentations are the 8 symmetries and invert") {
  const auto augs = tasks::dihedral_augmentations(3, 6);
  REQUIRE(augs.size() == 8);
  std::vector<std::int32_t> g = {1, 2, 3, 4, 5, 1, 2, 3, 4};
  std::set<std::vector<std::int32_t>> distinct;
  for (const auto& a : augs) {
    distinct.insert(a.apply(g));
    CHECK(a.invert(a.apply(g)) == g);
  }
  CHECK(distinct.size() == 8);
  CHECK(augs[6].apply(g) == std::vector<std::int32_t>{1, 4, 2, 2, 5, 3, 3, 1, 4});  // transpose
}

TEST_CASE("solve: steps, adaptive halting, trajectories and batches") {
  tiny m(1);
  m.init(3);
  const auto q = sudoku4_tokens(1, false);
  const auto fixed = solve(m, q);
  CHECK(fixed.steps == 3);
  CHECK(fixed.prediction.size() == 16);
  CHECK(fixed.trajectory.empty());
  CHECK(fixed.confidence == doctest::Approx(ops::sigmoid(fixed.q_halt)));
  CHECK_FALSE(fixed.halted);

  const auto more = solve(m, q, {.max_steps = 7, .trajectory = true});
  CHECK(more.steps == 7);
  REQUIRE(more.trajectory.size() == 7);
  CHECK(more.trajectory[2].prediction == fixed.prediction);  // the first 3 steps are the default run
  CHECK(more.trajectory[2].q_halt == doctest::Approx(fixed.q_halt));
  CHECK(more.trajectory.back().prediction == more.prediction);

  // a fresh model's q_halt is -5 (bias): adaptive halting never fires, so it runs to the limit
  const auto adaptive = solve(m, q, {.max_steps = 5, .adaptive = true});
  CHECK(adaptive.steps == 5);
  CHECK_FALSE(adaptive.halted);
  // with the Q head pushed positive it halts at once (or at min_steps)
  tiny h = m;
  h.params()[tiny::layout[tiny::idx_qb].offset] = 5;
  CHECK(solve(h, q, {.max_steps = 5, .adaptive = true}).steps == 1);
  const auto late = solve(h, q, {.max_steps = 5, .adaptive = true, .min_steps = 3});
  CHECK(late.steps == 3);
  CHECK(late.halted);

  // a batch solves each row as if alone
  const auto q2 = sudoku4_tokens(2, false);
  std::vector<std::int32_t> both = q;
  both.insert(both.end(), q2.begin(), q2.end());
  batch_solver<tiny> bs(m, 4);
  const auto rs = bs.solve(both.data(), nullptr, 2, {});
  CHECK(rs[0].prediction == fixed.prediction);
  CHECK(rs[1].prediction == solve(m, q2).prediction);
  CHECK_THROWS_AS(bs.solve(both.data(), nullptr, 5, {}), std::invalid_argument);
  CHECK_THROWS_AS(solve(m, std::vector<std::int32_t>(15, 1)), std::invalid_argument);
}

TEST_CASE("solve: voting maps every version's answer back before counting") {
  tiny m(1);
  m.init(4);
  const auto q = sudoku4_tokens(3, false);
  const auto augs = tasks::sudoku_augmentations(4, 2, 2, 6, 1);
  const auto v = solve_voting(m, q, augs, {.trajectory = true});
  CHECK(v.versions == 6);
  int votes = 0;
  for (const auto& c : v.ranking) votes += c.votes;
  CHECK(votes == 6);
  for (std::size_t i = 1; i < v.ranking.size(); ++i) CHECK(v.ranking[i - 1].votes >= v.ranking[i].votes);
  CHECK(v.best.prediction == v.ranking.front().prediction);
  CHECK(v.best.trajectory.back().prediction == v.best.prediction);
  // an `accept` predicate ranks accepted answers first, whatever their votes
  const auto target = v.ranking.back().prediction;
  const auto w = solve_voting(m, q, augs, {}, [&](std::span<const std::int32_t> p) {
    return std::vector<std::int32_t>(p.begin(), p.end()) == target;
  });
  CHECK(w.best.prediction == target);
}

TEST_CASE("tool puzzle text: Sudoku strings, drawn grids and CSV rows") {
  using namespace gtrm::tasks;
  const auto t_owner = make_task("sudoku", 8, 36);
  const task& t = *t_owner;
  CHECK(t.box_h() == 2);
  CHECK(t.box_w() == 3);
  const auto tok = t.parse("1.3...|..2...|......|......|......|.....6", "arg");
  CHECK(tok.size() == 36);
  CHECK(tok[0] == 2);
  CHECK(tok[1] == 1);
  CHECK(tok[35] == 7);
  CHECK(t.to_line(tok) == "1.3.....2..........................6");
  const auto grid = t.to_grid_lines(tok);
  REQUIRE(grid.size() == 8);  // 6 rows + 2 box rules
  CHECK(grid[0] == "1 . 3 | . . .");
  CHECK(grid[2] == "------+------");
  CHECK(t.parse(std::string(36, '0'), "a") == std::vector<std::int32_t>(36, 1));

  const auto msg = [&](const std::string& s) {
    try {
      t.parse(s, "argument 1");
    } catch (const input_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(msg(std::string(35, '.')) == "argument 1: a 6x6 Sudoku has 36 cells, got 35");
  CHECK(msg("7" + std::string(35, '.')) == "argument 1: '7' (cell 1) is not a digit 1-6 or a blank ('.', '0' or '_')");
  CHECK(msg(std::string(35, '.') + "x").find("'x' (cell 36)") != std::string::npos);

  std::istringstream in("# comment\n1.3...\n..2...\n------+------\n......\n......\n......\n.....6\n"
                        "source,question,answer,rating\n"
                        "g," + std::string(36, '.') + ",123456456123234561561234345612612345,0\n" +
                        std::string(36, '.') + "\n");
  const auto ps = t.read_puzzles(in, "f");
  REQUIRE(ps.size() == 3);
  CHECK(ps[0].where == "f:2");
  CHECK(ps[0].tokens == tok);
  CHECK(ps[1].where == "f:10");
  REQUIRE(ps[1].answer.has_value());
  CHECK(ps[1].answer->at(0) == 2);
  CHECK(ps[2].where == "f:11");
  std::istringstream bad("1.3...\n..2..\n");
  CHECK_THROWS_WITH_AS(t.read_puzzles(bad, "f"), "f:2: expected row 2 of the grid that starts at line 1 (6 cells), got 5 cells",
                       input_error);
}

TEST_CASE("tool puzzle text: answers are checked, mazes and ARC grids read") {
  using namespace gtrm::tasks;
  const auto t_owner = make_task("sudoku", 6, 16);
  const task& t = *t_owner;
  const auto q = sudoku4_tokens(5, false), a = sudoku4_tokens(5, true);
  CHECK(t.check(q, a) == true);
  auto wrong = a;
  std::swap(wrong[0], wrong[1]);
  CHECK(t.check(q, wrong) == false);
  CHECK(t.check(q, q) == false);  // blanks left

  const auto m_owner = make_task("maze", 6, 16);
  const task& m = *m_owner;
  const auto maze = m.parse("S   ### #   #  G", "m");
  CHECK(maze[0] == 3);
  CHECK(maze[15] == 4);
  const auto path = m.parse_answer("Sooo###o#  o#  G", "m");
  CHECK(m.check(maze, path) == true);
  CHECK(m.check(maze, m.parse_answer("Sooo###o#   #  G", "m")) == false);
  CHECK_THROWS_WITH_AS(m.parse("S   ### #   #  X", "m"),
                       "m: 'X' (cell 16) is not one of the maze characters '#', ' ', 'S', 'G', 'o'", input_error);
  CHECK_THROWS_WITH_AS(m.parse("    ### #   #  G", "m"), "m: a maze needs exactly one S and one G, got 0 and 1",
                       input_error);

  const auto arc_owner = make_task("arc", 12, 900);
  const task& arc = *arc_owner;
  const auto g = arc.parse("[[1,2],[3,4]]", "a");
  CHECK(g.size() == 900);
  CHECK(arc.to_line(g) == "[[1,2],[3,4]]");
  CHECK_THROWS_AS(arc.parse("[[1,2],[3]]", "a"), input_error);
  CHECK_THROWS_AS(arc.parse("[[10]]", "a"), input_error);
  CHECK_THROWS_AS(make_task("sudoku", 11, 36), input_error);
}
