#ifndef GREETING_H
#define GREETING_H

#include <stddef.h>

/*
 * Returns "Hello, NAME!" for the `name_len` bytes at `name`, in a new buffer
 * from malloc that the caller frees. The buffer is NUL-terminated and
 * `*out_len` receives its length without the NUL. Returns NULL when out of
 * memory.
 */
char *greeting_new(const char *name, size_t name_len, size_t *out_len);

#endif
