// The two implementations of gpio_lines.h. GPIOD_LINE_BULK_MAX_LINES is defined by libgpiod 1.x's
// gpiod.h only (2.x removed the bulk API with the rest of the 1.x interface).
#define _GNU_SOURCE
#include "gpio_lines.h"
#include <gpiod.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct edge_gpio_chip {
    struct gpiod_chip *chip;
    char name[32];
    char label[64];
    unsigned lines;
};

static void copy_text(char *to, size_t size, const char *from) {
    snprintf(to, size, "%s", from ? from : "");
}

static void set_nonblocking(int fd) {
    if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

#ifdef GPIOD_LINE_BULK_MAX_LINES
/* ---------------------------------------------------------------- libgpiod 1.x (uAPI v1) */

struct edge_gpio_line {
    struct gpiod_line *line;
    int events;
};

static char library[32];

const char *edge_gpio_library(void) {
    snprintf(library, sizeof library, "libgpiod %s", gpiod_version_string());
    return library;
}

int edge_gpio_kernel_debounce(void) { return 0; }  // the v1 uAPI has no debounce setting

edge_gpio_chip *edge_gpio_chip_open(const char *description) {
    struct gpiod_chip *chip = gpiod_chip_open_lookup(description);
    if (!chip) return NULL;
    edge_gpio_chip *result = calloc(1, sizeof *result);
    if (!result) { gpiod_chip_close(chip); errno = ENOMEM; return NULL; }
    result->chip = chip;
    copy_text(result->name, sizeof result->name, gpiod_chip_name(chip));
    copy_text(result->label, sizeof result->label, gpiod_chip_label(chip));
    result->lines = gpiod_chip_num_lines(chip);
    return result;
}

void edge_gpio_chip_close(edge_gpio_chip *chip) {
    if (!chip) return;
    gpiod_chip_close(chip->chip);
    free(chip);
}

int edge_gpio_chip_list(void (*found)(void *, const char *, const char *, unsigned), void *context) {
    struct gpiod_chip_iter *iterator = gpiod_chip_iter_new();
    if (!iterator) return 0;
    int count = 0;
    struct gpiod_chip *chip;
    gpiod_foreach_chip(iterator, chip) {
        found(context, gpiod_chip_name(chip), gpiod_chip_label(chip), gpiod_chip_num_lines(chip));
        count++;
    }
    gpiod_chip_iter_free(iterator);
    return count;
}

static edge_gpio_line *wrap(struct gpiod_line *line, int events) {
    edge_gpio_line *result = calloc(1, sizeof *result);
    if (!result) { gpiod_line_release(line); errno = ENOMEM; return NULL; }
    result->line = line;
    result->events = events;
    if (events) set_nonblocking(gpiod_line_event_get_fd(line));
    return result;
}

edge_gpio_line *edge_gpio_request_input(edge_gpio_chip *chip, unsigned offset, const char *consumer,
                                        int active_low, int bias, int edge, uint32_t debounce_us) {
    (void)debounce_us;
    struct gpiod_line *line = gpiod_chip_get_line(chip->chip, offset);
    if (!line) return NULL;
    int flags = active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
    switch (bias) {
    case EDGE_GPIO_BIAS_DISABLED: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE; break;
    case EDGE_GPIO_BIAS_PULL_UP: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP; break;
    case EDGE_GPIO_BIAS_PULL_DOWN: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN; break;
    default: break;
    }
    int status;
    switch (edge) {
    case EDGE_GPIO_EDGE_RISING: status = gpiod_line_request_rising_edge_events_flags(line, consumer, flags); break;
    case EDGE_GPIO_EDGE_FALLING: status = gpiod_line_request_falling_edge_events_flags(line, consumer, flags); break;
    case EDGE_GPIO_EDGE_BOTH: status = gpiod_line_request_both_edges_events_flags(line, consumer, flags); break;
    default: status = gpiod_line_request_input_flags(line, consumer, flags); break;
    }
    if (status != 0) return NULL;
    return wrap(line, edge != EDGE_GPIO_EDGE_NONE);
}

edge_gpio_line *edge_gpio_request_output(edge_gpio_chip *chip, unsigned offset, const char *consumer,
                                         int active_low, int initial) {
    struct gpiod_line *line = gpiod_chip_get_line(chip->chip, offset);
    if (!line) return NULL;
    if (gpiod_line_request_output_flags(line, consumer, active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0, initial ? 1 : 0) != 0)
        return NULL;
    return wrap(line, 0);
}

void edge_gpio_line_release(edge_gpio_line *line) {
    if (!line) return;
    gpiod_line_release(line->line);
    free(line);
}

int edge_gpio_line_get(edge_gpio_line *line) { return gpiod_line_get_value(line->line); }

int edge_gpio_line_set(edge_gpio_line *line, int value) { return gpiod_line_set_value(line->line, value ? 1 : 0); }

int edge_gpio_line_event_fd(const edge_gpio_line *line) {
    return line->events ? gpiod_line_event_get_fd(line->line) : -1;
}

int edge_gpio_line_read_events(edge_gpio_line *line, uint64_t *timestamps, uint8_t *rising, int max) {
    struct gpiod_line_event events[16];
    if (max > 16) max = 16;
    int count = gpiod_line_event_read_multiple(line->line, events, (unsigned)max);
    if (count < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    for (int i = 0; i < count; i++) {
        timestamps[i] = (uint64_t)events[i].ts.tv_sec * 1000000000u + (uint64_t)events[i].ts.tv_nsec;
        rising[i] = events[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE;
    }
    return count;
}

#else
/* ---------------------------------------------------------------- libgpiod 2.x (uAPI v2) */

struct edge_gpio_line {
    struct gpiod_line_request *request;
    unsigned offset;
    struct gpiod_edge_event_buffer *buffer;  // NULL for a line without events
};

static char library[32];

const char *edge_gpio_library(void) {
    snprintf(library, sizeof library, "libgpiod %s", gpiod_api_version());
    return library;
}

int edge_gpio_kernel_debounce(void) { return 1; }

static edge_gpio_chip *open_path(const char *path) {
    struct gpiod_chip *chip = gpiod_chip_open(path);
    if (!chip) return NULL;
    struct gpiod_chip_info *info = gpiod_chip_get_info(chip);
    if (!info) { int e = errno; gpiod_chip_close(chip); errno = e; return NULL; }
    edge_gpio_chip *result = calloc(1, sizeof *result);
    if (!result) { gpiod_chip_info_free(info); gpiod_chip_close(chip); errno = ENOMEM; return NULL; }
    result->chip = chip;
    copy_text(result->name, sizeof result->name, gpiod_chip_info_get_name(info));
    copy_text(result->label, sizeof result->label, gpiod_chip_info_get_label(info));
    result->lines = (unsigned)gpiod_chip_info_get_num_lines(info);
    gpiod_chip_info_free(info);
    return result;
}

static int is_chip_entry(const struct dirent *entry) {
    return strncmp(entry->d_name, "gpiochip", 8) == 0;
}

// libgpiod 2 has no open_lookup: a path opens directly, a name or number is a file in /dev, and a
// label is found by opening each chip in turn (the Pi 5's RP1 changed chip number between kernels).
edge_gpio_chip *edge_gpio_chip_open(const char *description) {
    char path[300];
    if (description[0] == '/') return open_path(description);
    if (strncmp(description, "gpiochip", 8) == 0) {
        snprintf(path, sizeof path, "/dev/%s", description);
        return open_path(path);
    }
    if (description[0] != '\0' && strspn(description, "0123456789") == strlen(description)) {
        snprintf(path, sizeof path, "/dev/gpiochip%s", description);
        return open_path(path);
    }
    struct dirent **entries;
    int count = scandir("/dev", &entries, is_chip_entry, versionsort);
    if (count < 0) return NULL;
    edge_gpio_chip *found = NULL;
    for (int i = 0; i < count; i++) {
        if (!found) {
            snprintf(path, sizeof path, "/dev/%s", entries[i]->d_name);
            edge_gpio_chip *chip = open_path(path);
            if (chip && strcmp(chip->label, description) == 0) found = chip;
            else edge_gpio_chip_close(chip);
        }
        free(entries[i]);
    }
    free(entries);
    if (!found) errno = ENOENT;
    return found;
}

void edge_gpio_chip_close(edge_gpio_chip *chip) {
    if (!chip) return;
    gpiod_chip_close(chip->chip);
    free(chip);
}

int edge_gpio_chip_list(void (*found)(void *, const char *, const char *, unsigned), void *context) {
    struct dirent **entries;
    int count = scandir("/dev", &entries, is_chip_entry, versionsort);
    if (count < 0) return 0;
    int listed = 0;
    for (int i = 0; i < count; i++) {
        char path[300];
        snprintf(path, sizeof path, "/dev/%s", entries[i]->d_name);
        edge_gpio_chip *chip = open_path(path);
        if (chip) { found(context, chip->name, chip->label, chip->lines); listed++; edge_gpio_chip_close(chip); }
        free(entries[i]);
    }
    free(entries);
    return listed;
}

static edge_gpio_line *request(edge_gpio_chip *chip, unsigned offset, const char *consumer,
                               struct gpiod_line_settings *settings, int events) {
    edge_gpio_line *result = NULL;
    struct gpiod_line_config *line_config = gpiod_line_config_new();
    struct gpiod_request_config *request_config = gpiod_request_config_new();
    if (line_config && request_config && gpiod_line_config_add_line_settings(line_config, &offset, 1, settings) == 0) {
        gpiod_request_config_set_consumer(request_config, consumer);
        struct gpiod_line_request *request = gpiod_chip_request_lines(chip->chip, request_config, line_config);
        if (request) {
            result = calloc(1, sizeof *result);
            if (result) {
                result->request = request;
                result->offset = offset;
                if (events) {
                    result->buffer = gpiod_edge_event_buffer_new(16);
                    set_nonblocking(gpiod_line_request_get_fd(request));
                }
            } else {
                gpiod_line_request_release(request);
                errno = ENOMEM;
            }
        }
    }
    int e = errno;
    gpiod_request_config_free(request_config);
    gpiod_line_config_free(line_config);
    gpiod_line_settings_free(settings);
    errno = e;
    return result;
}

edge_gpio_line *edge_gpio_request_input(edge_gpio_chip *chip, unsigned offset, const char *consumer,
                                        int active_low, int bias, int edge, uint32_t debounce_us) {
    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    if (!settings) return NULL;
    gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT);
    gpiod_line_settings_set_active_low(settings, active_low != 0);
    switch (bias) {
    case EDGE_GPIO_BIAS_DISABLED: gpiod_line_settings_set_bias(settings, GPIOD_LINE_BIAS_DISABLED); break;
    case EDGE_GPIO_BIAS_PULL_UP: gpiod_line_settings_set_bias(settings, GPIOD_LINE_BIAS_PULL_UP); break;
    case EDGE_GPIO_BIAS_PULL_DOWN: gpiod_line_settings_set_bias(settings, GPIOD_LINE_BIAS_PULL_DOWN); break;
    default: gpiod_line_settings_set_bias(settings, GPIOD_LINE_BIAS_AS_IS); break;
    }
    switch (edge) {
    case EDGE_GPIO_EDGE_RISING: gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_RISING); break;
    case EDGE_GPIO_EDGE_FALLING: gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_FALLING); break;
    case EDGE_GPIO_EDGE_BOTH: gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_BOTH); break;
    default: gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_NONE); break;
    }
    gpiod_line_settings_set_event_clock(settings, GPIOD_LINE_CLOCK_MONOTONIC);
    if (debounce_us > 0) gpiod_line_settings_set_debounce_period_us(settings, debounce_us);
    return request(chip, offset, consumer, settings, edge != EDGE_GPIO_EDGE_NONE);
}

edge_gpio_line *edge_gpio_request_output(edge_gpio_chip *chip, unsigned offset, const char *consumer,
                                         int active_low, int initial) {
    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    if (!settings) return NULL;
    gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT);
    gpiod_line_settings_set_active_low(settings, active_low != 0);
    gpiod_line_settings_set_output_value(settings, initial ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
    return request(chip, offset, consumer, settings, 0);
}

void edge_gpio_line_release(edge_gpio_line *line) {
    if (!line) return;
    if (line->buffer) gpiod_edge_event_buffer_free(line->buffer);
    gpiod_line_request_release(line->request);
    free(line);
}

int edge_gpio_line_get(edge_gpio_line *line) {
    enum gpiod_line_value value = gpiod_line_request_get_value(line->request, line->offset);
    return value == GPIOD_LINE_VALUE_ERROR ? -1 : value == GPIOD_LINE_VALUE_ACTIVE;
}

int edge_gpio_line_set(edge_gpio_line *line, int value) {
    return gpiod_line_request_set_value(line->request, line->offset, value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
}

int edge_gpio_line_event_fd(const edge_gpio_line *line) {
    return line->buffer ? gpiod_line_request_get_fd(line->request) : -1;
}

int edge_gpio_line_read_events(edge_gpio_line *line, uint64_t *timestamps, uint8_t *rising, int max) {
    if (!line->buffer) return 0;
    if (max > 16) max = 16;
    int count = gpiod_line_request_read_edge_events(line->request, line->buffer, (size_t)max);
    if (count < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    for (int i = 0; i < count; i++) {
        struct gpiod_edge_event *event = gpiod_edge_event_buffer_get_event(line->buffer, (unsigned long)i);
        timestamps[i] = gpiod_edge_event_get_timestamp_ns(event);
        rising[i] = gpiod_edge_event_get_event_type(event) == GPIOD_EDGE_EVENT_RISING_EDGE;
    }
    return count;
}

#endif

const char *edge_gpio_chip_name(const edge_gpio_chip *chip) { return chip->name; }
const char *edge_gpio_chip_label(const edge_gpio_chip *chip) { return chip->label; }
unsigned edge_gpio_chip_lines(const edge_gpio_chip *chip) { return chip->lines; }
