/* h5: the one module that reads HDF5 files directly (phantom files). */
#ifndef LARMOR_H5_H
#define LARMOR_H5_H
#endif
