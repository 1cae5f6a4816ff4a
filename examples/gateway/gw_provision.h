/*
 * sbprov-gateway: provisioning on start (docs/gateway.md "What it does").
 * Every step keeps its result in the credential store, so a restart reuses
 * it and contacts no server for what is already done.
 * SPDX-License-Identifier: MIT
 */
#ifndef GW_PROVISION_H
#define GW_PROVISION_H

#include <signal.h>

#include <sbprov/azure_http.h>
#include <sbprov/identity.h>
#include <sbprov/keys.h>
#include <sbprov/mender.h>
#include <sbprov/store.h>

#include "gw_config.h"

typedef struct gw_device {
    sbprov_store *store;
    sbprov_key *key;
    sbprov_identity *identity;
    sbprov_mender *mender;           /* NULL without [mender] url */
    sbprov_azure_hub *hub;           /* NULL without an Azure configuration */
    char mender_device_id[64];
    char azure_device_id[129];
    char azure_hub_host[256];
    int mender_reused;               /* the stored token was still valid: no request */
    int azure_reused;                /* the stored connection string was used: no DPS request */
} gw_device;

/* Run every provisioning step. Returns 0; 1 when a step failed for good
 * (logged); 2 when stopped by gw_provision_cancel(). */
int gw_provision(gw_device *dev, const gw_config *cfg);

/* Cancel the provisioning call in progress (and any later one). Async-signal-safe. */
void gw_provision_cancel(void);

void gw_device_free(gw_device *dev);

#endif
