/*
 * The {{name}} plugin: implements the `run` export of the world in wit/.
 * `plugin.h` is generated from that world by `wasmplug build`.
 */
#include <stdlib.h>

#include "greeting.h"
#include "plugin.h"

bool exports_plugin_run(plugin_string_t *input, plugin_string_t *ret, plugin_string_t *err) {
    /* The bindings hand `input` over to us: free it on every path. */
    if (input->len == 0) {
        plugin_string_free(input);
        /* The returned strings are freed after the call: they must come
         * from malloc, which plugin_string_dup uses. */
        plugin_string_dup(err, "expected a name, got an empty string");
        return false;
    }

    size_t len;
    char *greeting = greeting_new((const char *)input->ptr, input->len, &len);
    plugin_string_free(input);
    if (greeting == NULL) {
        abort();
    }

    /* Arguments to imports stay ours, so a string literal is fine here. */
    plugin_string_t message;
    plugin_string_set(&message, "composed a greeting");
    wasmplug_plugin_host_log(WASMPLUG_PLUGIN_HOST_LEVEL_INFO, &message);

    ret->ptr = (uint8_t *)greeting;
    ret->len = len;
    return true;
}
