// libgpiod, 1.6 or 2.x: linked through this module; CGPIOLines (gpio_lines.c) includes gpiod.h itself.
#include <gpiod.h>
