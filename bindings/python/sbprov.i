/*
 * SWIG interface of the libsbprov Python binding.
 * SPDX-License-Identifier: MIT
 *
 * Generates the C extension `sbprov._sbprov` (swig -interface _sbprov) and its
 * proxy module `sbprov/_sbprov_swig.py`. Neither is meant to be used directly:
 * the hand-written package `sbprov` (sbprov/__init__.py, sbprov/azure.py) is
 * the public API. This file decides, once for every wrapped function:
 *
 *  1. Errors. Every function returning `sbprov_result` goes through one `out`
 *     typemap: a negative result raises the `sbprov.Error` subclass for the
 *     code (built by sbprov._errors._from_result), carrying the code and
 *     sbprov_last_error() read immediately after the call, on the calling
 *     thread, with the GIL held. A non-negative result gives None, to which
 *     the `argout` typemaps below append the real outputs.
 *
 *  2. Text outputs. Every `(char *buf, size_t buf_size, size_t *out_len)`
 *     triple (the library's caller-owned buffer convention) is hidden from
 *     Python: the wrapper passes a stack buffer and, on SBPROV_EBUFS, grows
 *     it to the size the library reported in `*out_len` and calls the
 *     function again, then returns the text as `str`. Buffers are cleansed
 *     before release (they may hold keys or tokens).
 *
 *  3. Text inputs. `const char *` parameters accept `str` (UTF-8) or `bytes`
 *     (None only where the header documents NULL, e.g. `policy`);
 *     `(const char *, size_t)` and `(const void *, size_t)` pairs (secrets,
 *     raw data) also accept any bytes-like object. A `str` with an embedded
 *     NUL is rejected (sbprov.InvalidInputError, code SBPROV_EINVAL) for every
 *     parameter, and so are `bytes` with a NUL for NUL-terminated parameters:
 *     nothing is ever truncated. Wrong types raise TypeError naming the
 *     parameter.
 *
 *  4. The GIL. Thread support is compiled in but `%nothread` is the default:
 *     the pure, microsecond-scale functions keep the GIL (releasing it would
 *     cost more than the call). Functions that may block (key generation,
 *     loading a key from a file or a TPM, signing in a provider, running an
 *     identity script, reading sysfs, fsync) get `%thread <function>;`
 *     (listed below, before the %include of their header): SWIG releases the
 *     GIL around the C call only. Argument conversion happens before, and
 *     error conversion in the `out` typemap after the GIL has been
 *     re-acquired (see swig/swig#3212); the library's last-error slot is per
 *     OS thread, so the detail read then is still this call's.
 *
 *  5. Option structs. The identity, key, store, HTTP and Mender option
 *     structs hold `const char *` members; SWIG member setters for those
 *     would keep pointers into temporary Python buffers (dangling) or leak
 *     copies. The structs and the functions taking them are not wrapped;
 *     small C helpers below (sbprov_py_*, %inline) take flat arguments
 *     instead, fill the struct on their own stack and call the library.
 *
 *  6. Network calls (Mender, Azure) release the GIL like the other blocking
 *     calls. Cancelling (sbprov_mender_cancel, sbprov_azure_dps_cancel, ...)
 *     is lock-free in the library and keeps the GIL: sbprov/mender.py and
 *     sbprov/azure.py call it without the per-client lock that the running
 *     call holds.
 *
 *  7. Arrays of structs (Azure telemetry messages) are built in C by an `in`
 *     typemap from a Python list of plain tuples (sbprov_py_messages: every
 *     pointer borrowed from those tuples, which the wrapper holds), passed to
 *     a flat helper that runs without the GIL, and freed by the `freearg`
 *     typemap: build, call and free all happen within one wrapper call.
 *
 *  8. Sensor frames and rooms (sbprov/frame.h, sbprov/air.h) keep the GIL
 *     (microseconds per record or sample). No callback ever runs Python code:
 *     sbprov_py_frame_feed's callback copies each accepted record (with its
 *     seq_status and missed count) into a buffer the wrapper owns and stops
 *     the feed when it is full; sbprov/frame.py feeds the rest from
 *     `consumed`. Records travel as bytes: a helper that needs the C view
 *     (rendering, parsing, feeding a room) runs sbprov_frame_parse() on them
 *     itself. The encoder's own result codes (sbprov_frame_enc_result) never
 *     reach the error typemap, which would report a stale
 *     sbprov_last_error(): sbprov_py_frame_encode returns them as data and
 *     sbprov/frame.py raises. The option, sample, state and event structs are
 *     not wrapped: flat helpers take options and samples, and the state and
 *     events come back as tuples. Rooms of a building come back as
 *     non-owning proxies (`sbprov_air_room **borrowed`); sbprov/air.py keeps
 *     the building alive while they are used.
 */
%module(package="sbprov", threads="1") _sbprov_swig

%nothread;
/* Calls that may block: the GIL is released around the C call (see 4 above).
 * A new blocking function joins them here. */
%thread sbprov_py_identity_probe;
%thread sbprov_py_identity_from_script;
%thread sbprov_py_key_generate;
%thread sbprov_py_key_load;
%thread sbprov_key_save;
%thread sbprov_key_sign;
%thread sbprov_key_verify;
%thread sbprov_key_csr;
/* Credential store: scrypt or a sealing key (a TPM) on open, file I/O and fsync everywhere. */
%thread sbprov_py_store_open;
%thread sbprov_py_store_get;
%thread sbprov_store_create_key_file;
%thread sbprov_store_put;
%thread sbprov_store_delete;
%thread sbprov_store_exists;
%thread sbprov_store_list_names;
%thread sbprov_store_swap;
%thread sbprov_store_export_env;
%thread sbprov_store_import_env;
/* Mender: every call that may touch the network (or the token store). */
%thread sbprov_py_mender_new;
%thread sbprov_mender_authenticate;
%thread sbprov_py_mender_authenticate_until_accepted;
%thread sbprov_mender_update_inventory;
%thread sbprov_mender_check_update;
%thread sbprov_py_mender_mgmt_new;
%thread sbprov_mender_mgmt_login;
%thread sbprov_py_mender_mgmt_preauthorize;
%thread sbprov_mender_mgmt_get_device;
%thread sbprov_mender_mgmt_find_device;
%thread sbprov_mender_mgmt_list_devices;
%thread sbprov_mender_mgmt_set_auth_status;
%thread sbprov_mender_mgmt_decommission;
%thread sbprov_mender_mgmt_count;
/* Azure over HTTPS: the clients' constructors (like Mender's) and every call
 * that may touch the network. */
%thread sbprov_py_azure_dps_new;
%thread sbprov_azure_dps_register;
%thread sbprov_py_azure_hub_new;
%thread sbprov_py_azure_hub_send;
%thread sbprov_py_azure_registry_new;
%thread sbprov_azure_registry_put_device;
%thread sbprov_azure_registry_get_device;
%thread sbprov_azure_registry_delete_device;

%include <stdint.i>

%{
#include <sbprov/sbprov.h>

#include <stdlib.h>
#include <string.h>

/* A byte string the library allocated (sbprov_py_store_get). */
typedef struct {
    void *ptr;
    size_t len;
} sbprov_py_bytes;

/* ---- errors ------------------------------------------------------------- */

/* sbprov._errors._from_result(code, message) -> exception instance; looked up
 * on first use (the package imports _errors before this module). */
static PyObject *sbprov_py_error_factory;

/* Raise the sbprov exception for `code` with `message`. */
static void sbprov_py_raise_message(int code, const char *message)
{
    PyObject *text;
    PyObject *exc = NULL;

    if (sbprov_py_error_factory == NULL) {
        PyObject *mod = PyImport_ImportModule("sbprov._errors");
        if (mod != NULL) {
            sbprov_py_error_factory = PyObject_GetAttrString(mod, "_from_result");
            Py_DECREF(mod);
        }
        PyErr_Clear();
    }
    /* Messages quote offending input; never fail on a cut UTF-8 sequence. */
    text = PyUnicode_DecodeUTF8(message, (Py_ssize_t)strlen(message), "replace");
    if (text != NULL && sbprov_py_error_factory != NULL)
        exc = PyObject_CallFunction(sbprov_py_error_factory, "iO", code, text);
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    } else if (!PyErr_Occurred()) {
        PyErr_Format(PyExc_RuntimeError, "libsbprov error %d: %s", code, message);
    }
    Py_XDECREF(text);
}

/* Raise for a failed libsbprov call: the detail is the calling thread's
 * sbprov_last_error(), read before anything else can call the library. */
static void sbprov_py_raise(int code)
{
    const char *message = sbprov_last_error();
    if (message == NULL || message[0] == '\0')
        message = sbprov_strerror(code);
    sbprov_py_raise_message(code, message);
}

/* ---- text inputs -------------------------------------------------------- */

/* One borrowed input: bytes of a str (UTF-8) or of a bytes-like object. */
typedef struct {
    const char *ptr;
    Py_ssize_t len;
    PyObject *owned;  /* temporary bytes object, or NULL */
    Py_buffer view;   /* held buffer when has_view */
    int has_view;
} sbprov_py_input;

#define SBPROV_PY_INPUT_INIT { NULL, 0, NULL, { 0 }, 0 }

static void sbprov_py_input_release(sbprov_py_input *in)
{
    if (in->has_view) {
        PyBuffer_Release(&in->view);
        in->has_view = 0;
    }
    Py_CLEAR(in->owned);
    in->ptr = NULL;
    in->len = 0;
}

static void sbprov_py_nul_error(const char *argname, const char *kind, Py_ssize_t index)
{
    char message[256];
    snprintf(message, sizeof message,
             "%s: %s contains a NUL character at index %zd (rejected rather than truncated)",
             argname, kind, index);
    sbprov_py_raise_message(SBPROV_EINVAL, message);
}

/*
 * Fill `in` from `obj`. flags: SBPROV_PY_NONE_OK (None -> NULL),
 * SBPROV_PY_BUFFER_OK (any bytes-like object; else only bytes),
 * SBPROV_PY_NUL_TERMINATED (the C side reads up to a NUL: reject bytes with
 * one). A str with a NUL is always rejected. Returns 0, or -1 with an
 * exception set.
 */
#define SBPROV_PY_NONE_OK 1
#define SBPROV_PY_BUFFER_OK 2
#define SBPROV_PY_NUL_TERMINATED 4

static int sbprov_py_input_get(PyObject *obj, const char *argname, int flags, sbprov_py_input *in)
{
    if (obj == Py_None && (flags & SBPROV_PY_NONE_OK))
        return 0;
    if (PyUnicode_Check(obj)) {
        Py_ssize_t len = 0;
        const char *p = PyUnicode_AsUTF8AndSize(obj, &len);
        if (p == NULL) {
            /* Lone surrogates (e.g. from surrogateescape): encode them back. */
            PyErr_Clear();
            in->owned = PyUnicode_AsEncodedString(obj, "utf-8", "surrogateescape");
            if (in->owned == NULL)
                return -1;
            p = PyBytes_AS_STRING(in->owned);
            len = PyBytes_GET_SIZE(in->owned);
        }
        if (memchr(p, '\0', (size_t)len) != NULL) {
            Py_ssize_t index = PyUnicode_FindChar(obj, 0, 0, PyUnicode_GET_LENGTH(obj), 1);
            sbprov_py_input_release(in);
            sbprov_py_nul_error(argname, "str", index);
            return -1;
        }
        in->ptr = p;
        in->len = len;
        return 0;
    }
    if (PyBytes_Check(obj)) {
        /* bytes objects are always NUL-terminated internally. */
        in->ptr = PyBytes_AS_STRING(obj);
        in->len = PyBytes_GET_SIZE(obj);
    } else if ((flags & SBPROV_PY_BUFFER_OK) && PyObject_CheckBuffer(obj)) {
        if (PyObject_GetBuffer(obj, &in->view, PyBUF_SIMPLE) != 0)
            return -1;
        in->has_view = 1;
        in->ptr = (const char *)in->view.buf;
        in->len = in->view.len;
    } else {
        PyErr_Format(PyExc_TypeError, "%s: expected %s, not %.100s", argname,
                     (flags & SBPROV_PY_BUFFER_OK) ? "str or a bytes-like object"
                     : (flags & SBPROV_PY_NONE_OK) ? "str, bytes or None" : "str or bytes",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    if ((flags & SBPROV_PY_NUL_TERMINATED) && memchr(in->ptr, '\0', (size_t)in->len) != NULL) {
        Py_ssize_t index = (const char *)memchr(in->ptr, '\0', (size_t)in->len) - in->ptr;
        sbprov_py_input_release(in);
        sbprov_py_nul_error(argname, "bytes", index);
        return -1;
    }
    return 0;
}

/* int64_t from a Python int (or an object with __index__), never bool or float. */
static int sbprov_py_int64_get(PyObject *obj, const char *argname, int64_t *out)
{
    long long v;
    PyObject *num;

    if (PyBool_Check(obj) || PyFloat_Check(obj) || !PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: expected int, not %.100s", argname, Py_TYPE(obj)->tp_name);
        return -1;
    }
    num = PyNumber_Index(obj);
    if (num == NULL)
        return -1;
    v = PyLong_AsLongLong(num);
    Py_DECREF(num);
    if (v == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_OverflowError, "%s: out of the signed 64-bit range", argname);
        }
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

/* ---- text outputs ------------------------------------------------------- */

#define SBPROV_PY_STACK_TEXT 512
/* Give up (SBPROV_EBUFS) rather than allocate without bound. */
#define SBPROV_PY_MAX_TEXT ((size_t)1 << 30)
#define SBPROV_PY_MAX_TRIES 4
/* Room for the Base64 text of the longest key, NUL included. */
#define SBPROV_PY_KEY_TEXT SBPROV_AZURE_KEY_B64_SIZE(SBPROV_AZURE_KEY_MAX_BYTES)

static void sbprov_py_cleanse(void *p, size_t n)
{
    volatile unsigned char *v = (volatile unsigned char *)p;
    while (n-- > 0)
        *v++ = 0;
}

/* After SBPROV_EBUFS: move to a heap buffer of `needed` bytes (at least twice
 * the current size) for one more attempt. Returns 1 to retry, 0 to give up
 * (the EBUFS error is then raised). */
static int sbprov_py_text_grow(char **buf, size_t *size, char **heap, size_t needed, int *tries)
{
    size_t want = needed > *size ? needed : 2 * *size;
    char *p;

    if (++*tries >= SBPROV_PY_MAX_TRIES || want > SBPROV_PY_MAX_TEXT)
        return 0;
    p = (char *)malloc(want);
    if (p == NULL)
        return 0;
    if (*heap != NULL) {
        sbprov_py_cleanse(*heap, *size);
        free(*heap);
    }
    *heap = p;
    *buf = p;
    *size = want;
    return 1;
}

static void sbprov_py_text_free(char *stack, size_t stack_size, char *heap, size_t heap_size)
{
    sbprov_py_cleanse(stack, stack_size);
    if (heap != NULL) {
        sbprov_py_cleanse(heap, heap_size);
        free(heap);
    }
}

static PyObject *sbprov_py_text_result(const char *buf, size_t len)
{
    return PyUnicode_DecodeUTF8(buf, (Py_ssize_t)len, "surrogateescape");
}

/* ---- arrays (inventory values) ------------------------------------------ */

/* Borrowed C strings of a Python sequence of str/bytes. */
typedef struct {
    PyObject *seq;         /* PySequence_Fast result: keeps the items alive */
    sbprov_py_input *ins;  /* one per item */
    const char **ptrs;
    Py_ssize_t n;          /* items converted so far */
} sbprov_py_strings;

#define SBPROV_PY_STRINGS_INIT { NULL, NULL, NULL, 0 }

static void sbprov_py_strings_release(sbprov_py_strings *s)
{
    for (Py_ssize_t i = 0; i < s->n; i++)
        sbprov_py_input_release(&s->ins[i]);
    PyMem_Free(s->ins);
    PyMem_Free((void *)s->ptrs);
    Py_CLEAR(s->seq);
    s->ins = NULL;
    s->ptrs = NULL;
    s->n = 0;
}

static int sbprov_py_strings_get(PyObject *obj, const char *argname, sbprov_py_strings *s)
{
    Py_ssize_t count;

    if (PyUnicode_Check(obj) || PyBytes_Check(obj) || PyByteArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a sequence of str, not a single %.100s", argname,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    if ((s->seq = PySequence_Fast(obj, "expected a sequence of str")) == NULL)
        return -1;
    count = PySequence_Fast_GET_SIZE(s->seq);
    s->ins = (sbprov_py_input *)PyMem_Calloc((size_t)(count > 0 ? count : 1), sizeof *s->ins);
    s->ptrs = (const char **)PyMem_Calloc((size_t)(count > 0 ? count : 1), sizeof *s->ptrs);
    if (s->ins == NULL || s->ptrs == NULL) {
        sbprov_py_strings_release(s);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s[%zd]", argname, i);
        if (sbprov_py_input_get(PySequence_Fast_GET_ITEM(s->seq, i), name, SBPROV_PY_NUL_TERMINATED,
                                &s->ins[i]) != 0) {
            sbprov_py_strings_release(s);
            return -1;
        }
        s->ptrs[i] = s->ins[i].ptr;
        s->n = i + 1;
    }
    return 0;
}

/* A Python sequence of real numbers (not bool) as a PyMem array of doubles. */
static int sbprov_py_numbers_get(PyObject *obj, const char *argname, double **out, size_t *count)
{
    PyObject *seq;
    Py_ssize_t n;
    double *v;

    *out = NULL;
    *count = 0;
    if ((seq = PySequence_Fast(obj, "expected a sequence of numbers")) == NULL)
        return -1;
    n = PySequence_Fast_GET_SIZE(seq);
    if ((v = (double *)PyMem_Calloc((size_t)(n > 0 ? n : 1), sizeof *v)) == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (PyBool_Check(item) || !(PyFloat_Check(item) || PyLong_Check(item))) {
            PyErr_Format(PyExc_TypeError, "%s[%zd]: expected int or float, not %.100s", argname, i,
                         Py_TYPE(item)->tp_name);
            goto fail;
        }
        v[i] = PyFloat_AsDouble(item);
        if (v[i] == -1.0 && PyErr_Occurred())
            goto fail;
    }
    Py_DECREF(seq);
    *out = v;
    *count = (size_t)n;
    return 0;
fail:
    Py_DECREF(seq);
    PyMem_Free(v);
    return -1;
}

/* ---- Mender -------------------------------------------------------------- */

/* Result of sbprov_py_mender_mgmt_preauthorize(): the device ID (room for far
 * more than the library's longest ID) and whether it existed. */
typedef struct {
    char id[512];
    int existed;
} sbprov_py_preauth;

/* Fill transport options from flat arguments (NULL strings: the defaults;
 * 0 for a limit: the library's default). */
static sbprov_result sbprov_py_http_fill(sbprov_http_options *h, const char *ca_file, const char *ca_path,
                                         const char *client_cert, const sbprov_key *client_key, const char *proxy,
                                         const char *user_agent, uint32_t connect_timeout_ms, uint32_t timeout_ms,
                                         size_t max_response_size, int allow_http)
{
    sbprov_result rc = sbprov_http_options_init(h, sizeof *h);
    if (rc != SBPROV_OK)
        return rc;
    h->ca_file = ca_file;
    h->ca_path = ca_path;
    h->client_cert = client_cert;
    h->client_key = client_key;
    h->proxy = proxy;
    h->user_agent = user_agent;
    h->connect_timeout_ms = connect_timeout_ms;
    h->timeout_ms = timeout_ms;
    h->max_response_size = max_response_size;
    h->allow_http = allow_http != 0;
    return SBPROV_OK;
}

/* ---- Azure ------------------------------------------------------------------ */

/* Hub options (hub and registry clients) from flat arguments. */
static sbprov_result sbprov_py_azure_hub_fill(sbprov_azure_hub_options *opts, const sbprov_http_options *http,
                                              const char *endpoint, uint32_t token_ttl_s,
                                              uint32_t max_clock_skew_s, uint32_t retry_timeout_ms)
{
    sbprov_result rc = sbprov_azure_hub_options_init(opts, sizeof *opts);
    if (rc != SBPROV_OK)
        return rc;
    opts->endpoint = endpoint;
    opts->http = http;
    opts->token_ttl_s = token_ttl_s;
    opts->max_clock_skew_s = max_clock_skew_s;
    opts->retry_timeout_ms = retry_timeout_ms;
    return SBPROV_OK;
}

/* ---- Azure telemetry messages (see 7 above) ------------------------------- */

/* The messages of one sbprov_py_azure_hub_send() call, built from a Python
 * sequence of 7-tuples (body, message_id, correlation_id, content_type,
 * content_encoding, creation_time, properties), properties being a sequence
 * of (name, value) tuples. Every pointer is borrowed from those objects;
 * `keep` holds immutable copies of the sequences (tuples) until the wrapper
 * releases the batch, so nothing can change while the GIL is released. */
typedef struct {
    sbprov_azure_message *msgs;
    sbprov_azure_property *props; /* every message's properties, one after another */
    sbprov_py_input *ins;         /* every borrowed input: bodies, strings */
    Py_ssize_t nins;              /* inputs filled so far */
    PyObject *keep;               /* list of the tuples the pointers come from */
    size_t count;
    size_t accepted;              /* set by the helper */
    int sent;                     /* the helper ran: its failure carries `accepted` */
} sbprov_py_messages;

#define SBPROV_PY_MESSAGES_INIT { NULL, NULL, NULL, 0, NULL, 0, 0, 0 }
#define SBPROV_PY_MESSAGE_FIELDS 7
#define SBPROV_PY_MESSAGE_STRINGS 5 /* body and four strings per message */

static void sbprov_py_messages_release(sbprov_py_messages *m)
{
    for (Py_ssize_t i = 0; i < m->nins; i++)
        sbprov_py_input_release(&m->ins[i]);
    PyMem_Free(m->ins);
    PyMem_Free(m->props);
    PyMem_Free(m->msgs);
    Py_CLEAR(m->keep);
    m->ins = NULL;
    m->props = NULL;
    m->msgs = NULL;
    m->nins = 0;
    m->count = 0;
}

/* The next borrowed input (room for it was counted beforehand). */
static int sbprov_py_messages_input(sbprov_py_messages *m, PyObject *obj, const char *argname, int flags,
                                    const char **ptr, size_t *len)
{
    sbprov_py_input *in = &m->ins[m->nins];
    if (sbprov_py_input_get(obj, argname, flags, in) != 0)
        return -1;
    m->nins++;
    *ptr = in->ptr;
    if (len != NULL)
        *len = (size_t)in->len;
    return 0;
}

/* An immutable copy (tuple) of a sequence, kept alive by m->keep; NULL with
 * an exception set. The reference returned is borrowed from m->keep. */
static PyObject *sbprov_py_messages_tuple(sbprov_py_messages *m, PyObject *obj, const char *argname)
{
    PyObject *t;
    if (PyUnicode_Check(obj) || PyBytes_Check(obj) || PyByteArray_Check(obj) || !PySequence_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a sequence, not %.100s", argname, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    if ((t = PySequence_Tuple(obj)) == NULL)
        return NULL;
    if (PyList_Append(m->keep, t) != 0) {
        Py_DECREF(t);
        return NULL;
    }
    Py_DECREF(t);
    return t;
}

static int sbprov_py_messages_get(PyObject *obj, const char *argname, sbprov_py_messages *m)
{
    static const char *const fields[SBPROV_PY_MESSAGE_STRINGS - 1] = {"message_id", "correlation_id",
                                                                      "content_type", "content_encoding"};
    PyObject *seq, **props;
    Py_ssize_t count, nprops = 0, next = 0;
    char name[160];

    if ((m->keep = PyList_New(0)) == NULL || (seq = sbprov_py_messages_tuple(m, obj, argname)) == NULL)
        return -1;
    count = PyTuple_GET_SIZE(seq);
    if ((props = (PyObject **)PyMem_Calloc((size_t)(count > 0 ? count : 1), sizeof *props)) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    /* First pass: the shape of every message, and how many properties in all. */
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyTuple_GET_ITEM(seq, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != SBPROV_PY_MESSAGE_FIELDS) {
            PyErr_Format(PyExc_TypeError, "%s[%zd]: expected a tuple (body, message_id, correlation_id, "
                         "content_type, content_encoding, creation_time, properties), not %.100s",
                         argname, i, Py_TYPE(item)->tp_name);
            goto fail;
        }
        snprintf(name, sizeof name, "%s[%zd].properties", argname, i);
        if ((props[i] = sbprov_py_messages_tuple(m, PyTuple_GET_ITEM(item, 6), name)) == NULL)
            goto fail;
        nprops += PyTuple_GET_SIZE(props[i]);
    }
    m->msgs = (sbprov_azure_message *)PyMem_Calloc((size_t)(count > 0 ? count : 1), sizeof *m->msgs);
    m->props = (sbprov_azure_property *)PyMem_Calloc((size_t)(nprops > 0 ? nprops : 1), sizeof *m->props);
    m->ins = (sbprov_py_input *)PyMem_Calloc((size_t)(count * SBPROV_PY_MESSAGE_STRINGS + 2 * nprops + 1),
                                             sizeof *m->ins);
    if (m->msgs == NULL || m->props == NULL || m->ins == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyTuple_GET_ITEM(seq, i);
        sbprov_azure_message *msg = &m->msgs[i];
        const char **strings[SBPROV_PY_MESSAGE_STRINGS - 1];
        const char *body = NULL;
        size_t body_len = 0;
        sbprov_result rc = sbprov_azure_message_init(msg, sizeof *msg);

        if (rc != SBPROV_OK) {
            sbprov_py_raise((int)rc);
            goto fail;
        }
        snprintf(name, sizeof name, "%s[%zd].body", argname, i);
        if (sbprov_py_messages_input(m, PyTuple_GET_ITEM(item, 0), name, SBPROV_PY_BUFFER_OK, &body, &body_len) != 0)
            goto fail;
        msg->body = body;
        msg->body_len = body_len;
        strings[0] = &msg->message_id;
        strings[1] = &msg->correlation_id;
        strings[2] = &msg->content_type;
        strings[3] = &msg->content_encoding;
        for (int f = 0; f < SBPROV_PY_MESSAGE_STRINGS - 1; f++) {
            snprintf(name, sizeof name, "%s[%zd].%s", argname, i, fields[f]);
            if (sbprov_py_messages_input(m, PyTuple_GET_ITEM(item, 1 + f), name,
                                         SBPROV_PY_NONE_OK | SBPROV_PY_NUL_TERMINATED, strings[f], NULL) != 0)
                goto fail;
        }
        snprintf(name, sizeof name, "%s[%zd].creation_time", argname, i);
        if (sbprov_py_int64_get(PyTuple_GET_ITEM(item, 5), name, &msg->creation_time) != 0)
            goto fail;
        msg->properties = &m->props[next];
        msg->property_count = (size_t)PyTuple_GET_SIZE(props[i]);
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(props[i]); j++) {
            PyObject *pair = PyTuple_GET_ITEM(props[i], j);
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
                PyErr_Format(PyExc_TypeError, "%s[%zd].properties[%zd]: expected a (name, value) tuple, not %.100s",
                             argname, i, j, Py_TYPE(pair)->tp_name);
                goto fail;
            }
            snprintf(name, sizeof name, "%s[%zd].properties[%zd].name", argname, i, j);
            if (sbprov_py_messages_input(m, PyTuple_GET_ITEM(pair, 0), name, SBPROV_PY_NUL_TERMINATED,
                                         &m->props[next].name, NULL) != 0)
                goto fail;
            snprintf(name, sizeof name, "%s[%zd].properties[%zd].value", argname, i, j);
            if (sbprov_py_messages_input(m, PyTuple_GET_ITEM(pair, 1), name, SBPROV_PY_NUL_TERMINATED,
                                         &m->props[next].value, NULL) != 0)
                goto fail;
            next++;
        }
    }
    m->count = (size_t)count;
    PyMem_Free(props);
    return 0;
fail:
    PyMem_Free(props);
    sbprov_py_messages_release(m);
    return -1;
}

/* Give the exception being raised an `accepted` attribute: how many of the
 * messages IoT Hub accepted before the failure. */
static void sbprov_py_error_set_accepted(size_t accepted)
{
    PyObject *type, *value, *tb, *n;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && (n = PyLong_FromSize_t(accepted)) != NULL) {
        if (PyObject_SetAttrString(value, "accepted", n) != 0)
            PyErr_Clear();
        Py_DECREF(n);
    } else {
        PyErr_Clear();
    }
    PyErr_Restore(type, value, tb);
}

/* ---- sensor frames (see 8 below) ------------------------------------------ */

/* Give the exception being raised a `reason` attribute (str): the drop reason
 * of a record sbprov_frame_parse() refused. */
static void sbprov_py_error_set_reason(const char *reason)
{
    PyObject *type, *value, *tb, *s;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && (s = PyUnicode_FromString(reason)) != NULL) {
        if (PyObject_SetAttrString(value, "reason", s) != 0)
            PyErr_Clear();
        Py_DECREF(s);
    } else {
        PyErr_Clear();
    }
    PyErr_Restore(type, value, tb);
}

