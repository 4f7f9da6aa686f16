/*
 * briefd_stage.h: the briefd stage plugin ABI, version 1, for C, C++ and Zig authors.
 *
 * The same contract as plugins/stage-api/src/abi.rs; a test in stage-api compiles this header
 * and checks every field's offset and size against the Rust definitions.
 *
 * A plugin is a shared library exporting one symbol:
 *
 *     const BriefdStageV1 *briefd_stage_v1(void);
 *
 * returning a pointer to a static descriptor. The host checks abi_major before calling anything
 * else. Within v1 fields are only appended at the end of each struct (struct_size tells how much
 * the other side knows); a v2 would export briefd_stage_v2.
 *
 * Kinds: an article stage fills process (once per article); a story stage (since 1.4) also
 * fills process_story, which the host calls once per change of a story, after the article that
 * changed it was committed; its process is then never called.
 *
 * Data: articles, options and context requests cross as UTF-8 JSON in BriefdBuf (pointer and
 * length, not NUL-terminated). Whoever allocates a buffer frees it: the host frees what the
 * plugin returns with the plugin's free_buf, the plugin frees what host->query returns with
 * host->free_buf. The article JSON schema is described in PLUGINS.md.
 *
 * Threads: the host calls process for one instance from one thread at a time (not always the
 * same thread), never concurrently.
 */
#ifndef BRIEFD_STAGE_H
#define BRIEFD_STAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BRIEFD_ABI_MAJOR 1
#define BRIEFD_ENTRY_SYMBOL_V1 "briefd_stage_v1"

/* Status codes (a plain uint32_t, so an unknown value is refused, not undefined). */
#define BRIEFD_CONTINUE 0 /* success; for process, out holds the article JSON */
#define BRIEFD_DROP 1     /* process only: out holds the drop reason */
#define BRIEFD_FAIL 2     /* failure: out (or err) holds the message */
typedef uint32_t BriefdStatus;

/* A byte buffer; its owner is whoever allocated it. ptr may be NULL when len is 0. */
typedef struct BriefdBuf {
    const uint8_t *ptr;
    size_t len;
} BriefdBuf;

/* What the host offers during one process call. */
typedef struct BriefdHostV1 {
    uint32_t abi_major;
    uint32_t struct_size;
    /* Opaque; pass back to query and free_buf. */
    void *ctx;
    /* Answers a JSON request such as
     *   {"method":"stories_with_fingerprint","kind":"text_sha256","value":"..."}
     * with {"stories":[ids]}; the other methods (article_count, key_counts,
     * articles_with_keys, story_articles, story_size) are listed in PLUGINS.md.
     * *out is host-owned, free it with free_buf. */
    BriefdStatus (*query)(void *ctx, BriefdBuf request, BriefdBuf *out);
    void (*free_buf)(void *ctx, BriefdBuf buf);
} BriefdHostV1;

/* The descriptor a v1 plugin returns from briefd_stage_v1. */
typedef struct BriefdStageV1 {
    uint32_t abi_major;   /* BRIEFD_ABI_MAJOR */
    uint32_t struct_size; /* sizeof(BriefdStageV1) */
    const char *name;     /* NUL-terminated, static */
    const char *plugin_version; /* NUL-terminated, static, free-form */
    /* Makes an instance from the options JSON ("{}" when none). On BRIEFD_CONTINUE set
     * *instance; on BRIEFD_FAIL put a plugin-owned message in *err. */
    BriefdStatus (*create)(BriefdBuf options, void **instance, BriefdBuf *err);
    /* One article: input is host-owned and valid during the call; *out is plugin-owned and
     * holds the article JSON (CONTINUE), the reason (DROP) or the message (FAIL). */
    BriefdStatus (*process)(void *instance, const BriefdHostV1 *host, BriefdBuf input, BriefdBuf *out);
    void (*destroy)(void *instance);
    /* Frees a buffer this plugin returned through out or err. */
    void (*free_buf)(BriefdBuf buf);
    /* Since stage-api 1.4, optional: one story, which makes the plugin a story stage. NULL (or
     * left out of an initializer) for an article stage. input is the story JSON (PLUGINS.md,
     * "The story"); *out is plugin-owned and holds the story fields JSON (CONTINUE), the reason
     * nothing is set (DROP) or the message (FAIL). The host reads this field only when
     * struct_size covers it, so a plugin built against an older header stays an article stage. */
    BriefdStatus (*process_story)(void *instance, const BriefdHostV1 *host, BriefdBuf input, BriefdBuf *out);
} BriefdStageV1;

/* The entry point every v1 plugin exports. */
const BriefdStageV1 *briefd_stage_v1(void);

#ifdef __cplusplus
}
#endif

#endif /* BRIEFD_STAGE_H */
