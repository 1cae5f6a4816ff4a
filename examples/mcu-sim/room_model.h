/*
 * sbprov-mcu-sim: the physics of one room (no I/O).
 * SPDX-License-Identifier: MIT
 */
#ifndef ROOM_MODEL_H
#define ROOM_MODEL_H

#include <stdint.h>

/* CO2 each seated adult breathes out, m^3/s. 5.6e-6 m^3/s (0.34 L/min) makes six
 * people raise a closed 50 m^3 room by 6 * 5.6e-6 / 50 * 1e6 * 60 = 40.3 ppm per
 * minute, the figure the design asks for; it lies within the 0.3-0.4 L/min of
 * light office work given by DIN EN 16798-1 / the UBA. */
#define ROOM_CO2_PER_PERSON_M3S 5.6e-6
#define ROOM_OUTDOOR_PPM 420.0   /* outdoor air, about today's global mean */
#define ROOM_ACH_CLOSED 0.3      /* air changes per hour through a closed modern facade */
#define ROOM_ACH_WINDOW 8.0      /* one window fully open (tilted is about 2) */

typedef struct room_model {
    double volume_m3;
    double co2_ppm, temperature_c, humidity_pct;
    int people;
    int window_open;
} room_model;

/* A room at rest: outdoor CO2 plus a little, 21 degC, 40 %RH. */
void room_model_init(room_model *r, double volume_m3);

/* Advance by dt seconds with the current people and window (exact solution
 * of the first-order balance for CO2; first-order relaxation for heat and
 * moisture). */
void room_model_step(room_model *r, double dt_s);

/* Seeded generator (xorshift64*), shared by noise, PIR and faults. */
typedef struct sim_rng { uint64_t s; } sim_rng;
void sim_rng_seed(sim_rng *g, uint64_t seed);
double sim_rng_uniform(sim_rng *g);           /* [0, 1) */
double sim_rng_normal(sim_rng *g);            /* mean 0, sd 1 */
uint32_t sim_rng_poisson(sim_rng *g, double mean);

#endif
