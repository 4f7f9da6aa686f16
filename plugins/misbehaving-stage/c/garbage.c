/* Test fixture: a plugin that answers garbage. Options {"answer":"status"} return status 42;
 * anything else returns CONTINUE with bytes that are not article JSON. */
#include <stdlib.h>
#include <string.h>
#include "briefd_stage.h"

typedef struct { int bad_status; } Garbage;

static BriefdStatus create(BriefdBuf options, void **instance, BriefdBuf *err) {
    (void)err;
    Garbage *g = malloc(sizeof *g);
    if (g == NULL) return BRIEFD_FAIL;
    g->bad_status = 0;
    const char *key = "\"status\"";
    for (size_t i = 0; i + strlen(key) <= options.len; i++)
        if (memcmp(options.ptr + i, key, strlen(key)) == 0) g->bad_status = 1;
    *instance = g;
    return BRIEFD_CONTINUE;
}

static BriefdStatus process(void *instance, const BriefdHostV1 *host, BriefdBuf input, BriefdBuf *out) {
    (void)host; (void)input;
    const char *junk = "\x01\x02not json at all {";
    uint8_t *bytes = malloc(strlen(junk));
    if (bytes == NULL) return BRIEFD_FAIL;
    memcpy(bytes, junk, strlen(junk));
    out->ptr = bytes;
    out->len = strlen(junk);
    return ((Garbage *)instance)->bad_status ? 42 : BRIEFD_CONTINUE;
}

static void destroy(void *instance) { free(instance); }
static void free_buf(BriefdBuf buf) { free((void *)buf.ptr); }

static const BriefdStageV1 DESCRIPTOR = {BRIEFD_ABI_MAJOR, sizeof(BriefdStageV1), "garbage", "0.0.0",
                                         create, process, destroy, free_buf};

const BriefdStageV1 *briefd_stage_v1(void) { return &DESCRIPTOR; }
