#include "runtime/bloch/kernels.h"