/* One record checked by sbprov_frame_parse(): the view points into
 * `readings` and into the caller's record bytes (held by the wrapper). */
typedef struct {
    sbprov_frame frame;
    sbprov_frame_reading readings[SBPROV_FRAME_KIND_LAST];
    sbprov_frame_outcome outcome;
    int parsed; /* sbprov_frame_parse() ran: `outcome` is set */
} sbprov_py_frame_view;

/* The decoded fields of a view as a tuple: (version, type, flags, node_id,
 * epoch, seq, time_ms or None, ((kind, value, valid), ...), unknown_kinds,
 * out_of_range). */
static PyObject *sbprov_py_frame_view_tuple(const sbprov_py_frame_view *v)
{
    const sbprov_frame *f = &v->frame;
    PyObject *readings = PyTuple_New((Py_ssize_t)f->reading_count);
    PyObject *time_ms;

    if (readings == NULL)
        return NULL;
    for (size_t i = 0; i < f->reading_count; i++) {
        PyObject *r = Py_BuildValue("(iLN)", (int)f->readings[i].kind, (long long)f->readings[i].value,
                                    PyBool_FromLong(f->readings[i].valid));
        if (r == NULL) {
            Py_DECREF(readings);
            return NULL;
        }
        PyTuple_SET_ITEM(readings, (Py_ssize_t)i, r);
    }
    if (f->has_time) {
        time_ms = PyLong_FromUnsignedLong((unsigned long)f->time_ms);
    } else {
        time_ms = Py_None;
        Py_INCREF(time_ms);
    }
    if (time_ms == NULL) {
        Py_DECREF(readings);
        return NULL;
    }
    return Py_BuildValue("(iiiKiiNNnn)", (int)f->version, (int)f->type, (int)f->flags,
                         (unsigned long long)f->node_id, (int)f->epoch, (int)f->seq, time_ms, readings,
                         (Py_ssize_t)f->unknown_kinds, (Py_ssize_t)f->out_of_range);
}

/* sbprov_py_frame_feed(): the records accepted during one call, packed one
 * after another in a buffer the wrapper owns, each as
 *   record length (1 byte) | seq_status (1) | missed (4, little-endian) | record bytes.
 * The callback stops the feed when a record of the largest size might not
 * fit any more; sbprov/frame.py then feeds the rest from `consumed`. No
 * Python code runs while the library feeds (a callback into Python could
 * re-enter the decoder). */
#define SBPROV_PY_FRAME_SINK 65536
#define SBPROV_PY_FRAME_ENTRY_HEADER 6

typedef struct {
    unsigned char *buf;
    size_t size;
    size_t used;
    size_t consumed;
} sbprov_py_frame_sink;

static int sbprov_py_frame_sink_put(const sbprov_frame *f, void *payload)
{
    sbprov_py_frame_sink *s = (sbprov_py_frame_sink *)payload;
    unsigned char *p = s->buf + s->used;

    p[0] = (unsigned char)f->record_len;
    p[1] = (unsigned char)f->seq_status;
    p[2] = (unsigned char)(f->missed & 0xFF);
    p[3] = (unsigned char)((f->missed >> 8) & 0xFF);
    p[4] = (unsigned char)((f->missed >> 16) & 0xFF);
    p[5] = (unsigned char)((f->missed >> 24) & 0xFF);
    memcpy(p + SBPROV_PY_FRAME_ENTRY_HEADER, f->record, f->record_len);
    s->used += SBPROV_PY_FRAME_ENTRY_HEADER + f->record_len;
    return s->size - s->used < SBPROV_PY_FRAME_ENTRY_HEADER + SBPROV_FRAME_MAX;
}

/* sbprov_py_frame_decode_record(): what became of one datagram. */
typedef struct {
    sbprov_frame_outcome outcome;
    sbprov_frame_seq_status seq_status;
    uint32_t missed;
} sbprov_py_datagram;

static int sbprov_py_datagram_put(const sbprov_frame *f, void *payload)
{
    sbprov_py_datagram *d = (sbprov_py_datagram *)payload;
    d->seq_status = f->seq_status;
    d->missed = f->missed;
    return 0;
}

/* sbprov_py_frame_encode(): the encoder's result, which call failed, and the
 * bytes (the record, or its COBS form and the delimiter). */
#define SBPROV_PY_ENC_NODE (-3)      /* the node is not 8 bytes */
#define SBPROV_PY_ENC_HEADER (-2)    /* sbprov_frame_builder_init() */
#define SBPROV_PY_ENC_TIMESTAMP (-1) /* sbprov_frame_add_timestamp(); >= 0: that reading */
#define SBPROV_PY_ENC_PACKED 5       /* a packed reading: kind (1 byte), value (int32, little-endian) */

typedef struct {
    unsigned char bytes[SBPROV_COBS_ENCODED_SIZE(SBPROV_FRAME_MAX)];
    size_t len;
    int result; /* sbprov_frame_enc_result */
    int failed; /* SBPROV_PY_ENC_* or the index of the reading */
} sbprov_py_encoded;

/* sbprov_py_cobs_encode(): a malloc'ed output. */
typedef struct {
    unsigned char *ptr;
    size_t len;
    int result; /* sbprov_frame_enc_result; SBPROV_FRAME_ENC_ESPACE when out of memory */
} sbprov_py_cobs;

/* sbprov_py_frame_kind_info(): the reading table. */
typedef struct {
    int known;
    uint8_t length;
    int32_t min, max;
} sbprov_py_kind_info;

/* A sample from flat arguments (rooms). */
static sbprov_result sbprov_py_air_sample_fill(sbprov_air_sample *s, int64_t time_ms, int has_co2, uint32_t co2_ppm,
                                               int has_motion, uint32_t motion, int has_temperature,
                                               int32_t temperature_centi_c, int has_humidity,
                                               uint32_t humidity_centi_pct)
{
    sbprov_result rc = sbprov_air_sample_init(s, sizeof *s);
    if (rc != SBPROV_OK)
        return rc;
    s->time_ms = time_ms;
    s->has_co2 = has_co2 != 0;
    s->co2_ppm = co2_ppm;
    s->has_motion = has_motion != 0;
    s->motion = motion;
    s->has_temperature = has_temperature != 0;
    s->temperature_centi_c = temperature_centi_c;
    s->has_humidity = has_humidity != 0;
    s->humidity_centi_pct = humidity_centi_pct;
    return SBPROV_OK;
}

