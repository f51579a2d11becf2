#include "runtime/rawdata.h"
