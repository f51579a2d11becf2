/*
 * outfile: every output file Larmor writes goes through here, so that a
 * failed write never leaves a truncated file and never destroys a good one.
 *
 * A regular file (or a name not there yet) is written under a temporary
 * name in the same folder (NAME.tmp-PID-N) and renamed over NAME only after
 * every write, the flush, fsync and the close succeeded; on any failure the
 * temporary is removed and NAME is left as it was. An existing NAME is
 * replaced (overwrite is the rule for every command); its permission bits
 * are kept, and a symbolic link is followed (the file it names is replaced,
 * the link stays). Something that is not a regular file (a device such as
 * /dev/null or /dev/full, a FIFO) is written in place, as it cannot be
 * replaced; NULL means standard output (whose caller flushes it at exit
 * and checks that: cli/main.c). A folder is refused.
 *
 * Messages name the final path and the system's reason, with a hint at
 * what would fix it: "out/x.lbc: cannot create the file: No such file or
 * directory (the folder out does not exist)".
 */
#ifndef LARMOR_OUTFILE_H
#define LARMOR_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

struct outfile {
    char *path;       /* the final name (the link's target for a link), or NULL for stdout */
    char *tmp;        /* the temporary name; NULL when written in place */
    FILE *fp;         /* NULL after outfile_reserve */
    int werr;         /* errno of the first failed write, or 0 */
};

/* Open path (NULL: standard output) for writing: 0, or -1 with a message. */
int outfile_open(struct outfile *o, const char *path, char *err, size_t errlen);
/* Like outfile_open but for a library that creates the file itself (HDF5):
   an empty temporary is made and closed; write to outfile_name(o). */
int outfile_reserve(struct outfile *o, const char *path, char *err, size_t errlen);
/* The name to write to: the temporary, or the path when written in place. */
const char *outfile_name(const struct outfile *o);
/* fwrite to o->fp; a failure is kept and reported by outfile_commit. */
void outfile_write(struct outfile *o, const void *p, size_t n);
/* Flush, sync and close, then rename into place: 0, or -1 with a message
   (the temporary is then removed and an existing file left as it was). */
int outfile_commit(struct outfile *o, char *err, size_t errlen);
/* Throw the temporary away (nothing when already committed or aborted). */
void outfile_abort(struct outfile *o);
/* Create the folder path and its parents (mkdir -p) for a command that
   writes several files into it; an existing folder is used as it is (its
   files of the same names are replaced, others left). 0, or -1 with a
   message naming the part that could not be made and why. */
int outfile_mkdirs(const char *path, char *err, size_t errlen);
/* The hint outfile's messages add for errno e about path into buf, e.g.
   " (the folder out does not exist)", or "". Returns buf. */
const char *outfile_hint(char *buf, size_t len, const char *path, int e);

#endif
