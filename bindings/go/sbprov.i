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
