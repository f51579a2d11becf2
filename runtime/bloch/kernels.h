#ifndef LARMOR_BLOCH_kernels_H
#define LARMOR_BLOCH_kernels_H
#endif
