/*
 * The conformance world in C. The doc comments of ../wit/conformance.wit
 * are the spec of each function.
 *
 * Ownership follows the wit-bindgen C bindings: every argument of an export
 * is handed over to the callee, which frees it (or moves it into the
 * result); every result is freed by the bindings after the call, so it must
 * come from malloc. Arguments of imports stay owned by the caller.
 */
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

typedef conformance_string_t string_t;
typedef conformance_list_string_t list_string_t;
typedef exports_wasmplug_conformance_api_counter_t counter_t;
typedef exports_wasmplug_conformance_api_own_counter_t own_counter_t;

struct exports_wasmplug_conformance_api_counter_t {
    int64_t value;
};

/* Allocates `count` elements, or none for an empty result (whose pointer
 * the bindings never free). Dies when out of memory: a component has no
 * better answer to that. */
static void *alloc_array(size_t count, size_t size) {
    if (count == 0) {
        return NULL;
    }
    void *ptr = malloc(count * size);
    if (ptr == NULL) {
        abort();
    }
    return ptr;
}

/* A growable byte string that becomes a `string_t` result. */
typedef struct {
    uint8_t *ptr;
    size_t len;
    size_t cap;
} builder_t;

static void builder_append(builder_t *b, const void *bytes, size_t len) {
    if (b->len + len > b->cap) {
        size_t cap = b->cap == 0 ? 32 : b->cap;
        while (cap < b->len + len) {
            cap *= 2;
        }
        b->ptr = realloc(b->ptr, cap);
        if (b->ptr == NULL) {
            abort();
        }
        b->cap = cap;
    }
    memcpy(b->ptr + b->len, bytes, len);
    b->len += len;
}

static void builder_append_str(builder_t *b, const string_t *s) {
    builder_append(b, s->ptr, s->len);
}

static void builder_append_cstr(builder_t *b, const char *s) {
    builder_append(b, s, strlen(s));
}

static void builder_append_u64(builder_t *b, uint64_t value) {
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    builder_append(b, digits + sizeof digits - n, n);
}

/* Hands the bytes over as a string result; the builder is empty after. */
static string_t builder_finish(builder_t *b) {
    string_t s = {b->ptr, b->len};
    *b = (builder_t){0};
    return s;
}

void exports_wasmplug_conformance_api_reverse_string(string_t *s, string_t *ret) {
    if (s->len == 0) {
        *ret = *s;
        return;
    }
    uint8_t *out = alloc_array(s->len, 1);
    /* Copy each UTF-8 sequence whole, from the last one to the first. */
    size_t end = s->len;
    size_t written = 0;
    while (end > 0) {
        size_t start = end - 1;
        while (start > 0 && (s->ptr[start] & 0xC0) == 0x80) {
            start--;
        }
        memcpy(out + written, s->ptr + start, end - start);
        written += end - start;
        end = start;
    }
    ret->ptr = out;
    ret->len = s->len;
    conformance_string_free(s);
}

void exports_wasmplug_conformance_api_reverse_bytes(conformance_list_u8_t *data,
                                                    conformance_list_u8_t *ret) {
    /* Reverse in place and hand the argument's buffer back as the result. */
    for (size_t i = 0, j = data->len; i + 1 < j; i++, j--) {
        uint8_t byte = data->ptr[i];
        data->ptr[i] = data->ptr[j - 1];
        data->ptr[j - 1] = byte;
    }
    *ret = *data;
}

void exports_wasmplug_conformance_api_split_words(string_t *s, list_string_t *ret) {
    size_t count = 1;
    for (size_t i = 0; i < s->len; i++) {
        count += s->ptr[i] == ' ';
    }
    string_t *words = alloc_array(count, sizeof *words);
    size_t start = 0;
    size_t word = 0;
    for (size_t i = 0; i <= s->len; i++) {
        if (i == s->len || s->ptr[i] == ' ') {
            conformance_string_dup_n(&words[word++], (const char *)s->ptr + start, i - start);
            start = i + 1;
        }
    }
    ret->ptr = words;
    ret->len = count;
    conformance_string_free(s);
}

int64_t exports_wasmplug_conformance_api_sum(conformance_list_s64_t *values) {
    /* Unsigned arithmetic wraps on overflow instead of being undefined. */
    uint64_t sum = 0;
    for (size_t i = 0; i < values->len; i++) {
        sum += (uint64_t)values->ptr[i];
    }
    conformance_list_s64_free(values);
    return (int64_t)sum;
}

