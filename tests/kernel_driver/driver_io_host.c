/* driver_io_host.c - driver_io.h on a host: stdio. */
#include <stdio.h>
#include <stdlib.h>

#include "driver_io.h"

static FILE *files[4];

int io_open(const char *name, int write)
{
    int h;
    for (h = 0; h < 4; ++h) {
        if (files[h] == NULL) {
            files[h] = fopen(name, write ? "wb" : "rb");
            return files[h] ? h : -1;
        }
    }
    return -1;
}

int32_t io_read(int handle, void *buf, int32_t n) { return (int32_t)fread(buf, 1, (size_t)n, files[handle]); }
int32_t io_write(int handle, const void *buf, int32_t n) { return (int32_t)fwrite(buf, 1, (size_t)n, files[handle]); }

void io_close(int handle)
{
    fclose(files[handle]);
    files[handle] = NULL;
}

void io_exit(int code) { exit(code); }
void io_init(void) {}
uint64_t io_counter(void) { return 0; }
