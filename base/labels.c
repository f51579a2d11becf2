/* labels: the counters' names (base/labels.h). */
#include "base/labels.h"

const char *const vm_label_names[VM_LABEL__COUNT] = {
#define X(e, s) s,
    VM_LABEL_LIST(X)
#undef X
};
