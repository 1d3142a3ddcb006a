/* CRC-32/ISO-HDLC (the zlib/Ethernet CRC: poly 0x04C11DB7 reflected = 0xEDB88320,
 * init 0xFFFFFFFF, final xor 0xFFFFFFFF; check("123456789") = 0xCBF43926).
 * Python's zlib.crc32 computes the same value. */
#ifndef MCUGEN_CRC32_H
#define MCUGEN_CRC32_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCUGEN_CRC32_INIT 0xFFFFFFFFu

/* Running update on the raw (not yet inverted) register; start from
 * MCUGEN_CRC32_INIT and xor the result with 0xFFFFFFFF at the end. */
uint32_t mcugen_crc32_update(uint32_t crc, const uint8_t *data, uint32_t len);
uint32_t mcugen_crc32(const uint8_t *data, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif
