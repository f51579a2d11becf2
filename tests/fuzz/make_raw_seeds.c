/*
 * make_raw_seeds: turn ISMRMRD raw files into seeds for tests/fuzz_raw.c
 * (the layout its header comment gives: the XML header, a NUL, an options
 * byte, then one 34-byte record per acquisition). Read with libismrmrd, not
 * with Larmor's reader, so that a seed is what the file holds. Not built by
 * make; build and run by hand:
 *   cc -o make_raw_seeds tests/fuzz/make_raw_seeds.c $(pkg-config --cflags hdf5) -lismrmrd
 *   ./make_raw_seeds raw.h5 OPTIONS > tests/fuzz/raw-seed/NAME.seed
 * The seeds in tests/fuzz/raw-seed/ were made from `larmor simulate` of
 * sequences/ (gradient_echo -D matrix=16, epi, gre3d -D matrix=8 -D partitions=4,
 * spin_echo -D matrix=16 with 2 coils).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <ismrmrd/dataset.h>
#include <ismrmrd/ismrmrd.h>

static void put(uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        putchar((int)((v >> (8 * i)) & 0xff));
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: make_raw_seeds RAW.h5 OPTIONS\n");
        return 2;
    }
    ISMRMRD_Dataset ds;
    if (ismrmrd_init_dataset(&ds, argv[1], "dataset") || ismrmrd_open_dataset(&ds, false))
        return 1;
    char *xml = ismrmrd_read_header(&ds);
    if (!xml)
        return 1;
    fputs(xml, stdout);
    putchar(0);
    putchar(atoi(argv[2]));
    uint32_t n = ismrmrd_get_number_of_acquisitions(&ds);
    for (uint32_t a = 0; a < n; a++) {
        ISMRMRD_Acquisition acq;
        ismrmrd_init_acquisition(&acq);
        if (ismrmrd_read_acquisition(&ds, a, &acq))
            return 1;
        const ISMRMRD_AcquisitionHeader *h = &acq.head;
        put(h->number_of_samples, 2);
        put(h->active_channels, 1);
        put(h->trajectory_dimensions, 1);
        put(h->center_sample, 2);
        put(h->flags, 8);
        put((uint64_t)(h->sample_time_us * 100 + 0.5f), 2);
        const uint16_t idx[] = { h->idx.kspace_encode_step_1, h->idx.kspace_encode_step_2,
                                 h->idx.average, h->idx.slice, h->idx.contrast, h->idx.phase,
                                 h->idx.repetition, h->idx.set, h->idx.segment };
        for (size_t i = 0; i < sizeof idx / sizeof *idx; i++)
            put(idx[i], 2);
        ismrmrd_cleanup_acquisition(&acq);
    }
    free(xml);
    ismrmrd_close_dataset(&ds);
    return 0;
}
