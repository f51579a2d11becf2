#include "runtime/bloch/sim.h"