/* Room options from flat arguments (the fields of sbprov_air_room_options, in order). */
static sbprov_result sbprov_py_air_options_fill(sbprov_air_room_options *o, uint32_t ventilate_ppm,
                                                uint32_t ventilate_now_ppm, uint32_t hysteresis_ppm,
                                                uint32_t smoothing_s, uint32_t trend_window_s,
                                                uint32_t trend_min_samples, uint32_t trend_min_span_s,
                                                uint32_t pir_hold_s, double co2_rise_ppm_per_min,
                                                uint32_t co2_rise_s)
{
    sbprov_result rc = sbprov_air_room_options_init(o, sizeof *o);
    if (rc != SBPROV_OK)
        return rc;
    o->ventilate_ppm = ventilate_ppm;
    o->ventilate_now_ppm = ventilate_now_ppm;
    o->hysteresis_ppm = hysteresis_ppm;
    o->smoothing_s = smoothing_s;
    o->trend_window_s = trend_window_s;
    o->trend_min_samples = trend_min_samples;
    o->trend_min_span_s = trend_min_span_s;
    o->pir_hold_s = pir_hold_s;
    o->co2_rise_ppm_per_min = co2_rise_ppm_per_min;
    o->co2_rise_s = co2_rise_s;
    return SBPROV_OK;
}

/* A C string of a fixed-size struct member, as str (never past the member). */
static PyObject *sbprov_py_member_text(const char *s, size_t size)
{
    const char *nul = (const char *)memchr(s, '\0', size);
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)(nul != NULL ? (size_t)(nul - s) : size), "replace");
}
%}

/* ---- declarations SWIG must see ------------------------------------------ */

#define SBPROV_API
#define SBPROV_NODISCARD

/* ---- 1. results ------------------------------------------------------------
 * SBPROV_PY_TEXT_RETRY is #defined only inside wrappers that have a text
 * output (by the typemaps below), so other wrappers compile to "raise". */
%typemap(out, noblock=1) sbprov_result {
  if ($1 < 0) {
%#ifdef SBPROV_PY_TEXT_RETRY
    if ($1 == SBPROV_EBUFS && SBPROV_PY_TEXT_RETRY) goto sbprov_py_retry;
%#endif
    sbprov_py_raise((int)$1);
    SWIG_fail;
  }
  $result = SWIG_Py_Void();
}

/* The one function returning a result code as data, not as an outcome. */
%typemap(out) sbprov_result sbprov_last_error_code "$result = PyLong_FromLong((long)$1);"

/* ---- 2. text outputs ------------------------------------------------------ */
%typemap(in, numinputs=0, noblock=1) (char *buf, size_t buf_size, size_t *out_len)
    (char stack[SBPROV_PY_STACK_TEXT], char *heap = NULL, size_t text_len = 0, int tries = 0) {
  $1 = stack;
  $2 = sizeof stack;
  $3 = &text_len;
%#define SBPROV_PY_TEXT_RETRY sbprov_py_text_grow(&$1, &$2, &heap, text_len, &tries)
}
%typemap(check, noblock=1) (char *buf, size_t buf_size, size_t *out_len) {
sbprov_py_retry:;
}
%typemap(argout, noblock=1) (char *buf, size_t buf_size, size_t *out_len) {
  $result = SWIG_Python_AppendOutput($result, sbprov_py_text_result($1, text_len$argnum));
  if ($result == NULL) SWIG_fail;
}
%typemap(freearg, noblock=1) (char *buf, size_t buf_size, size_t *out_len) {
  sbprov_py_text_free(stack$argnum, sizeof stack$argnum, heap$argnum, $2);
%#undef SBPROV_PY_TEXT_RETRY
}

/* Two outputs of a size bounded by the library (a 64-byte key in Base64):
 * sbprov_azure_generate_keys(). Returns (primary, secondary). */
%typemap(in, numinputs=0, noblock=1) (char *primary, size_t primary_size, char *secondary, size_t secondary_size, size_t *out_len)
    (char first[SBPROV_PY_KEY_TEXT], char second[SBPROV_PY_KEY_TEXT], size_t text_len = 0) {
  $1 = first;
  $2 = sizeof first;
  $3 = second;
  $4 = sizeof second;
  $5 = &text_len;
}
%typemap(argout, noblock=1) (char *primary, size_t primary_size, char *secondary, size_t secondary_size, size_t *out_len) {
  $result = SWIG_Python_AppendOutput($result, sbprov_py_text_result($1, text_len$argnum));
  if ($result == NULL) SWIG_fail;
  $result = SWIG_Python_AppendOutput($result, sbprov_py_text_result($3, text_len$argnum));
  if ($result == NULL) SWIG_fail;
}
%typemap(freearg, noblock=1) (char *primary, size_t primary_size, char *secondary, size_t secondary_size, size_t *out_len) {
  sbprov_py_cleanse(first$argnum, sizeof first$argnum);
  sbprov_py_cleanse(second$argnum, sizeof second$argnum);
}

/* ---- 3. text inputs ------------------------------------------------------- */

/* NUL-terminated strings: str or bytes, never None... */
%typemap(in, noblock=1) const char * (sbprov_py_input in = SBPROV_PY_INPUT_INIT) {
  if (sbprov_py_input_get($input, "$1_name", SBPROV_PY_NUL_TERMINATED, &in) != 0) SWIG_fail;
  $1 = ($1_ltype)in.ptr;
}
/* ...except where the headers document NULL as "absent": the SAS policy
 * (no `skn`) and a connection-string value (remove the field). */
%typemap(in, noblock=1) const char *OPTIONAL (sbprov_py_input in = SBPROV_PY_INPUT_INIT) {
  if (sbprov_py_input_get($input, "$1_name", SBPROV_PY_NONE_OK | SBPROV_PY_NUL_TERMINATED, &in) != 0) SWIG_fail;
  $1 = ($1_ltype)in.ptr;
}
%typemap(freearg, noblock=1) const char *, const char *OPTIONAL {
  sbprov_py_input_release(&in$argnum);
}
%apply const char *OPTIONAL { const char *policy, const char *value };
/* Identity probe and key options where NULL means "the default" or "none",
 * and the CSR's subject alternative names. */
%apply const char *OPTIONAL {
  const char *physical_globs, const char *virtual_globs, const char *sysfs_root, const char *etc_root,
  const char *providers, const char *openssl_conf, const char *propquery, const char *sans
};
/* Store: no key file (another key source), every entry (export). */
%apply const char *OPTIONAL { const char *key_file, const char *names };
/* Mender and HTTP options where NULL means "the default" or "none", and a
 * device status filter (NULL: every status). */
%apply const char *OPTIONAL {
  const char *tenant_token, const char *tier, const char *token_entry, const char *ca_file, const char *ca_path,
  const char *client_cert, const char *proxy, const char *user_agent, const char *status
};
/* Azure: the endpoint (NULL: Azure's own), no DPS payload, registry keys
 * to generate, no etag (create; delete: any). */
%apply const char *OPTIONAL {
  const char *endpoint, const char *payload_json, const char *primary_key, const char *secondary_key,
  const char *etag
};

/* (pointer, length) inputs: secrets and raw bytes. */
%typemap(in, noblock=1) (const char *BYTES, size_t LENGTH)
    (sbprov_py_input in = SBPROV_PY_INPUT_INIT) {
  if (sbprov_py_input_get($input, "$1_name", SBPROV_PY_BUFFER_OK, &in) != 0) SWIG_fail;
  $1 = ($1_ltype)in.ptr;
  $2 = ($2_ltype)in.len;
}
%typemap(freearg, noblock=1) (const char *BYTES, size_t LENGTH) {
  sbprov_py_input_release(&in$argnum);
}
/* SWIG matches multi-argument typemaps by parameter name: list here every
 * (pointer, length) spelling the headers use. */
%apply (const char *BYTES, size_t LENGTH) {
  (const char *group_key, size_t group_key_len),
  (const char *key, size_t key_len),
  (const char *s, size_t len),
  (const void *data, size_t len),
  (const void *value, size_t len),
  (const char *text, size_t len),
  (const char *pem, size_t len),
  (const char *signature, size_t signature_len),
  (const char *password, size_t password_len),
  (const char *connstr, size_t len),
  (const char *node, size_t node_len),
  (const char *packed, size_t packed_len)
};

/* (pointer, length) inputs where None stands for NULL: a passphrase (None:
 * no encryption / no passphrase; b"" is passed on as an empty one, which the
 * library refuses when saving rather than silently not encrypting). */
%typemap(in, noblock=1) (const char *OPTBYTES, size_t LENGTH)
    (sbprov_py_input in = SBPROV_PY_INPUT_INIT) {
  if (sbprov_py_input_get($input, "$1_name", SBPROV_PY_NONE_OK | SBPROV_PY_BUFFER_OK, &in) != 0) SWIG_fail;
  $1 = ($1_ltype)in.ptr;
  $2 = ($2_ltype)in.len;
}
%typemap(freearg, noblock=1) (const char *OPTBYTES, size_t LENGTH) {
  sbprov_py_input_release(&in$argnum);
}
%apply (const char *OPTBYTES, size_t LENGTH) { (const char *passphrase, size_t passphrase_len) };

/* Times and other 64-bit integers: int only (no bool, no float). */
%typemap(in, noblock=1) int64_t {
  if (sbprov_py_int64_get($input, "$1_name", &$1) != 0) SWIG_fail;
}

/* Inventory values: a sequence of str/bytes (no NUL), or of numbers. */
%typemap(in, noblock=1) (const char *const *STRINGS, size_t COUNT) (sbprov_py_strings strings = SBPROV_PY_STRINGS_INIT) {
  if (sbprov_py_strings_get($input, "$1_name", &strings) != 0) SWIG_fail;
  $1 = ($1_ltype)strings.ptrs;
  $2 = (size_t)strings.n;
}
%typemap(freearg, noblock=1) (const char *const *STRINGS, size_t COUNT) {
  sbprov_py_strings_release(&strings$argnum);
}
%apply (const char *const *STRINGS, size_t COUNT) { (const char *const *values, size_t count) };
%typemap(in, noblock=1) (const double *NUMBERS, size_t COUNT) (double *numbers = NULL, size_t n = 0) {
  if (sbprov_py_numbers_get($input, "$1_name", &numbers, &n) != 0) SWIG_fail;
  $1 = numbers;
  $2 = n;
}
%typemap(freearg, noblock=1) (const double *NUMBERS, size_t COUNT) {
  PyMem_Free(numbers$argnum);
}
%apply (const double *NUMBERS, size_t COUNT) { (const double *values, size_t count) };

/* ---- 64-bit and flag outputs ----------------------------------------------- */

