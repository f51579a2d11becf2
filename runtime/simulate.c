#include "runtime/simulate.h"
