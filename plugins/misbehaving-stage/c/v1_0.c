/* Test fixture: an article stage built against stage-api 1.0's header, whose descriptor ends at
 * free_buf (no process_story: that field came with 1.4). It declares its own, shorter size, and
 * the bytes after it are junk (a non-null pointer): a host that read past struct_size would take
 * the junk for a process_story entry. It passes every article on unchanged. */
#include <stdlib.h>
#include <string.h>
#include "briefd_stage.h"

/* BriefdStageV1 as stage-api 1.0 to 1.3 defined it. */
typedef struct StageV1_0 {
    uint32_t abi_major;
    uint32_t struct_size;
    const char *name;
    const char *plugin_version;
    BriefdStatus (*create)(BriefdBuf options, void **instance, BriefdBuf *err);
    BriefdStatus (*process)(void *instance, const BriefdHostV1 *host, BriefdBuf input, BriefdBuf *out);
    void (*destroy)(void *instance);
    void (*free_buf)(BriefdBuf buf);
} StageV1_0;

static int INSTANCE;

static BriefdStatus create(BriefdBuf options, void **instance, BriefdBuf *err) {
    (void)options; (void)err;
    *instance = &INSTANCE;
    return BRIEFD_CONTINUE;
}

static BriefdStatus process(void *instance, const BriefdHostV1 *host, BriefdBuf input, BriefdBuf *out) {
    (void)instance; (void)host;
    uint8_t *copy = malloc(input.len ? input.len : 1);
    if (!copy) {
        out->ptr = NULL;
        out->len = 0;
        return BRIEFD_FAIL;
    }
    memcpy(copy, input.ptr, input.len);
    out->ptr = copy;
    out->len = input.len;
    return BRIEFD_CONTINUE;
}

static void destroy(void *instance) { (void)instance; }
static void free_buf(BriefdBuf buf) { free((void *)buf.ptr); }

static const struct {
    StageV1_0 descriptor;
    const void *junk;
} BLOB = {{BRIEFD_ABI_MAJOR, sizeof(StageV1_0), "v1-0", "1.0.0", create, process, destroy, free_buf},
          (const void *)0x1};

const BriefdStageV1 *briefd_stage_v1(void) { return (const BriefdStageV1 *)&BLOB.descriptor; }
