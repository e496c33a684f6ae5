// The GTRM gates (docs/variants.md §1, §2), one header each under gates/, each a policy for one site of an
// application (gates/site.hpp): gate::context_scalar and gate::context_channel (input injection),
// gate::attention<gate::headwise|gate::elementwise> (attention output), gate::recurrent<Reset> (state update).
// This header gathers the built-in ones; a new gate is a new header under gates/ and needs no line here.
#pragma once
#include "gates/attention_output.hpp"
#include "gates/context_channel.hpp"
#include "gates/context_scalar.hpp"
#include "gates/recurrent.hpp"
#include "gates/site.hpp"
