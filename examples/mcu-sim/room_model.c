/*
 * sbprov-mcu-sim: room physics (see room_model.h).
 * SPDX-License-Identifier: MIT
 */
#include "room_model.h"

#include <math.h>

#define BASE_TEMPERATURE_C 21.0  /* the heating's set point */
#define OUTDOOR_TEMPERATURE_C 8.0
#define HEAT_PER_PERSON_C_PER_S (0.01 / 60.0 * 50.0) /* 0.01 degC/min per person in 50 m^3 (heating throttles), scaled by volume */
#define BASE_HUMIDITY_PCT 40.0
#define OUTDOOR_HUMIDITY_PCT 55.0
#define MOISTURE_PER_PERSON_PCT_PER_S (0.03 / 60.0 * 50.0)
#define HEATING_TAU_S 3600.0      /* heating and walls pull back to the set point */
#define WINDOW_TAU_S 900.0        /* an open window pulls towards outdoors */

void room_model_init(room_model *r, double volume_m3)
{
    r->volume_m3 = volume_m3;
    r->co2_ppm = ROOM_OUTDOOR_PPM + 30.0;
    r->temperature_c = BASE_TEMPERATURE_C;
    r->humidity_pct = BASE_HUMIDITY_PCT;
    r->people = 0;
    r->window_open = 0;
}

/* x' = a - k x, exactly over dt: x -> x_eq + (x - x_eq) e^(-k dt). */
static double relax(double x, double source_per_s, double k, double dt)
{
    double eq = source_per_s / k;
    return eq + (x - eq) * exp(-k * dt);
}

void room_model_step(room_model *r, double dt)
{
    double ach = r->window_open ? ROOM_ACH_WINDOW : ROOM_ACH_CLOSED;
    double k = ach / 3600.0;
    double gen_ppm_s = r->people * ROOM_CO2_PER_PERSON_M3S / r->volume_m3 * 1e6;
    /* Excess over outdoor air decays with the air change rate. */
    r->co2_ppm = ROOM_OUTDOOR_PPM + relax(r->co2_ppm - ROOM_OUTDOOR_PPM, gen_ppm_s, k, dt);

    double t_target = r->window_open ? OUTDOOR_TEMPERATURE_C : BASE_TEMPERATURE_C;
    double t_tau = r->window_open ? WINDOW_TAU_S : HEATING_TAU_S;
    double heat = r->people * HEAT_PER_PERSON_C_PER_S / r->volume_m3;
    r->temperature_c = t_target + relax(r->temperature_c - t_target, heat, 1.0 / t_tau, dt);

    double h_target = r->window_open ? OUTDOOR_HUMIDITY_PCT : BASE_HUMIDITY_PCT;
    double moist = r->people * MOISTURE_PER_PERSON_PCT_PER_S / r->volume_m3;
    r->humidity_pct = h_target + relax(r->humidity_pct - h_target, moist, 1.0 / t_tau, dt);
}

void sim_rng_seed(sim_rng *g, uint64_t seed)
{
    g->s = seed * 0x9E3779B97F4A7C15ull + 1; /* never 0 */
}

static uint64_t next(sim_rng *g)
{
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    return g->s * 0x2545F4914F6CDD1Dull;
}

double sim_rng_uniform(sim_rng *g)
{
    return (double)(next(g) >> 11) * (1.0 / 9007199254740992.0);
}

double sim_rng_normal(sim_rng *g)
{
    double u = sim_rng_uniform(g), v = sim_rng_uniform(g);
    return sqrt(-2.0 * log(u > 0 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

uint32_t sim_rng_poisson(sim_rng *g, double mean)
{
    /* Knuth's method: fine for the small means of a PIR count. */
    double limit = exp(-mean), p = 1.0;
    uint32_t k = 0;
    do {
        k++;
        p *= sim_rng_uniform(g);
    } while (p > limit && k < 1000);
    return k - 1;
}
