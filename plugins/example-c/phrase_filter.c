/*
 * Example briefd plugin in C: drops articles that contain a phrase (by default
 * "sponsored content"), compared without regard to ASCII case, anywhere in the article JSON.
 *
 *   cc -std=c99 -O2 -shared -fPIC -I ../stage-api phrase_filter.c -o libphrase_filter.so
 *
 *   - kind: plugin
 *     path: plugins/libphrase_filter.so
 *     options: { phrase: "paid partnership" }
 *
 * Built with -DPHRASE_STORY_STAGE the same file is a story stage (stage-api 1.4) instead: it
 * tags each story one of whose sources mentions the phrase ("mentions:<phrase>", shown in the
 * briefing) and leaves the others alone:
 *
 *   cc -std=c99 -O2 -shared -fPIC -DPHRASE_STORY_STAGE -I ../stage-api phrase_filter.c \
 *      -o libphrase_tagger.so
 *
 * The option parser is deliberately tiny: it finds "phrase":"..." in the options JSON and takes
 * the characters up to the next quote (no escapes). The article (or story) JSON is searched as
 * is, so a phrase with characters JSON escapes (quotes, backslashes, non-ASCII) will not match,
 * and a story stage also finds it in a source's outlet or title, not only its text.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "briefd_stage.h"

typedef struct Filter {
    char *phrase; /* NUL-terminated, lower-case */
    size_t len;
} Filter;

static BriefdBuf owned_copy(const char *text) {
    size_t len = strlen(text);
    uint8_t *bytes = malloc(len ? len : 1);
    BriefdBuf buf = {NULL, 0};
    if (bytes == NULL) return buf;
    memcpy(bytes, text, len);
    buf.ptr = bytes;
    buf.len = len;
    return buf;
}

static BriefdStatus create(BriefdBuf options, void **instance, BriefdBuf *err) {
    const char *fallback = "sponsored content";
    const char *start = fallback;
    size_t len = strlen(fallback);
    const char *key = "\"phrase\"";
    size_t key_len = strlen(key);
    for (size_t i = 0; i + key_len <= options.len; i++) {
        if (memcmp(options.ptr + i, key, key_len) != 0) continue;
        size_t j = i + key_len;
        while (j < options.len && (options.ptr[j] == ' ' || options.ptr[j] == ':')) j++;
        if (j >= options.len || options.ptr[j] != '"') {
            *err = owned_copy("options.phrase must be a string");
            return BRIEFD_FAIL;
        }
        size_t end = ++j;
        while (end < options.len && options.ptr[end] != '"') end++;
        start = (const char *)options.ptr + j;
        len = end - j;
        break;
    }
    if (len == 0) {
        *err = owned_copy("options.phrase is empty; write the phrase to drop articles by");
        return BRIEFD_FAIL;
    }
    if (memchr(start, '\\', len) != NULL) {
        *err = owned_copy("options.phrase holds a backslash; this example reads no JSON escapes");
        return BRIEFD_FAIL;
    }
    Filter *filter = malloc(sizeof *filter);
    char *phrase = malloc(len + 1);
    if (filter == NULL || phrase == NULL) {
        free(filter);
        free(phrase);
        *err = owned_copy("out of memory");
        return BRIEFD_FAIL;
    }
    for (size_t i = 0; i < len; i++) phrase[i] = (char)tolower((unsigned char)start[i]);
    phrase[len] = '\0';
    filter->phrase = phrase;
    filter->len = len;
    *instance = filter;
    return BRIEFD_CONTINUE;
}

static int contains(const uint8_t *hay, size_t hay_len, const Filter *filter) {
    for (size_t i = 0; i + filter->len <= hay_len; i++) {
        size_t k = 0;
        while (k < filter->len && tolower(hay[i + k]) == (unsigned char)filter->phrase[k]) k++;
        if (k == filter->len) return 1;
    }
    return 0;
}

static BriefdStatus process(void *instance, const BriefdHostV1 *host, BriefdBuf input, BriefdBuf *out) {
    const Filter *filter = instance;
    (void)host;
#ifdef PHRASE_STORY_STAGE
    /* A story stage is never given an article by briefd; answer a stray call, do not guess. */
    (void)filter;
    (void)input;
    *out = owned_copy("this plugin is a story stage; it has no article `process`");
    return BRIEFD_FAIL;
#endif
    if (contains(input.ptr, input.len, filter)) {
        const char *prefix = "mentions \"";
        size_t n = strlen(prefix) + filter->len + 2;
        char *reason = malloc(n);
        if (reason == NULL) {
            *out = owned_copy("out of memory");
            return BRIEFD_FAIL;
        }
        strcpy(reason, prefix);
        strcat(reason, filter->phrase);
        strcat(reason, "\"");
        *out = owned_copy(reason);
        free(reason);
        return BRIEFD_DROP;
    }
    /* Unchanged: hand back a copy of the article, since the input belongs to the host. */
    uint8_t *copy = malloc(input.len ? input.len : 1);
    if (copy == NULL) {
        *out = owned_copy("out of memory");
        return BRIEFD_FAIL;
    }
    memcpy(copy, input.ptr, input.len);
    out->ptr = copy;
    out->len = input.len;
    return BRIEFD_CONTINUE;
}

#ifdef PHRASE_STORY_STAGE
/* One story: its JSON holds every source's article, so one search covers them all. */
static BriefdStatus process_story(void *instance, const BriefdHostV1 *host, BriefdBuf input, BriefdBuf *out) {
    const Filter *filter = instance;
    (void)host;
    if (!contains(input.ptr, input.len, filter)) {
        *out = owned_copy("no source mentions the phrase");
        return BRIEFD_DROP;
    }
    /* The phrase holds no quote (the option parser stops at one) and no backslash (create
     * refuses one), so it goes into a JSON string as is. */
    const char *prefix = "{\"tags\":[\"mentions:";
    const char *suffix = "\"]}";
    size_t n = strlen(prefix) + filter->len + strlen(suffix) + 1;
    char *fields = malloc(n);
    if (fields == NULL) {
        *out = owned_copy("out of memory");
        return BRIEFD_FAIL;
    }
    strcpy(fields, prefix);
    strcat(fields, filter->phrase);
    strcat(fields, suffix);
    *out = owned_copy(fields);
    free(fields);
    return BRIEFD_CONTINUE;
}
#endif

static void destroy(void *instance) {
    Filter *filter = instance;
    if (filter == NULL) return;
    free(filter->phrase);
    free(filter);
}

static void free_buf(BriefdBuf buf) { free((void *)buf.ptr); }

#ifdef PHRASE_STORY_STAGE
static const BriefdStageV1 DESCRIPTOR = {
    BRIEFD_ABI_MAJOR, sizeof(BriefdStageV1), "phrase-tagger", "0.1.0", create, process, destroy, free_buf,
    process_story,
};
#else
static const BriefdStageV1 DESCRIPTOR = {
    BRIEFD_ABI_MAJOR, sizeof(BriefdStageV1), "phrase-filter", "0.1.0", create, process, destroy, free_buf,
};
#endif

const BriefdStageV1 *briefd_stage_v1(void) { return &DESCRIPTOR; }
