// GPIO lines through libgpiod, whichever version is installed: 1.6 (Debian 12, Raspberry Pi OS
// bookworm; the kernel's v1 uAPI) or 2.x (Debian 13 trixie and today's Raspberry Pi OS; uAPI v2).
// gpio_lines.c picks its implementation by a macro only 1.6's gpiod.h defines; Swift sees this
// one interface. Every function that fails returns NULL or -1 with errno set.
#ifndef EDGE_GPIO_LINES_H
#define EDGE_GPIO_LINES_H

#include <stdint.h>

typedef struct edge_gpio_chip edge_gpio_chip;
typedef struct edge_gpio_line edge_gpio_line;

enum { EDGE_GPIO_BIAS_AS_IS, EDGE_GPIO_BIAS_DISABLED, EDGE_GPIO_BIAS_PULL_UP, EDGE_GPIO_BIAS_PULL_DOWN };
enum { EDGE_GPIO_EDGE_NONE, EDGE_GPIO_EDGE_RISING, EDGE_GPIO_EDGE_FALLING, EDGE_GPIO_EDGE_BOTH };

/// "libgpiod 1.6.3" or "libgpiod 2.2.1".
const char *edge_gpio_library(void);
/// 1 when the library can ask the kernel to debounce (libgpiod 2, uAPI v2).
int edge_gpio_kernel_debounce(void);

/// Opens a chip by path (/dev/gpiochip4), name (gpiochip4), number (4) or label (pinctrl-rp1).
edge_gpio_chip *edge_gpio_chip_open(const char *description);
void edge_gpio_chip_close(edge_gpio_chip *chip);
const char *edge_gpio_chip_name(const edge_gpio_chip *chip);
const char *edge_gpio_chip_label(const edge_gpio_chip *chip);
unsigned edge_gpio_chip_lines(const edge_gpio_chip *chip);
/// Calls `found` for every chip in /dev; returns how many.
int edge_gpio_chip_list(void (*found)(void *context, const char *name, const char *label, unsigned lines), void *context);

/// An input, with edge events if `edge` is not NONE, debounced by the kernel for `debounce_us`
/// where the library can ask it (libgpiod 2); the event descriptor is non-blocking.
edge_gpio_line *edge_gpio_request_input(edge_gpio_chip *chip, unsigned offset, const char *consumer,
                                        int active_low, int bias, int edge, uint32_t debounce_us);
edge_gpio_line *edge_gpio_request_output(edge_gpio_chip *chip, unsigned offset, const char *consumer,
                                         int active_low, int initial);
void edge_gpio_line_release(edge_gpio_line *line);
/// The logical level, 0 or 1; -1 on failure.
int edge_gpio_line_get(edge_gpio_line *line);
int edge_gpio_line_set(edge_gpio_line *line, int value);
/// The descriptor that is readable when events wait; -1 for a line without events.
int edge_gpio_line_event_fd(const edge_gpio_line *line);
/// Reads up to `max` waiting events without blocking: the kernel's timestamp (ns, monotonic clock)
/// and whether each edge rose. Returns how many (0 when none wait), or -1.
int edge_gpio_line_read_events(edge_gpio_line *line, uint64_t *timestamps, uint8_t *rising, int max);

#endif