bool exports_wasmplug_conformance_api_min_max(conformance_list_s32_t *values,
                                              conformance_tuple2_s32_s32_t *ret) {
    bool found = values->len > 0;
    if (found) {
        ret->f0 = ret->f1 = values->ptr[0];
        for (size_t i = 1; i < values->len; i++) {
            int32_t value = values->ptr[i];
            if (value < ret->f0) {
                ret->f0 = value;
            }
            if (value > ret->f1) {
                ret->f1 = value;
            }
        }
    }
    conformance_list_s32_free(values);
    return found;
}

static int32_t wrapping_add_s32(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

void exports_wasmplug_conformance_api_translate(exports_wasmplug_conformance_api_point_t *p,
                                                int32_t dx, int32_t dy,
                                                exports_wasmplug_conformance_api_point_t *ret) {
    ret->x = wrapping_add_s32(p->x, dx);
    ret->y = wrapping_add_s32(p->y, dy);
}

void exports_wasmplug_conformance_api_bump(exports_wasmplug_conformance_api_scalars_t *s,
                                           exports_wasmplug_conformance_api_scalars_t *ret) {
    ret->flag = !s->flag;
    ret->tiny = (uint8_t)(s->tiny + 1);
    ret->small = (int16_t)(uint16_t)((uint16_t)s->small + 1);
    ret->medium = s->medium + 1;
    ret->large = (int64_t)((uint64_t)s->large + 1);
    ret->single = s->single * 2;
    ret->double_ = s->double_ * 2;
    /* The surrogates U+D800..U+DFFF are not scalar values: step over them.
     * U+10FFFF has no next one: U+FFFD REPLACEMENT CHARACTER stands in. */
    uint32_t letter = s->letter + 1;
    if (letter == 0xD800) {
        letter = 0xE000;
    } else if (letter > 0x10FFFF) {
        letter = 0xFFFD;
    }
    ret->letter = letter;
}

void exports_wasmplug_conformance_api_describe(exports_wasmplug_conformance_api_person_t *p,
                                               string_t *ret) {
    builder_t b = {0};
    builder_append_str(&b, &p->name);
    builder_append_cstr(&b, " (");
    builder_append_u64(&b, p->age);
    builder_append_cstr(&b, ")");
    for (size_t i = 0; i < p->nicknames.len; i++) {
        builder_append_cstr(&b, i == 0 ? " aka " : ", ");
        builder_append_str(&b, &p->nicknames.ptr[i]);
    }
    if (p->email.is_some) {
        builder_append_cstr(&b, " <");
        builder_append_str(&b, &p->email.val);
        builder_append_cstr(&b, ">");
    }
    *ret = builder_finish(&b);
    exports_wasmplug_conformance_api_person_free(p);
}

void exports_wasmplug_conformance_api_birthday(exports_wasmplug_conformance_api_person_t *p,
                                               string_t *nickname,
                                               exports_wasmplug_conformance_api_person_t *ret) {
    /* Move the strings over; only the list of nicknames needs a new array,
     * since an empty list's pointer is not one that malloc returned. */
    size_t count = p->nicknames.len;
    string_t *nicknames = alloc_array(count + 1, sizeof *nicknames);
    if (count > 0) {
        memcpy(nicknames, p->nicknames.ptr, count * sizeof *nicknames);
        free(p->nicknames.ptr);
    }
    nicknames[count] = *nickname;

    ret->name = p->name;
    ret->age = (uint8_t)(p->age + 1);
    ret->nicknames.ptr = nicknames;
    ret->nicknames.len = count + 1;
    ret->email = p->email;
}

uint64_t exports_wasmplug_conformance_api_area(exports_wasmplug_conformance_api_shape_t *s) {
    switch (s->tag) {
    case WASMPLUG_CONFORMANCE_TYPES_SHAPE_CIRCLE: {
        uint64_t r = s->val.circle;
        return 3 * r * r;
    }
    case WASMPLUG_CONFORMANCE_TYPES_SHAPE_RECTANGLE: {
        int64_t product = (int64_t)s->val.rectangle.x * s->val.rectangle.y;
        return product < 0 ? (uint64_t)0 - (uint64_t)product : (uint64_t)product;
    }
    default:
        return 0;
    }
}

exports_wasmplug_conformance_api_color_t
exports_wasmplug_conformance_api_next_color(exports_wasmplug_conformance_api_color_t c) {
    switch (c) {
    case WASMPLUG_CONFORMANCE_TYPES_COLOR_RED:
        return WASMPLUG_CONFORMANCE_TYPES_COLOR_GREEN;
    case WASMPLUG_CONFORMANCE_TYPES_COLOR_GREEN:
        return WASMPLUG_CONFORMANCE_TYPES_COLOR_BLUE;
    default:
        return WASMPLUG_CONFORMANCE_TYPES_COLOR_RED;
    }
}

exports_wasmplug_conformance_api_permissions_t
exports_wasmplug_conformance_api_flip(exports_wasmplug_conformance_api_permissions_t p,
                                      exports_wasmplug_conformance_api_permissions_t toggle) {
    return p ^ toggle;
}

bool exports_wasmplug_conformance_api_first_even(conformance_list_u32_t *values, uint32_t *ret) {
    bool found = false;
    for (size_t i = 0; i < values->len && !found; i++) {
        if (values->ptr[i] % 2 == 0) {
            *ret = values->ptr[i];
            found = true;
        }
    }
    conformance_list_u32_free(values);
    return found;
}

bool exports_wasmplug_conformance_api_parse_number(
    string_t *s, int32_t *ret, exports_wasmplug_conformance_api_parse_error_t *err) {
    if (s->len == 0) {
        err->tag = WASMPLUG_CONFORMANCE_TYPES_PARSE_ERROR_EMPTY;
        return false;
    }
    bool negative = s->ptr[0] == '-';
    size_t first_digit = negative ? 1 : 0;
    bool valid = s->len > first_digit;
    for (size_t i = first_digit; i < s->len && valid; i++) {
        valid = s->ptr[i] >= '0' && s->ptr[i] <= '9';
    }
    if (!valid) {
        err->tag = WASMPLUG_CONFORMANCE_TYPES_PARSE_ERROR_INVALID;
        err->val.invalid = *s; /* moved into the error */
        return false;
    }

    /* Accumulate the magnitude; -2^31 is the one value whose magnitude
     * exceeds INT32_MAX. */
    uint64_t limit = negative ? (uint64_t)INT32_MAX + 1 : (uint64_t)INT32_MAX;
    uint64_t magnitude = 0;
    for (size_t i = first_digit; i < s->len; i++) {
        magnitude = magnitude * 10 + (uint64_t)(s->ptr[i] - '0');
        if (magnitude > limit) {
            conformance_string_free(s);
            err->tag = WASMPLUG_CONFORMANCE_TYPES_PARSE_ERROR_TOO_LARGE;
            return false;
        }
    }
    conformance_string_free(s);
    *ret = negative ? (int32_t)(0 - magnitude) : (int32_t)magnitude;
    return true;
}

uint32_t exports_wasmplug_conformance_api_record_all(
    exports_wasmplug_conformance_api_list_point_t *points) {
    uint32_t count = 0;
    for (size_t i = 0; i < points->len; i++) {
        builder_t name = {0};
        builder_append_cstr(&name, "p");
        builder_append_u64(&name, i);
        string_t event = builder_finish(&name);
        count = wasmplug_conformance_events_record_event(&event, &points->ptr[i]);
        conformance_string_free(&event);
    }
    exports_wasmplug_conformance_api_list_point_free(points);
    return count;
}

void exports_wasmplug_conformance_api_lookup_all(list_string_t *keys, list_string_t *ret) {
    string_t *lines = alloc_array(keys->len, sizeof *lines);
    for (size_t i = 0; i < keys->len; i++) {
        builder_t line = {0};
        builder_append_str(&line, &keys->ptr[i]);
        string_t value;
        if (wasmplug_conformance_events_lookup(&keys->ptr[i], &value)) {
            builder_append_cstr(&line, "=");
            builder_append_str(&line, &value);
            conformance_string_free(&value);
        } else {
            builder_append_cstr(&line, "?");
        }
        lines[i] = builder_finish(&line);
    }
    ret->ptr = lines;
    ret->len = keys->len;
    conformance_list_string_free(keys);
}

static own_counter_t new_counter(int64_t value) {
    counter_t *counter = alloc_array(1, sizeof *counter);
    counter->value = value;
    return exports_wasmplug_conformance_api_counter_new(counter);
}

own_counter_t exports_wasmplug_conformance_api_constructor_counter(int64_t start) {
    return new_counter(start);
}

int64_t exports_wasmplug_conformance_api_method_counter_add(counter_t *self, int64_t by) {
    self->value = (int64_t)((uint64_t)self->value + (uint64_t)by);
    return self->value;
}

int64_t exports_wasmplug_conformance_api_method_counter_value(counter_t *self) {
    return self->value;
}

own_counter_t exports_wasmplug_conformance_api_method_counter_fork(counter_t *self) {
    return new_counter(self->value);
}

own_counter_t exports_wasmplug_conformance_api_merge(counter_t *a, counter_t *b) {
    return new_counter((int64_t)((uint64_t)a->value + (uint64_t)b->value));
}

/* Called when the host drops the last handle to a counter. */
void exports_wasmplug_conformance_api_counter_destructor(counter_t *rep) {
    free(rep);
}
