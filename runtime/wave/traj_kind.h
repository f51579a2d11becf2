/*
 * traj_kind: what kind of trajectory a program plays, told from k at every
 * ADC sample (kspace_traj's samples), as the name ISMRMRD's header gives
 * it. Never from labels or gradient polarity alone: a reversed line is EPI
 * only when every line runs along the readout axis.
 *
 * An ADC during which k does not move (an FID) fits every kind. The others
 * are sorted by their k: straight and evenly sampled lines, all along x,
 * are Cartesian (EPI when some run backwards); straight lines in other
 * directions that pass the centre of k-space are radial; curves that turn
 * about the centre one way are spirals; anything else is "other".
 */
#ifndef LARMOR_TRAJ_KIND_H
#define LARMOR_TRAJ_KIND_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/wave/kspace_traj.h"

struct traj_kind {
    size_t moving;               /* ADCs during which k moves */
    size_t curved;               /* of those, not a straight evenly sampled line */
    bool all_parallel;           /* every line along first_dir (either way) */
    bool all_through_centre;     /* every line passes k = 0 */
    bool all_winding;            /* every curve turns about k = 0 one way */
    double first_dir[3];         /* the first line's direction (unit) */
};

void traj_kind_init(struct traj_kind *t);
/* One ADC's samples (a ktraj_opts.on_adc callback; ctx is a traj_kind). */
void traj_kind_adc(void *ctx, const struct ktraj_sample *s, size_t n);
/* Play program p on the k-space backend (gamma-bar in Hz/T), every ADC
   into t (initialised here); vm_run's status. */
struct lbc_program;
int traj_kind_run(struct traj_kind *t, const struct lbc_program *p, double gamma);
/* "cartesian", "epi", "radial", "spiral" or "other". reversed: some lines
   are read with the readout gradient reversed; lin_encoded: the ADCs carry
   more than one LIN label (a single line is "other", as before). */
const char *traj_kind_name(const struct traj_kind *t, bool reversed, bool lin_encoded);

#endif
