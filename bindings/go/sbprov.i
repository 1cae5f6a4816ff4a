/*
 * SWIG interface of libsbprov for Go (raw layer).
 *
 * Generated with `swig -go -cgo -intgosize 64` by generate.sh into
 * internal/capi/ (package capi). SWIG for Go always exports (capitalises) the
 * names it generates and adds exported helpers of its own (Swig_free,
 * Swig_malloc, ...), so the raw layer lives in an internal package that only
 * this module can import; the public, idiomatic API is the hand-written
 * package sbprov in the directory above.
 *
 * Conventions of this raw layer (all signatures stay flat for cgo: no Go
 * pointer to Go memory that itself holds Go pointers, no []string):
 *   - sbprov_result                         -> int32
 *   - (char *buf, size_t buf_size)          -> []byte the C side writes into
 *   - size_t *out_len                       -> *int64
 *   - (const char *p, size_t n) secrets     -> string, passed without a copy
 *   - (const void *data, size_t len)        -> []byte
 *   - (const char *passphrase, size_t len)  -> []byte, passed without a copy;
 *                                              a separate int says whether
 *                                              there is one (nil vs empty)
 *   - const char *policy, *value, and the
 *     optional identity/key options         -> string, "" meaning NULL
 *   - other const char * inputs             -> string, copied into a
 *                                              NUL-terminated C string (on the
 *                                              stack when short); the Go layer
 *                                              rejects embedded NULs first
 *   - opaque handles                        -> uintptr, created through *uintptr
 *   - const char * results                  -> copied into a caller []byte by
 *                                              small helpers (gosbprov_*)
 *   - option structs (they hold const char *
 *     members, i.e. pointers C would keep)  -> not wrapped; gosbprov_* helpers
 *                                              take flat arguments, fill the
 *                                              struct on the C stack and call
 *                                              the library
 *
 *   - int64_t *, uint64_t *, int32_t * and
 *     int * outputs                         -> *int64, *uint64, *int32
 *   - (const double *values, size_t count)  -> []float64, read during the call
 *   - lists of strings (inventory values)   -> one Go string of NUL-separated
 *                                              values, split into a C array by
 *                                              the helper
 *   - handles returned by an accessor       -> uintptr_t (gosbprov_* helper)
 *   - an array of structs holding pointers  -> flat arguments: one []byte of
 *     (Azure messages and their              the concatenated bodies, one Go
 *     properties)                            string of NUL-separated strings,
 *                                            one []int64 of numbers; the
 *                                            helper copies the strings and
 *                                            builds the structs in C memory,
 *                                            freed before it returns
 *
 *   - callbacks (the frame decoder's)        -> never into Go: a C callback
 *                                              of the helper copies each
 *                                              accepted record into caller
 *                                              buffers (one []int64 of fixed
 *                                              fields per record, one []byte of
 *                                              record bytes) and stops the
 *                                              feed when they are full; Go
 *                                              feeds the rest from *consumed
 *   - structs passed by pointer (a decoded
 *     frame, room samples, states, events)  -> fixed layouts of int64 (and
 *                                              double) slots whose indices are
 *                                              GOSBPROV_* constants of this
 *                                              file, built into or copied out
 *                                              of the struct on the C stack
 *   - the MCU encoder's builder (it holds
 *     a pointer to its buffer)              -> not wrapped: one helper runs a
 *                                              flat list of operations on a
 *                                              builder and buffer of its own
 *
 * The thread-local error detail (sbprov_last_error) is read by the Go layer
 * on the same OS thread as the failing call (runtime.LockOSThread).
 *
 * Network clients (sbprov_mender, sbprov_mender_mgmt, sbprov_azure_dps,
 * sbprov_azure_hub, sbprov_azure_registry) copy everything they are given
 * when they are created (strings, and their own reference to keys); the
 * token store is a C handle the Go layer keeps open for the client's
 * lifetime. No Go memory is ever kept by C.
 */
%module capi

%insert(cgo_comment_typedefs) %{
#cgo pkg-config: sbprov
%}

%{
#include <sbprov/sbprov.h>
#include <stdlib.h>
#include <string.h>
%}

%include <stdint.i>

/* ---- Result codes ------------------------------------------------------ */

%typemap(gotype) sbprov_result "int32"
%typemap(in) sbprov_result %{ $1 = (sbprov_result)$input; %}
%typemap(out) sbprov_result %{ $result = (int32_t)$1; %}

/* ---- Caller-owned output buffers --------------------------------------- */

%typemap(gotype) (char *buf, size_t buf_size),
                 (char *primary, size_t primary_size),
                 (char *secondary, size_t secondary_size) "[]byte"
%typemap(in) (char *buf, size_t buf_size),
             (char *primary, size_t primary_size),
             (char *secondary, size_t secondary_size)
%{
  $1 = (char *)$input.array;
  $2 = (size_t)$input.len;
%}

%typemap(gotype) size_t *out_len "*int64"
%typemap(in) size_t *out_len %{ $1 = (size_t *)$input; %}

/* ---- Inputs ------------------------------------------------------------ */

/* (pointer, length) inputs: the Go string's bytes are read in place for the
 * duration of the call; an empty string still gets a valid pointer. */
%typemap(gotype) (const char *group_key, size_t group_key_len),
                 (const char *key, size_t key_len),
                 (const char *s, size_t len),
                 (const char *text, size_t len),
                 (const char *pem, size_t len),
                 (const char *signature, size_t signature_len),
                 (const char *password, size_t password_len),
                 (const char *joined, size_t joined_len),
                 (const char *connstr, size_t connstr_len) "string"
%typemap(in) (const char *group_key, size_t group_key_len),
             (const char *key, size_t key_len),
             (const char *s, size_t len),
             (const char *text, size_t len),
             (const char *pem, size_t len),
             (const char *signature, size_t signature_len),
             (const char *password, size_t password_len),
             (const char *joined, size_t joined_len),
             (const char *connstr, size_t connstr_len)
%{
  $1 = $input.n > 0 ? ($1_ltype)$input.p : ($1_ltype)"";
  $2 = (size_t)$input.n;
%}

%typemap(gotype) (const void *data, size_t len),
                 (const void *value, size_t len),
                 (const char *passphrase, size_t passphrase_len) "[]byte"
%typemap(in) (const void *data, size_t len),
             (const void *value, size_t len),
             (const char *passphrase, size_t passphrase_len)
%{
  $1 = $input.len > 0 ? ($1_ltype)$input.array : ($1_ltype)"";
  $2 = (size_t)$input.len;
%}

/* Inventory numbers: a []float64 read in place during the call. */
%typemap(gotype) (const double *values, size_t count) "[]float64"
%typemap(in) (const double *values, size_t count)
%{
  $1 = ($1_ltype)$input.array;
  $2 = (size_t)$input.len;
%}

/* Azure message numbers: a []int64 read in place during the call (void *:
 * SWIG's idea of int64_t is long long, the compiler's may be long). */
%typemap(gotype) (const void *fields, size_t field_count) "[]int64"
%typemap(in) (const void *fields, size_t field_count)
%{
  $1 = ($1_ltype)$input.array;
  $2 = (size_t)$input.len;
%}

/* Scalar outputs: a pointer to a Go variable, written during the call. */
%typemap(gotype) int64_t *out, int64_t *out_status, int64_t *out_retry_after, int64_t *out_date,
                 int64_t *out_accepted_count "*int64"
%typemap(in) int64_t *out, int64_t *out_status, int64_t *out_retry_after, int64_t *out_date,
             int64_t *out_accepted_count
%{ $1 = (int64_t *)$input; %}
%typemap(gotype) uint64_t *out "*uint64"
%typemap(in) uint64_t *out %{ $1 = (uint64_t *)$input; %}
/* C int is 32 bits on every target this binding builds for (64-bit guard in doc.go). */
%typemap(gotype) int32_t *out_accepted, int *existed "*int32"
%typemap(in) int32_t *out_accepted, int *existed %{ $1 = ($1_ltype)$input; %}
/* Frames and rooms: scalar outputs of the gosbprov_frame_* and gosbprov_air_*
 * helpers. */
%typemap(gotype) int64_t *out_consumed, int64_t *out_count, int64_t *out_outcome, int64_t *out_index,
                 int64_t *out_length, int64_t *out_min, int64_t *out_max "*int64"
%typemap(in) int64_t *out_consumed, int64_t *out_count, int64_t *out_outcome, int64_t *out_index,
             int64_t *out_length, int64_t *out_min, int64_t *out_max
%{ $1 = (int64_t *)$input; %}
/* Frames and rooms: fixed-layout outputs the helpers write during the call
 * (a Go []int64 and []float64, no Go pointers in them). */
%typemap(gotype) (int64_t *slots, size_t slot_count) "[]int64"
%typemap(in) (int64_t *slots, size_t slot_count)
%{
  $1 = ($1_ltype)$input.array;
  $2 = (size_t)$input.len;
%}
%typemap(gotype) (double *doubles, size_t double_count) "[]float64"
%typemap(in) (double *doubles, size_t double_count)
%{
  $1 = ($1_ltype)$input.array;
  $2 = (size_t)$input.len;
%}

/* NUL-terminated inputs. SWIG's default copies every Go string into malloc'd
 * memory; short strings (every valid ID, host name or policy) are copied to
 * the stack instead. The Go layer has already refused embedded NULs, which
 * would otherwise truncate the string silently. If malloc fails for a long
 * string the argument becomes NULL and the C function reports SBPROV_EINVAL. */
%typemap(gotype) const char * "string"
%typemap(in) const char * (char stackbuf[256], char *heap = NULL)
%{
  if ((size_t)$input.n < sizeof stackbuf) {
    memcpy(stackbuf, $input.p, (size_t)$input.n);
    stackbuf[$input.n] = '\0';
    $1 = stackbuf;
  } else {
    heap = (char *)malloc((size_t)$input.n + 1);
    if (heap != NULL) {
      memcpy(heap, $input.p, (size_t)$input.n);
      heap[$input.n] = '\0';
    }
    $1 = heap;
  }
%}
%typemap(freearg) const char * %{ free(heap$argnum); %}

/* Inputs where NULL has a meaning of its own (no skn; remove the field): ""
 * stands for NULL, and a failed malloc gives "" (refused by the C check as
 * empty) rather than NULL, so that it can never silently drop a value. A
 * connection-string value may be a key, so the copy is wiped after the call. */
%define SBPROV_OPTIONAL_STRING(NAME)
%typemap(in) const char *NAME (char optbuf[256], char *optheap = NULL)
%{
  if ($input.n == 0) {
    $1 = NULL;
  } else if ((size_t)$input.n < sizeof optbuf) {
    memcpy(optbuf, $input.p, (size_t)$input.n);
    optbuf[$input.n] = '\0';
    $1 = optbuf;
  } else {
    optheap = (char *)malloc((size_t)$input.n + 1);
    if (optheap != NULL) {
      memcpy(optheap, $input.p, (size_t)$input.n);
      optheap[$input.n] = '\0';
      $1 = optheap;
    } else {
      $1 = (char *)"";
    }
  }
%}
%typemap(freearg) const char *NAME
%{
  gosbprov_wipe(optbuf$argnum, sizeof optbuf$argnum);
  if (optheap$argnum != NULL) {
    gosbprov_wipe(optheap$argnum, strlen(optheap$argnum));
    free(optheap$argnum);
  }
%}
%enddef
SBPROV_OPTIONAL_STRING(policy)
SBPROV_OPTIONAL_STRING(value)
/* Identity probe and key load options, CSR subject alternative names: ""
 * means "the default" or "none". (virtual_globs is not among them: there ""
 * empties the default list, so the helper takes a flag for "default".) */
SBPROV_OPTIONAL_STRING(physical_globs)
SBPROV_OPTIONAL_STRING(sysfs_root)
SBPROV_OPTIONAL_STRING(etc_root)
SBPROV_OPTIONAL_STRING(providers)
SBPROV_OPTIONAL_STRING(openssl_conf)
SBPROV_OPTIONAL_STRING(propquery)
SBPROV_OPTIONAL_STRING(sans)
/* Store: no key file; every entry (export). */
SBPROV_OPTIONAL_STRING(key_file)
SBPROV_OPTIONAL_STRING(names)
/* HTTP and Mender options: "" means the library's default (system CAs, no
 * client certificate, "libsbprov/<version>", no tenant token, "mender.jwt");
 * a device status "" means every status. (proxy and tier are not among
 * them: there "" has a meaning of its own, so the helpers take a mode.) The
 * tenant token's copy is wiped after the call. */
SBPROV_OPTIONAL_STRING(ca_file)
SBPROV_OPTIONAL_STRING(ca_path)
SBPROV_OPTIONAL_STRING(client_cert)
SBPROV_OPTIONAL_STRING(user_agent)
SBPROV_OPTIONAL_STRING(tenant_token)
SBPROV_OPTIONAL_STRING(token_entry)
SBPROV_OPTIONAL_STRING(status)
/* Azure: "" means the default endpoint, no payload, a key generated by the
 * library, no etag (create; delete whatever the etag). The copies of keys
 * and payloads are wiped after the call. */