/* sbprov_mender_token_expiry(): Unix time as an int. */
%typemap(in, numinputs=0, noblock=1) int64_t *out (int64_t value = 0) {
  $1 = &value;
}
%typemap(argout, noblock=1) int64_t *out {
  $result = SWIG_Python_AppendOutput($result, PyLong_FromLongLong((long long)value$argnum));
  if ($result == NULL) SWIG_fail;
}
/* sbprov_mender_mgmt_count(): an int. */
%typemap(in, numinputs=0, noblock=1) uint64_t *out (uint64_t value = 0) {
  $1 = &value;
}
%typemap(argout, noblock=1) uint64_t *out {
  $result = SWIG_Python_AppendOutput($result, PyLong_FromUnsignedLongLong((unsigned long long)value$argnum));
  if ($result == NULL) SWIG_fail;
}
/* sbprov_mender_authenticate(): True when accepted, False when pending. */
%typemap(in, numinputs=0, noblock=1) sbprov_mender_auth_status *status (sbprov_mender_auth_status auth = SBPROV_MENDER_PENDING) {
  $1 = &auth;
}
%typemap(argout, noblock=1) sbprov_mender_auth_status *status {
  $result = SWIG_Python_AppendOutput($result, PyBool_FromLong(auth$argnum == SBPROV_MENDER_ACCEPTED));
  if ($result == NULL) SWIG_fail;
}
/* Last HTTP response of a client: (status, retry_after_s, server_date, request_id). */
%typemap(in, numinputs=0, noblock=1) sbprov_http_response_info *out (sbprov_http_response_info info) {
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  $1 = &info;
}
%typemap(argout, noblock=1) sbprov_http_response_info *out {
  {
    PyObject *rid;
    info$argnum.request_id[sizeof info$argnum.request_id - 1] = '\0';
    rid = PyUnicode_DecodeUTF8(info$argnum.request_id, (Py_ssize_t)strlen(info$argnum.request_id), "replace");
    if (rid == NULL) SWIG_fail;
    $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(iiLN)", (int)info$argnum.status,
                                       (int)info$argnum.retry_after_s, (long long)info$argnum.server_date, rid));
    if ($result == NULL) SWIG_fail;
  }
}
/* sbprov_py_mender_mgmt_preauthorize(): (device ID, existed). */
%typemap(in, numinputs=0, noblock=1) sbprov_py_preauth *out (sbprov_py_preauth preauth) {
  memset(&preauth, 0, sizeof preauth);
  $1 = &preauth;
}
%typemap(argout, noblock=1) sbprov_py_preauth *out {
  preauth$argnum.id[sizeof preauth$argnum.id - 1] = '\0';
  $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(NN)",
      sbprov_py_text_result(preauth$argnum.id, strlen(preauth$argnum.id)), PyBool_FromLong(preauth$argnum.existed)));
  if ($result == NULL) SWIG_fail;
}

/* sbprov_py_azure_hub_send(): the messages (see 7 above); returns how many
 * were accepted, and a failure carries that count as `.accepted`. */
%typemap(in, noblock=1) sbprov_py_messages *messages (sbprov_py_messages batch = SBPROV_PY_MESSAGES_INIT) {
  if (sbprov_py_messages_get($input, "messages", &batch) != 0) SWIG_fail;
  $1 = &batch;
}
%typemap(argout, noblock=1) sbprov_py_messages *messages {
  $result = SWIG_Python_AppendOutput($result, PyLong_FromSize_t(batch$argnum.accepted));
  if ($result == NULL) SWIG_fail;
}
%typemap(freearg, noblock=1) sbprov_py_messages *messages {
  if (batch$argnum.sent && PyErr_Occurred()) sbprov_py_error_set_accepted(batch$argnum.accepted);
  sbprov_py_messages_release(&batch$argnum);
}

/* ---- sensor frames and rooms (see 8 above) --------------------------------- */

/* sbprov_py_frame_parse(): the fields as a tuple (sbprov_py_frame_view_tuple);
 * a refused record raises ParseError with `.reason`, the drop reason. */
%typemap(in, numinputs=0, noblock=1) sbprov_py_frame_view *out (sbprov_py_frame_view view) {
  memset(&view, 0, sizeof view);
  $1 = &view;
}
%typemap(argout, noblock=1) sbprov_py_frame_view *out {
  $result = SWIG_Python_AppendOutput($result, sbprov_py_frame_view_tuple(&view$argnum));
  if ($result == NULL) SWIG_fail;
}
%typemap(freearg, noblock=1) sbprov_py_frame_view *out {
  if (view$argnum.parsed && view$argnum.outcome != SBPROV_FRAME_ACCEPTED && PyErr_Occurred())
    sbprov_py_error_set_reason(sbprov_frame_outcome_name(view$argnum.outcome));
}

/* sbprov_py_frame_feed(): (consumed, packed records) (see the sink above). */
%typemap(in, numinputs=0, noblock=1) sbprov_py_frame_sink *sink (sbprov_py_frame_sink sink) {
  memset(&sink, 0, sizeof sink);
  sink.size = SBPROV_PY_FRAME_SINK;
  if ((sink.buf = (unsigned char *)PyMem_Malloc(sink.size)) == NULL) {
    PyErr_NoMemory();
    SWIG_fail;
  }
  $1 = &sink;
}
%typemap(argout, noblock=1) sbprov_py_frame_sink *sink {
  $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(ny#)", (Py_ssize_t)sink$argnum.consumed,
                                     (const char *)sink$argnum.buf, (Py_ssize_t)sink$argnum.used));
  if ($result == NULL) SWIG_fail;
}
%typemap(freearg, noblock=1) sbprov_py_frame_sink *sink {
  PyMem_Free(sink$argnum.buf);
  sink$argnum.buf = NULL;
}

/* sbprov_py_frame_decode_record(): (outcome, seq_status, missed). */
%typemap(in, numinputs=0, noblock=1) sbprov_py_datagram *out (sbprov_py_datagram datagram) {
  memset(&datagram, 0, sizeof datagram);
  $1 = &datagram;
}
%typemap(argout, noblock=1) sbprov_py_datagram *out {
  $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(iik)", (int)datagram$argnum.outcome,
                                     (int)datagram$argnum.seq_status, (unsigned long)datagram$argnum.missed));
  if ($result == NULL) SWIG_fail;
}

/* sbprov_py_frame_encode(): (result, failed, bytes). */
%typemap(in, numinputs=0, noblock=1) sbprov_py_encoded *out (sbprov_py_encoded encoded) {
  memset(&encoded, 0, sizeof encoded);
  $1 = &encoded;
}
%typemap(argout, noblock=1) sbprov_py_encoded *out {
  $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(iiy#)", encoded$argnum.result, encoded$argnum.failed,
                                     (const char *)encoded$argnum.bytes, (Py_ssize_t)encoded$argnum.len));
  if ($result == NULL) SWIG_fail;
}

/* sbprov_py_cobs_encode(): (result, bytes). */
%typemap(in, numinputs=0, noblock=1) sbprov_py_cobs *out (sbprov_py_cobs cobs) {
  memset(&cobs, 0, sizeof cobs);
  $1 = &cobs;
}
%typemap(argout, noblock=1) sbprov_py_cobs *out {
  $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(iy#)", cobs$argnum.result,
                                     cobs$argnum.ptr != NULL ? (const char *)cobs$argnum.ptr : "",
                                     (Py_ssize_t)cobs$argnum.len));
  if ($result == NULL) SWIG_fail;
}
%typemap(freearg, noblock=1) sbprov_py_cobs *out {
  free(cobs$argnum.ptr);
  cobs$argnum.ptr = NULL;
}

/* sbprov_py_frame_kind_info(): (known, length, min, max). */
%typemap(in, numinputs=0, noblock=1) sbprov_py_kind_info *out (sbprov_py_kind_info info) {
  memset(&info, 0, sizeof info);
  $1 = &info;
}
%typemap(argout, noblock=1) sbprov_py_kind_info *out {
  $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(iiii)", info$argnum.known, (int)info$argnum.length,
                                     (int)info$argnum.min, (int)info$argnum.max));
  if ($result == NULL) SWIG_fail;
}

/* sbprov_frame_decoder_counters(): the counters as a tuple, in struct order
 * (frames, crc, too_long, truncated, bad_version, bad_length, unknown_type,
 * duplicate, gaps, reboots, unknown_kinds, out_of_range). */
%typemap(in, numinputs=0, noblock=1) sbprov_frame_counters *out (sbprov_frame_counters counters) {
  memset(&counters, 0, sizeof counters);
  counters.struct_size = sizeof counters;
  $1 = &counters;
}
%typemap(argout, noblock=1) sbprov_frame_counters *out {
  $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(KKKKKKKKKKKK)",
      (unsigned long long)counters$argnum.frames, (unsigned long long)counters$argnum.crc,
      (unsigned long long)counters$argnum.too_long, (unsigned long long)counters$argnum.truncated,
      (unsigned long long)counters$argnum.bad_version, (unsigned long long)counters$argnum.bad_length,
      (unsigned long long)counters$argnum.unknown_type, (unsigned long long)counters$argnum.duplicate,
      (unsigned long long)counters$argnum.gaps, (unsigned long long)counters$argnum.reboots,
      (unsigned long long)counters$argnum.unknown_kinds, (unsigned long long)counters$argnum.out_of_range));
  if ($result == NULL) SWIG_fail;
}

/* sbprov_py_air_room_defaults(): the default options as a tuple, in struct order. */
%typemap(in, numinputs=0, noblock=1) sbprov_air_room_options *defaults (sbprov_air_room_options opts) {
  memset(&opts, 0, sizeof opts);
  $1 = &opts;
}
%typemap(argout, noblock=1) sbprov_air_room_options *defaults {
  $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(IIIIIIIIdI)",
      (unsigned)opts$argnum.ventilate_ppm, (unsigned)opts$argnum.ventilate_now_ppm,
      (unsigned)opts$argnum.hysteresis_ppm, (unsigned)opts$argnum.smoothing_s,
      (unsigned)opts$argnum.trend_window_s, (unsigned)opts$argnum.trend_min_samples,
      (unsigned)opts$argnum.trend_min_span_s, (unsigned)opts$argnum.pir_hold_s,
      opts$argnum.co2_rise_ppm_per_min, (unsigned)opts$argnum.co2_rise_s));
  if ($result == NULL) SWIG_fail;
}

/* sbprov_air_room_state(): the state as a tuple, in struct order (the
 * has_* flags included; sbprov/air.py turns absent values into None). */
%typemap(in, numinputs=0, noblock=1) sbprov_air_state *out (sbprov_air_state state) {
  memset(&state, 0, sizeof state);
  state.struct_size = sizeof state;
  $1 = &state;
}
%typemap(argout, noblock=1) sbprov_air_state *out {
  $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(LKiiIdLidIdiiiLiiiIIK)",
      (long long)state$argnum.time_ms, (unsigned long long)state$argnum.samples, (int)state$argnum.co2_class,
      state$argnum.has_co2, (unsigned)state$argnum.co2_ppm, state$argnum.co2_smoothed_ppm,
      (long long)state$argnum.ms_since_co2, state$argnum.has_trend, state$argnum.trend_ppm_per_min,
      (unsigned)state$argnum.next_threshold_ppm, state$argnum.minutes_to_threshold, state$argnum.occupied,
      (int)state$argnum.occupied_reason, state$argnum.co2_rising, (long long)state$argnum.ms_since_motion,
      state$argnum.has_temperature, (int)state$argnum.temperature_centi_c, state$argnum.has_humidity,
      (unsigned)state$argnum.humidity_centi_pct, (unsigned)state$argnum.events_pending,
      (unsigned long long)state$argnum.events_dropped));
  if ($result == NULL) SWIG_fail;
}

/* sbprov_air_room_next_event(), sbprov_air_building_next_event(): (kind,
 * reason, time_ms, co2_class, previous_class, co2_ppm, threshold_ppm,
 * trend_ppm_per_min, ms_since_motion, room, reason_text). */
%typemap(in, numinputs=0, noblock=1) sbprov_air_event *out (sbprov_air_event event) {
  memset(&event, 0, sizeof event);
  event.struct_size = sizeof event;
  $1 = &event;
}
%typemap(argout, noblock=1) sbprov_air_event *out {
  $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(iiLiiIIdLNN)",
      (int)event$argnum.kind, (int)event$argnum.reason, (long long)event$argnum.time_ms,
      (int)event$argnum.co2_class, (int)event$argnum.previous_class, (unsigned)event$argnum.co2_ppm,
      (unsigned)event$argnum.threshold_ppm, event$argnum.trend_ppm_per_min,
      (long long)event$argnum.ms_since_motion,
      sbprov_py_member_text(event$argnum.room, sizeof event$argnum.room),
      sbprov_py_member_text(event$argnum.reason_text, sizeof event$argnum.reason_text)));
  if ($result == NULL) SWIG_fail;
}

