/* Test fixture: a plugin that takes its process down, as the C code of a stranger may.
 * Options {"mode": "segv" | "abort" | "loop" | "oom", "when": "marker"}: on an article whose JSON
 * contains the marker (every article without "when") it writes through a null pointer, calls
 * abort(), loops forever, or allocates and touches 2 GiB (when the allocation fails it says so on
 * stderr and aborts, as a careful C program does); any other article is passed on unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "briefd_stage.h"

typedef struct {
    char mode[16];
    char when[128];
} Crash;

/* Copies the string value of "key" in the options JSON into out (no escapes: test options). */
static int string_option(BriefdBuf options, const char *key, char *out, size_t size) {
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    size_t klen = strlen(quoted);
    for (size_t i = 0; i + klen <= options.len; i++) {
        if (memcmp(options.ptr + i, quoted, klen) != 0) continue;
        size_t j = i + klen;
        while (j < options.len && (options.ptr[j] == ' ' || options.ptr[j] == ':')) j++;
        if (j >= options.len || options.ptr[j] != '"') return 0;
        size_t start = ++j, n = 0;
        while (j < options.len && options.ptr[j] != '"') j++;
        n = j - start;
        if (n + 1 > size) return 0;
        memcpy(out, options.ptr + start, n);
        out[n] = '\0';
        return 1;
    }
    return 0;
}

static BriefdBuf message(const char *text) {
    size_t n = strlen(text);
    uint8_t *bytes = malloc(n);
    if (bytes != NULL) memcpy(bytes, text, n);
    BriefdBuf buf = {bytes, bytes == NULL ? 0 : n};
    return buf;
}

static BriefdStatus create(BriefdBuf options, void **instance, BriefdBuf *err) {
    Crash *c = calloc(1, sizeof *c);
    if (c == NULL) return BRIEFD_FAIL;
    if (!string_option(options, "mode", c->mode, sizeof c->mode) ||
        (strcmp(c->mode, "segv") != 0 && strcmp(c->mode, "abort") != 0 && strcmp(c->mode, "loop") != 0 &&
         strcmp(c->mode, "oom") != 0)) {
        free(c);
        *err = message("options: \"mode\" must be one of segv, abort, loop, oom");
        return BRIEFD_FAIL;
    }
    string_option(options, "when", c->when, sizeof c->when);
    *instance = c;
    return BRIEFD_CONTINUE;
}

static int contains(BriefdBuf input, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= input.len; i++)
        if (memcmp(input.ptr + i, needle, n) == 0) return 1;
    return 0;
}

static BriefdStatus process(void *instance, const BriefdHostV1 *host, BriefdBuf input, BriefdBuf *out) {
    (void)host;
    Crash *c = instance;
    if (c->when[0] == '\0' || contains(input, c->when)) {
        if (strcmp(c->mode, "segv") == 0) {
            volatile int *nowhere = NULL;
            *nowhere = 1;
        } else if (strcmp(c->mode, "abort") == 0) {
            abort();
        } else if (strcmp(c->mode, "loop") == 0) {
            volatile unsigned long spins = 0;
            for (;;) spins++;
        } else {
            size_t size = (size_t)2 << 30;
            char *block = malloc(size);
            if (block == NULL) {
                fprintf(stderr, "crash fixture: malloc of 2 GiB failed: out of memory\n");
                abort();
            }
            /* Touch every page, so the memory is really taken, not only reserved. */
            memset(block, 1, size);
            free(block);
        }
    }
    uint8_t *copy = malloc(input.len);
    if (copy == NULL) return BRIEFD_FAIL;
    memcpy(copy, input.ptr, input.len);
    out->ptr = copy;
    out->len = input.len;
    return BRIEFD_CONTINUE;
}

static void destroy(void *instance) { free(instance); }
static void free_buf(BriefdBuf buf) { free((void *)buf.ptr); }

static const BriefdStageV1 DESCRIPTOR = {BRIEFD_ABI_MAJOR, sizeof(BriefdStageV1), "crash", "0.0.0",
                                         create, process, destroy, free_buf};

const BriefdStageV1 *briefd_stage_v1(void) { return &DESCRIPTOR; }
