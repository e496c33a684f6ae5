// Attention output gate (Qwen G1; GTRM GatedAttentionQwenStyle, docs/variants.md §1.2), site::attn_out:
//   y = o ⊙ s,  s = σ(G)   headwise: G (N, heads), s broadcast over each head's head_dim channels;
//                          elementwise: G (N, D)
//   backward:  dG = Σ_(head channels) dy⊙o · s(1−s)  (assigns);  do = dy⊙s  (assigns, in place on dy)
// The logits G are `logits` extra rows of every qkv_proj, laid out [Q | G | K | V] (model/block.hpp does the
// products); they share qkv_proj's initialisation, so this gate adds no tensor of its own.
#pragma once
#include <type_traits>

#include "site.hpp"

namespace gtrm::gate {

template <class Form>
struct attention {
  static_assert(std::is_same_v<Form, headwise> || std::is_same_v<Form, elementwise>,
                "gate::attention<Form>: Form must be gate::headwise or gate::elementwise");
  using site = site::attn_out;
  static constexpr const char* config_name = std::is_same_v<Form, headwise> ? "headwise" : "elementwise";  // attention_gate
  template <class C>
  struct op {
    static constexpr int heads = C::heads, head_dim = C::head_dim, D = C::width;
    static constexpr bool active = true;
    static constexpr int logits = std::is_same_v<Form, headwise> ? heads : D;  // extra qkv_proj rows
    static constexpr double forward_flops = 2.0 * C::rows * D * logits;          // per block

    // s = σ(g) in place; y = o ⊙ s
    template <class Be, class T>
    static void forward(const Be& be, cview<T, D> o, view<T, logits> g, view<T, D> y) {
      be.parallel_for(o.rows(), [=] GTRM_HD (index_t r) {
        T* s = g.row(r);
        for (int c = 0; c < logits; ++c) s[c] = sigmoid(s[c]);
        const T* a = o.row(r);
        T* d = y.row(r);
        for (int c = 0; c < D; ++c) d[c] = a[c] * s[logits == D ? c : c / head_dim];
      });
    }
    // y = o ⊙ s from the saved s (backward recomputes what o_proj saw)
    template <class Be, class T>
    static void apply(const Be& be, cview<T, D> o, cview<T, logits> s, view<T, D> y) {
      be.parallel_for(o.rows(), [=] GTRM_HD (index_t r) {
        const T* a = o.row(r);
        const T* sr = s.row(r);
        T* d = y.row(r);
        for (int c = 0; c < D; ++c) d[c] = a[c] * sr[logits == D ? c : c / head_dim];
      });
    }
    // Assigns dg (the logits' gradient) and turns dy into do = dy ⊙ s in place.
    template <class Be, class T>
    static void backward(const Be& be, cview<T, D> o, cview<T, logits> s, view<T, D> dy, view<T, logits> dg) {
      be.parallel_for(o.rows(), [=] GTRM_HD (index_t r) {
        const T* a = o.row(r);
        const T* sr = s.row(r);
        T* d = dy.row(r);
        T* gr = dg.row(r);
        if constexpr (logits == D) {
          for (int c = 0; c < D; ++c) {
            gr[c] = d[c] * a[c] * sr[c] * (T(1) - sr[c]);
            d[c] *= sr[c];
          }
        } else {
          for (int h = 0; h < heads; ++h) {
            T acc = 0;
            for (int c = 0; c < head_dim; ++c) {
              acc += d[h * head_dim + c] * a[h * head_dim + c];
              d[h * head_dim + c] *= sr[h];
            }
            gr[h] = acc * sr[h] * (T(1) - sr[h]);
          }
        }
      });
    }
  };
};

}  // namespace gtrm::gate