/* Rooms of a building: non-owning proxies (the building frees its rooms;
 * sbprov/air.py keeps the building's proxy alive while they are used). */
%typemap(in, numinputs=0, noblock=1) sbprov_air_room **borrowed (sbprov_air_room *room = NULL) {
  $1 = &room;
}
%typemap(argout, noblock=1) sbprov_air_room **borrowed {
  $result = SWIG_Python_AppendOutput($result,
      SWIG_NewPointerObj(SWIG_as_voidptr(room$argnum), $descriptor(sbprov_air_room *), 0));
  if ($result == NULL) SWIG_fail;
}

/* Safety net: a parameter that none of the typemaps above claimed (a new
 * output buffer or (pointer, length) pair under another name) makes swig warn,
 * and setup.py fails the build on these warnings, so it cannot be wrapped as a
 * raw pointer or a truncating string by accident. */
%typemap(in, warning="901:libsbprov binding: unhandled 'char *' parameter (output buffer?); use the names (char *buf, size_t buf_size, size_t *out_len) or add an %apply in sbprov.i") char * "#error unhandled char * parameter"
%typemap(in, warning="902:libsbprov binding: unhandled 'size_t *' parameter; add a typemap in sbprov.i") size_t * "#error unhandled size_t * parameter"
%typemap(in, warning="903:libsbprov binding: unhandled 'const void *' parameter; add it to the (pointer, length) %apply in sbprov.i") const void * "#error unhandled const void * parameter"
%typemap(in, warning="904:libsbprov binding: unhandled array parameter; add it to the (array, count) %apply in sbprov.i") const char *const *, const double * "#error unhandled array parameter"
%typemap(in, warning="905:libsbprov binding: unhandled integer output parameter; add a typemap in sbprov.i") int *, int64_t *, uint64_t * "#error unhandled integer output parameter"

/* ---- handles ---------------------------------------------------------------
 * `TYPE **out` constructors return an owning proxy; the proxy's destructor
 * calls the library's free function; the explicit free function is marked
 * %delobject so that calling it disowns the proxy (no double free). */
%define SBPROV_HANDLE(TYPE, FREE)
%typemap(in, numinputs=0, noblock=1) TYPE **out (TYPE *handle = NULL) {
  $1 = &handle;
}
%typemap(argout, noblock=1) TYPE **out {
  {
    PyObject *proxy = SWIG_NewPointerObj(SWIG_as_voidptr(handle$argnum), $descriptor(TYPE *), SWIG_POINTER_OWN);
    if (proxy == NULL) { FREE(handle$argnum); SWIG_fail; }
    $result = SWIG_Python_AppendOutput($result, proxy);
  }
}
%nodefaultctor TYPE;
/* An empty body lets SWIG attach a destructor to the opaque type. */
struct TYPE {};
%extend TYPE {
  ~TYPE() { FREE($self); }
}
%delobject FREE;
%enddef

SBPROV_HANDLE(sbprov_azure_deriver, sbprov_azure_deriver_free)
SBPROV_HANDLE(sbprov_azure_sas_signer, sbprov_azure_sas_signer_free)
SBPROV_HANDLE(sbprov_azure_connstr, sbprov_azure_connstr_free)
SBPROV_HANDLE(sbprov_identity, sbprov_identity_free)
SBPROV_HANDLE(sbprov_key, sbprov_key_free)
SBPROV_HANDLE(sbprov_store, sbprov_store_free)
SBPROV_HANDLE(sbprov_mender, sbprov_mender_free)
SBPROV_HANDLE(sbprov_mender_mgmt, sbprov_mender_mgmt_free)
SBPROV_HANDLE(sbprov_mender_update, sbprov_mender_update_free)
SBPROV_HANDLE(sbprov_mender_device, sbprov_mender_device_free)
SBPROV_HANDLE(sbprov_mender_device_list, sbprov_mender_device_list_free)
SBPROV_HANDLE(sbprov_inventory, sbprov_inventory_free)
SBPROV_HANDLE(sbprov_azure_dps, sbprov_azure_dps_free)
SBPROV_HANDLE(sbprov_azure_dps_result, sbprov_azure_dps_result_free)
SBPROV_HANDLE(sbprov_azure_hub, sbprov_azure_hub_free)
SBPROV_HANDLE(sbprov_azure_registry, sbprov_azure_registry_free)
SBPROV_HANDLE(sbprov_azure_device, sbprov_azure_device_free)
SBPROV_HANDLE(sbprov_frame_decoder, sbprov_frame_decoder_free)
/* Owning proxies of rooms of their own (sbprov_py_air_room_new); rooms of a
 * building come back as `borrowed` proxies, which free nothing. */
SBPROV_HANDLE(sbprov_air_room, sbprov_air_room_free)
SBPROV_HANDLE(sbprov_air_building, sbprov_air_building_free)

/* A value the library allocated (sbprov_py_store_get): returned as bytes;
 * the C copy is cleansed and freed (it may be a secret). */
%typemap(in, numinputs=0, noblock=1) sbprov_py_bytes *out (sbprov_py_bytes bytes = { NULL, 0 }) {
  $1 = &bytes;
}
%typemap(argout, noblock=1) sbprov_py_bytes *out {
  $result = SWIG_Python_AppendOutput($result,
      PyBytes_FromStringAndSize(bytes$argnum.ptr != NULL ? (const char *)bytes$argnum.ptr : "",
                                (Py_ssize_t)bytes$argnum.len));
  if ($result == NULL) SWIG_fail;
}
%typemap(freearg, noblock=1) sbprov_py_bytes *out {
  if (bytes$argnum.ptr != NULL) {
    sbprov_py_cleanse(bytes$argnum.ptr, bytes$argnum.len);
    sbprov_free(bytes$argnum.ptr);
    bytes$argnum.ptr = NULL;
  }
}

/* sbprov_azure_cs_field_from_name(): the field comes back as an int. */
%typemap(in, numinputs=0, noblock=1) sbprov_azure_cs_field *out (sbprov_azure_cs_field field = 0) {
  $1 = &field;
}
%typemap(argout, noblock=1) sbprov_azure_cs_field *out {
  $result = SWIG_Python_AppendOutput($result, PyLong_FromLong((long)field$argnum));
  if ($result == NULL) SWIG_fail;
}

/* ---- not wrapped ---------------------------------------------------------- */
/* Memory is never handed to Python, so there is nothing for it to free. */
%ignore sbprov_free;
/* Log callbacks need a trampoline that takes the GIL (PyGILState_Ensure), as
 * the library may log from any thread; not wrapped yet. */
%ignore sbprov_log_set_callback;
%ignore sbprov_log_cb;

/* Option structs with pointer members, and the functions taking them: see 5
 * above; the sbprov_py_* helpers below replace them. */
%ignore sbprov_identity_script_options;
%ignore sbprov_identity_script_options_init;
%ignore sbprov_identity_from_script;
%ignore sbprov_identity_probe_options;
%ignore sbprov_identity_probe_options_init;
%ignore sbprov_identity_probe;
%ignore sbprov_key_generate_options;
%ignore sbprov_key_generate_options_init;
%ignore sbprov_key_generate;
%ignore sbprov_key_load_options;
%ignore sbprov_key_load_options_init;
%ignore sbprov_key_load;
/* Store: the open options (a struct with string members, see 5 above), the
 * reads into void buffers, and the listing callback are replaced by
 * sbprov_py_store_open, sbprov_py_store_get and sbprov_store_list_names. */
%ignore sbprov_store_open_options;
%ignore sbprov_store_open_options_init;
%ignore sbprov_store_open;
%ignore sbprov_store_get;
%ignore sbprov_store_get_alloc;
%ignore sbprov_store_list;
%ignore sbprov_store_list_cb;
/* HTTP and Mender: the option structs (see 5 above), the functions taking
 * them and the response-info struct (returned as a tuple by a typemap) are
 * replaced by sbprov_py_mender_new, sbprov_py_mender_mgmt_new and
 * sbprov_py_mender_authenticate_until_accepted. Preauthorization is
 * replaced by sbprov_py_mender_mgmt_preauthorize: it is not idempotent in
 * its `existed` output, so it must never be retried by the text-output
 * typemap's EBUFS loop. */
%ignore sbprov_http_options;
%ignore sbprov_http_options_init;
%ignore sbprov_http_response_info;
%ignore sbprov_mender_options;
%ignore sbprov_mender_options_init;
%ignore sbprov_mender_new;
%ignore sbprov_mender_wait_options;
%ignore sbprov_mender_wait_options_init;
%ignore sbprov_mender_authenticate_until_accepted;
%ignore sbprov_mender_mgmt_new;
%ignore sbprov_mender_mgmt_preauthorize;
/* Azure over HTTPS: the option structs (see 5 above) and the functions
 * taking them are replaced by sbprov_py_azure_dps_new, sbprov_py_azure_hub_new
 * and sbprov_py_azure_registry_new; the message and property structs (pointer
 * members) and sbprov_azure_hub_send by sbprov_py_azure_hub_send (see 7). */
%ignore sbprov_azure_dps_options;
%ignore sbprov_azure_dps_options_init;
%ignore sbprov_azure_dps_new;
%ignore sbprov_azure_hub_options;
%ignore sbprov_azure_hub_options_init;
%ignore sbprov_azure_hub_new;
%ignore sbprov_azure_registry_new;
%ignore sbprov_azure_property;
%ignore sbprov_azure_message;
%ignore sbprov_azure_message_init;
%ignore sbprov_azure_hub_send;
/* Env formats: renamed so that the SBPROV_E* names stay the result codes. */
%rename(SBPROV_STORE_FORMAT_DOCKER) SBPROV_ENV_DOCKER;
%rename(SBPROV_STORE_FORMAT_SYSTEMD) SBPROV_ENV_SYSTEMD;

/* Sensor frames (see 8 above): the encoder's builder (a struct pointing into
 * a caller's buffer), the callbacks, the views and the option structs are
 * replaced by sbprov_py_frame_encode, sbprov_py_cobs_encode,
 * sbprov_py_frame_kind_info, sbprov_py_frame_decoder_new,
 * sbprov_py_frame_feed, sbprov_py_frame_decode_record,
 * sbprov_py_frame_parse, sbprov_py_frame_to_json and
 * sbprov_py_frame_to_senml. The counters come back as a tuple. */
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
%ignore sbprov_frame_decoder_feed;
%ignore sbprov_frame_decode_record;
%ignore sbprov_frame_parse;
%ignore sbprov_frame_to_json;
%ignore sbprov_frame_to_senml;
%ignore sbprov_frame;
%ignore sbprov_frame_reading;
%ignore sbprov_frame_cb;
%ignore sbprov_frame_counters;
/* Rooms: the option and sample structs and the functions taking them, the
 * frame view, and the building's room lookups (which must give non-owning
 * proxies) are replaced by sbprov_py_air_*; the state and event structs come
 * back as tuples. */
%ignore sbprov_air_room_options;
%ignore sbprov_air_room_options_init;
%ignore sbprov_air_room_new;
%ignore sbprov_air_sample;
%ignore sbprov_air_sample_init;
%ignore sbprov_air_sample_from_frame;
%ignore sbprov_air_room_update;
%ignore sbprov_air_state;
%ignore sbprov_air_event;
%ignore sbprov_air_building_add_room;
%ignore sbprov_air_building_update;
%ignore sbprov_air_building_update_frame;
%ignore sbprov_air_building_room;
%ignore sbprov_air_building_room_for_node;
%ignore sbprov_air_building_room_at;

%include <sbprov/common.h>
%include <sbprov/version.h>
%include <sbprov/azure.h>
%include <sbprov/identity.h>
%include <sbprov/keys.h>
%include <sbprov/store.h>
%include <sbprov/http.h>
%include <sbprov/mender.h>
%include <sbprov/azure_http.h>
%include <sbprov/frame_encode.h>
%include <sbprov/frame.h>
%include <sbprov/air.h>

