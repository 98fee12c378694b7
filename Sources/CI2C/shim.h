// libi2c's SMBus helpers and the i2c-dev ioctls. The ioctls are variadic in C, so the two that
// Swift needs are wrapped here with fixed argument types.
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <i2c/smbus.h>
#include <sys/ioctl.h>

static inline int edge_i2c_set_target(int fd, int address) { return ioctl(fd, I2C_SLAVE, address); }
static inline int edge_i2c_functions(int fd, unsigned long *functions) { return ioctl(fd, I2C_FUNCS, functions); }
static inline int edge_i2c_rdwr(int fd, struct i2c_msg *messages, unsigned count) {
    struct i2c_rdwr_ioctl_data data = { .msgs = messages, .nmsgs = count };
    return ioctl(fd, I2C_RDWR, &data);
}
