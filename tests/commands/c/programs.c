// Ordinary WASI programs in C, one per first argument, for the corpus in
// tests/commands/cases.toml; built with clang for wasm32-wasi (preview 1).

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *program = argc > 1 ? argv[1] : "";
    if (strcmp(program, "args") == 0) {
        for (int i = 2; i < argc; i++) {
            printf("%s\n", argv[i]);
        }
        return 0;
    }
    if (strcmp(program, "env") == 0) {
        const char *value = getenv(argv[2]);
        if (value == NULL) {
            return 2;
        }
        printf("%s\n", value);
        return 0;
    }
    if (strcmp(program, "exit") == 0) {
        exit(atoi(argv[2]));
    }
    if (strcmp(program, "stdio") == 0) {
        printf("to stdout\n");
        fprintf(stderr, "to stderr\n");
        return 0;
    }
    if (strcmp(program, "bad-descriptor") == 0) {
        ssize_t written = write(99, "x", 1);
        printf("%s\n", written < 0 && errno == EBADF ? "EBADF" : "no error");
        return 0;
    }
    if (strcmp(program, "abort") == 0) {
        abort();
    }
    fprintf(stderr, "unknown program `%s`\n", program);
    return 64;
}
