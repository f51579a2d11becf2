#include "runtime/h5.h"
