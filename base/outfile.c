/*
 * outfile: see outfile.h.
 */
#include "base/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

static atomic_uint outfile_counter;

/* The folder part of path: "." for a bare name, "/" for "/x". New string. */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

const char *outfile_hint(char *buf, size_t len, const char *path, int e)
{
    char *dir = folder_of(path);
    struct stat st;
    buf[0] = 0;
    switch (e) {
    case ENOENT:
        if (stat(dir, &st) != 0)
            snprintf(buf, len, " (the folder %s does not exist: create it first)", dir);
        break;
    case EACCES:
    case EPERM:
        snprintf(buf, len, " (the folder %s does not let this user create files in it)", dir);
        break;
    case ENOTDIR:
        snprintf(buf, len, " (a part of %s is a file, not a folder)", dir);
        break;
    case EROFS:
        snprintf(buf, len, " (the file system holding %s is mounted read-only)", dir);
        break;
    case ENOSPC:
    case EDQUOT:
        snprintf(buf, len, " (the disk or the quota is full: free some space)");
        break;
    case EISDIR:
        snprintf(buf, len, " (%s is a folder: give a file name)", path);
        break;
    default:
        break;
    }
    free(dir);
    return buf;
}

static void clear(struct outfile *o)
{
    o->path = NULL;
    o->tmp = NULL;
    o->fp = NULL;
    o->werr = 0;
}

/* Decide where o writes: in place (stdout, a device, a FIFO) or through a
   temporary next to the final name; *mode gets the permission bits to give
   the temporary (those of the file it replaces), or -1. */
static int choose(struct outfile *o, const char *path, int *mode, char *err, size_t errlen)
{
    char hint[300];
    struct stat st;
    *mode = -1;
    if (!*path) {
        errf(err, errlen, "no output file name (an empty name was given)");
        return -1;
    }
    if (stat(path, &st) != 0) {
        o->path = xstrdup(path);
        return 0;
    }
    if (S_ISDIR(st.st_mode)) {
        errf(err, errlen, "%s: cannot create the file: %s%s", path, strerror(EISDIR),
                outfile_hint(hint, sizeof hint, path, EISDIR));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        o->path = xstrdup(path);
        return 1;
    }
    *mode = (int)(st.st_mode & 07777);
    struct stat lst;
    char *real = NULL;
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
        real = realpath(path, NULL);
    o->path = real ? real : xstrdup(path);
    return 0;
}

/* Create a fresh temporary next to o->path: its descriptor, or -1. */
static int make_tmp(struct outfile *o, int mode, char *err, size_t errlen)
{
    char hint[300];
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned n = atomic_fetch_add(&outfile_counter, 1u);
        char *tmp = xasprintf("%s.tmp-%ld-%u", o->path, (long)getpid(), n);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            if (mode >= 0)
                (void)fchmod(fd, (mode_t)mode);
            o->tmp = tmp;
            return fd;
        }
        int e = errno;
        free(tmp);
        if (e != EEXIST) {
            errf(err, errlen, "%s: cannot create the file: %s%s", o->path, strerror(e),
                    outfile_hint(hint, sizeof hint, o->path, e));
            return -1;
        }
    }
    errf(err, errlen, "%s: cannot create a temporary file next to it (100 names taken)",
            o->path);
    return -1;
}

static int start(struct outfile *o, const char *path, bool want_fp, char *err, size_t errlen)
{
    char hint[300];
    clear(o);
    if (!path) {
        o->fp = stdout;
        return 0;
    }
    int mode;
    int in_place = choose(o, path, &mode, err, errlen);
    if (in_place < 0)
        return -1;
    if (in_place) {
        if (want_fp && !(o->fp = fopen(o->path, "wb"))) {
            int e = errno;
            errf(err, errlen, "%s: cannot open it for writing: %s%s", o->path, strerror(e),
                    outfile_hint(hint, sizeof hint, o->path, e));
            free(o->path);
            clear(o);
            return -1;
        }
        return 0;
    }
    int fd = make_tmp(o, mode, err, errlen);
    if (fd < 0) {
        free(o->path);
        clear(o);
        return -1;
    }
    if (!want_fp) {
        close(fd);
        return 0;
    }
    if (!(o->fp = fdopen(fd, "wb"))) {
        int e = errno;
        close(fd);
        errf(err, errlen, "%s: cannot create the file: %s", o->path, strerror(e));
        outfile_abort(o);
        return -1;
    }
    return 0;
}

