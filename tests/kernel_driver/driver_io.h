/*
 * driver_io.h - file I/O, exit and an instruction counter for the kernel test
 * driver: stdio on the host, Arm semihosting on QEMU (run with
 * -semihosting-config enable=on,target=native; file names are relative to
 * QEMU's working directory).
 */
#ifndef DRIVER_IO_H
#define DRIVER_IO_H

#include <stdint.h>

int io_open(const char *name, int write);        /* handle >= 0, or -1 */
int32_t io_read(int handle, void *buf, int32_t n);  /* bytes read */
int32_t io_write(int handle, const void *buf, int32_t n);
void io_close(int handle);
void io_exit(int code);
void io_init(void);
uint64_t io_counter(void);                        /* instructions on QEMU, 0 on the host */

#endif
