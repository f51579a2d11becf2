#include "runtime/phantom.h"
