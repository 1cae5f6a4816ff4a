/*
 * libsbprov - provisioning core for smart-building IoT gateways.
 * SPDX-License-Identifier: MIT
 */
#ifndef SBPROV_COMMON_H
#define SBPROV_COMMON_H

/**
 * @file sbprov/common.h
 * @brief Result codes, error details, global init, memory release, logging.
 *
 * Conventions used by every libsbprov header:
 * - Functions return ::sbprov_result: 0 (::SBPROV_OK) on success, a negative
 *   code on failure. After a failure, sbprov_last_error() on the same thread
 *   gives a one-line human-readable detail.
 * - Outputs come first. Text outputs use a caller-owned buffer
 *   `(char *buf, size_t buf_size, size_t *out_len)`: on success the text is
 *   NUL-terminated and `*out_len` is its length without the NUL; if the buffer
 *   is too small the call returns ::SBPROV_EBUFS, writes nothing useful to
 *   `buf` and sets `*out_len` to the buffer size needed, NUL included.
 *   `out_len` may be NULL.
 * - Inputs that may hold secrets are `(ptr, len)` pairs; other strings are
 *   NUL-terminated. Every input is copied; no caller pointer is kept after a
 *   call returns.
 * - Opaque handles are created by `*_new(&out, ...)` and released by
 *   `*_free()`, which accepts NULL. One handle is used by one thread at a time.
 */

#include <stddef.h>
#include <stdint.h>

#if defined(SBPROV_STATIC)
#  define SBPROV_API
#elif defined(_WIN32)
#  if defined(SBPROV_BUILDING_LIBRARY)
#    define SBPROV_API __declspec(dllexport)
#  else
#    define SBPROV_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define SBPROV_API __attribute__((visibility("default")))
#else
#  define SBPROV_API
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#  define SBPROV_NODISCARD __attribute__((warn_unused_result))
#else
#  define SBPROV_NODISCARD
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Result of every fallible libsbprov call: 0 success, negative failure. */
typedef int32_t sbprov_result;

/**
 * Result codes. Values are part of the ABI: they are never renumbered or
 * reused; a retired code keeps its number.
 */
enum sbprov_result_code {
    SBPROV_OK = 0,            /**< Success. */
    SBPROV_ERROR = -1,        /**< Unclassified failure; see sbprov_last_error(). */
    SBPROV_EINVAL = -2,       /**< An argument is invalid (NULL, out of range). */
    SBPROV_ENOMEM = -3,       /**< Out of memory. */
    SBPROV_EBUFS = -4,        /**< Output buffer too small; `*out_len` has the size needed. */
    SBPROV_EBASE64 = -5,      /**< Input is not strict padded standard Base64. */
    SBPROV_EKEYSIZE = -6,     /**< A key decodes to a length outside the allowed range. */
    SBPROV_EID = -7,          /**< An identifier (registration ID, device ID, host name ...) is malformed. */
    SBPROV_EEXPIRY = -8,      /**< A token expiry is before 2020 or not after "now". */
    SBPROV_ECONNSTR = -9,     /**< A connection string is malformed or contradictory. */
    SBPROV_ECRYPTO = -10,     /**< The crypto provider (OpenSSL) failed. */
    SBPROV_EINIT = -11,       /**< Global initialisation failed or was not done. */
    SBPROV_ENOTFOUND = -12,   /**< The requested item does not exist. */
    SBPROV_ERANDOM = -13,     /**< The random number generator failed. */
    SBPROV_EKEY = -14,        /**< A key is malformed, of an unsupported type, or cannot do the operation. */
    SBPROV_ESIGNATURE = -15,  /**< A signature does not verify. */
    SBPROV_EIO = -16,         /**< A file-system operation failed; the detail names the path and the OS error. */
    SBPROV_EPROVIDER = -17,   /**< An OpenSSL provider, configuration or store URI could not be used. */
    SBPROV_EPASSPHRASE = -18, /**< A passphrase is missing or wrong for an encrypted key. */
    SBPROV_ESCRIPT = -19,     /**< An external script failed, or printed output that is not allowed. */
    SBPROV_ETIMEOUT = -20,    /**< An operation did not finish within its time limit. */
    SBPROV_EPARSE = -21,      /**< Text input (e.g. `key=value` lines) is malformed. */
    SBPROV_EEXISTS = -22,     /**< The target already exists and overwriting was not asked for. */
    SBPROV_ETAMPERED = -23,   /**< Stored data failed authentication (tampered, truncated, swapped, or a wrong key). */
    SBPROV_EFORMAT = -24,     /**< Stored data has a newer or unknown format version. */
    SBPROV_EUNSAFE = -25,     /**< A file or directory is a symbolic link, not owned by the caller, or writable by others. */
    SBPROV_ENETWORK = -26,    /**< The server could not be reached (DNS, connect, connection reset). */
    SBPROV_ETLS = -27,        /**< The TLS handshake failed (protocol, cipher, client certificate). */
    SBPROV_ECERT = -28,       /**< The server's certificate is not trusted, expired, or for another host. */
    SBPROV_EHTTP = -29,       /**< The server refused the request as malformed (a 4xx status). */
    SBPROV_ESERVER = -30,     /**< The server failed (a 5xx status). */
    SBPROV_ERESPONSE = -31,   /**< A response is malformed: too large, truncated, wrong content type, invalid JSON. */
    SBPROV_EAUTH = -32,       /**< Authentication or authorization refused (401/403, or a device not accepted). */
    SBPROV_ERATELIMIT = -33,  /**< The server asks to slow down (429); retry after the time it gave. */
    SBPROV_ECANCELED = -34,   /**< The operation was cancelled by the caller. */
    SBPROV_ECLOCK = -35,      /**< The local clock is too far from the server's (SAS tokens would be expired or not yet valid). */
    SBPROV_ECONFLICT = -36    /**< The target changed meanwhile: its etag no longer matches (412). */
};

