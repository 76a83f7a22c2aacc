#include "greeting.h"

#include <stdlib.h>
#include <string.h>

static const char PREFIX[] = "Hello, ";
static const char SUFFIX[] = "!";

char *greeting_new(const char *name, size_t name_len, size_t *out_len) {
    size_t prefix_len = sizeof PREFIX - 1;
    size_t suffix_len = sizeof SUFFIX - 1;
    size_t len = prefix_len + name_len + suffix_len;

    char *greeting = malloc(len + 1);
    if (greeting == NULL) {
        return NULL;
    }
    memcpy(greeting, PREFIX, prefix_len);
    memcpy(greeting + prefix_len, name, name_len);
    memcpy(greeting + prefix_len + name_len, SUFFIX, suffix_len);
    greeting[len] = '\0';
    *out_len = len;
    return greeting;
}
