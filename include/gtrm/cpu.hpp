// gtrm with the CPU backend (Eigen, OpenMP). Include from .cpp files.
#pragma once
#include "backend/cpu/cpu.hpp"
#include "backend/cpu/cpu_bf16.hpp"
#include "gtrm.hpp"
