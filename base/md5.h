/*
 * md5: the MD5 message digest (RFC 1321), for the [SIGNATURE] of Pulseq
 * files. Not for security: Pulseq uses it as a checksum.
 */
#ifndef LARMOR_MD5_H
#define LARMOR_MD5_H

#include <stddef.h>
#include <stdint.h>

struct md5 {
    uint32_t h[4];
    uint64_t len;             /* bytes fed so far */
    unsigned char buf[64];
};

void md5_init(struct md5 *m);
void md5_update(struct md5 *m, const void *data, size_t n);
void md5_final(struct md5 *m, unsigned char digest[16]);
/* The digest of a byte range as 32 lowercase hex digits and a NUL. */
void md5_hex(char out[33], const void *data, size_t n);

#endif