int outfile_open(struct outfile *o, const char *path, char *err, size_t errlen)
{
    return start(o, path, true, err, errlen);
}

int outfile_reserve(struct outfile *o, const char *path, char *err, size_t errlen)
{
    if (!path) {
        clear(o);
        errf(err, errlen, "no output file name");
        return -1;
    }
    return start(o, path, false, err, errlen);
}

const char *outfile_name(const struct outfile *o)
{
    return o->tmp ? o->tmp : o->path;
}

void outfile_write(struct outfile *o, const void *p, size_t n)
{
    errno = 0;
    if (n && o->fp && fwrite(p, 1, n, o->fp) != n && !o->werr)
        o->werr = errno ? errno : EIO;
}

void outfile_abort(struct outfile *o)
{
    if (o->fp && o->fp != stdout)
        fclose(o->fp);
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    clear(o);
}

/* Flush, sync and close o->fp: 0 or an errno. Standard output is left to
   its caller, who flushes and checks it at exit (keeping the order of
   stdout and stderr as written). */
static int finish_stream(struct outfile *o)
{
    int e = o->werr;
    if (o->fp == stdout) {
        o->fp = NULL;
        return e;
    }
    errno = 0;
    if ((fflush(o->fp) != 0 || ferror(o->fp)) && !e)
        e = errno ? errno : EIO;
    if (o->tmp && !e && fsync(fileno(o->fp)) != 0 && errno != EINVAL && errno != EROFS &&
            errno != ENOTSUP)
        e = errno;
    errno = 0;
    if (fclose(o->fp) != 0 && !e)
        e = errno ? errno : EIO;
    o->fp = NULL;
    return e;
}

int outfile_commit(struct outfile *o, char *err, size_t errlen)
{
    char hint[300];
    const char *shown = o->path ? o->path : "standard output";
    int e = o->fp ? finish_stream(o) : o->werr;
    if (!o->fp && o->tmp && !e) {
        /* written by a library (HDF5): sync it before it takes the name */
        int fd = open(o->tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP))
            e = errno;
        if (fd >= 0)
            close(fd);
    }
    if (e) {
        struct stat st;
        bool kept = o->tmp && stat(o->path, &st) == 0;
        errf(err, errlen, "%s: cannot write the file: %s%s; %s", shown, strerror(e),
                o->path ? outfile_hint(hint, sizeof hint, o->path, e) : "",
                kept ? "the file already there was left as it was" :
                o->tmp ? "nothing was written" : "what was written is incomplete");
        outfile_abort(o);
        return -1;
    }
    if (o->tmp && rename(o->tmp, o->path) != 0) {
        e = errno;
        errf(err, errlen, "%s: cannot put the file in place (rename from %s): %s%s", o->path,
                o->tmp, strerror(e), outfile_hint(hint, sizeof hint, o->path, e));
        outfile_abort(o);
        return -1;
    }
    free(o->tmp);
    free(o->path);
    clear(o);
    return 0;
}

int outfile_mkdirs(const char *path, char *err, size_t errlen)
{
    char hint[300];
    if (!*path) {
        errf(err, errlen, "no output folder name (an empty name was given)");
        return -1;
    }
    char *p = xstrdup(path);
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                int e = errno;
                errf(err, errlen, "%s: cannot create the folder: %s%s", p, strerror(e),
                        outfile_hint(hint, sizeof hint, p, e));
                free(p);
                return -1;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        errf(err, errlen, "%s: cannot use it as the output folder: it exists and is not a "
                "folder (give another name, or remove it)", path);
        return -1;
    }
    return 0;
}