/* ---- flat helpers for the functions taking option structs ----------------
 * They run with the GIL released (%thread above): no Python API in here. The
 * strings they get are borrowed from the Python arguments, which outlive the
 * call; the library copies what it keeps. */
%inline %{
/* sbprov_identity_probe(): sources is a bit set of sbprov_identity_source;
 * the strings may be NULL (the library's defaults). */
sbprov_result sbprov_py_identity_probe(sbprov_identity **out, uint32_t sources, int skip_local_mac,
                                       const char *physical_globs, const char *virtual_globs,
                                       const char *sysfs_root, const char *etc_root)
{
    sbprov_identity_probe_options opts;
    sbprov_result rc = sbprov_identity_probe_options_init(&opts, sizeof opts);
    if (rc != SBPROV_OK)
        return rc;
    opts.sources = sources;
    opts.skip_local_mac = skip_local_mac != 0;
    opts.physical_globs = physical_globs;
    opts.virtual_globs = virtual_globs;
    opts.sysfs_root = sysfs_root;
    opts.etc_root = etc_root;
    return sbprov_identity_probe(out, &opts);
}

/* sbprov_identity_from_script(); 0 for a limit means the library's default. */
sbprov_result sbprov_py_identity_from_script(sbprov_identity **out, const char *path, uint32_t timeout_ms,
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

/* sbprov_key_generate(): type is a sbprov_key_type value, rsa_bits 0 for the default. */
sbprov_result sbprov_py_key_generate(sbprov_key **out, int type, uint32_t rsa_bits)
{
    sbprov_key_generate_options opts;
    sbprov_result rc = sbprov_key_generate_options_init(&opts, sizeof opts);
    if (rc != SBPROV_OK)
        return rc;
    opts.type = (sbprov_key_type)type;
    opts.rsa_bits = rsa_bits;
    return sbprov_key_generate(out, &opts);
}

/* sbprov_key_load(); every option may be NULL. */
sbprov_result sbprov_py_key_load(sbprov_key **out, const char *uri, const char *passphrase, size_t passphrase_len,
                                 const char *providers, const char *openssl_conf, const char *propquery)
{
    sbprov_key_load_options opts;
    sbprov_result rc = sbprov_key_load_options_init(&opts, sizeof opts);
    if (rc != SBPROV_OK)
        return rc;
    opts.passphrase = passphrase;
    opts.passphrase_len = passphrase != NULL ? passphrase_len : 0;
    opts.providers = providers;
    opts.openssl_conf = openssl_conf;
    opts.propquery = propquery;
    return sbprov_key_load(out, uri, &opts);
}

/* sbprov_store_open(): key_file, passphrase and sealing_key may be NULL
 * (None); scrypt_log2_n 0 for the default. The sealing key is used during the
 * call only; sbprov.store.Store holds the Key's lock around it. */
sbprov_result sbprov_py_store_open(sbprov_store **out, const char *dir, const char *key_file,
                                   const char *passphrase, size_t passphrase_len, const sbprov_key *sealing_key,
                                   int plaintext, int create, uint32_t scrypt_log2_n)
{
    sbprov_store_open_options opts;
    sbprov_result rc = sbprov_store_open_options_init(&opts, sizeof opts);
    if (rc != SBPROV_OK)
        return rc;
    opts.key_file = key_file;
    opts.passphrase = passphrase;
    opts.passphrase_len = passphrase != NULL ? passphrase_len : 0;
    opts.sealing_key = sealing_key;
    opts.plaintext = plaintext != 0;
    opts.create = create != 0;
    opts.scrypt_log2_n = scrypt_log2_n;
    return sbprov_store_open(out, dir, &opts);
}

/* sbprov_store_get_alloc() into a sbprov_py_bytes (returned as bytes). */
sbprov_result sbprov_py_store_get(sbprov_py_bytes *out, sbprov_store *store, const char *name)
{
    return sbprov_store_get_alloc(&out->ptr, &out->len, store, name);
}

/* sbprov_mender_new() with its options and transport options flat. NULL
 * strings and 0 limits mean the library's defaults; token_store may be NULL
 * (sbprov.mender.Device keeps the store's proxy alive as long as the client,
 * as the header requires). Runs without the GIL: it may read the token store. */
sbprov_result sbprov_py_mender_new(sbprov_mender **out, const char *server_url, const sbprov_identity *identity,
                                   const sbprov_key *key, const char *tenant_token, const char *tier,
                                   sbprov_store *token_store, const char *token_entry, uint32_t renew_margin_s,
                                   const char *ca_file, const char *ca_path, const char *client_cert,
                                   const sbprov_key *client_key, const char *proxy, const char *user_agent,
                                   uint32_t connect_timeout_ms, uint32_t timeout_ms, size_t max_response_size,
                                   int allow_http)
{
    sbprov_http_options http;
    sbprov_mender_options opts;
    sbprov_result rc = sbprov_py_http_fill(&http, ca_file, ca_path, client_cert, client_key, proxy, user_agent,
                                           connect_timeout_ms, timeout_ms, max_response_size, allow_http);
    if (rc != SBPROV_OK || (rc = sbprov_mender_options_init(&opts, sizeof opts)) != SBPROV_OK)
        return rc;
    opts.tenant_token = tenant_token;
    opts.tier = tier;
    opts.http = &http;
    opts.token_store = token_store;
    opts.token_entry = token_entry;
    opts.renew_margin_s = renew_margin_s;
    return sbprov_mender_new(out, server_url, identity, key, &opts);
}

/* sbprov_mender_authenticate_until_accepted(); 0 for an interval or the
 * tries means Mender's default (timeout_ms is required). */
sbprov_result sbprov_py_mender_authenticate_until_accepted(sbprov_mender *m, uint32_t timeout_ms,
                                                           uint32_t first_interval_ms, uint32_t max_interval_ms,
                                                           uint32_t tries_per_interval)
{
    sbprov_mender_wait_options opts;
    sbprov_result rc = sbprov_mender_wait_options_init(&opts, sizeof opts);
    if (rc != SBPROV_OK)
        return rc;
    opts.timeout_ms = timeout_ms;
    opts.first_interval_ms = first_interval_ms;
    opts.max_interval_ms = max_interval_ms;
    opts.tries_per_interval = tries_per_interval;
    return sbprov_mender_authenticate_until_accepted(m, &opts);
}

/* sbprov_mender_mgmt_new() with the transport options flat. */
sbprov_result sbprov_py_mender_mgmt_new(sbprov_mender_mgmt **out, const char *server_url, const char *ca_file,
                                        const char *ca_path, const char *client_cert, const sbprov_key *client_key,
                                        const char *proxy, const char *user_agent, uint32_t connect_timeout_ms,
                                        uint32_t timeout_ms, size_t max_response_size, int allow_http)
{
    sbprov_http_options http;
    sbprov_result rc = sbprov_py_http_fill(&http, ca_file, ca_path, client_cert, client_key, proxy, user_agent,
                                           connect_timeout_ms, timeout_ms, max_response_size, allow_http);
    if (rc != SBPROV_OK)
        return rc;
    return sbprov_mender_mgmt_new(out, server_url, &http);
}

/* sbprov_mender_mgmt_preauthorize() called exactly once (no EBUFS retry:
 * the buffer holds any ID the library accepts). Returns (id, existed). */
sbprov_result sbprov_py_mender_mgmt_preauthorize(sbprov_py_preauth *out, sbprov_mender_mgmt *m,
                                                 const sbprov_identity *identity, const sbprov_key *key,
                                                 unsigned flags)
{
    return sbprov_mender_mgmt_preauthorize(out->id, sizeof out->id, NULL, &out->existed, m, identity, key, flags);
}

/* sbprov_azure_dps_new() with its options and the transport options flat;
 * NULL strings and 0 numbers mean the library's defaults. */
sbprov_result sbprov_py_azure_dps_new(sbprov_azure_dps **out, const char *id_scope, const char *registration_id,
                                      const char *key, size_t key_len, const char *endpoint, uint32_t token_ttl_s,
                                      uint32_t max_clock_skew_s, const char *ca_file, const char *ca_path,
                                      const char *client_cert, const sbprov_key *client_key, const char *proxy,
                                      const char *user_agent, uint32_t connect_timeout_ms, uint32_t timeout_ms,
                                      size_t max_response_size, int allow_http)
{
    sbprov_http_options http;
    sbprov_azure_dps_options opts;
    sbprov_result rc = sbprov_py_http_fill(&http, ca_file, ca_path, client_cert, client_key, proxy, user_agent,
                                           connect_timeout_ms, timeout_ms, max_response_size, allow_http);
    if (rc != SBPROV_OK || (rc = sbprov_azure_dps_options_init(&opts, sizeof opts)) != SBPROV_OK)
        return rc;
    opts.endpoint = endpoint;
    opts.http = &http;
    opts.token_ttl_s = token_ttl_s;
    opts.max_clock_skew_s = max_clock_skew_s;
    return sbprov_azure_dps_new(out, id_scope, registration_id, key, key_len, &opts);
}

/* sbprov_azure_hub_new() with its options and the transport options flat.
 * The connection string (a secret) is borrowed; the library copies it and
 * wipes its copy. */
sbprov_result sbprov_py_azure_hub_new(sbprov_azure_hub **out, const char *connstr, size_t len, const char *endpoint,
                                      uint32_t token_ttl_s, uint32_t max_clock_skew_s, uint32_t retry_timeout_ms,
                                      const char *ca_file, const char *ca_path, const char *client_cert,
                                      const sbprov_key *client_key, const char *proxy, const char *user_agent,
                                      uint32_t connect_timeout_ms, uint32_t timeout_ms, size_t max_response_size,
                                      int allow_http)
{
    sbprov_http_options http;
    sbprov_azure_hub_options opts;
    sbprov_result rc = sbprov_py_http_fill(&http, ca_file, ca_path, client_cert, client_key, proxy, user_agent,
                                           connect_timeout_ms, timeout_ms, max_response_size, allow_http);
    if (rc != SBPROV_OK ||
        (rc = sbprov_py_azure_hub_fill(&opts, &http, endpoint, token_ttl_s, max_clock_skew_s, retry_timeout_ms)) !=
            SBPROV_OK)
        return rc;
    return sbprov_azure_hub_new(out, connstr, len, &opts);
}

/* sbprov_azure_registry_new(), as sbprov_py_azure_hub_new(). */
sbprov_result sbprov_py_azure_registry_new(sbprov_azure_registry **out, const char *connstr, size_t len,
                                           const char *endpoint, uint32_t token_ttl_s, uint32_t max_clock_skew_s,
                                           uint32_t retry_timeout_ms, const char *ca_file, const char *ca_path,
                                           const char *client_cert, const sbprov_key *client_key, const char *proxy,
                                           const char *user_agent, uint32_t connect_timeout_ms, uint32_t timeout_ms,
                                           size_t max_response_size, int allow_http)
{
    sbprov_http_options http;
    sbprov_azure_hub_options opts;
    sbprov_result rc = sbprov_py_http_fill(&http, ca_file, ca_path, client_cert, client_key, proxy, user_agent,
                                           connect_timeout_ms, timeout_ms, max_response_size, allow_http);
    if (rc != SBPROV_OK ||
        (rc = sbprov_py_azure_hub_fill(&opts, &http, endpoint, token_ttl_s, max_clock_skew_s, retry_timeout_ms)) !=
            SBPROV_OK)
        return rc;
    return sbprov_azure_registry_new(out, connstr, len, &opts);
}

/* sbprov_azure_hub_send() on a batch the `in` typemap built (see 7 above).
 * Runs without the GIL; the typemaps return `accepted` or attach it to the
 * exception. */
sbprov_result sbprov_py_azure_hub_send(sbprov_azure_hub *hub, sbprov_py_messages *messages)
{
    sbprov_result rc = sbprov_azure_hub_send(hub, messages->msgs, messages->count, &messages->accepted);
    messages->sent = 1;
    return rc;
}
%}

/* ---- flat helpers for sensor frames and rooms (see 8 above) ----------------
 * They keep the GIL (microseconds each) but use no Python API either: record
 * bytes are borrowed from the Python arguments for the call only. */
%inline %{
/* The reading table entry of `kind`: out->known is 0 for a kind version 1
 * does not know. */
void sbprov_py_frame_kind_info(sbprov_py_kind_info *out, uint8_t kind)
{
    out->known = sbprov_frame_kind_info(kind, &out->length, &out->min, &out->max);
}

/* One record built with the MCU encoder: a header of `type` (1 readings, 2
 * hello) for the 8-byte `node`, the timestamp if has_time, then the packed
 * readings (SBPROV_PY_ENC_PACKED bytes each: kind, int32 value little-endian)
 * in order; COBS-encoded with its delimiter if `cobs`. On failure
 * out->result is the encoder's code and out->failed says which call failed. */
void sbprov_py_frame_encode(sbprov_py_encoded *out, uint8_t type, const char *node, size_t node_len, uint16_t epoch,
                            uint16_t seq, int has_time, uint32_t time_ms, const char *packed, size_t packed_len,
                            int cobs)
{
    uint8_t rec[SBPROV_FRAME_MAX];
    sbprov_frame_builder b;
    size_t rec_len = 0;
    sbprov_frame_enc_result rc;

    out->failed = SBPROV_PY_ENC_NODE;
    out->result = SBPROV_FRAME_ENC_EINVAL;
    if (node_len != SBPROV_FRAME_NODE_SIZE || packed_len % SBPROV_PY_ENC_PACKED != 0)
        return;
    out->failed = SBPROV_PY_ENC_HEADER;
    if ((rc = sbprov_frame_builder_init(&b, rec, sizeof rec, type, (const uint8_t *)node, epoch, seq)) !=
        SBPROV_FRAME_ENC_OK)
        goto fail;
    out->failed = SBPROV_PY_ENC_TIMESTAMP;
    if (has_time && (rc = sbprov_frame_add_timestamp(&b, time_ms)) != SBPROV_FRAME_ENC_OK)
        goto fail;
    for (size_t i = 0; i < packed_len; i += SBPROV_PY_ENC_PACKED) {
        const unsigned char *p = (const unsigned char *)packed + i;
        uint32_t u = (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24;
        out->failed = (int)(i / SBPROV_PY_ENC_PACKED);
        if ((rc = sbprov_frame_add_reading(&b, p[0], (int32_t)u)) != SBPROV_FRAME_ENC_OK)
            goto fail;
    }
    out->failed = SBPROV_PY_ENC_HEADER;
    if ((rc = sbprov_frame_finish(&b, &rec_len)) != SBPROV_FRAME_ENC_OK)
        goto fail;
    if (cobs) {
        if ((rc = sbprov_cobs_encode(out->bytes, sizeof out->bytes, rec, rec_len, &out->len)) != SBPROV_FRAME_ENC_OK)
            goto fail;
    } else {
        memcpy(out->bytes, rec, rec_len);
        out->len = rec_len;
    }
    out->result = SBPROV_FRAME_ENC_OK;
    return;
fail:
    out->result = rc;
    out->len = 0;
}

/* COBS-encode any bytes and append the delimiter (sbprov_cobs_encode()). */
void sbprov_py_cobs_encode(sbprov_py_cobs *out, const void *data, size_t len)
{
    size_t size = SBPROV_COBS_ENCODED_SIZE(len);

    out->result = SBPROV_FRAME_ENC_ESPACE;
    if (size < len || (out->ptr = (unsigned char *)malloc(size)) == NULL)
        return;
    out->result = sbprov_cobs_encode(out->ptr, size, (const uint8_t *)data, len, &out->len);
    if (out->result != SBPROV_FRAME_ENC_OK)
        out->len = 0;
}

/* sbprov_frame_decoder_new() with its options flat. */
sbprov_result sbprov_py_frame_decoder_new(sbprov_frame_decoder **out, size_t node_table_size)
{
    sbprov_frame_decoder_options opts;
    sbprov_result rc = sbprov_frame_decoder_options_init(&opts, sizeof opts);
    if (rc != SBPROV_OK)
        return rc;
    opts.node_table_size = node_table_size;
    return sbprov_frame_decoder_new(out, &opts);
}

/* Feed stream bytes until they are used up or the sink is full (then
 * sink->consumed < len: feed the rest in another call). */
sbprov_result sbprov_py_frame_feed(sbprov_py_frame_sink *sink, sbprov_frame_decoder *dec, const void *data,
                                   size_t len)
{
    sbprov_result rc = sbprov_frame_decoder_feed(&sink->consumed, dec, (const uint8_t *)data, len,
                                                 sbprov_py_frame_sink_put, sink);
    /* ECANCELED: our callback stopped because the sink is full, not an error. */
    return rc == SBPROV_ECANCELED ? SBPROV_OK : rc;
}

/* Decode one datagram: (outcome, seq_status, missed); the record is the input. */
sbprov_result sbprov_py_frame_decode_record(sbprov_py_datagram *out, sbprov_frame_decoder *dec, const void *data,
                                            size_t len)
{
    return sbprov_frame_decode_record(&out->outcome, dec, (const uint8_t *)data, len, sbprov_py_datagram_put, out);
}

/* Check and decode one record on its own (sbprov_frame_parse()). */
sbprov_result sbprov_py_frame_parse(sbprov_py_frame_view *out, const void *data, size_t len)
{
    sbprov_result rc = sbprov_frame_parse(&out->frame, out->readings, &out->outcome, (const uint8_t *)data, len);
    out->parsed = 1;
    return rc;
}

/* sbprov_frame_to_json() of a record (parsed here). */
sbprov_result sbprov_py_frame_to_json(char *buf, size_t buf_size, size_t *out_len, const void *data, size_t len)
{
    sbprov_py_frame_view v;
    sbprov_result rc = sbprov_frame_parse(&v.frame, v.readings, NULL, (const uint8_t *)data, len);
    return rc != SBPROV_OK ? rc : sbprov_frame_to_json(buf, buf_size, out_len, &v.frame);
}

/* sbprov_frame_to_senml() of a record (parsed here); 0: no base time. */
sbprov_result sbprov_py_frame_to_senml(char *buf, size_t buf_size, size_t *out_len, const void *data, size_t len,
                                       int64_t unix_time_ms)
{
    sbprov_py_frame_view v;
    sbprov_result rc = sbprov_frame_parse(&v.frame, v.readings, NULL, (const uint8_t *)data, len);
    return rc != SBPROV_OK ? rc : sbprov_frame_to_senml(buf, buf_size, out_len, &v.frame, unix_time_ms);
}

/* The default room options, as a tuple in struct order. */
sbprov_result sbprov_py_air_room_defaults(sbprov_air_room_options *defaults)
{
    return sbprov_air_room_options_init(defaults, sizeof *defaults);
}

/* sbprov_air_room_new() with its options flat. */
sbprov_result sbprov_py_air_room_new(sbprov_air_room **out, uint32_t ventilate_ppm, uint32_t ventilate_now_ppm,
                                     uint32_t hysteresis_ppm, uint32_t smoothing_s, uint32_t trend_window_s,
                                     uint32_t trend_min_samples, uint32_t trend_min_span_s, uint32_t pir_hold_s,
                                     double co2_rise_ppm_per_min, uint32_t co2_rise_s)
{
    sbprov_air_room_options o;
    sbprov_result rc = sbprov_py_air_options_fill(&o, ventilate_ppm, ventilate_now_ppm, hysteresis_ppm, smoothing_s,
                                                  trend_window_s, trend_min_samples, trend_min_span_s, pir_hold_s,
                                                  co2_rise_ppm_per_min, co2_rise_s);
    return rc != SBPROV_OK ? rc : sbprov_air_room_new(out, &o);
}

/* sbprov_air_building_add_room() with its options flat; the room comes back
 * as a non-owning proxy. */
sbprov_result sbprov_py_air_building_add_room(sbprov_air_room **borrowed, sbprov_air_building *building,
                                              const char *name, uint32_t ventilate_ppm, uint32_t ventilate_now_ppm,
                                              uint32_t hysteresis_ppm, uint32_t smoothing_s, uint32_t trend_window_s,
                                              uint32_t trend_min_samples, uint32_t trend_min_span_s,
                                              uint32_t pir_hold_s, double co2_rise_ppm_per_min, uint32_t co2_rise_s)
{
    sbprov_air_room_options o;
    sbprov_result rc = sbprov_py_air_options_fill(&o, ventilate_ppm, ventilate_now_ppm, hysteresis_ppm, smoothing_s,
                                                  trend_window_s, trend_min_samples, trend_min_span_s, pir_hold_s,
                                                  co2_rise_ppm_per_min, co2_rise_s);
    return rc != SBPROV_OK ? rc : sbprov_air_building_add_room(borrowed, building, name, &o);
}

/* sbprov_air_building_room_for_node(), as a non-owning proxy. */
sbprov_result sbprov_py_air_building_room_for_node(sbprov_air_room **borrowed, sbprov_air_building *building,
                                                   uint64_t node_id)
{
    return sbprov_air_building_room_for_node(borrowed, building, node_id);
}

/* sbprov_air_room_update() with the sample flat (has_* 0: absent). */
sbprov_result sbprov_py_air_room_update(sbprov_air_room *room, int64_t time_ms, int has_co2, uint32_t co2_ppm,
                                        int has_motion, uint32_t motion, int has_temperature,
                                        int32_t temperature_centi_c, int has_humidity, uint32_t humidity_centi_pct)
{
    sbprov_air_sample s;
    sbprov_result rc = sbprov_py_air_sample_fill(&s, time_ms, has_co2, co2_ppm, has_motion, motion, has_temperature,
                                                 temperature_centi_c, has_humidity, humidity_centi_pct);
    return rc != SBPROV_OK ? rc : sbprov_air_room_update(room, &s);
}

/* sbprov_air_building_update() with the sample flat. */
sbprov_result sbprov_py_air_building_update(sbprov_air_building *building, uint64_t node_id, int64_t time_ms,
                                            int has_co2, uint32_t co2_ppm, int has_motion, uint32_t motion,
                                            int has_temperature, int32_t temperature_centi_c, int has_humidity,
                                            uint32_t humidity_centi_pct)
{
    sbprov_air_sample s;
    sbprov_result rc = sbprov_py_air_sample_fill(&s, time_ms, has_co2, co2_ppm, has_motion, motion, has_temperature,
                                                 temperature_centi_c, has_humidity, humidity_centi_pct);
    return rc != SBPROV_OK ? rc : sbprov_air_building_update(building, node_id, &s);
}

/* A record (parsed here) fed to a room: sbprov_air_sample_from_frame() and
 * sbprov_air_room_update(). */
sbprov_result sbprov_py_air_room_update_frame(sbprov_air_room *room, const void *data, size_t len, int64_t time_ms)
{
    sbprov_py_frame_view v;
    sbprov_air_sample s;
    sbprov_result rc = sbprov_frame_parse(&v.frame, v.readings, NULL, (const uint8_t *)data, len);
    if (rc != SBPROV_OK || (rc = sbprov_air_sample_from_frame(&s, &v.frame, time_ms)) != SBPROV_OK)
        return rc;
    return sbprov_air_room_update(room, &s);
}

/* A record (parsed here) fed to the room of its node (sbprov_air_building_update_frame()). */
sbprov_result sbprov_py_air_building_update_frame(sbprov_air_building *building, const void *data, size_t len,
                                                  int64_t time_ms)
{
    sbprov_py_frame_view v;
    sbprov_result rc = sbprov_frame_parse(&v.frame, v.readings, NULL, (const uint8_t *)data, len);
    return rc != SBPROV_OK ? rc : sbprov_air_building_update_frame(building, &v.frame, time_ms);
}
%}
