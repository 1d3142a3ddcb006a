/*
 * boot_header.c - image vector table (IVT) and boot data for the i.MX RT boot
 * ROM (IMXRT1050RM 8.7.1 "Image Vector Table and Boot Data"; IMXRT1170RM 10.7).
 * The FlexSPI configuration block is generated (flexspi_fcb.c). The linker
 * script puts .boot_hdr.ivt at extra.ivt_offset and the boot data right after.
 */
#include <stdint.h>

#include "mcugen_board_config.h"

#define IVT_HEADER 0x412000D1u   /* tag 0xD1, length 0x0020 (big-endian), version 0x41: bytes D1 00 20 41 */
#define BOOT_DATA_PLUGIN 0u      /* 0: a normal image, not a plugin */

void Reset_Handler(void);
extern const uint32_t mcugen_boot_data[4];
extern const uint32_t mcugen_ivt[8];
extern const uint8_t __boot_image_size[]; /* linker: bytes from the image start to the end of its load image */

__attribute__((section(".boot_hdr.ivt"), used)) const uint32_t mcugen_ivt[8] = {
    IVT_HEADER,
    (uint32_t)&Reset_Handler,          /* entry (Thumb bit set by the linker) */
    0u,                                /* reserved */
    0u,                                /* DCD: none (SDRAM is not set up at boot) */
    (uint32_t)&mcugen_boot_data[0],    /* boot data */
    (uint32_t)&mcugen_ivt[0],          /* self */
    0u,                                /* CSF: unsigned image */
    0u,                                /* reserved */
};

__attribute__((section(".boot_hdr.boot_data"), used)) const uint32_t mcugen_boot_data[4] = {
    MCUGEN_FLASH_BASE,                 /* image start: the beginning of the FlexSPI window */
    (uint32_t)__boot_image_size,       /* image size */
    BOOT_DATA_PLUGIN,
    0xFFFFFFFFu,                       /* placeholder */
};
