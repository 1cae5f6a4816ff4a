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
 * The thread-local error detail (sbprov_last_error) is read by the Go layer
 * on the same OS thread as the failing call (runtime.LockOSThread).
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
                 (const char *signature, size_t signature_len) "string"
%typemap(in) (const char *group_key, size_t group_key_len),
             (const char *key, size_t key_len),
             (const char *s, size_t len),
             (const char *text, size_t len),
             (const char *pem, size_t len),
             (const char *signature, size_t signature_len)
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

%typemap(gotype) sbprov_env_format "int32"
%typemap(in) sbprov_env_format %{ $1 = (sbprov_env_format)$input; %}

%typemap(gotype) sbprov_azure_cs_field "int32"
%typemap(in) sbprov_azure_cs_field %{ $1 = (sbprov_azure_cs_field)$input; %}

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

/* ---- What is wrapped --------------------------------------------------- */

/* Functions returning const char * are replaced by gosbprov_* helpers that
 * copy into a caller buffer; callbacks and memory/global-state functions are
 * not part of the Go API (yet). */
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
%ignore sbprov_global_init;
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
