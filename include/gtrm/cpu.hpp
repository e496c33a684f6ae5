// gtrm with the CPU backend (Eigen, OpenMP). Include from .cpp files.
#pragma once
#include "backend/cpu/cpu.hpp"
#include "gtrm.hpp"
