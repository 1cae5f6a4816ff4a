/* Internal: the credential store's handle and the pieces shared by its files
 * (store.c: open/locking/operations, store_entry.c: on-disk entry format,
 * store_kdf.c: keys and the metadata file, store_env.c: env files). */
#ifndef SBPROV_INTERNAL_STORE_H
#define SBPROV_INTERNAL_STORE_H

#include "sbprov/store.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>

#define SBPROV__STORE_FORMAT 1                /* current on-disk format version */
#define SBPROV__STORE_META ".sbprov-store"    /* metadata: version, mode, KDF, key check */
#define SBPROV__STORE_LOCK ".sbprov-lock"     /* flock target */
#define SBPROV__STORE_JOURNAL ".sbprov-swap"  /* journal of an unfinished swap */
#define SBPROV__ENTRY_PREFIX "e."             /* entry files are "e.<name>" */
#define SBPROV__ENTRY_HDR 24                  /* magic 4, version 1, mode 1, reserved 2, length 4, nonce 12 */
#define SBPROV__ENTRY_TAG 16                  /* GCM tag (or truncated SHA-256 in plaintext mode) */
#define SBPROV__ENTRY_MAX (SBPROV__ENTRY_HDR + SBPROV_STORE_VALUE_MAX + SBPROV__ENTRY_TAG)

struct sbprov_store {
    pthread_mutex_t mu;  /* serialises calls on this handle */
    int dirfd;           /* the store directory, O_DIRECTORY|O_NOFOLLOW */
    int lockfd;          /* SBPROV__STORE_LOCK, flocked per operation */
    int plaintext;       /* 1: entries are not encrypted */
    char *dir;           /* for messages */
    uint8_t key[32];     /* AES-256-GCM key of the entries (derived, see store_kdf.c) */
};

/* Wipe n bytes at p and free() it; NULL is a no-op. */
static inline void sbprov__wipe_free(void *p, size_t n)
{
    if (p != NULL) {
        OPENSSL_cleanse(p, n);
        free(p);
    }
}

/* SBPROV_EID unless name matches [A-Za-z0-9._-]{1,128} and is not "." or "..". */
sbprov_result sbprov__store_check_name(const char *name);

/* Seal `value` as the entry `name`: a malloc'd blob (header + ciphertext + tag). */
sbprov_result sbprov__entry_seal(uint8_t **out, size_t *out_len, const sbprov_store *s, const char *name,
                                 const void *value, size_t len);

/* Authenticate and open the blob of entry `name`: a malloc'd value with a NUL
 * after it (wipe with sbprov__wipe_free(*out, *out_len + 1)). SBPROV_ETAMPERED,
 * SBPROV_EFORMAT on failure. */
sbprov_result sbprov__entry_open(uint8_t **out, size_t *out_len, const sbprov_store *s, const char *name,
                                 const uint8_t *blob, size_t blob_len);

/* Read the metadata file of an existing store (or, with opts->create and no
 * metadata, create it) and derive the entry key into s->key, s->plaintext.
 * The caller holds the exclusive lock. */
sbprov_result sbprov__store_setup_key(sbprov_store *s, const sbprov_store_open_options *opts);

/* Sealed store keys (store_seal.c): the schemes recorded in the metadata and
 * the largest sealed blob (an RSA-4096 ciphertext). */
#define SBPROV__SEAL_ECDH "ecdh-p256"
#define SBPROV__SEAL_RSA "rsa-oaep-sha256"
#define SBPROV__SEALED_MAX 512

/* SBPROV_EKEY unless `key` can seal and unseal (a private EC P-256 or RSA key). */
sbprov_result sbprov__store_seal_check(const sbprov_key *key, const char *dir);
/* The scheme `key` seals with (SBPROV__SEAL_ECDH or SBPROV__SEAL_RSA). */
const char *sbprov__store_seal_scheme(const sbprov_key *key);
/* Seal the 32-byte master key to `key`, then unseal it once through the key's
 * provider to prove the store will open. */
sbprov_result sbprov__store_seal(uint8_t blob[SBPROV__SEALED_MAX], size_t *blob_len, const sbprov_key *key,
                                 const uint8_t master[32], const char *dir);
/* Unseal: SBPROV_EKEY (key unusable or wrong scheme), SBPROV_EPROVIDER (the
 * provider cannot do it), SBPROV_ETAMPERED (the blob does not open). */
sbprov_result sbprov__store_unseal(uint8_t master[32], const sbprov_key *key, const char *scheme,
                                   const uint8_t *blob, size_t len, const char *dir);

/* Read a whole regular file below dirfd (never following a symlink) of at most
 * `max` bytes. ENOTFOUND if absent, EUNSAFE if a symlink or not regular, or
 * (with `store_file` non-zero) owned by another user. */
sbprov_result sbprov__store_read_file(uint8_t **out, size_t *out_len, int dirfd, const char *file, size_t max,
                                      int store_file, const char *display);

/* Locking, for a handle: lock the mutex and flock (LOCK_SH or LOCK_EX); an
 * unfinished swap is completed first. Unlock releases both. */
sbprov_result sbprov__store_lock(sbprov_store *s, int exclusive);
void sbprov__store_unlock(sbprov_store *s);

/* With the lock held: read and authenticate an entry / seal and write one. */
sbprov_result sbprov__store_get_locked(uint8_t **out, size_t *out_len, sbprov_store *s, const char *name);
sbprov_result sbprov__store_put_locked(sbprov_store *s, const char *name, const void *value, size_t len);

/* Sorted entry names (an array of strings); the caller holds a lock. Free
 * with sbprov__store_free_names(). */
sbprov_result sbprov__store_collect_names(char ***out, size_t *count, sbprov_store *s);
void sbprov__store_free_names(char **v, size_t n);

#endif
