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
 *   - const char *policy, *value            -> string, "" meaning NULL
 *   - other const char * inputs             -> string, copied into a
 *                                              NUL-terminated C string (on the
 *                                              stack when short); the Go layer
 *                                              rejects embedded NULs first
 *   - opaque handles                        -> uintptr, created through *uintptr
 *   - const char * results                  -> copied into a caller []byte by
 *                                              small helpers (gosbprov_*)
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
                 (const char *s, size_t len) "string"
%typemap(in) (const char *group_key, size_t group_key_len),
             (const char *key, size_t key_len),
             (const char *s, size_t len)
%{
  $1 = $input.n > 0 ? ($1_ltype)$input.p : ($1_ltype)"";
  $2 = (size_t)$input.n;
%}

%typemap(gotype) (const void *data, size_t len) "[]byte"
%typemap(in) (const void *data, size_t len)
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

#define SBPROV_API
#define SBPROV_NODISCARD
%include <sbprov/common.h>
%include <sbprov/version.h>
%include <sbprov/azure.h>

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
%}
