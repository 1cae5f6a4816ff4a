/*
 * libsbprov - provisioning core for smart-building IoT gateways.
 * SPDX-License-Identifier: MIT
 */
#ifndef SBPROV_SBPROV_H
#define SBPROV_SBPROV_H

/**
 * @file sbprov/sbprov.h
 * @brief Umbrella header: includes every public libsbprov header.
 */

#include <sbprov/common.h>
#include <sbprov/version.h>
#include <sbprov/azure.h>
#include <sbprov/azure_http.h>
#include <sbprov/identity.h>
#include <sbprov/keys.h>
#include <sbprov/store.h>
#include <sbprov/http.h>
#include <sbprov/mender.h>
#include <sbprov/air.h>
#include <sbprov/frame.h>

#endif /* SBPROV_SBPROV_H */
