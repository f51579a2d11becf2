#include "runtime/phantom.h"
/* stub until the phantom module lands */
#include <stdlib.h>
struct phantom *phantom_load(const char *spec, double res_m, struct diag_ctx *d)
{
    (void)spec; (void)res_m;
    diag_error(d, 800, SPAN_NONE, "phantoms are not implemented yet");
    return NULL;
}
void phantom_describe(const struct phantom *p, FILE *out) { (void)p; (void)out; }
void phantom_free(struct phantom *p) { (void)p; }