SBPROV_OPTIONAL_STRING(endpoint)
SBPROV_OPTIONAL_STRING(payload_json)
SBPROV_OPTIONAL_STRING(primary_key)
SBPROV_OPTIONAL_STRING(secondary_key)
SBPROV_OPTIONAL_STRING(etag)

%typemap(gotype) sbprov_env_format "int32"
%typemap(in) sbprov_env_format %{ $1 = (sbprov_env_format)$input; %}

%typemap(gotype) sbprov_azure_cs_field "int32"
%typemap(in) sbprov_azure_cs_field %{ $1 = (sbprov_azure_cs_field)$input; %}

%typemap(gotype) sbprov_inventory_mode "int32"
%typemap(in) sbprov_inventory_mode %{ $1 = (sbprov_inventory_mode)$input; %}

/* ---- Opaque handles as uintptr ----------------------------------------- */

%define SBPROV_HANDLE(TYPE)
%typemap(gotype) TYPE ** "*uintptr"
%typemap(in) TYPE ** %{ $1 = (TYPE **)$input; %}
%typemap(gotype) TYPE *, const TYPE * "uintptr"
%typemap(in) TYPE *, const TYPE * %{ $1 = ($1_ltype)$input; %}
%enddef
SBPROV_HANDLE(sbprov_azure_deriver)
SBPROV_HANDLE(sbprov_azure_sas_signer)
SBPROV_HANDLE(sbprov_azure_connstr)
SBPROV_HANDLE(sbprov_identity)
SBPROV_HANDLE(sbprov_key)
SBPROV_HANDLE(sbprov_store)
SBPROV_HANDLE(sbprov_mender)
SBPROV_HANDLE(sbprov_mender_mgmt)
SBPROV_HANDLE(sbprov_inventory)
SBPROV_HANDLE(sbprov_mender_update)
SBPROV_HANDLE(sbprov_mender_device)
SBPROV_HANDLE(sbprov_mender_device_list)
SBPROV_HANDLE(sbprov_azure_dps)
SBPROV_HANDLE(sbprov_azure_dps_result)
SBPROV_HANDLE(sbprov_azure_hub)
SBPROV_HANDLE(sbprov_azure_registry)
SBPROV_HANDLE(sbprov_azure_device)
SBPROV_HANDLE(sbprov_frame_decoder)
SBPROV_HANDLE(sbprov_air_room)
SBPROV_HANDLE(sbprov_air_building)

/* ---- What is wrapped --------------------------------------------------- */

/* Functions returning const char * are replaced by gosbprov_* helpers that
 * copy into a caller buffer; callbacks and memory/global-state functions are
 * not part of the Go API (yet), except sbprov_global_init, which the Go
 * layer calls once before the first network client (and never undoes: the
 * process keeps libcurl initialised). */
%ignore sbprov_strerror;
%ignore sbprov_last_error;
%ignore sbprov_version;
%ignore sbprov_azure_cs_field_name;
%ignore sbprov_azure_connstr_get;
%ignore sbprov_azure_cs_field_from_name;
%ignore sbprov_log_set_callback;
%ignore sbprov_log_cb;
%ignore sbprov_log_level;
%ignore sbprov_free;
%ignore sbprov_global_shutdown;
%ignore SBPROV_LOG_DEBUG;
%ignore SBPROV_LOG_INFO;
%ignore SBPROV_LOG_WARNING;
%ignore SBPROV_LOG_ERROR;
/* Compile-time version macros would pin the generated code to one release;
 * the Go API reports the version of the library actually loaded. */
%ignore SBPROV_VERSION_MAJOR;
%ignore SBPROV_VERSION_MINOR;
%ignore SBPROV_VERSION_PATCH;
%ignore SBPROV_VERSION;
%ignore SBPROV_VERSION_NUMBER;
%ignore SBPROV_VERSION_CHECK;
%ignore SBPROV_SOVERSION;
%ignore SBPROV_AZURE_KEY_B64_SIZE;
/* Identity and keys: the option structs and the functions taking them are
 * replaced by flat gosbprov_* helpers; so are the functions returning a
 * borrowed const char * and the one returning an enum. Enum constants are
 * defined as Go constants in the package above. */
%ignore sbprov_identity_script_options;
%ignore sbprov_identity_script_options_init;
%ignore sbprov_identity_from_script;
%ignore sbprov_identity_probe_options;
%ignore sbprov_identity_probe_options_init;
%ignore sbprov_identity_probe;
%ignore sbprov_identity_name;
%ignore sbprov_identity_value;
%ignore sbprov_identity_get;
%ignore sbprov_identity_source;
%ignore SBPROV_IDENTITY_MAC;
%ignore SBPROV_IDENTITY_MACHINE_ID;
%ignore SBPROV_IDENTITY_DMI_SERIAL;
%ignore SBPROV_IDENTITY_DMI_UUID;
%ignore SBPROV_IDENTITY_HOSTNAME;
%ignore SBPROV_IDENTITY_DIGEST_SIZE;
%ignore sbprov_key_generate_options;
/* (its member `type` is a Go keyword; the struct is not wrapped anyway) */
%warnfilter(314) sbprov_key_generate_options::type;
%ignore sbprov_key_generate_options_init;
%ignore sbprov_key_generate;
%ignore sbprov_key_load_options;
%ignore sbprov_key_load_options_init;
%ignore sbprov_key_load;
%ignore sbprov_key_save;
%ignore sbprov_key_get_type;
%ignore sbprov_key_type;
%ignore SBPROV_KEY_ED25519;
%ignore SBPROV_KEY_ECDSA_P256;
%ignore SBPROV_KEY_RSA;
%ignore sbprov_key_save_flags;
%ignore SBPROV_KEY_SAVE_OVERWRITE;
/* Store: the open options, the reads into void buffers and the listing
 * callback are replaced by gosbprov_store_open, gosbprov_store_get and
 * sbprov_store_list_names; the env formats are Go constants above. */
%ignore sbprov_store_open_options;
%ignore sbprov_store_open_options_init;
%ignore sbprov_store_open;
%ignore sbprov_store_get;
%ignore sbprov_store_get_alloc;
%ignore sbprov_store_list;
%ignore sbprov_store_list_cb;
%ignore sbprov_env_format;
%ignore SBPROV_ENV_DOCKER;
%ignore SBPROV_ENV_SYSTEMD;
/* HTTP and Mender: the option structs, the functions taking them and the
 * response-info struct (a char array member) are replaced by flat
 * gosbprov_* helpers; so are the accessors returning a borrowed const char *
 * or a borrowed handle, the auth-status enum output and the inventory's
 * string array. The defaults, limits and enum values are wrapped as
 * constants, which a test compares with the Go layer's. */
%ignore sbprov_http_options;
%ignore sbprov_http_options_init;
%ignore sbprov_http_response_info;
%ignore sbprov_mender_options;
%ignore sbprov_mender_options_init;
%ignore sbprov_mender_new;
%ignore sbprov_mender_authenticate;
%ignore sbprov_mender_wait_options;
%ignore sbprov_mender_wait_options_init;
%ignore sbprov_mender_authenticate_until_accepted;
%ignore sbprov_mender_last_response;
%ignore sbprov_inventory_add_strings;
%ignore sbprov_mender_update_id;
%ignore sbprov_mender_update_artifact_name;
%ignore sbprov_mender_update_uri;
%ignore sbprov_mender_update_json;
%ignore sbprov_mender_mgmt_new;
%ignore sbprov_mender_device_list_get;
%ignore sbprov_mender_device_id;
%ignore sbprov_mender_device_status;
%ignore sbprov_mender_device_identity_json;
%ignore sbprov_mender_device_auth_set_id;
%ignore sbprov_mender_device_auth_set_status;
%ignore sbprov_mender_device_auth_set_pubkey;
%ignore sbprov_mender_device_json;
%ignore sbprov_mender_mgmt_last_response;
/* Azure over HTTPS: the option structs, the message and property structs
 * and the functions taking them are replaced by flat gosbprov_azure_*
 * helpers; so are the accessors returning a borrowed const char *. */
%ignore sbprov_azure_dps_options;
%ignore sbprov_azure_dps_options_init;
%ignore sbprov_azure_dps_new;
%ignore sbprov_azure_dps_last_response;
%ignore sbprov_azure_dps_result_status;
%ignore sbprov_azure_dps_result_hub;
%ignore sbprov_azure_dps_result_device_id;
%ignore sbprov_azure_dps_result_substatus;
%ignore sbprov_azure_dps_result_error_message;
%ignore sbprov_azure_dps_result_json;
%ignore sbprov_azure_hub_options;
%ignore sbprov_azure_hub_options_init;
%ignore sbprov_azure_hub_new;
%ignore sbprov_azure_property;
%ignore sbprov_azure_message;
%ignore sbprov_azure_message_init;
%ignore sbprov_azure_hub_send;
%ignore sbprov_azure_hub_last_response;
%ignore sbprov_azure_registry_new;
%ignore sbprov_azure_device_id;
%ignore sbprov_azure_device_etag;
%ignore sbprov_azure_device_status;
%ignore sbprov_azure_device_primary_key;
%ignore sbprov_azure_device_secondary_key;
/* Sensor frames: the builder (it keeps a pointer to its buffer), the frame,
 * reading, options and counter structs, the callback type and every function
 * taking them are replaced by flat gosbprov_frame_* helpers; so are the
 * functions returning a const char * or writing through uint8_t / int32_t
 * pointers. The constants (kinds, sizes, outcomes, statuses, encoder results)
 * are wrapped, and a test compares them with the Go layer's. */
%ignore sbprov_frame_builder;
%ignore sbprov_frame_builder_init;
%ignore sbprov_frame_add_timestamp;
%ignore sbprov_frame_add_reading;
%ignore sbprov_frame_add_raw;
%ignore sbprov_frame_finish;
%ignore sbprov_cobs_encode;
%ignore sbprov_frame_kind_info;
%ignore sbprov_frame_decoder_options;
%ignore sbprov_frame_decoder_options_init;
%ignore sbprov_frame_decoder_new;
%ignore sbprov_frame_reading;
%ignore sbprov_frame;
/* (its member `type` is a Go keyword; the struct is not wrapped anyway) */
%warnfilter(314) sbprov_frame::type;
%ignore sbprov_frame_cb;
%ignore sbprov_frame_counters;
%ignore sbprov_frame_decoder_feed;
%ignore sbprov_frame_decode_record;
%ignore sbprov_frame_decoder_counters;
%ignore sbprov_frame_parse;
%ignore sbprov_frame_outcome_name;
%ignore sbprov_frame_seq_status_name;
%ignore sbprov_frame_to_json;
%ignore sbprov_frame_to_senml;
%ignore sbprov_frame_kind_name;
/* Rooms: the option, sample, state and event structs and the functions
 * taking them are replaced by flat gosbprov_air_* helpers; so are the
 * functions returning a const char *. */
%ignore sbprov_air_room_options;
%ignore sbprov_air_room_options_init;
%ignore sbprov_air_sample;
%ignore sbprov_air_sample_init;
%ignore sbprov_air_sample_from_frame;
%ignore sbprov_air_state;
%ignore sbprov_air_event;
%ignore sbprov_air_room_new;
%ignore sbprov_air_room_update;
%ignore sbprov_air_room_state;
%ignore sbprov_air_room_next_event;
%ignore sbprov_air_room_name;
%ignore sbprov_air_co2_class_name;
%ignore sbprov_air_event_kind_name;
%ignore sbprov_air_reason_name;
%ignore sbprov_air_building_add_room;
%ignore sbprov_air_building_update;
%ignore sbprov_air_building_update_frame;
%ignore sbprov_air_building_next_event;

#define SBPROV_API
#define SBPROV_NODISCARD
%include <sbprov/common.h>
%include <sbprov/version.h>
%include <sbprov/azure.h>
/* Typemaps apply by parameter name while SWIG reads the headers: in
 * identity.h `value` is an attribute value, where "" is a real (empty)
 * value, not "remove the field" as in the connection-string setter. */
%clear const char *value;
%include <sbprov/identity.h>
%include <sbprov/keys.h>
%include <sbprov/store.h>
%include <sbprov/http.h>
%include <sbprov/mender.h>
%include <sbprov/azure_http.h>
%include <sbprov/frame_encode.h>
%include <sbprov/frame.h>
%include <sbprov/air.h>

%{
/* Overwrite n bytes at p with zeros in a way the compiler keeps. */
static void gosbprov_wipe(void *p, size_t n)
{
    volatile unsigned char *v = (volatile unsigned char *)p;
    while (n-- > 0)
        *v++ = 0;
}

/* Copy a NUL-terminated string s (NULL taken as absent) into buf, truncated
 * and NUL-terminated if buf is too small. Returns the length of s, or -1 if
 * s is NULL. */
static int64_t gosbprov_copy(char *buf, size_t buf_size, const char *s)
{
    size_t n;
    if (s == NULL)
        return -1;
    n = strlen(s);
    if (buf != NULL && buf_size > 0) {
        size_t k = n < buf_size - 1 ? n : buf_size - 1;
        memcpy(buf, s, k);
        buf[k] = '\0';
    }
    return (int64_t)n;
}

%}

