#ifndef LARMOR_BLOCH_sim_H
#define LARMOR_BLOCH_sim_H
#endif
