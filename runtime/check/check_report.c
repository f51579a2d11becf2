/*
 * check_report: the check backend's results for people and programs: the
 * violation groups as diagnostics at the source spans of their
 * instructions (check_report, through the program's line table), and the
 * report of `larmor check` as text and as JSON.
 */
#include "runtime/check/check_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "vm/program.h"

static void occurrence_note(struct diag *g, const char *what, const struct occurrence *o,
                            const struct group *gr, bool with_value)
{
    char ts[48], vs[64];
    fmtt(ts, sizeof ts, o->time_ns);
    if (with_value) {
        if (dim_is_none(gr->dim))
            snprintf(vs, sizeof vs, "%.4g", o->value);
        else
            units_format(o->value, gr->dim, vs, sizeof vs);
        diag_note(g, SPAN_NONE, "%s: %s at t = %s%s%s", what, vs, ts, o->where[0] ? ", " : "",
                  o->where);
    } else {
        diag_note(g, SPAN_NONE, "%s at t = %s%s%s", what, ts, o->where[0] ? ", " : "", o->where);
    }
}

void check_report(const struct check *ck, const struct lbc_program *p, struct diag_ctx *d)
{
    struct vm_view v;
    vm_view_init(&v, p);
    for (int i = 0; i < ck->ngroups; i++) {
        const struct group *gr = &ck->groups[i];
        struct lbc_srcpos pos;
        struct span sp = vm_view_span(&v, gr->pc, d, &pos);
        struct diag *g = gr->warning ? diag_warning(d, gr->code, sp, "%s", gr->msg)
                                     : diag_error(d, gr->code, sp, "%s", gr->msg);
        if (sp.file < 0 && pos.path)
            diag_note(g, SPAN_NONE, "in %s:%u:%u", pos.path, pos.line, pos.col);
        if (gr->count > 1) {
            char first[64];
            snprintf(first, sizeof first, "first of %" PRIu64 " occurrences", gr->count);
            occurrence_note(g, first, &gr->first, gr, false);
            bool differs = gr->worst.value != gr->first.value;
            if (differs)
                occurrence_note(g, "worst", &gr->worst, gr, true);
        } else {
            char ts[48];
            fmtt(ts, sizeof ts, gr->first.time_ns);
            diag_note(g, SPAN_NONE, "at t = %s%s%s", ts, gr->first.where[0] ? ", " : "",
                      gr->first.where);
        }
        if (gr->help[0])
            diag_help(g, "%s", gr->help);
    }
    if (ck->dropped)
        diag_error(d, 699, SPAN_NONE, "%" PRIu64 " more violations of other kinds were not "
                   "listed (only the first %d distinct ones are kept)", ck->dropped, MAX_GROUPS);
}

static void peak_line(FILE *out, const char *what, const struct check_peak *pk, double lim,
                      struct dim d)
{
    char vs[48], ls[48], ts[48];
    units_format(pk->value, d, vs, sizeof vs);
    units_format(lim, d, ls, sizeof ls);
    fmtt(ts, sizeof ts, pk->time_ns);
    double pct = lim > 0 ? 100 * pk->value / lim : 0;
    fprintf(out, "  %-22s %-14s limit %-14s %5.1f%%", what, vs, ls, pct);
    if (pk->value > 0)
        fprintf(out, "   at t = %s", ts);
    fputc('\n', out);
}

/* A b-value in s/mm² (v in s/m²): one decimal below 10, whole above. */
static const char *fmt_b(char *buf, size_t n, double v)
{
    v *= 1e-6;
    if (fabs(v) < 0.05)
        snprintf(buf, n, "0");
    else
        snprintf(buf, n, fabs(v) < 10 ? "%.1f" : "%.0f", v);
    return buf;
}

/* The b-value lines of the text report (none without an ADC after an
   excitation). */
static void print_bvalues(const struct check_summary *s, FILE *out)
{
    if (!s->nb)
        return;
    char lo[32], hi[32], ts[48];
    fprintf(out, "b-values   ");
    for (int i = 0; i < s->nbgroups; i++) {
        const struct check_bgroup *g = &s->bgroups[i];
        fmt_b(lo, sizeof lo, g->lo);
        fmt_b(hi, sizeof hi, g->hi);
        fprintf(out, "%s %s%s%s s/mm² (%" PRIu64 " ADC%s)", i ? "," : "", lo,
                strcmp(lo, hi) ? "–" : "", strcmp(lo, hi) ? hi : "", g->count,
                g->count == 1 ? "" : "s");
    }
    fprintf(out, "; largest %.5g s/mm² at t = %s\n", s->b_max.value * 1e-6,
            fmtt(ts, sizeof ts, s->b_max.time_ns));
    fprintf(out, "            b = ∫|k|² dt from the excitation to each ADC's centre, k = γ∫G dt "
            "negated by each refocusing pulse\n");
}