%inline %{
/* sbprov_version() into buf; returns its length. */
int64_t gosbprov_version(char *buf, size_t buf_size)
{
    return gosbprov_copy(buf, buf_size, sbprov_version());
}

/* sbprov_strerror(code) into buf; returns its length. */
int64_t gosbprov_strerror(char *buf, size_t buf_size, sbprov_result code)
{
    return gosbprov_copy(buf, buf_size, sbprov_strerror(code));
}

/* sbprov_last_error() of the calling thread into buf; returns its length.
 * Must run on the OS thread of the failing call. */
int64_t gosbprov_last_error(char *buf, size_t buf_size)
{
    return gosbprov_copy(buf, buf_size, sbprov_last_error());
}

/* sbprov_azure_cs_field_name(field) into buf; returns its length, or -1 for
 * a value that is not a field. */
int64_t gosbprov_cs_field_name(char *buf, size_t buf_size, sbprov_azure_cs_field field)
{
    return gosbprov_copy(buf, buf_size, sbprov_azure_cs_field_name(field));
}

/* sbprov_azure_connstr_get(cs, field) into buf; returns its length, or -1 if
 * the field is absent. */
int64_t gosbprov_connstr_get(char *buf, size_t buf_size, const sbprov_azure_connstr *cs,
                             sbprov_azure_cs_field field)
{
    return gosbprov_copy(buf, buf_size, sbprov_azure_connstr_get(cs, field));
}

/* ---- identity ---- */

/* sbprov_identity_name(identity, index) into buf; returns its length, or -1
 * if index is out of range. */
int64_t gosbprov_identity_name(char *buf, size_t buf_size, const sbprov_identity *identity, size_t index)
{
    return gosbprov_copy(buf, buf_size, sbprov_identity_name(identity, index));
}

/* sbprov_identity_value(identity, index, value_index) into buf; returns its
 * length, or -1 if an index is out of range. */
int64_t gosbprov_identity_value(char *buf, size_t buf_size, const sbprov_identity *identity, size_t index,
                                size_t value_index)
{
    return gosbprov_copy(buf, buf_size, sbprov_identity_value(identity, index, value_index));
}

/* sbprov_identity_probe() with flat arguments: sources is a bit set; ""
 * stands for NULL in physical_globs, sysfs_root and etc_root (typemaps);
 * virtual_globs is used only if default_virtual is 0 ("" then empties the
 * list). */
sbprov_result gosbprov_identity_probe(sbprov_identity **out, uint32_t sources, int32_t skip_local_mac,
                                      const char *physical_globs, const char *virtual_globs,
                                      int32_t default_virtual, const char *sysfs_root, const char *etc_root)
{
    sbprov_identity_probe_options opts;
    sbprov_result rc = sbprov_identity_probe_options_init(&opts, sizeof opts);
    if (rc != SBPROV_OK)
        return rc;
    opts.sources = sources;
    opts.skip_local_mac = skip_local_mac != 0;
    opts.physical_globs = physical_globs;
    opts.virtual_globs = default_virtual ? NULL : virtual_globs;
    opts.sysfs_root = sysfs_root;
    opts.etc_root = etc_root;
    return sbprov_identity_probe(out, &opts);
}

/* sbprov_identity_from_script(); a limit of 0 means the library's default. */
sbprov_result gosbprov_identity_from_script(sbprov_identity **out, const char *path, uint32_t timeout_ms,
                                            uint32_t max_output)
{
    sbprov_identity_script_options opts;
    sbprov_result rc = sbprov_identity_script_options_init(&opts, sizeof opts);
    if (rc != SBPROV_OK)
        return rc;
    opts.timeout_ms = timeout_ms;
    opts.max_output = max_output;
    return sbprov_identity_from_script(out, path, &opts);
}

/* ---- keys ---- */

/* sbprov_key_generate(): key_type is a sbprov_key_type value, rsa_bits 0 for the default. */
sbprov_result gosbprov_key_generate(sbprov_key **out, int32_t key_type, uint32_t rsa_bits)
{
    sbprov_key_generate_options opts;
    sbprov_result rc = sbprov_key_generate_options_init(&opts, sizeof opts);
    if (rc != SBPROV_OK)
        return rc;
    opts.type = (sbprov_key_type)key_type;
    opts.rsa_bits = rsa_bits;
    return sbprov_key_generate(out, &opts);
}

/* sbprov_key_load(): the passphrase is used only if has_passphrase is
 * non-zero; "" stands for NULL in the other options (typemaps). */
sbprov_result gosbprov_key_load(sbprov_key **out, const char *uri, const char *passphrase, size_t passphrase_len,
                                int32_t has_passphrase, const char *providers, const char *openssl_conf,
                                const char *propquery)
{
    sbprov_key_load_options opts;
    sbprov_result rc = sbprov_key_load_options_init(&opts, sizeof opts);
    if (rc != SBPROV_OK)
        return rc;
    if (has_passphrase) {
        opts.passphrase = passphrase;
        opts.passphrase_len = passphrase_len;
    }
    opts.providers = providers;
    opts.openssl_conf = openssl_conf;
    opts.propquery = propquery;
    return sbprov_key_load(out, uri, &opts);
}

/* sbprov_key_save(): without has_passphrase the key is saved unencrypted;
 * with it, an empty passphrase reaches the library (which refuses it). */
sbprov_result gosbprov_key_save(const sbprov_key *key, const char *path, const char *passphrase,
                                size_t passphrase_len, int32_t has_passphrase, int32_t overwrite)
{
    return sbprov_key_save(key, path, has_passphrase ? passphrase : NULL, has_passphrase ? passphrase_len : 0,
                           overwrite ? (uint32_t)SBPROV_KEY_SAVE_OVERWRITE : 0u);
}

/* sbprov_key_get_type() as a plain integer. */
int32_t gosbprov_key_type(const sbprov_key *key)
{
    return (int32_t)sbprov_key_get_type(key);
}

/* ---- store ---- */

/* sbprov_store_open(): "" stands for NULL in key_file (typemap); the
 * passphrase is used only if has_passphrase is non-zero; sealing_key is a key
 * handle or 0 (NULL), used during the call only; scrypt_log2_n 0 for the
 * default. */
sbprov_result gosbprov_store_open(sbprov_store **out, const char *dir, const char *key_file,
                                  const char *passphrase, size_t passphrase_len, int32_t has_passphrase,
                                  const sbprov_key *sealing_key, int32_t plaintext, int32_t create,
                                  uint32_t scrypt_log2_n)
{
    sbprov_store_open_options opts;
    sbprov_result rc = sbprov_store_open_options_init(&opts, sizeof opts);
    if (rc != SBPROV_OK)
        return rc;
    opts.key_file = key_file;
    if (has_passphrase) {
        opts.passphrase = passphrase;
        opts.passphrase_len = passphrase_len;
    }
    opts.sealing_key = sealing_key;
    opts.plaintext = plaintext != 0;
    opts.create = create != 0;
    opts.scrypt_log2_n = scrypt_log2_n;
    return sbprov_store_open(out, dir, &opts);
}

/* sbprov_store_get() into a Go []byte (which may be empty: then NULL, size 0
 * asks for the length). On SBPROV_EBUFS *out_len is the value's length. */
sbprov_result gosbprov_store_get(char *buf, size_t buf_size, size_t *out_len, sbprov_store *store, const char *name)
{
    return sbprov_store_get(buf_size > 0 ? buf : NULL, buf_size, out_len, store, name);
}
%}

/* ---- HTTP and Mender ---- */

