/*
 * mcugen_protocol.h - the target side of the UART protocol (docs/protocol.md).
 *
 * Frame (all integers little-endian):
 *   0xA5 0x5A | type u8 | flags u8 | seq u16 | len u16 | payload[len] | crc32 u32
 * crc32 = CRC-32/ISO-HDLC (zlib.crc32) over type..payload (the sync bytes excluded).
 * Every host request gets exactly one response carrying the request's seq.
 * At boot the target sends an ANNOUNCE with flags = MCUGEN_FLAG_BOOT, unasked.
 * Results are bound to the host's run id: RUN_DONE, OUTPUT_DATA and PROFILE_DATA
 * carry it, and the target keeps one result, dropped by the next WRITE_INPUT
 * (the outputs may share memory with the inputs). A RUN consumes the inputs: the
 * next RUN needs a WRITE_INPUT first (the run may have overwritten them).
 */
#ifndef MCUGEN_PROTOCOL_H
#define MCUGEN_PROTOCOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCUGEN_PROTOCOL_VERSION 2u

#define MCUGEN_SYNC0 0xA5u
#define MCUGEN_SYNC1 0x5Au
#define MCUGEN_HEADER_BYTES 8u        /* sync(2) type flags seq(2) len(2) */
#define MCUGEN_CRC_BYTES 4u
#define MCUGEN_MAX_PAYLOAD 1024u      /* larger frames are rejected: inputs/outputs are chunked */
#define MCUGEN_MAX_RUNS_PER_REQUEST 64u
#define MCUGEN_INTERBYTE_TIMEOUT_MS 200u  /* a frame that stalls this long mid-way is dropped */

/* host -> target */
#define MCUGEN_MSG_HELLO        0x01u  /* ()                                           -> ANNOUNCE */
#define MCUGEN_MSG_WRITE_INPUT  0x02u  /* (u16 index, u16 0, u32 offset, data)         -> ACK */
#define MCUGEN_MSG_RUN          0x03u  /* (u32 run id, u32 runs)                       -> RUN_DONE */
#define MCUGEN_MSG_GET_RESULT   0x04u  /* (u32 run id)              -> RUN_DONE of the result held (its own id) */
#define MCUGEN_MSG_READ_OUTPUT  0x05u  /* (u32 run id, u16 index, u16 0, u32 offset, u32 max) -> OUTPUT_DATA */
#define MCUGEN_MSG_READ_PROFILE 0x06u  /* (u32 run id, u32 first node)                 -> PROFILE_DATA */
/* target -> host */
#define MCUGEN_MSG_ANNOUNCE     0x81u
#define MCUGEN_MSG_ACK          0x82u  /* (u16 status, u8 request type, u8 0) */
#define MCUGEN_MSG_RUN_DONE     0x83u  /* (u32 run id, i32 model status, u32 runs, u64 counter[runs]) */
#define MCUGEN_MSG_OUTPUT_DATA  0x84u  /* (u32 run id, u16 index, u16 0, u32 offset, u32 total bytes, data) */
#define MCUGEN_MSG_NAK          0x85u  /* (u16 status, u8 request type, u8 0) */
#define MCUGEN_MSG_FAULT        0x86u  /* (u32 exception, u32 pc, u32 cfsr, u32 hfsr, u32 mmfar, u32 bfar), unasked */
#define MCUGEN_MSG_PROFILE_DATA 0x87u  /* (u32 run id, u32 nodes in all, u32 first node, u64 counter[n]) */

#define MCUGEN_FLAG_BOOT 0x01u        /* ANNOUNCE sent unasked after a reset */

/* NAK / ACK status codes */
#define MCUGEN_STATUS_OK          0u
#define MCUGEN_STATUS_BAD_CRC     1u
#define MCUGEN_STATUS_BAD_TYPE    2u
#define MCUGEN_STATUS_BAD_ARGS    3u
#define MCUGEN_STATUS_BAD_LENGTH  4u
#define MCUGEN_STATUS_NOT_READY   5u  /* model init failed */
#define MCUGEN_STATUS_TOO_LARGE   6u  /* the announcement does not fit one frame */
#define MCUGEN_STATUS_STALE_INPUT 7u  /* RUN without a WRITE_INPUT since the last RUN */
#define MCUGEN_STATUS_NO_RESULT   8u  /* no (successful) result with this run id */

/* Sends a FAULT frame (called from the fault handler; registers read by the
 * board layer, 0 where a register does not exist). */
void mcugen_send_fault(const uint32_t regs[6]);

/* Serves requests forever (returns only on the host build when stdin closes). */
int mcugen_serve(void);

#ifdef __cplusplus
}
#endif

#endif
