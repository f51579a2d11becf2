/*
 * units: physical dimensions and the unit names the language accepts.
 * A dimension is a vector of exponents over seconds, metres and tesla
 * (angles are dimensionless, as in SI; deg is a scale of rad). Values are
 * held in SI; times become integer nanoseconds where the language needs.
 */
#ifndef LARMOR_UNITS_H
#define LARMOR_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dim {
    int8_t s, m, T;
};

#define DIM_NONE ((struct dim){ 0, 0, 0 })
#define DIM_TIME ((struct dim){ 1, 0, 0 })
#define DIM_FREQ ((struct dim){ -1, 0, 0 })
#define DIM_TESLA ((struct dim){ 0, 0, 1 })
#define DIM_LENGTH ((struct dim){ 0, 1, 0 })
#define DIM_GRAD ((struct dim){ 0, -1, 1 })
#define DIM_SLEW ((struct dim){ -1, -1, 1 })

bool dim_eq(struct dim a, struct dim b);
bool dim_is_none(struct dim a);
bool dim_is_time(struct dim a);
struct dim dim_mul(struct dim a, struct dim b);
struct dim dim_div(struct dim a, struct dim b);
/* Exponent scaling; sets *ok false on overflow of the small exponents. */
struct dim dim_pow(struct dim a, int k, bool *ok);

/* Parse a unit expression like "ms", "mT/m", "T/m/s", "MHz/T". Returns true
   and the SI scale and dimension if every part is a known unit. */
bool unit_parse(const char *s, size_t n, double *scale, struct dim *dim);

/* Length of the number at the start of s (sign, digits, an optional
   fraction and exponent, as in the language: no hex, inf or nan); 0 if
   there is none. */
size_t unit_number_len(const char *s, size_t n);

/* The one quantity parser: a number, optional blanks and an optional unit
   expression ("2.5 ms", "40mT/m", "3"), nothing else. Returns true with the
   value in SI and its dimension (DIM_NONE and *has_unit false for a bare
   number; has_unit may be NULL); false if the number is missing or not
   finite, or the unit is unknown. */
bool unit_parse_quantity(const char *s, size_t n, double *si, struct dim *dim, bool *has_unit);

/* A readable name of a dimension: "time", "gradient amplitude", or a unit
   formula such as "s^-1·m". */
void dim_describe(struct dim d, char *buf, size_t n);
/* The SI unit formula of a dimension ("T/m/s", "Hz", "s", "1"). */
void dim_unit(struct dim d, char *buf, size_t n);
/* Format an SI value with a tidy unit for its dimension: "8.42 ms",
   "40 mT/m", "127.7 MHz". */
void units_format(double si, struct dim d, char *buf, size_t n);
/* A list of the accepted unit names, for help text. */
const char *units_list(void);

#endif