%{

/* Fill *h from flat arguments: "" stands for NULL in ca_file, ca_path,
 * client_cert and user_agent (typemaps of the wrapped helpers); client_key is
 * a key handle or 0; proxy_mode 0 leaves the proxy to the environment
 * (NULL), 1 asks for none (""), 2 uses proxy. */
static sbprov_result gosbprov_http_fill(sbprov_http_options *h, const char *ca_file, const char *ca_path,
                                        const char *client_cert, const sbprov_key *client_key, const char *proxy,
                                        int32_t proxy_mode, const char *user_agent, uint32_t connect_timeout_ms,
                                        uint32_t timeout_ms, uint64_t max_response_size, int32_t allow_http)
{
    sbprov_result rc = sbprov_http_options_init(h, sizeof *h);
    if (rc != SBPROV_OK)
        return rc;
    if (max_response_size > (uint64_t)SIZE_MAX) {
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    if (proxy_mode == 2 && proxy == NULL) { /* its copy failed: never fall back to the environment's */
        sbprov_clear_error();
        return SBPROV_ENOMEM;
    }
    h->ca_file = ca_file;
    h->ca_path = ca_path;
    h->client_cert = client_cert;
    h->client_key = client_key;
    h->proxy = proxy_mode == 0 ? NULL : proxy_mode == 1 ? "" : proxy;
    h->user_agent = user_agent;
    h->connect_timeout_ms = connect_timeout_ms;
    h->timeout_ms = timeout_ms;
    h->max_response_size = (size_t)max_response_size;
    h->allow_http = allow_http != 0;
    return SBPROV_OK;
}

/* The fields of a response info: request ID into buf, the rest into the
 * outputs. */
static void gosbprov_response_out(char *buf, size_t buf_size, int64_t *out_status, int64_t *out_retry_after,
                                  int64_t *out_date, const sbprov_http_response_info *info)
{
    *out_status = info->status;
    *out_retry_after = info->retry_after_s;
    *out_date = info->server_date;
    if (buf != NULL && buf_size > 0) {
        size_t n = strnlen(info->request_id, sizeof info->request_id);
        if (n > buf_size - 1)
            n = buf_size - 1;
        memcpy(buf, info->request_id, n);
        buf[n] = '\0';
    }
}
%}

%inline %{
/* sbprov_mender_new() with flat options: tier_mode 0 sends the default tier
 * (NULL, "standard"), 1 none (""), 2 `tier`; token_store is a store handle or
 * 0; renew_margin_s 0 means the default; the transport options as for
 * gosbprov_http_fill(). Everything is copied by the library. */
sbprov_result gosbprov_mender_new(sbprov_mender **out, const char *server_url, const sbprov_identity *identity,
                                  const sbprov_key *key, const char *tenant_token, const char *tier,
                                  int32_t tier_mode, sbprov_store *token_store, const char *token_entry,
                                  uint32_t renew_margin_s, const char *ca_file, const char *ca_path,
                                  const char *client_cert, const sbprov_key *client_key, const char *proxy,
                                  int32_t proxy_mode, const char *user_agent, uint32_t connect_timeout_ms,
                                  uint32_t timeout_ms, uint64_t max_response_size, int32_t allow_http)
{
    sbprov_mender_options opts;
    sbprov_http_options http;
    sbprov_result rc = gosbprov_http_fill(&http, ca_file, ca_path, client_cert, client_key, proxy, proxy_mode,
                                          user_agent, connect_timeout_ms, timeout_ms, max_response_size,
                                          allow_http);
    if (rc != SBPROV_OK)
        return rc;
    if ((rc = sbprov_mender_options_init(&opts, sizeof opts)) != SBPROV_OK)
        return rc;
    if (tier_mode == 2 && tier == NULL) { /* its copy failed: never fall back to the default */
        sbprov_clear_error();
        return SBPROV_ENOMEM;
    }
    opts.tenant_token = tenant_token;
    opts.tier = tier_mode == 0 ? NULL : tier_mode == 1 ? "" : tier;
    opts.http = &http;
    opts.token_store = token_store;
    opts.token_entry = token_entry;
    opts.renew_margin_s = renew_margin_s;
    return sbprov_mender_new(out, server_url, identity, key, &opts);
}

/* sbprov_mender_authenticate(): *out_accepted is 1 if the server accepted
 * the device, 0 if it answered "pending". */
sbprov_result gosbprov_mender_authenticate(int32_t *out_accepted, sbprov_mender *m)
{
    sbprov_mender_auth_status st = SBPROV_MENDER_PENDING;
    sbprov_result rc = sbprov_mender_authenticate(&st, m);
    *out_accepted = rc == SBPROV_OK && st == SBPROV_MENDER_ACCEPTED;
    return rc;
}

/* sbprov_mender_authenticate_until_accepted() with flat options (0 means
 * Mender's value for the schedule; timeout_ms is required). */
sbprov_result gosbprov_mender_wait(sbprov_mender *m, uint32_t timeout_ms, uint32_t first_interval_ms,
                                   uint32_t max_interval_ms, uint32_t tries_per_interval)
{
    sbprov_mender_wait_options opts;
    sbprov_result rc = sbprov_mender_wait_options_init(&opts, sizeof opts);
    if (rc != SBPROV_OK)
        return rc;
    opts.timeout_ms = timeout_ms;
    if (first_interval_ms != 0)
        opts.first_interval_ms = first_interval_ms;
    if (max_interval_ms != 0)
        opts.max_interval_ms = max_interval_ms;
    if (tries_per_interval != 0)
        opts.tries_per_interval = tries_per_interval;
    return sbprov_mender_authenticate_until_accepted(m, &opts);
}

/* sbprov_mender_last_response(): the request ID into buf (64 bytes
 * suffice), the status, Retry-After seconds (-1 if absent) and Date (Unix
 * time, 0 if absent) into the outputs. */
sbprov_result gosbprov_mender_last_response(char *buf, size_t buf_size, int64_t *out_status,
                                            int64_t *out_retry_after, int64_t *out_date, sbprov_mender *m)
{
    sbprov_http_response_info info;
    sbprov_result rc;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if ((rc = sbprov_mender_last_response(&info, m)) == SBPROV_OK)
        gosbprov_response_out(buf, buf_size, out_status, out_retry_after, out_date, &info);
    return rc;
}

/* sbprov_mender_mgmt_last_response(), as gosbprov_mender_last_response(). */
sbprov_result gosbprov_mender_mgmt_last_response(char *buf, size_t buf_size, int64_t *out_status,
                                                 int64_t *out_retry_after, int64_t *out_date, sbprov_mender_mgmt *m)
{
    sbprov_http_response_info info;
    sbprov_result rc;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if ((rc = sbprov_mender_mgmt_last_response(&info, m)) == SBPROV_OK)
        gosbprov_response_out(buf, buf_size, out_status, out_retry_after, out_date, &info);
    return rc;
}

/* sbprov_inventory_add_strings() with the `count` values given as one
 * string of NUL-separated values (joined_len bytes, no final NUL; the Go
 * layer has refused values holding NUL). They are copied to C memory and
 * split there. A count that does not match gives SBPROV_EINVAL. */
sbprov_result gosbprov_inventory_add_strings(sbprov_inventory *inv, const char *name, const char *joined,
                                             size_t joined_len, size_t count)
{
    char *copy, **values;
    size_t i, n = 0;
    sbprov_result rc;

    if (count == 0 || count > joined_len + 1) {
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    copy = (char *)malloc(joined_len + 1);
    values = (char **)calloc(count, sizeof *values);
    if (copy == NULL || values == NULL) {
        free(copy);
        free(values);
        sbprov_clear_error();
        return SBPROV_ENOMEM;
    }
    memcpy(copy, joined, joined_len);
    copy[joined_len] = '\0';
    values[n++] = copy;
    for (i = 0; i < joined_len; i++) {
        if (copy[i] == '\0') {
            if (n == count) {
                n++;
                break;
            }
            values[n++] = copy + i + 1;
        }
    }
    if (n != count) {
        free(copy);
        free(values);
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    rc = sbprov_inventory_add_strings(inv, name, (const char *const *)values, count);
    free(copy);
    free(values);
    return rc;
}

/* Fields of a deployment for gosbprov_mender_update_field(). */
#define GOSBPROV_UPDATE_ID 0
#define GOSBPROV_UPDATE_ARTIFACT_NAME 1
#define GOSBPROV_UPDATE_URI 2
#define GOSBPROV_UPDATE_JSON 3

/* A field of a deployment into buf; returns its length, or -1 for an
 * unknown field or a NULL string. */
int64_t gosbprov_mender_update_field(char *buf, size_t buf_size, const sbprov_mender_update *u, int32_t field)
{
    switch (field) {
    case GOSBPROV_UPDATE_ID:
        return gosbprov_copy(buf, buf_size, sbprov_mender_update_id(u));
    case GOSBPROV_UPDATE_ARTIFACT_NAME:
        return gosbprov_copy(buf, buf_size, sbprov_mender_update_artifact_name(u));
    case GOSBPROV_UPDATE_URI:
        return gosbprov_copy(buf, buf_size, sbprov_mender_update_uri(u));
    case GOSBPROV_UPDATE_JSON:
        return gosbprov_copy(buf, buf_size, sbprov_mender_update_json(u));
    }
    return -1;
}

/* sbprov_mender_mgmt_new() with flat transport options (see
 * gosbprov_http_fill()). */
sbprov_result gosbprov_mender_mgmt_new(sbprov_mender_mgmt **out, const char *server_url, const char *ca_file,
                                       const char *ca_path, const char *client_cert, const sbprov_key *client_key,
                                       const char *proxy, int32_t proxy_mode, const char *user_agent,
                                       uint32_t connect_timeout_ms, uint32_t timeout_ms,
                                       uint64_t max_response_size, int32_t allow_http)
{
    sbprov_http_options http;
    sbprov_result rc = gosbprov_http_fill(&http, ca_file, ca_path, client_cert, client_key, proxy, proxy_mode,
                                          user_agent, connect_timeout_ms, timeout_ms, max_response_size,
                                          allow_http);
    if (rc != SBPROV_OK)
        return rc;
    return sbprov_mender_mgmt_new(out, server_url, &http);
}

/* A device of a page, as a handle owned by the list (0 if index is out of
 * range). */
uintptr_t gosbprov_mender_device_list_get(const sbprov_mender_device_list *list, size_t index)
{
    return (uintptr_t)sbprov_mender_device_list_get(list, index);
}

/* Fields of a device for gosbprov_mender_device_field(). */
#define GOSBPROV_DEVICE_ID 0
#define GOSBPROV_DEVICE_STATUS 1
#define GOSBPROV_DEVICE_IDENTITY_JSON 2
#define GOSBPROV_DEVICE_JSON 3
#define GOSBPROV_AUTH_SET_ID 4
#define GOSBPROV_AUTH_SET_STATUS 5
#define GOSBPROV_AUTH_SET_PUBKEY 6

/* A field of a device (index: the auth set, for the auth-set fields) into
 * buf; returns its length, or -1 for an unknown field, an index out of range
 * or a NULL string. */
int64_t gosbprov_mender_device_field(char *buf, size_t buf_size, const sbprov_mender_device *d, int32_t field,
                                     size_t index)
{
    switch (field) {
    case GOSBPROV_DEVICE_ID:
        return gosbprov_copy(buf, buf_size, sbprov_mender_device_id(d));
    case GOSBPROV_DEVICE_STATUS:
        return gosbprov_copy(buf, buf_size, sbprov_mender_device_status(d));
    case GOSBPROV_DEVICE_IDENTITY_JSON:
        return gosbprov_copy(buf, buf_size, sbprov_mender_device_identity_json(d));
    case GOSBPROV_DEVICE_JSON:
        return gosbprov_copy(buf, buf_size, sbprov_mender_device_json(d));
    case GOSBPROV_AUTH_SET_ID:
        return gosbprov_copy(buf, buf_size, sbprov_mender_device_auth_set_id(d, index));
    case GOSBPROV_AUTH_SET_STATUS:
        return gosbprov_copy(buf, buf_size, sbprov_mender_device_auth_set_status(d, index));
    case GOSBPROV_AUTH_SET_PUBKEY:
        return gosbprov_copy(buf, buf_size, sbprov_mender_device_auth_set_pubkey(d, index));
    }
    return -1;
}
%}

/* ---- Azure over HTTPS ---- */

%{
/* Fill *o from flat arguments: "" stands for NULL in endpoint (typemap); 0
 * means the library's default for each number. */
static sbprov_result gosbprov_azure_hub_fill(sbprov_azure_hub_options *o, const char *endpoint,
                                             const sbprov_http_options *http, uint32_t token_ttl_s,
                                             uint32_t max_clock_skew_s, uint32_t retry_timeout_ms)
{
    sbprov_result rc = sbprov_azure_hub_options_init(o, sizeof *o);
    if (rc != SBPROV_OK)
        return rc;
    o->endpoint = endpoint;
    o->http = http;
    o->token_ttl_s = token_ttl_s;
    o->max_clock_skew_s = max_clock_skew_s;
    o->retry_timeout_ms = retry_timeout_ms;
    return SBPROV_OK;
}

/* The next NUL-terminated string from *p (before end), or NULL if there is
 * none; *p moves past it. */
static char *gosbprov_next_string(char **p, char *end)
{
    char *s = *p, *nul = s < end ? (char *)memchr(s, '\0', (size_t)(end - s)) : NULL;
    if (nul == NULL)
        return NULL;
    *p = nul + 1;
    return s;
}
%}

%inline %{
/* sbprov_azure_dps_new() with flat options: "" stands for NULL in endpoint;
 * token_ttl_s and max_clock_skew_s 0 mean the defaults; the transport
 * options as for gosbprov_http_fill(). The key is read in place and copied
 * by the library. */
sbprov_result gosbprov_azure_dps_new(sbprov_azure_dps **out, const char *id_scope, const char *registration_id,
                                     const char *key, size_t key_len, const char *endpoint, uint32_t token_ttl_s,
                                     uint32_t max_clock_skew_s, const char *ca_file, const char *ca_path,
                                     const char *client_cert, const sbprov_key *client_key, const char *proxy,
                                     int32_t proxy_mode, const char *user_agent, uint32_t connect_timeout_ms,
                                     uint32_t timeout_ms, uint64_t max_response_size, int32_t allow_http)
{
    sbprov_azure_dps_options opts;
    sbprov_http_options http;
    sbprov_result rc = gosbprov_http_fill(&http, ca_file, ca_path, client_cert, client_key, proxy, proxy_mode,
                                          user_agent, connect_timeout_ms, timeout_ms, max_response_size,
                                          allow_http);
    if (rc != SBPROV_OK)
        return rc;
    if ((rc = sbprov_azure_dps_options_init(&opts, sizeof opts)) != SBPROV_OK)
        return rc;
    opts.endpoint = endpoint;
    opts.http = &http;
    opts.token_ttl_s = token_ttl_s;
    opts.max_clock_skew_s = max_clock_skew_s;
    return sbprov_azure_dps_new(out, id_scope, registration_id, key, key_len, &opts);
}

/* sbprov_azure_dps_last_response(), as gosbprov_mender_last_response(). */
sbprov_result gosbprov_azure_dps_last_response(char *buf, size_t buf_size, int64_t *out_status,
                                               int64_t *out_retry_after, int64_t *out_date, sbprov_azure_dps *dps)
{
    sbprov_http_response_info info;
    sbprov_result rc;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if ((rc = sbprov_azure_dps_last_response(&info, dps)) == SBPROV_OK)
        gosbprov_response_out(buf, buf_size, out_status, out_retry_after, out_date, &info);
    return rc;
}

/* Fields of a registration result for gosbprov_azure_dps_result_field(). */
#define GOSBPROV_DPS_STATUS 0
#define GOSBPROV_DPS_HUB 1
#define GOSBPROV_DPS_DEVICE_ID 2
#define GOSBPROV_DPS_SUBSTATUS 3
#define GOSBPROV_DPS_ERROR_MESSAGE 4
#define GOSBPROV_DPS_JSON 5

/* A field of a registration result into buf; returns its length, or -1 for
 * an unknown field or a NULL string. */
int64_t gosbprov_azure_dps_result_field(char *buf, size_t buf_size, const sbprov_azure_dps_result *r,
                                        int32_t field)
{
    switch (field) {
    case GOSBPROV_DPS_STATUS:
        return gosbprov_copy(buf, buf_size, sbprov_azure_dps_result_status(r));
    case GOSBPROV_DPS_HUB:
        return gosbprov_copy(buf, buf_size, sbprov_azure_dps_result_hub(r));
    case GOSBPROV_DPS_DEVICE_ID:
        return gosbprov_copy(buf, buf_size, sbprov_azure_dps_result_device_id(r));
    case GOSBPROV_DPS_SUBSTATUS:
        return gosbprov_copy(buf, buf_size, sbprov_azure_dps_result_substatus(r));
    case GOSBPROV_DPS_ERROR_MESSAGE:
        return gosbprov_copy(buf, buf_size, sbprov_azure_dps_result_error_message(r));
    case GOSBPROV_DPS_JSON:
        return gosbprov_copy(buf, buf_size, sbprov_azure_dps_result_json(r));
    }
    return -1;
}

/* sbprov_azure_hub_new() with flat options (see gosbprov_azure_hub_fill()
 * and gosbprov_http_fill()). The connection string is read in place and
 * copied by the library. */
sbprov_result gosbprov_azure_hub_new(sbprov_azure_hub **out, const char *connstr, size_t connstr_len,
                                     const char *endpoint, uint32_t token_ttl_s, uint32_t max_clock_skew_s,
                                     uint32_t retry_timeout_ms, const char *ca_file, const char *ca_path,
                                     const char *client_cert, const sbprov_key *client_key, const char *proxy,
                                     int32_t proxy_mode, const char *user_agent, uint32_t connect_timeout_ms,
                                     uint32_t timeout_ms, uint64_t max_response_size, int32_t allow_http)
{
    sbprov_azure_hub_options opts;
    sbprov_http_options http;
    sbprov_result rc = gosbprov_http_fill(&http, ca_file, ca_path, client_cert, client_key, proxy, proxy_mode,
                                          user_agent, connect_timeout_ms, timeout_ms, max_response_size,
                                          allow_http);
    if (rc != SBPROV_OK ||
        (rc = gosbprov_azure_hub_fill(&opts, endpoint, &http, token_ttl_s, max_clock_skew_s, retry_timeout_ms)) !=
            SBPROV_OK)
        return rc;
    return sbprov_azure_hub_new(out, connstr, connstr_len, &opts);
}

/* sbprov_azure_registry_new(), as gosbprov_azure_hub_new(). */
sbprov_result gosbprov_azure_registry_new(sbprov_azure_registry **out, const char *connstr, size_t connstr_len,
                                          const char *endpoint, uint32_t token_ttl_s, uint32_t max_clock_skew_s,
                                          uint32_t retry_timeout_ms, const char *ca_file, const char *ca_path,
                                          const char *client_cert, const sbprov_key *client_key, const char *proxy,
                                          int32_t proxy_mode, const char *user_agent, uint32_t connect_timeout_ms,
                                          uint32_t timeout_ms, uint64_t max_response_size, int32_t allow_http)
{
    sbprov_azure_hub_options opts;
    sbprov_http_options http;
    sbprov_result rc = gosbprov_http_fill(&http, ca_file, ca_path, client_cert, client_key, proxy, proxy_mode,
                                          user_agent, connect_timeout_ms, timeout_ms, max_response_size,
                                          allow_http);
    if (rc != SBPROV_OK ||
        (rc = gosbprov_azure_hub_fill(&opts, endpoint, &http, token_ttl_s, max_clock_skew_s, retry_timeout_ms)) !=
            SBPROV_OK)
        return rc;
    return sbprov_azure_registry_new(out, connstr, connstr_len, &opts);
}

/* sbprov_azure_hub_last_response(), as gosbprov_mender_last_response(). */
sbprov_result gosbprov_azure_hub_last_response(char *buf, size_t buf_size, int64_t *out_status,
                                               int64_t *out_retry_after, int64_t *out_date, sbprov_azure_hub *hub)
{
    sbprov_http_response_info info;
    sbprov_result rc;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if ((rc = sbprov_azure_hub_last_response(&info, hub)) == SBPROV_OK)
        gosbprov_response_out(buf, buf_size, out_status, out_retry_after, out_date, &info);
    return rc;
}

/* Numbers of each message in gosbprov_azure_hub_send()'s `fields`: body
 * length, creation time (Unix time, 0: now), property count. */
#define GOSBPROV_MSG_FIELDS 3

/* sbprov_azure_hub_send() with the `count` messages given flat:
 *   data, len           the bodies, concatenated (read in place during the call);
 *   joined, joined_len  for each message its message ID, correlation ID,
 *                       content type and content encoding ("" for NULL), then
 *                       the name and value of each property, every string
 *                       followed by a NUL (the Go layer has refused strings
 *                       holding one); copied to C memory and split there;
 *   fields, field_count GOSBPROV_MSG_FIELDS int64_t per message.
 * The message and property arrays are built in C memory and freed before
 * returning (the bodies are pointed to in place, during the call only);
 * *out_accepted_count is the number of messages accepted. Input that does
 * not add up gives SBPROV_EINVAL before anything is sent. */
sbprov_result gosbprov_azure_hub_send(int64_t *out_accepted_count, sbprov_azure_hub *hub, const void *data,
                                      size_t len, const char *joined, size_t joined_len, const void *fields,
                                      size_t field_count, size_t count)
{
    const char *body = (const char *)data;
    const int64_t *nums = (const int64_t *)fields;
    sbprov_azure_message *msgs = NULL;
    sbprov_azure_property *props = NULL;
    char *copy = NULL, *p, *end;
    size_t i, j, nprops = 0, body_off = 0, accepted = 0;
    sbprov_result rc = SBPROV_EINVAL;

    *out_accepted_count = 0;
    if (count == 0 || count > SIZE_MAX / GOSBPROV_MSG_FIELDS || field_count != count * GOSBPROV_MSG_FIELDS)
        goto inval;
    for (i = 0; i < count; i++) {
        int64_t blen = nums[i * GOSBPROV_MSG_FIELDS], np = nums[i * GOSBPROV_MSG_FIELDS + 2];
        if (blen < 0 || (uint64_t)blen > len - body_off || np < 0 || (uint64_t)np > joined_len)
            goto inval;
        body_off += (size_t)blen;
        nprops += (size_t)np;
    }
    if (body_off != len || nprops > joined_len)
        goto inval;
    copy = (char *)malloc(joined_len + 1);
    msgs = (sbprov_azure_message *)calloc(count, sizeof *msgs);
    props = (sbprov_azure_property *)calloc(nprops > 0 ? nprops : 1, sizeof *props);
    if (copy == NULL || msgs == NULL || props == NULL) {
        rc = SBPROV_ENOMEM;
        goto inval;
    }
    if (joined_len > 0)
        memcpy(copy, joined, joined_len);
    copy[joined_len] = '\0';
    p = copy;
    end = copy + joined_len;
    body_off = 0;
    nprops = 0;
    for (i = 0; i < count; i++) {
        sbprov_azure_message *m = &msgs[i];
        const int64_t *f = &nums[i * GOSBPROV_MSG_FIELDS];
        char *s[4];
        if ((rc = sbprov_azure_message_init(m, sizeof *m)) != SBPROV_OK)
            goto out;
        for (j = 0; j < 4; j++)
            if ((s[j] = gosbprov_next_string(&p, end)) == NULL)
                goto inval;
        m->body = f[0] > 0 ? body + body_off : "";
        m->body_len = (size_t)f[0];
        body_off += (size_t)f[0];
        m->message_id = s[0][0] != '\0' ? s[0] : NULL;
        m->correlation_id = s[1][0] != '\0' ? s[1] : NULL;
        m->content_type = s[2][0] != '\0' ? s[2] : NULL;
        m->content_encoding = s[3][0] != '\0' ? s[3] : NULL;
        m->creation_time = f[1];
        m->properties = f[2] > 0 ? &props[nprops] : NULL;
        m->property_count = (size_t)f[2];
        for (j = 0; j < (size_t)f[2]; j++, nprops++)
            if ((props[nprops].name = gosbprov_next_string(&p, end)) == NULL ||
                (props[nprops].value = gosbprov_next_string(&p, end)) == NULL)
                goto inval;
    }
    if (p != end) {
        rc = SBPROV_EINVAL;
        goto inval;
    }
    rc = sbprov_azure_hub_send(hub, msgs, count, &accepted);
    *out_accepted_count = (int64_t)accepted;
out:
    free(copy);
    free(msgs);
    free(props);
    return rc;
inval: /* SBPROV_EINVAL (input that does not add up) or SBPROV_ENOMEM in rc */
    free(copy);
    free(msgs);
    free(props);
    sbprov_clear_error();
    return rc != SBPROV_ENOMEM ? SBPROV_EINVAL : SBPROV_ENOMEM;
}

/* Fields of a registry device for gosbprov_azure_device_field(). */
#define GOSBPROV_AZDEV_ID 0
#define GOSBPROV_AZDEV_ETAG 1
#define GOSBPROV_AZDEV_STATUS 2
#define GOSBPROV_AZDEV_PRIMARY_KEY 3
#define GOSBPROV_AZDEV_SECONDARY_KEY 4

/* A field of a registry device into buf; returns its length, or -1 for an
 * unknown field or a NULL string. */
int64_t gosbprov_azure_device_field(char *buf, size_t buf_size, const sbprov_azure_device *d, int32_t field)
{
    switch (field) {
    case GOSBPROV_AZDEV_ID:
        return gosbprov_copy(buf, buf_size, sbprov_azure_device_id(d));
    case GOSBPROV_AZDEV_ETAG:
        return gosbprov_copy(buf, buf_size, sbprov_azure_device_etag(d));
    case GOSBPROV_AZDEV_STATUS:
        return gosbprov_copy(buf, buf_size, sbprov_azure_device_status(d));
    case GOSBPROV_AZDEV_PRIMARY_KEY:
        return gosbprov_copy(buf, buf_size, sbprov_azure_device_primary_key(d));
    case GOSBPROV_AZDEV_SECONDARY_KEY:
        return gosbprov_copy(buf, buf_size, sbprov_azure_device_secondary_key(d));
    }
    return -1;
}
%}

/* ---- Sensor frames ---- */

%{
/* The int64 fields of one decoded record ("slot") in the []int64 the frame
 * helpers read and write, GOSBPROV_FRAME_SLOT per record: */
#define GOSBPROV_FRAME_TYPE 0           /* SBPROV_FRAME_TYPE_READINGS or _HELLO */
#define GOSBPROV_FRAME_FLAGS 1          /* as received */
#define GOSBPROV_FRAME_NODE 2           /* node_id (the 8 bytes read big-endian), as int64 bits */
#define GOSBPROV_FRAME_EPOCH 3
#define GOSBPROV_FRAME_SEQ 4
#define GOSBPROV_FRAME_HAS_TIME 5
#define GOSBPROV_FRAME_TIME_MS 6
#define GOSBPROV_FRAME_UNKNOWN_KINDS 7
#define GOSBPROV_FRAME_OUT_OF_RANGE 8
#define GOSBPROV_FRAME_SEQ_STATUS 9
#define GOSBPROV_FRAME_MISSED 10
#define GOSBPROV_FRAME_RECORD_OFFSET 11 /* where its bytes start in the record []byte */
#define GOSBPROV_FRAME_RECORD_LEN 12
#define GOSBPROV_FRAME_READING_COUNT 13
#define GOSBPROV_FRAME_READINGS 14      /* then kind, valid, value per reading */
#define GOSBPROV_FRAME_SLOT (GOSBPROV_FRAME_READINGS + 3 * SBPROV_FRAME_KIND_LAST)

/* Copy the decoded view f into slot s (record bytes at record_offset). */
static void gosbprov_frame_to_slot(int64_t *s, const sbprov_frame *f, size_t record_offset)
{
    size_t i, n = f->reading_count < SBPROV_FRAME_KIND_LAST ? f->reading_count : SBPROV_FRAME_KIND_LAST;
    s[GOSBPROV_FRAME_TYPE] = f->type;
    s[GOSBPROV_FRAME_FLAGS] = f->flags;
    s[GOSBPROV_FRAME_NODE] = (int64_t)f->node_id;
    s[GOSBPROV_FRAME_EPOCH] = f->epoch;
    s[GOSBPROV_FRAME_SEQ] = f->seq;
    s[GOSBPROV_FRAME_HAS_TIME] = f->has_time != 0;
    s[GOSBPROV_FRAME_TIME_MS] = f->time_ms;
    s[GOSBPROV_FRAME_UNKNOWN_KINDS] = (int64_t)f->unknown_kinds;
    s[GOSBPROV_FRAME_OUT_OF_RANGE] = (int64_t)f->out_of_range;
    s[GOSBPROV_FRAME_SEQ_STATUS] = (int64_t)f->seq_status;
    s[GOSBPROV_FRAME_MISSED] = f->missed;
    s[GOSBPROV_FRAME_RECORD_OFFSET] = (int64_t)record_offset;
    s[GOSBPROV_FRAME_RECORD_LEN] = (int64_t)f->record_len;
    s[GOSBPROV_FRAME_READING_COUNT] = (int64_t)n;
    for (i = 0; i < n; i++) {
        s[GOSBPROV_FRAME_READINGS + 3 * i] = f->readings[i].kind;
        s[GOSBPROV_FRAME_READINGS + 3 * i + 1] = f->readings[i].valid != 0;
        s[GOSBPROV_FRAME_READINGS + 3 * i + 2] = f->readings[i].value;
    }
}

/* Build a frame view in *f (readings in rd) from slot s of n fields, for the
 * renderers and the rooms. Returns SBPROV_EINVAL (with a detail) for a slot
 * that is too short or holds more readings than any record can; the library
 * checks the rest (kinds, struct). No record bytes: nothing that takes a
 * frame view reads them. */
static sbprov_result gosbprov_frame_from_slot(sbprov_frame *f, sbprov_frame_reading *rd, const int64_t *s, size_t n)
{
    size_t i, count;
    uint64_t id;
    if (s == NULL || n < GOSBPROV_FRAME_SLOT) {
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    count = (size_t)s[GOSBPROV_FRAME_READING_COUNT];
    if (s[GOSBPROV_FRAME_READING_COUNT] < 0 || count > SBPROV_FRAME_KIND_LAST) {
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    memset(f, 0, sizeof *f);
    memset(rd, 0, SBPROV_FRAME_KIND_LAST * sizeof *rd);
    f->struct_size = sizeof *f;
    f->version = SBPROV_FRAME_VERSION;
    f->type = (uint8_t)s[GOSBPROV_FRAME_TYPE];
    f->flags = (uint8_t)s[GOSBPROV_FRAME_FLAGS];
    id = (uint64_t)s[GOSBPROV_FRAME_NODE];
    f->node_id = id;
    for (i = 0; i < SBPROV_FRAME_NODE_SIZE; i++)
        f->node[i] = (uint8_t)(id >> (8 * (SBPROV_FRAME_NODE_SIZE - 1 - i)));
    f->epoch = (uint16_t)s[GOSBPROV_FRAME_EPOCH];
    f->seq = (uint16_t)s[GOSBPROV_FRAME_SEQ];
    f->has_time = s[GOSBPROV_FRAME_HAS_TIME] != 0;
    f->time_ms = (uint32_t)s[GOSBPROV_FRAME_TIME_MS];
    f->unknown_kinds = (size_t)s[GOSBPROV_FRAME_UNKNOWN_KINDS];
    f->out_of_range = (size_t)s[GOSBPROV_FRAME_OUT_OF_RANGE];
    f->seq_status = (sbprov_frame_seq_status)s[GOSBPROV_FRAME_SEQ_STATUS];
    f->missed = (uint32_t)s[GOSBPROV_FRAME_MISSED];
    for (i = 0; i < count; i++) {
        rd[i].kind = (uint8_t)s[GOSBPROV_FRAME_READINGS + 3 * i];
        rd[i].valid = s[GOSBPROV_FRAME_READINGS + 3 * i + 1] != 0;
        rd[i].value = s[GOSBPROV_FRAME_READINGS + 3 * i + 2];
    }
    f->readings = rd;
    f->reading_count = count;
    return SBPROV_OK;
}

/* Where the decoder's callback copies accepted records: slot_cap slots and a
 * byte buffer. With stop_when_full it stops the feed as soon as the next
 * record might not fit, so that no accepted record is ever lost (the record
 * a callback stops at is consumed). */
typedef struct gosbprov_frame_sink {
    int64_t *slots;
    size_t slot_cap, count;
    uint8_t *buf;
    size_t buf_size, used;
    int stop_when_full, overflow;
} gosbprov_frame_sink;

static int gosbprov_frame_sink_cb(const sbprov_frame *f, void *payload)
{
    gosbprov_frame_sink *k = (gosbprov_frame_sink *)payload;
    if (k->count >= k->slot_cap || k->buf_size - k->used < f->record_len) {
        k->overflow = 1; /* not reached: the sink stopped the feed before */
        return 1;
    }
    memcpy(k->buf + k->used, f->record, f->record_len);
    gosbprov_frame_to_slot(k->slots + k->count * GOSBPROV_FRAME_SLOT, f, k->used);
    k->used += f->record_len;
    k->count++;
    return k->stop_when_full && (k->count >= k->slot_cap || k->buf_size - k->used < SBPROV_FRAME_MAX);
}

/* The operations of gosbprov_frame_encode(), one after another in a byte
 * string: */
#define GOSBPROV_ENC_TIME 1    /* then time_ms, 4 bytes little-endian */
#define GOSBPROV_ENC_READING 2 /* then kind, value (int32, 4 bytes little-endian) */
#define GOSBPROV_ENC_RAW 3     /* then kind, length n, n value bytes */

/* Names for gosbprov_enum_name(). */
#define GOSBPROV_NAME_KIND 0
#define GOSBPROV_NAME_OUTCOME 1
#define GOSBPROV_NAME_SEQ_STATUS 2
#define GOSBPROV_NAME_CO2_CLASS 3
#define GOSBPROV_NAME_EVENT_KIND 4
#define GOSBPROV_NAME_REASON 5

/* Counters written by gosbprov_frame_counters(), in the struct's order:
 * frames, crc, too_long, truncated, bad_version, bad_length, unknown_type,
 * duplicate, gaps, reboots, unknown_kinds, out_of_range. */
#define GOSBPROV_FRAME_COUNTERS 12
%}

/* Wrap the layout constants for the Go layer. */
#define GOSBPROV_FRAME_TYPE 0
#define GOSBPROV_FRAME_FLAGS 1
#define GOSBPROV_FRAME_NODE 2
#define GOSBPROV_FRAME_EPOCH 3
#define GOSBPROV_FRAME_SEQ 4
#define GOSBPROV_FRAME_HAS_TIME 5
#define GOSBPROV_FRAME_TIME_MS 6
#define GOSBPROV_FRAME_UNKNOWN_KINDS 7
#define GOSBPROV_FRAME_OUT_OF_RANGE 8
#define GOSBPROV_FRAME_SEQ_STATUS 9
#define GOSBPROV_FRAME_MISSED 10
#define GOSBPROV_FRAME_RECORD_OFFSET 11
#define GOSBPROV_FRAME_RECORD_LEN 12
#define GOSBPROV_FRAME_READING_COUNT 13
#define GOSBPROV_FRAME_READINGS 14
#define GOSBPROV_FRAME_SLOT 38
#define GOSBPROV_ENC_TIME 1
#define GOSBPROV_ENC_READING 2
#define GOSBPROV_ENC_RAW 3
#define GOSBPROV_NAME_KIND 0
#define GOSBPROV_NAME_OUTCOME 1
#define GOSBPROV_NAME_SEQ_STATUS 2
#define GOSBPROV_NAME_CO2_CLASS 3
#define GOSBPROV_NAME_EVENT_KIND 4
#define GOSBPROV_NAME_REASON 5
#define GOSBPROV_FRAME_COUNTERS 12

%inline %{
/* The GOSBPROV_FRAME_SLOT the C side was compiled with (a test compares it
 * with the wrapped constant). */
int64_t gosbprov_frame_slot_size(void)
{
    return GOSBPROV_FRAME_SLOT;
}

/* A static name into buf; returns its length, or -1 for none (a kind version
 * 1 does not know) or an unknown table. Values outside an enum give the
 * library's "invalid". */
int64_t gosbprov_enum_name(char *buf, size_t buf_size, int32_t table, int32_t value)
{
    switch (table) {
    case GOSBPROV_NAME_KIND:
        return value < 0 || value > 255 ? -1 : gosbprov_copy(buf, buf_size, sbprov_frame_kind_name((uint8_t)value));
    case GOSBPROV_NAME_OUTCOME:
        return gosbprov_copy(buf, buf_size, sbprov_frame_outcome_name((sbprov_frame_outcome)value));
    case GOSBPROV_NAME_SEQ_STATUS:
        return gosbprov_copy(buf, buf_size, sbprov_frame_seq_status_name((sbprov_frame_seq_status)value));
    case GOSBPROV_NAME_CO2_CLASS:
        return gosbprov_copy(buf, buf_size, sbprov_air_co2_class_name((sbprov_air_co2_class)value));
    case GOSBPROV_NAME_EVENT_KIND:
        return gosbprov_copy(buf, buf_size, sbprov_air_event_kind_name((sbprov_air_event_kind)value));
    case GOSBPROV_NAME_REASON:
        return gosbprov_copy(buf, buf_size, sbprov_air_reason_name((sbprov_air_reason)value));
    }
    return -1;
}

/* sbprov_frame_kind_info(): 1 and the outputs set if kind (0..255) is known,
 * else 0. */
int32_t gosbprov_frame_kind_info(int64_t *out_length, int64_t *out_min, int64_t *out_max, int32_t kind)
{
    uint8_t len = 0;
    int32_t min = 0, max = 0;
    if (kind < 0 || kind > 255 || !sbprov_frame_kind_info((uint8_t)kind, &len, &min, &max))
        return 0;
    *out_length = len;
    *out_min = min;
    *out_max = max;
    return 1;
}

/* Build one record with the MCU encoder (sbprov/frame_encode.h) on a builder
 * of its own: sbprov_frame_builder_init(type, node, epoch, seq), then the
 * operations in (data, len) (GOSBPROV_ENC_*), then sbprov_frame_finish().
 * The record goes into buf (at most SBPROV_FRAME_MAX bytes are used) and its
 * length into *out_len. Returns the encoder's result (not an sbprov_result);
 * *out_index is the operation that failed (0-based), -1 for init or finish,
 * or -2 for an operation list that does not add up. */
int32_t gosbprov_frame_encode(char *buf, size_t buf_size, size_t *out_len, int64_t *out_index, uint8_t type,
                              uint64_t node_id, uint16_t epoch, uint16_t seq, const void *data, size_t len)
{
    const uint8_t *ops = (const uint8_t *)data, *end = ops + len;
    uint8_t node[SBPROV_FRAME_NODE_SIZE];
    sbprov_frame_builder b;
    sbprov_frame_enc_result rc;
    size_t i;
    int64_t index = 0;

    *out_len = 0;
    *out_index = -1;
    for (i = 0; i < SBPROV_FRAME_NODE_SIZE; i++)
        node[i] = (uint8_t)(node_id >> (8 * (SBPROV_FRAME_NODE_SIZE - 1 - i)));
    rc = sbprov_frame_builder_init(&b, (uint8_t *)buf, buf_size < SBPROV_FRAME_MAX ? buf_size : SBPROV_FRAME_MAX,
                                   type, node, epoch, seq);
    if (rc != SBPROV_FRAME_ENC_OK)
        return rc;
    while (ops < end) {
        uint8_t op = *ops++;
        if (op == GOSBPROV_ENC_TIME && end - ops >= 4) {
            uint32_t t = (uint32_t)ops[0] | (uint32_t)ops[1] << 8 | (uint32_t)ops[2] << 16 | (uint32_t)ops[3] << 24;
            ops += 4;
            rc = sbprov_frame_add_timestamp(&b, t);
        } else if (op == GOSBPROV_ENC_READING && end - ops >= 5) {
            uint32_t v = (uint32_t)ops[1] | (uint32_t)ops[2] << 8 | (uint32_t)ops[3] << 16 | (uint32_t)ops[4] << 24;
            rc = sbprov_frame_add_reading(&b, ops[0], (int32_t)v);
            ops += 5;
        } else if (op == GOSBPROV_ENC_RAW && end - ops >= 2 && (size_t)(end - ops - 2) >= ops[1]) {
            rc = sbprov_frame_add_raw(&b, ops[0], ops + 2, ops[1]);
            ops += 2 + (size_t)ops[1];
        } else {
            *out_index = -2;
            return SBPROV_FRAME_ENC_EINVAL;
        }
        if (rc != SBPROV_FRAME_ENC_OK) {
            *out_index = index;
            return rc;
        }
        index++;
    }
    *out_index = -1;
    return sbprov_frame_finish(&b, out_len);
}

/* sbprov_cobs_encode() of (data, len) into buf; *out_len as the library
 * gives it. Returns the encoder's result. */
int32_t gosbprov_cobs_encode(char *buf, size_t buf_size, size_t *out_len, const void *data, size_t len)
{
    return sbprov_cobs_encode((uint8_t *)buf, buf_size, (const uint8_t *)data, len, out_len);
}

/* sbprov_frame_decoder_new() with node_table_size (0: the default). */
sbprov_result gosbprov_frame_decoder_new(sbprov_frame_decoder **out, uint64_t node_table_size)
{
    sbprov_frame_decoder_options opts;
    sbprov_result rc = sbprov_frame_decoder_options_init(&opts, sizeof opts);
    if (rc != SBPROV_OK)
        return rc;
    if (node_table_size > (uint64_t)SIZE_MAX)
        node_table_size = (uint64_t)SIZE_MAX; /* refused by the library with its range */
    if (node_table_size != 0)
        opts.node_table_size = (size_t)node_table_size;
    return sbprov_frame_decoder_new(out, &opts);
}

/* sbprov_frame_decoder_feed() of (data, len): every accepted record is
 * copied into the next slot of `slots` (GOSBPROV_FRAME_SLOT int64 each) and
 * its bytes into buf, which must hold at least one slot and SBPROV_FRAME_MAX
 * bytes. *out_count is the number of records copied. SBPROV_ECANCELED: the
 * buffers are full; *out_consumed bytes of data were used (every record in
 * them is in the buffers) and the rest is to be fed again. No Go memory is
 * kept: the callback is C and writes only into the buffers of this call. */
sbprov_result gosbprov_frame_feed(int64_t *out_consumed, int64_t *out_count, sbprov_frame_decoder *dec,
                                  const void *data, size_t len, int64_t *slots, size_t slot_count, char *buf,
                                  size_t buf_size)
{
    gosbprov_frame_sink k;
    size_t consumed = 0;
    sbprov_result rc;

    *out_consumed = 0;
    *out_count = 0;
    if (slot_count < GOSBPROV_FRAME_SLOT || buf_size < SBPROV_FRAME_MAX) {
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    memset(&k, 0, sizeof k);
    k.slots = slots;
    k.slot_cap = slot_count / GOSBPROV_FRAME_SLOT;
    k.buf = (uint8_t *)buf;
    k.buf_size = buf_size;
    k.stop_when_full = 1;
    rc = sbprov_frame_decoder_feed(&consumed, dec, (const uint8_t *)data, len, gosbprov_frame_sink_cb, &k);
    *out_consumed = (int64_t)consumed;
    *out_count = (int64_t)k.count;
    if (k.overflow) {
        sbprov_clear_error();
        return SBPROV_ERROR;
    }
    return rc;
}

/* sbprov_frame_decode_record() of one datagram: *out_outcome is the
 * sbprov_frame_outcome; an accepted record is copied into slot 0 and buf
 * (*out_count 1). */
sbprov_result gosbprov_frame_decode_record(int64_t *out_outcome, int64_t *out_count, sbprov_frame_decoder *dec,
                                           const void *data, size_t len, int64_t *slots, size_t slot_count,
                                           char *buf, size_t buf_size)
{
    gosbprov_frame_sink k;
    sbprov_frame_outcome o = SBPROV_FRAME_DROP_TRUNCATED;
    sbprov_result rc;

    *out_outcome = -1;
    *out_count = 0;
    if (slot_count < GOSBPROV_FRAME_SLOT || buf_size < SBPROV_FRAME_MAX) {
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    memset(&k, 0, sizeof k);
    k.slots = slots;
    k.slot_cap = 1;
    k.buf = (uint8_t *)buf;
    k.buf_size = buf_size;
    rc = sbprov_frame_decode_record(&o, dec, (const uint8_t *)data, len, gosbprov_frame_sink_cb, &k);
    *out_count = (int64_t)k.count;
    if (rc == SBPROV_OK)
        *out_outcome = (int64_t)o;
    if (k.overflow) {
        sbprov_clear_error();
        return SBPROV_ERROR;
    }
    return rc;
}

/* sbprov_frame_decoder_counters() into slots (GOSBPROV_FRAME_COUNTERS, in the
 * struct's order). */
sbprov_result gosbprov_frame_counters(int64_t *slots, size_t slot_count, const sbprov_frame_decoder *dec)
{
    sbprov_frame_counters c;
    sbprov_result rc;
    if (slot_count < GOSBPROV_FRAME_COUNTERS) {
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    if ((rc = sbprov_frame_decoder_counters(&c, dec)) != SBPROV_OK)
        return rc;
    slots[0] = (int64_t)c.frames;
    slots[1] = (int64_t)c.crc;
    slots[2] = (int64_t)c.too_long;
    slots[3] = (int64_t)c.truncated;
    slots[4] = (int64_t)c.bad_version;
    slots[5] = (int64_t)c.bad_length;
    slots[6] = (int64_t)c.unknown_type;
    slots[7] = (int64_t)c.duplicate;
    slots[8] = (int64_t)c.gaps;
    slots[9] = (int64_t)c.reboots;
    slots[10] = (int64_t)c.unknown_kinds;
    slots[11] = (int64_t)c.out_of_range;
    return SBPROV_OK;
}

/* sbprov_frame_parse() of (data, len) into slot 0 (record offset 0). SBPROV_EPARSE:
 * *out_outcome says why. */
sbprov_result gosbprov_frame_parse(int64_t *out_outcome, int64_t *slots, size_t slot_count, const void *data,
                                   size_t len)
{
    sbprov_frame f;
    sbprov_frame_reading rd[SBPROV_FRAME_KIND_LAST];
    sbprov_frame_outcome o = SBPROV_FRAME_DROP_TRUNCATED;
    sbprov_result rc;

    *out_outcome = -1;
    if (slot_count < GOSBPROV_FRAME_SLOT) {
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    rc = sbprov_frame_parse(&f, rd, &o, (const uint8_t *)data, len);
    if (rc == SBPROV_OK || rc == SBPROV_EPARSE)
        *out_outcome = (int64_t)o;
    if (rc == SBPROV_OK)
        gosbprov_frame_to_slot(slots, &f, 0);
    return rc;
}

/* sbprov_frame_to_json() (senml 0) or sbprov_frame_to_senml() (senml 1, with
 * unix_time_ms) of the frame in slot (fields, field_count). */
sbprov_result gosbprov_frame_render(char *buf, size_t buf_size, size_t *out_len, const void *fields,
                                    size_t field_count, int32_t senml, int64_t unix_time_ms)
{
    sbprov_frame f;
    sbprov_frame_reading rd[SBPROV_FRAME_KIND_LAST];
    sbprov_result rc = gosbprov_frame_from_slot(&f, rd, (const int64_t *)fields, field_count);
    if (rc != SBPROV_OK)
        return rc;
    return senml ? sbprov_frame_to_senml(buf, buf_size, out_len, &f, unix_time_ms)
                 : sbprov_frame_to_json(buf, buf_size, out_len, &f);
}
%}

/* ---- Rooms ---- */

%{
/* The uint32 room options in the []int64 of gosbprov_air_room_new() and
 * gosbprov_air_building_add_room(), in this order; -1 keeps the default: */
#define GOSBPROV_ROOM_VENTILATE_PPM 0
#define GOSBPROV_ROOM_VENTILATE_NOW_PPM 1
#define GOSBPROV_ROOM_HYSTERESIS_PPM 2
#define GOSBPROV_ROOM_SMOOTHING_S 3
#define GOSBPROV_ROOM_TREND_WINDOW_S 4
#define GOSBPROV_ROOM_TREND_MIN_SAMPLES 5
#define GOSBPROV_ROOM_TREND_MIN_SPAN_S 6
#define GOSBPROV_ROOM_PIR_HOLD_S 7
#define GOSBPROV_ROOM_CO2_RISE_S 8
#define GOSBPROV_ROOM_OPTIONS 9

/* The sample fields of gosbprov_air_update() and gosbprov_air_sample_from_frame(): */
#define GOSBPROV_SAMPLE_TIME_MS 0
#define GOSBPROV_SAMPLE_HAS_CO2 1
#define GOSBPROV_SAMPLE_CO2_PPM 2
#define GOSBPROV_SAMPLE_HAS_MOTION 3
#define GOSBPROV_SAMPLE_MOTION 4
#define GOSBPROV_SAMPLE_HAS_TEMPERATURE 5
#define GOSBPROV_SAMPLE_TEMPERATURE 6
#define GOSBPROV_SAMPLE_HAS_HUMIDITY 7
#define GOSBPROV_SAMPLE_HUMIDITY 8
#define GOSBPROV_SAMPLE_FIELDS 9

/* The state fields of gosbprov_air_room_state(): int64 ... */
#define GOSBPROV_STATE_TIME_MS 0
#define GOSBPROV_STATE_SAMPLES 1
#define GOSBPROV_STATE_CO2_CLASS 2
#define GOSBPROV_STATE_HAS_CO2 3
#define GOSBPROV_STATE_CO2_PPM 4
#define GOSBPROV_STATE_MS_SINCE_CO2 5
#define GOSBPROV_STATE_HAS_TREND 6
#define GOSBPROV_STATE_NEXT_THRESHOLD 7
#define GOSBPROV_STATE_OCCUPIED 8
#define GOSBPROV_STATE_OCCUPIED_REASON 9
#define GOSBPROV_STATE_CO2_RISING 10
#define GOSBPROV_STATE_MS_SINCE_MOTION 11
#define GOSBPROV_STATE_HAS_TEMPERATURE 12
#define GOSBPROV_STATE_TEMPERATURE 13
#define GOSBPROV_STATE_HAS_HUMIDITY 14
#define GOSBPROV_STATE_HUMIDITY 15
#define GOSBPROV_STATE_EVENTS_PENDING 16
#define GOSBPROV_STATE_EVENTS_DROPPED 17
#define GOSBPROV_STATE_FIELDS 18
/* ... and double: */
#define GOSBPROV_STATE_CO2_SMOOTHED 0
#define GOSBPROV_STATE_TREND 1
#define GOSBPROV_STATE_MINUTES 2
#define GOSBPROV_STATE_DOUBLES 3

/* The event fields of gosbprov_air_events(), per event: int64 ... */
#define GOSBPROV_EVENT_KIND 0
#define GOSBPROV_EVENT_REASON 1
#define GOSBPROV_EVENT_TIME_MS 2
#define GOSBPROV_EVENT_CO2_CLASS 3
#define GOSBPROV_EVENT_PREVIOUS_CLASS 4
#define GOSBPROV_EVENT_CO2_PPM 5
#define GOSBPROV_EVENT_THRESHOLD 6
#define GOSBPROV_EVENT_MS_SINCE_MOTION 7
#define GOSBPROV_EVENT_FIELDS 8
/* ... one double (the trend), and GOSBPROV_EVENT_TEXT bytes: the room's name
 * (SBPROV_AIR_NAME_SIZE bytes, NUL-terminated), then the reason text
 * (SBPROV_AIR_REASON_SIZE bytes, NUL-terminated). */
#define GOSBPROV_EVENT_TEXT (SBPROV_AIR_NAME_SIZE + SBPROV_AIR_REASON_SIZE)

/* Room options from flat values: -1 keeps the default; rate_set 0 keeps the
 * default CO2 rise rate. Values beyond uint32 are refused. */
static sbprov_result gosbprov_room_options(sbprov_air_room_options *o, const int64_t *v, size_t n, double rate,
                                           int32_t rate_set)
{
    uint32_t *dst[GOSBPROV_ROOM_OPTIONS];
    size_t i;
    sbprov_result rc = sbprov_air_room_options_init(o, sizeof *o);
    if (rc != SBPROV_OK)
        return rc;
    if (n != GOSBPROV_ROOM_OPTIONS) {
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    dst[GOSBPROV_ROOM_VENTILATE_PPM] = &o->ventilate_ppm;
    dst[GOSBPROV_ROOM_VENTILATE_NOW_PPM] = &o->ventilate_now_ppm;
    dst[GOSBPROV_ROOM_HYSTERESIS_PPM] = &o->hysteresis_ppm;
    dst[GOSBPROV_ROOM_SMOOTHING_S] = &o->smoothing_s;
    dst[GOSBPROV_ROOM_TREND_WINDOW_S] = &o->trend_window_s;
    dst[GOSBPROV_ROOM_TREND_MIN_SAMPLES] = &o->trend_min_samples;
    dst[GOSBPROV_ROOM_TREND_MIN_SPAN_S] = &o->trend_min_span_s;
    dst[GOSBPROV_ROOM_PIR_HOLD_S] = &o->pir_hold_s;
    dst[GOSBPROV_ROOM_CO2_RISE_S] = &o->co2_rise_s;
    for (i = 0; i < n; i++) {
        if (v[i] < -1 || v[i] > (int64_t)UINT32_MAX) {
            sbprov_clear_error();
            return SBPROV_EINVAL;
        }
        if (v[i] >= 0)
            *dst[i] = (uint32_t)v[i];
    }
    if (rate_set)
        o->co2_rise_ppm_per_min = rate;
    return SBPROV_OK;
}

/* A sample from GOSBPROV_SAMPLE_FIELDS flat values. */
static sbprov_result gosbprov_sample(sbprov_air_sample *s, const int64_t *v, size_t n)
{
    sbprov_result rc = sbprov_air_sample_init(s, sizeof *s);
    if (rc != SBPROV_OK)
        return rc;
    if (n != GOSBPROV_SAMPLE_FIELDS) {
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    s->time_ms = v[GOSBPROV_SAMPLE_TIME_MS];
    s->has_co2 = v[GOSBPROV_SAMPLE_HAS_CO2] != 0;
    s->co2_ppm = (uint32_t)v[GOSBPROV_SAMPLE_CO2_PPM];
    s->has_motion = v[GOSBPROV_SAMPLE_HAS_MOTION] != 0;
    s->motion = (uint32_t)v[GOSBPROV_SAMPLE_MOTION];
    s->has_temperature = v[GOSBPROV_SAMPLE_HAS_TEMPERATURE] != 0;
    s->temperature_centi_c = (int32_t)v[GOSBPROV_SAMPLE_TEMPERATURE];
    s->has_humidity = v[GOSBPROV_SAMPLE_HAS_HUMIDITY] != 0;
    s->humidity_centi_pct = (uint32_t)v[GOSBPROV_SAMPLE_HUMIDITY];
    return SBPROV_OK;
}

/* Copy the queued events of room (or, if room is NULL, of building) into the
 * buffers, at most as many as they hold; *out_count is their number. */
static sbprov_result gosbprov_events(int64_t *out_count, sbprov_air_room *room, sbprov_air_building *building,
                                     int64_t *slots, size_t slot_count, double *doubles, size_t double_count,
                                     char *buf, size_t buf_size)
{
    size_t cap = slot_count / GOSBPROV_EVENT_FIELDS, n = 0;
    if (cap > double_count)
        cap = double_count;
    if (cap > buf_size / GOSBPROV_EVENT_TEXT)
        cap = buf_size / GOSBPROV_EVENT_TEXT;
    *out_count = 0;
    while (n < cap) {
        sbprov_air_event e;
        int64_t *s = slots + n * GOSBPROV_EVENT_FIELDS;
        char *t = buf + n * GOSBPROV_EVENT_TEXT;
        sbprov_result rc;
        memset(&e, 0, sizeof e);
        e.struct_size = sizeof e;
        rc = room != NULL ? sbprov_air_room_next_event(&e, room) : sbprov_air_building_next_event(&e, building);
        if (rc != SBPROV_OK)
            return rc;
        if (e.kind == SBPROV_AIR_EVENT_NONE)
            break;
        s[GOSBPROV_EVENT_KIND] = (int64_t)e.kind;
        s[GOSBPROV_EVENT_REASON] = (int64_t)e.reason;
        s[GOSBPROV_EVENT_TIME_MS] = e.time_ms;
        s[GOSBPROV_EVENT_CO2_CLASS] = (int64_t)e.co2_class;
        s[GOSBPROV_EVENT_PREVIOUS_CLASS] = (int64_t)e.previous_class;
        s[GOSBPROV_EVENT_CO2_PPM] = e.co2_ppm;
        s[GOSBPROV_EVENT_THRESHOLD] = e.threshold_ppm;
        s[GOSBPROV_EVENT_MS_SINCE_MOTION] = e.ms_since_motion;
        doubles[n] = e.trend_ppm_per_min;
        memcpy(t, e.room, SBPROV_AIR_NAME_SIZE);
        t[SBPROV_AIR_NAME_SIZE - 1] = '\0';
        memcpy(t + SBPROV_AIR_NAME_SIZE, e.reason_text, SBPROV_AIR_REASON_SIZE);
        t[GOSBPROV_EVENT_TEXT - 1] = '\0';
        n++;
        *out_count = (int64_t)n;
    }
    return SBPROV_OK;
}
%}

#define GOSBPROV_ROOM_VENTILATE_PPM 0
#define GOSBPROV_ROOM_VENTILATE_NOW_PPM 1
#define GOSBPROV_ROOM_HYSTERESIS_PPM 2
#define GOSBPROV_ROOM_SMOOTHING_S 3
#define GOSBPROV_ROOM_TREND_WINDOW_S 4
#define GOSBPROV_ROOM_TREND_MIN_SAMPLES 5
#define GOSBPROV_ROOM_TREND_MIN_SPAN_S 6
#define GOSBPROV_ROOM_PIR_HOLD_S 7
#define GOSBPROV_ROOM_CO2_RISE_S 8
#define GOSBPROV_ROOM_OPTIONS 9
#define GOSBPROV_SAMPLE_TIME_MS 0
#define GOSBPROV_SAMPLE_HAS_CO2 1
#define GOSBPROV_SAMPLE_CO2_PPM 2
#define GOSBPROV_SAMPLE_HAS_MOTION 3
#define GOSBPROV_SAMPLE_MOTION 4
#define GOSBPROV_SAMPLE_HAS_TEMPERATURE 5
#define GOSBPROV_SAMPLE_TEMPERATURE 6
#define GOSBPROV_SAMPLE_HAS_HUMIDITY 7
#define GOSBPROV_SAMPLE_HUMIDITY 8
#define GOSBPROV_SAMPLE_FIELDS 9
#define GOSBPROV_STATE_TIME_MS 0
#define GOSBPROV_STATE_SAMPLES 1
#define GOSBPROV_STATE_CO2_CLASS 2
#define GOSBPROV_STATE_HAS_CO2 3
#define GOSBPROV_STATE_CO2_PPM 4
#define GOSBPROV_STATE_MS_SINCE_CO2 5
#define GOSBPROV_STATE_HAS_TREND 6
#define GOSBPROV_STATE_NEXT_THRESHOLD 7
#define GOSBPROV_STATE_OCCUPIED 8
#define GOSBPROV_STATE_OCCUPIED_REASON 9
#define GOSBPROV_STATE_CO2_RISING 10
#define GOSBPROV_STATE_MS_SINCE_MOTION 11
#define GOSBPROV_STATE_HAS_TEMPERATURE 12
#define GOSBPROV_STATE_TEMPERATURE 13
#define GOSBPROV_STATE_HAS_HUMIDITY 14
#define GOSBPROV_STATE_HUMIDITY 15
#define GOSBPROV_STATE_EVENTS_PENDING 16
#define GOSBPROV_STATE_EVENTS_DROPPED 17
#define GOSBPROV_STATE_FIELDS 18
#define GOSBPROV_STATE_CO2_SMOOTHED 0
#define GOSBPROV_STATE_TREND 1
#define GOSBPROV_STATE_MINUTES 2
#define GOSBPROV_STATE_DOUBLES 3
#define GOSBPROV_EVENT_KIND 0
#define GOSBPROV_EVENT_REASON 1
#define GOSBPROV_EVENT_TIME_MS 2
#define GOSBPROV_EVENT_CO2_CLASS 3
#define GOSBPROV_EVENT_PREVIOUS_CLASS 4
#define GOSBPROV_EVENT_CO2_PPM 5
#define GOSBPROV_EVENT_THRESHOLD 6
#define GOSBPROV_EVENT_MS_SINCE_MOTION 7
#define GOSBPROV_EVENT_FIELDS 8
#define GOSBPROV_EVENT_TEXT 160

%inline %{
/* The sizes the C side was compiled with, for a test against the wrapped
 * constants: GOSBPROV_FRAME_SLOT, GOSBPROV_EVENT_TEXT. */
int64_t gosbprov_air_event_text_size(void)
{
    return GOSBPROV_EVENT_TEXT;
}

/* sbprov_air_room_new() with flat options (gosbprov_room_options()). */
sbprov_result gosbprov_air_room_new(sbprov_air_room **out, const void *fields, size_t field_count,
                                    double co2_rise_ppm_per_min, int32_t rate_set)
{
    sbprov_air_room_options o;
    sbprov_result rc = gosbprov_room_options(&o, (const int64_t *)fields, field_count, co2_rise_ppm_per_min,
                                             rate_set);
    if (rc != SBPROV_OK)
        return rc;
    return sbprov_air_room_new(out, &o);
}

/* sbprov_air_building_add_room() with flat options. */
sbprov_result gosbprov_air_building_add_room(sbprov_air_room **out, sbprov_air_building *building,
                                             const char *name, const void *fields, size_t field_count,
                                             double co2_rise_ppm_per_min, int32_t rate_set)
{
    sbprov_air_room_options o;
    sbprov_result rc = gosbprov_room_options(&o, (const int64_t *)fields, field_count, co2_rise_ppm_per_min,
                                             rate_set);
    if (rc != SBPROV_OK)
        return rc;
    return sbprov_air_building_add_room(out, building, name, &o);
}

/* sbprov_air_room_name() into buf; returns its length. */
int64_t gosbprov_air_room_name(char *buf, size_t buf_size, const sbprov_air_room *room)
{
    return gosbprov_copy(buf, buf_size, sbprov_air_room_name(room));
}

/* Feed a sample (GOSBPROV_SAMPLE_FIELDS values) to room, or if room is NULL
 * to the room of node_id in building. */
sbprov_result gosbprov_air_update(sbprov_air_room *room, sbprov_air_building *building, uint64_t node_id,
                                  const void *fields, size_t field_count)
{
    sbprov_air_sample s;
    sbprov_result rc = gosbprov_sample(&s, (const int64_t *)fields, field_count);
    if (rc != SBPROV_OK)
        return rc;
    return room != NULL ? sbprov_air_room_update(room, &s) : sbprov_air_building_update(building, node_id, &s);
}

/* Feed the frame in slot (fields, field_count) received at time_ms to room
 * (sbprov_air_sample_from_frame() and sbprov_air_room_update()), or if room
 * is NULL to its node's room in building (sbprov_air_building_update_frame()). */
sbprov_result gosbprov_air_update_frame(sbprov_air_room *room, sbprov_air_building *building, const void *fields,
                                        size_t field_count, int64_t time_ms)
{
    sbprov_frame f;
    sbprov_frame_reading rd[SBPROV_FRAME_KIND_LAST];
    sbprov_air_sample s;
    sbprov_result rc = gosbprov_frame_from_slot(&f, rd, (const int64_t *)fields, field_count);
    if (rc != SBPROV_OK)
        return rc;
    if (room == NULL)
        return sbprov_air_building_update_frame(building, &f, time_ms);
    if ((rc = sbprov_air_sample_from_frame(&s, &f, time_ms)) != SBPROV_OK)
        return rc;
    return sbprov_air_room_update(room, &s);
}

/* sbprov_air_sample_from_frame() of the frame in slot (fields, field_count)
 * into slots (GOSBPROV_SAMPLE_FIELDS values). */
sbprov_result gosbprov_air_sample_from_frame(int64_t *slots, size_t slot_count, const void *fields,
                                             size_t field_count, int64_t time_ms)
{
    sbprov_frame f;
    sbprov_frame_reading rd[SBPROV_FRAME_KIND_LAST];
    sbprov_air_sample s;
    sbprov_result rc;
    if (slot_count < GOSBPROV_SAMPLE_FIELDS) {
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    if ((rc = gosbprov_frame_from_slot(&f, rd, (const int64_t *)fields, field_count)) != SBPROV_OK ||
        (rc = sbprov_air_sample_from_frame(&s, &f, time_ms)) != SBPROV_OK)
        return rc;
    slots[GOSBPROV_SAMPLE_TIME_MS] = s.time_ms;
    slots[GOSBPROV_SAMPLE_HAS_CO2] = s.has_co2 != 0;
    slots[GOSBPROV_SAMPLE_CO2_PPM] = s.co2_ppm;
    slots[GOSBPROV_SAMPLE_HAS_MOTION] = s.has_motion != 0;
    slots[GOSBPROV_SAMPLE_MOTION] = s.motion;
    slots[GOSBPROV_SAMPLE_HAS_TEMPERATURE] = s.has_temperature != 0;
    slots[GOSBPROV_SAMPLE_TEMPERATURE] = s.temperature_centi_c;
    slots[GOSBPROV_SAMPLE_HAS_HUMIDITY] = s.has_humidity != 0;
    slots[GOSBPROV_SAMPLE_HUMIDITY] = s.humidity_centi_pct;
    return SBPROV_OK;
}

/* sbprov_air_room_state() into slots (GOSBPROV_STATE_FIELDS) and doubles
 * (GOSBPROV_STATE_DOUBLES). */
sbprov_result gosbprov_air_room_state(int64_t *slots, size_t slot_count, double *doubles, size_t double_count,
                                      const sbprov_air_room *room)
{
    sbprov_air_state st;
    sbprov_result rc;
    if (slot_count < GOSBPROV_STATE_FIELDS || double_count < GOSBPROV_STATE_DOUBLES) {
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    if ((rc = sbprov_air_room_state(&st, room)) != SBPROV_OK)
        return rc;
    slots[GOSBPROV_STATE_TIME_MS] = st.time_ms;
    slots[GOSBPROV_STATE_SAMPLES] = (int64_t)st.samples;
    slots[GOSBPROV_STATE_CO2_CLASS] = (int64_t)st.co2_class;
    slots[GOSBPROV_STATE_HAS_CO2] = st.has_co2 != 0;
    slots[GOSBPROV_STATE_CO2_PPM] = st.co2_ppm;
    slots[GOSBPROV_STATE_MS_SINCE_CO2] = st.ms_since_co2;
    slots[GOSBPROV_STATE_HAS_TREND] = st.has_trend != 0;
    slots[GOSBPROV_STATE_NEXT_THRESHOLD] = st.next_threshold_ppm;
    slots[GOSBPROV_STATE_OCCUPIED] = st.occupied != 0;
    slots[GOSBPROV_STATE_OCCUPIED_REASON] = (int64_t)st.occupied_reason;
    slots[GOSBPROV_STATE_CO2_RISING] = st.co2_rising != 0;
    slots[GOSBPROV_STATE_MS_SINCE_MOTION] = st.ms_since_motion;
    slots[GOSBPROV_STATE_HAS_TEMPERATURE] = st.has_temperature != 0;
    slots[GOSBPROV_STATE_TEMPERATURE] = st.temperature_centi_c;
    slots[GOSBPROV_STATE_HAS_HUMIDITY] = st.has_humidity != 0;
    slots[GOSBPROV_STATE_HUMIDITY] = st.humidity_centi_pct;
    slots[GOSBPROV_STATE_EVENTS_PENDING] = st.events_pending;
    slots[GOSBPROV_STATE_EVENTS_DROPPED] = (int64_t)st.events_dropped;
    doubles[GOSBPROV_STATE_CO2_SMOOTHED] = st.co2_smoothed_ppm;
    doubles[GOSBPROV_STATE_TREND] = st.trend_ppm_per_min;
    doubles[GOSBPROV_STATE_MINUTES] = st.minutes_to_threshold;
    return SBPROV_OK;
}

/* Take the queued events of a room into the buffers (gosbprov_events()). */
sbprov_result gosbprov_air_room_events(int64_t *out_count, sbprov_air_room *room, int64_t *slots,
                                       size_t slot_count, double *doubles, size_t double_count, char *buf,
                                       size_t buf_size)
{
    if (room == NULL) {
        *out_count = 0;
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    return gosbprov_events(out_count, room, NULL, slots, slot_count, doubles, double_count, buf, buf_size);
}

/* Take the queued events of every room of a building, oldest first. */
sbprov_result gosbprov_air_building_events(int64_t *out_count, sbprov_air_building *building, int64_t *slots,
                                           size_t slot_count, double *doubles, size_t double_count, char *buf,
                                           size_t buf_size)
{
    if (building == NULL) {
        *out_count = 0;
        sbprov_clear_error();
        return SBPROV_EINVAL;
    }
    return gosbprov_events(out_count, NULL, building, slots, slot_count, doubles, double_count, buf, buf_size);
}
%}