void check_print_text(const struct check *ck, const struct lbc_program *p,
                      const struct check_minimum *mins, int nmins, FILE *out)
{
    const struct system *sys = &ck->sys;
    const struct check_summary *s = &ck->sum;
    char buf[64], b2[64];
    fprintf(out, "system      %s%s%s%s, hash 0x%016" PRIx64 ", %s operating mode\n", sys->name,
            sys->path[0] ? " (" : "", sys->path, sys->path[0] ? ")" : "", sys->hash,
            system_mode_name(sys->mode));
    struct vm_view v;
    vm_view_init(&v, p);
    if (p)
        fprintf(out, "sequence    %s\n", v.source);
    fprintf(out, "duration    %s  (%" PRIu64 " blocks, %" PRIu64 " RF pulses, %" PRIu64
            " ADC events)\n", fmtt(buf, sizeof buf, s->total_ns), s->nblocks, s->nrf, s->nadc);
    for (int i = 0; i < nmins; i++) {
        char cur[48], mn[48];
        fmtt(cur, sizeof cur, mins[i].current_ns);
        fmtt(mn, sizeof mn, mins[i].min_ns);
        fprintf(out, "minimum     %s %s%s (now %s)\n", mins[i].name, mins[i].at_floor ? "<= " : "",
                mn, cur);
    }
    print_bvalues(s, out);
    fprintf(out, "\npeaks against limits\n");
    static const char *gn[3] = { "gradient x", "gradient y", "gradient z" };
    static const char *sn[3] = { "slew x", "slew y", "slew z" };
    for (int a = 0; a < 3; a++)
        peak_line(out, gn[a], &s->grad[a], sys->max_grad_axis[a], DIM_GRAD);
    peak_line(out, "gradient vector", &s->grad_vec, sys->max_grad_vector, DIM_GRAD);
    for (int a = 0; a < 3; a++)
        peak_line(out, sn[a], &s->slew[a], sys->max_slew_axis[a], DIM_SLEW);
    peak_line(out, "RF peak B1", &s->b1, sys->max_b1, DIM_TESLA);
    peak_line(out, "RF pulse length", &s->rf_dur, (double)sys->max_rf_dur_ns * 1e-9, DIM_TIME);
    fprintf(out, "\nSAR         model %s", system_sar_model_name(sys->sar_model));
    if (sys->sar_model == SAR_MODEL_B1RMS) {
        fprintf(out, " (SAR = k · B1rms²):");
        for (int r = 0; r < SAR__COUNT; r++)
            if (sys->sar_region_on[r])
                fprintf(out, " k %s %.4g W/kg/uT²;", system_region_name(r),
                        sys->sar_b1rms_coef[r] * 1e-12);
    } else {
        fprintf(out, " (reference pulse %s for %s):", fmtv(buf, sizeof buf, sys->sar_ref_b1,
                DIM_TESLA), fmtt(b2, sizeof b2, sys->sar_ref_dur_ns));
        for (int r = 0; r < SAR__COUNT; r++)
            if (sys->sar_region_on[r])
                fprintf(out, " %s %.4g J;", system_region_name(r), sys->sar_ref_energy[r]);
    }
    fprintf(out, " patient %.4g kg", sys->patient_mass);
    if (sys->sar_region_on[SAR_PARTIAL_BODY])
        fprintf(out, ", exposed %.4g kg", sys->exposed_mass);
    fprintf(out, "\n            the sequence runs once, with no RF before or after it\n");
    for (int k = 0; k < 2; k++)
        for (int r = 0; r < SAR__COUNT; r++) {
            if (!sys->sar_region_on[r])
                continue;
            double lim = system_sar_limit(sys, r) * (k == 0 ? 2 : 1);
            char name[48];
            snprintf(name, sizeof name, "SAR %s %s", k == 0 ? "10 s" : "6 min",
                     system_region_name(r));
            snprintf(buf, sizeof buf, "%.3g W/kg", s->sar[r][k]);
            snprintf(b2, sizeof b2, "%.3g W/kg", lim);
            fprintf(out, "  %-22s %-14s limit %-14s %5.1f%%", name, buf, b2,
                    lim > 0 ? 100 * s->sar[r][k] / lim : 0);
            if (s->sar[r][k] > 0) {
                char ts[48];
                fprintf(out, "   window from t = %s", fmtt(ts, sizeof ts, s->sar_at_ns[k]));
            }
            fputc('\n', out);
        }
    double b1rms = s->total_ns > 0 ? sqrt(s->rf_energy / ((double)s->total_ns * 1e-9)) : 0;
    fprintf(out, "  %-22s %s\n", "B1rms (whole sequence)", fmtv(buf, sizeof buf, b1rms, DIM_TESLA));
    fprintf(out, "\nPNS         IEC 60601-2-33:2022 nerve-response model: S_min %.4g T/m/s, "
            "chronaxie %s, weights x %.3g y %.3g z %.3g\n", sys->pns_smin,
            fmtt(buf, sizeof buf, s_to_ns(sys->pns_chronaxie)),
            sys->pns_weight[0], sys->pns_weight[1], sys->pns_weight[2]);
    {
        char ts[48];
        double lim = system_pns_limit(sys);
        snprintf(buf, sizeof buf, "%.1f%%", s->pns.value * 100);
        snprintf(b2, sizeof b2, "%.0f%%", lim * 100);
        fprintf(out, "  %-22s %-14s limit %-14s %5.1f%%", "PNS level", buf, b2,
                100 * s->pns.value / lim);
        if (s->pns.value > 0)
            fprintf(out, "   at t = %s (x %.1f%% y %.1f%% z %.1f%%)",
                    fmtt(ts, sizeof ts, s->pns.time_ns), s->pns_axis[0] * 100,
                    s->pns_axis[1] * 100, s->pns_axis[2] * 100);
        fputc('\n', out);
        snprintf(buf, sizeof buf, "%.4g T/s", s->dbdt.value);
        fprintf(out, "  %-22s %-14s (at r = %.3g m; limit per ramp %.0f%% of %.3g T/s·(1 + "
                "%.3g us / ramp))\n", "peak dB/dt", buf, sys->dbdt_radius, lim * 100,
                sys->dbdt_rheobase, sys->dbdt_chronaxie * 1e6);
    }
    fprintf(out, "\nviolations  %d error%s, %d warning%s\n", ck->nerr, ck->nerr == 1 ? "" : "s",
            ck->nwarn, ck->nwarn == 1 ? "" : "s");
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_peak(FILE *out, const char *name, const struct check_peak *pk, double lim,
                      const char *unit, bool comma)
{
    fprintf(out, "    \"%s\": {\"value\": %.9g, \"limit\": %.9g, \"unit\": \"%s\", "
            "\"time_s\": %.9g}%s\n", name, pk->value, lim, unit, (double)pk->time_ns * 1e-9,
            comma ? "," : "");
}

void check_print_json(const struct check *ck, const struct lbc_program *p,
                      const struct check_minimum *mins, int nmins, FILE *out)
{
    const struct system *sys = &ck->sys;
    const struct check_summary *s = &ck->sum;
    fprintf(out, "{\n  \"system\": {\"name\": ");
    json_str(out, sys->name);
    fprintf(out, ", \"path\": ");
    json_str(out, sys->path);
    fprintf(out, ", \"hash\": \"0x%016" PRIx64 "\", \"mode\": \"%s\"},\n", sys->hash,
            sys->mode == SYS_MODE_FIRST_LEVEL ? "first_level" : "normal");
    struct vm_view v;
    vm_view_init(&v, p);
    if (p) {
        fprintf(out, "  \"sequence\": ");
        json_str(out, v.source);
        fprintf(out, ",\n");
    }
    fprintf(out, "  \"duration_s\": %.9g,\n  \"blocks\": %" PRIu64 ",\n  \"rf_pulses\": %" PRIu64
            ",\n  \"adc_events\": %" PRIu64 ",\n", (double)s->total_ns * 1e-9, s->nblocks,
            s->nrf, s->nadc);
    fprintf(out, "  \"minimum\": {");
    for (int i = 0; i < nmins; i++) {
        fprintf(out, "%s\n    ", i ? "," : "");
        json_str(out, mins[i].name);
        fprintf(out, ": {\"min_s\": %.9g, \"current_s\": %.9g, \"at_lower_bound\": %s}",
                (double)mins[i].min_ns * 1e-9, (double)mins[i].current_ns * 1e-9,
                mins[i].at_floor ? "true" : "false");
    }
    fprintf(out, "%s},\n", nmins ? "\n  " : "");
    fprintf(out, "  \"b_values\": {\"at\": \"adc_centre\", \"adcs\": %" PRIu64 ", "
            "\"max_s_per_mm2\": %.9g, \"max_time_s\": %.9g, \"groups\": [", s->nb,
            s->b_max.value * 1e-6, (double)s->b_max.time_ns * 1e-9);
    for (int i = 0; i < s->nbgroups; i++)
        fprintf(out, "%s{\"min_s_per_mm2\": %.9g, \"max_s_per_mm2\": %.9g, \"adcs\": %" PRIu64
                "}", i ? ", " : "", s->bgroups[i].lo * 1e-6, s->bgroups[i].hi * 1e-6,
                s->bgroups[i].count);
    fprintf(out, "]},\n");
    fprintf(out, "  \"peaks\": {\n");
    static const char *gn[3] = { "gradient_x", "gradient_y", "gradient_z" };
    static const char *sn[3] = { "slew_x", "slew_y", "slew_z" };
    for (int a = 0; a < 3; a++)
        json_peak(out, gn[a], &s->grad[a], sys->max_grad_axis[a], "T/m", true);
    json_peak(out, "gradient_vector", &s->grad_vec, sys->max_grad_vector, "T/m", true);
    for (int a = 0; a < 3; a++)
        json_peak(out, sn[a], &s->slew[a], sys->max_slew_axis[a], "T/m/s", true);
    json_peak(out, "rf_b1", &s->b1, sys->max_b1, "T", true);
    json_peak(out, "rf_duration", &s->rf_dur, (double)sys->max_rf_dur_ns * 1e-9, "s", true);
    json_peak(out, "pns", &s->pns, system_pns_limit(sys), "1", true);
    json_peak(out, "dbdt", &s->dbdt, 0, "T/s", false);
    fprintf(out, "  },\n  \"sar\": {\"model\": \"%s\", \"patient_mass_kg\": %.9g, \"regions\": {",
            system_sar_model_name(sys->sar_model), sys->patient_mass);
    bool first = true;
    for (int r = 0; r < SAR__COUNT; r++) {
        if (!sys->sar_region_on[r])
            continue;
        fprintf(out, "%s\n    \"%s\": {\"k_w_per_kg_t2\": %.9g, \"sar_10s\": %.9g, "
                "\"limit_10s\": %.9g, \"sar_6min\": %.9g, \"limit_6min\": %.9g}",
                first ? "" : ",", r == SAR_WHOLE_BODY ? "whole_body" : r == SAR_HEAD ? "head" :
                "partial_body", sys->sar_k[r], s->sar[r][0], 2 * system_sar_limit(sys, r),
                s->sar[r][1], system_sar_limit(sys, r));
        first = false;
    }
    fprintf(out, "},\n    \"window_10s_start_s\": %.9g, \"window_6min_start_s\": %.9g, "
            "\"rf_energy_t2s\": %.9g},\n", (double)s->sar_at_ns[0] * 1e-9,
            (double)s->sar_at_ns[1] * 1e-9, s->rf_energy);
    fprintf(out, "  \"violations\": [");
    for (int i = 0; i < ck->ngroups; i++) {
        const struct group *gr = &ck->groups[i];
        struct lbc_srcpos pos;
        vm_view_pos(&v, gr->pc, &pos);
        fprintf(out, "%s\n    {\"code\": \"%c%04d\", \"severity\": \"%s\", \"message\": ",
                i ? "," : "", gr->warning ? 'W' : 'E', gr->code,
                gr->warning ? "warning" : "error");
        json_str(out, gr->msg);
        fprintf(out, ", \"file\": ");
        json_str(out, pos.path ? pos.path : "");
        fprintf(out, ", \"line\": %u, \"col\": %u, \"count\": %" PRIu64 ", \"first_time_s\": %.9g, "
                "\"first_at\": ", pos.line, pos.col, gr->count,
                (double)gr->first.time_ns * 1e-9);
        json_str(out, gr->first.where);
        fprintf(out, ", \"worst_value\": %.9g, \"limit\": %.9g, \"worst_time_s\": %.9g, "
                "\"worst_at\": ", gr->worst.value, gr->limit, (double)gr->worst.time_ns * 1e-9);
        json_str(out, gr->worst.where);
        fputc('}', out);
    }
    fprintf(out, "%s],\n  \"errors\": %d,\n  \"warnings\": %d\n}\n", ck->ngroups ? "\n  " : "",
            ck->nerr, ck->nwarn);
}
