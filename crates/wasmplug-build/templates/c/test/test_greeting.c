/* Native tests of the plugin's logic: `make test`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greeting.h"

static int passed;
static int failed;

static void expect_greeting(const char *name, size_t name_len, const char *want, size_t want_len) {
    size_t len = 0;
    char *got = greeting_new(name, name_len, &len);
    if (got != NULL && len == want_len && memcmp(got, want, want_len) == 0 && got[len] == '\0') {
        passed++;
    } else if (got == NULL) {
        failed++;
        fprintf(stderr, "FAIL: greeting for \"%.*s\": out of memory\n", (int)name_len, name);
    } else {
        failed++;
        fprintf(stderr, "FAIL: greeting for \"%.*s\": got \"%.*s\", want \"%s\"\n",
                (int)name_len, name, (int)len, got, want);
    }
    free(got);
}

int main(void) {
    expect_greeting("world", 5, "Hello, world!", 13);
    expect_greeting("", 0, "Hello, !", 8);
    /* The input is a length-delimited string, not a C string: only
     * `name_len` bytes count. */
    expect_greeting("wasmplug and more", 8, "Hello, wasmplug!", 16);
    expect_greeting("Zoë 🌍", strlen("Zoë 🌍"), "Hello, Zoë 🌍!", strlen("Hello, Zoë 🌍!"));

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
