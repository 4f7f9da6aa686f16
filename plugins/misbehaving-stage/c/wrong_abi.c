/* Test fixture: a plugin that claims ABI major 2 under the v1 symbol; the host must refuse it
 * before calling anything else (every function here aborts to prove it is never called). */
#include <stdlib.h>
#include "briefd_stage.h"

static BriefdStatus create(BriefdBuf options, void **instance, BriefdBuf *err) {
    (void)options; (void)instance; (void)err;
    abort();
}
static BriefdStatus process(void *instance, const BriefdHostV1 *host, BriefdBuf input, BriefdBuf *out) {
    (void)instance; (void)host; (void)input; (void)out;
    abort();
}
static void destroy(void *instance) { (void)instance; abort(); }
static void free_buf(BriefdBuf buf) { (void)buf; abort(); }

static const BriefdStageV1 DESCRIPTOR = {2, sizeof(BriefdStageV1), "from-the-future", "9.0.0",
                                         create, process, destroy, free_buf};

const BriefdStageV1 *briefd_stage_v1(void) { return &DESCRIPTOR; }