/**
 * Static English description of a result code.
 *
 * @param code any value; unknown codes give "unknown error".
 * @return a static string, never NULL, owned by the library.
 */
SBPROV_API const char *sbprov_strerror(sbprov_result code);

/**
 * Detail message of the last failed call made on the calling thread.
 *
 * The message names what was wrong ("group key: not valid Base64 at
 * character 7"). It is not cleared by successful calls, so read it right
 * after the failure.
 *
 * @return a NUL-terminated string owned by the library (thread-local), valid
 *         until the next libsbprov call on this thread; "" if nothing failed.
 */
SBPROV_API const char *sbprov_last_error(void);

/**
 * Code of the last failed call made on the calling thread.
 *
 * @return the code, or ::SBPROV_OK if nothing has failed on this thread.
 */
SBPROV_API sbprov_result sbprov_last_error_code(void);

/**
 * Forget the last error of the calling thread (sbprov_last_error() gives ""
 * afterwards).
 */
SBPROV_API void sbprov_clear_error(void);

/**
 * Initialise the library (and libcurl and OpenSSL under it).
 *
 * Reference-counted and thread-safe: every successful call must be matched by
 * one sbprov_global_shutdown(). Pure functions (key derivation, SAS tokens,
 * connection strings) work without it; network functions need it.
 *
 * @return the number of initialisations now outstanding (>= 1), or
 *         ::SBPROV_EINIT if libcurl or OpenSSL could not be initialised.
 */
SBPROV_API SBPROV_NODISCARD int sbprov_global_init(void);

/**
 * Undo one sbprov_global_init(). The last call releases libcurl.
 *
 * @return the number of initialisations still outstanding (>= 0), or
 *         ::SBPROV_EINIT if there was none to undo.
 */
SBPROV_API int sbprov_global_shutdown(void);

/**
 * Release memory that the library allocated for the caller. NULL is a no-op.
 * Never free such memory with the C library's free().
 *
 * @param ptr memory returned to the caller by a libsbprov function.
 */
SBPROV_API void sbprov_free(void *ptr);

/** Severity of a log message. */
typedef enum sbprov_log_level {
    SBPROV_LOG_DEBUG = 10,
    SBPROV_LOG_INFO = 20,
    SBPROV_LOG_WARNING = 30,
    SBPROV_LOG_ERROR = 40
} sbprov_log_level;

/**
 * Log callback. Called from the thread doing the work; must not call back
 * into libsbprov. Messages never contain secrets.
 *
 * @param level   severity of the message.
 * @param message NUL-terminated text, valid only during the call.
 * @param payload the pointer given to sbprov_log_set_callback().
 */
typedef void (*sbprov_log_cb)(sbprov_log_level level, const char *message, void *payload);

/**
 * Install (or with `cb` NULL, remove) the process-wide log callback. Without
 * one the library logs nothing. Thread-safe.
 *
 * @param cb        callback, or NULL to stop logging.
 * @param min_level messages below this level are not delivered.
 * @param payload   passed to every call of `cb`; kept until replaced.
 */
SBPROV_API void sbprov_log_set_callback(sbprov_log_cb cb, sbprov_log_level min_level, void *payload);

#ifdef __cplusplus
}
#endif

#endif /* SBPROV_COMMON_H */
