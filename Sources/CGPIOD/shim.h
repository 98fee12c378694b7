// libgpiod 1.6 (Debian 12, Raspberry Pi OS bookworm): the GPIO character device's v1 interface.
#include <gpiod.h>
