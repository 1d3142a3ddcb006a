#include "mcugen_crc32.h"

/* Nibble table for the reflected polynomial 0xEDB88320: 64 bytes of table,
 * two lookups per byte; small enough for any target, fast enough for UART. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu,
    0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t mcugen_crc32_update(uint32_t crc, const uint8_t *data, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
        crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
    }
    return crc;
}

uint32_t mcugen_crc32(const uint8_t *data, uint32_t len)
{
    return mcugen_crc32_update(MCUGEN_CRC32_INIT, data, len) ^ 0xFFFFFFFFu;
}
