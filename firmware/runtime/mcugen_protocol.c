/*
 * mcugen_protocol.c - the serve loop: announce, take inputs, run, return
 * outputs and counter values. No malloc, no printf; static buffers only.
 */
#include <string.h>

#include "board.h"
#include "mcugen_crc32.h"
#include "mcugen_model.h"
#include "mcugen_protocol.h"

/* Receive buffer for one payload; transmit is streamed (no buffer). */
static uint8_t rx_payload[MCUGEN_MAX_PAYLOAD];
static uint64_t run_counts[MCUGEN_MAX_RUNS_PER_REQUEST];
static uint32_t result_id;        /* run id of the result held; 0: none (no run, or inputs written since) */
static uint32_t last_runs;
static int32_t last_status;
static uint8_t inputs_fresh;      /* a WRITE_INPUT came after the last RUN */
static int32_t init_status;
static uint64_t counter_overhead; /* cost of two back-to-back counter reads */
static uint32_t tx_crc;

typedef struct {
    uint8_t type;
    uint8_t flags;
    uint16_t seq;
    uint16_t len;
} frame_header;

/* ---- little-endian helpers ------------------------------------------------ */

static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static void put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* ---- transmit: header, payload pieces, crc ---------------------------------- */

static void tx_begin(uint8_t type, uint8_t flags, uint16_t seq, uint16_t len)
{
    uint8_t h[MCUGEN_HEADER_BYTES];
    h[0] = MCUGEN_SYNC0;
    h[1] = MCUGEN_SYNC1;
    h[2] = type;
    h[3] = flags;
    put_u16(&h[4], seq);
    put_u16(&h[6], len);
    tx_crc = mcugen_crc32_update(MCUGEN_CRC32_INIT, &h[2], MCUGEN_HEADER_BYTES - 2u);
    board_uart_write(h, MCUGEN_HEADER_BYTES);
}

static void tx_put(const uint8_t *data, uint32_t len)
{
    tx_crc = mcugen_crc32_update(tx_crc, data, len);
    board_uart_write(data, len);
}

static void tx_end(void)
{
    uint8_t c[MCUGEN_CRC_BYTES];
    put_u32(c, tx_crc ^ 0xFFFFFFFFu);
    board_uart_write(c, MCUGEN_CRC_BYTES);
}

static void send_status(uint8_t type, uint16_t seq, uint16_t status, uint8_t request_type)
{
    uint8_t p[4];
    put_u16(&p[0], status);
    p[2] = request_type;
    p[3] = 0;
    tx_begin(type, 0, seq, sizeof p);
    tx_put(p, sizeof p);
    tx_end();
}

/* ---- announcement ------------------------------------------------------------ */

#define ANNOUNCE_FIXED_BYTES 60u
#define TENSOR_FIXED_BYTES 16u

static uint32_t name_length(const char *name)
{
    uint32_t n = 0;
    while (name && name[n] != '\0' && n < MCUGEN_MODEL_NAME_MAX) {
        n++;
    }
    return n;
}

static void put_tensor(const mcugen_tensor_info *t)
{
    uint8_t p[TENSOR_FIXED_BYTES];
    uint32_t scale_bits;
    uint8_t rank = t->rank <= MCUGEN_MAX_RANK ? t->rank : (uint8_t)MCUGEN_MAX_RANK;
    memcpy(&scale_bits, &t->scale, sizeof scale_bits);
    p[0] = t->dtype;
    p[1] = rank;
    put_u16(&p[2], 0);
    put_u32(&p[4], t->bytes);
    put_u32(&p[8], scale_bits);
    put_u32(&p[12], (uint32_t)t->zero_point);
    tx_put(p, sizeof p);
    for (uint32_t d = 0; d < rank; d++) {
        uint8_t dim[4];
        put_u32(dim, t->dims[d]);
        tx_put(dim, sizeof dim);
    }
}

static uint32_t tensor_bytes_on_wire(const mcugen_tensor_info *t)
{
    uint32_t rank = t->rank <= MCUGEN_MAX_RANK ? t->rank : MCUGEN_MAX_RANK;
    return TENSOR_FIXED_BYTES + 4u * rank;
}

static void send_announce(uint16_t seq, uint8_t flags)
{
    const mcugen_model_info *info = mcugen_model_get_info();
    uint32_t name_len = name_length(info->name);
    uint32_t total = ANNOUNCE_FIXED_BYTES + name_len;
    for (uint32_t i = 0; i < info->n_inputs; i++) {
        total += tensor_bytes_on_wire(&info->inputs[i]);
    }
    for (uint32_t i = 0; i < info->n_outputs; i++) {
        total += tensor_bytes_on_wire(&info->outputs[i]);
    }
    if (total > MCUGEN_MAX_PAYLOAD || info->n_inputs > 255u || info->n_outputs > 255u) {
        send_status(MCUGEN_MSG_NAK, seq, MCUGEN_STATUS_TOO_LARGE, MCUGEN_MSG_HELLO);
        return;
    }

    uint8_t p[ANNOUNCE_FIXED_BYTES];
    put_u16(&p[0], MCUGEN_PROTOCOL_VERSION);
    put_u16(&p[2], MCUGEN_MAX_PAYLOAD);
    p[4] = board_timing_unit();
    p[5] = (uint8_t)info->n_inputs;
    p[6] = (uint8_t)info->n_outputs;
    p[7] = (uint8_t)name_len;
    put_u32(&p[8], board_clock_hz());
    put_u32(&p[12], info->activation_bytes);
    put_u32(&p[16], info->extra_u32);
    put_u32(&p[20], (uint32_t)init_status);
    put_u16(&p[24], MCUGEN_MAX_RUNS_PER_REQUEST);
    put_u16(&p[26], MCUGEN_MODEL_API_VERSION);
    memcpy(&p[28], info->hash, MCUGEN_HASH_BYTES);

    tx_begin(MCUGEN_MSG_ANNOUNCE, flags, seq, (uint16_t)total);
    tx_put(p, sizeof p);
    tx_put((const uint8_t *)info->name, name_len);
    for (uint32_t i = 0; i < info->n_inputs; i++) {
        put_tensor(&info->inputs[i]);
    }
    for (uint32_t i = 0; i < info->n_outputs; i++) {
        put_tensor(&info->outputs[i]);
    }
    tx_end();
}

/* ---- receive ------------------------------------------------------------------ */

/* Waits for one well-formed frame. Returns 1 with a valid frame, 0 when the
 * frame failed its CRC (hdr is filled so a NAK can name the seq), -1 when the
 * input ended (host build only). Garbage and stalled frames are skipped. */
static int read_frame(frame_header *hdr)
{
    uint8_t b;
    for (;;) {
        if (board_uart_read(&b, 1, 1000u) != 1) {
#ifdef MCUGEN_HOST
            extern int board_host_input_closed(void);
            if (board_host_input_closed()) {
                return -1;
            }
#endif
            continue;
        }
        if (b != MCUGEN_SYNC0) {
            continue;
        }
        if (board_uart_read(&b, 1, MCUGEN_INTERBYTE_TIMEOUT_MS) != 1) {
            continue;
        }
        if (b != MCUGEN_SYNC1) {
            continue; /* resync: hunt for the next 0xA5 */
        }
        uint8_t h[MCUGEN_HEADER_BYTES - 2u];
        if (board_uart_read(h, sizeof h, MCUGEN_INTERBYTE_TIMEOUT_MS) != sizeof h) {
            continue;
        }
        hdr->type = h[0];
        hdr->flags = h[1];
        hdr->seq = get_u16(&h[2]);
        hdr->len = get_u16(&h[4]);
        if (hdr->len > MCUGEN_MAX_PAYLOAD) {
            continue; /* not a frame of ours: resync */
        }
        if (board_uart_read(rx_payload, hdr->len, MCUGEN_INTERBYTE_TIMEOUT_MS) != hdr->len) {
            continue;
        }
        uint8_t c[MCUGEN_CRC_BYTES];
        if (board_uart_read(c, sizeof c, MCUGEN_INTERBYTE_TIMEOUT_MS) != sizeof c) {
            continue;
        }
        uint32_t crc = mcugen_crc32_update(MCUGEN_CRC32_INIT, h, sizeof h);
        crc = mcugen_crc32_update(crc, rx_payload, hdr->len) ^ 0xFFFFFFFFu;
        return crc == get_u32(c) ? 1 : 0;
    }
}

/* ---- requests -------------------------------------------------------------------- */

static void handle_write_input(const frame_header *hdr)
{
    const mcugen_model_info *info = mcugen_model_get_info();
    if (hdr->len < 8u) {
        send_status(MCUGEN_MSG_NAK, hdr->seq, MCUGEN_STATUS_BAD_LENGTH, hdr->type);
        return;
    }
    uint32_t index = get_u16(&rx_payload[0]);
    uint32_t offset = get_u32(&rx_payload[4]);
    uint32_t n = hdr->len - 8u;
    if (index >= info->n_inputs || offset > info->inputs[index].bytes ||
        n > info->inputs[index].bytes - offset) {
        send_status(MCUGEN_MSG_NAK, hdr->seq, MCUGEN_STATUS_BAD_ARGS, hdr->type);
        return;
    }
    if (init_status != 0) {
        send_status(MCUGEN_MSG_NAK, hdr->seq, MCUGEN_STATUS_NOT_READY, hdr->type);
        return;
    }
    memcpy(mcugen_model_input(index) + offset, &rx_payload[8], n);
    inputs_fresh = 1u;
    result_id = 0u; /* the outputs may share memory with the inputs */
    send_status(MCUGEN_MSG_ACK, hdr->seq, MCUGEN_STATUS_OK, hdr->type);
}

static void send_run_done(uint16_t seq)
{
    uint8_t p[12];
    put_u32(&p[0], result_id);
    put_u32(&p[4], (uint32_t)last_status);
    put_u32(&p[8], last_runs);
    tx_begin(MCUGEN_MSG_RUN_DONE, 0, seq, (uint16_t)(12u + 8u * last_runs));
    tx_put(p, sizeof p);
    for (uint32_t i = 0; i < last_runs; i++) {
        uint8_t v[8];
        put_u32(&v[0], (uint32_t)run_counts[i]);
        put_u32(&v[4], (uint32_t)(run_counts[i] >> 32));
        tx_put(v, sizeof v);
    }
    tx_end();
}

static void handle_run(const frame_header *hdr)
{
    if (hdr->len != 8u) {
        send_status(MCUGEN_MSG_NAK, hdr->seq, MCUGEN_STATUS_BAD_LENGTH, hdr->type);
        return;
    }
    uint32_t run_id = get_u32(&rx_payload[0]);
    uint32_t runs = get_u32(&rx_payload[4]);
    if (run_id == 0u || runs == 0u || runs > MCUGEN_MAX_RUNS_PER_REQUEST) {
        send_status(MCUGEN_MSG_NAK, hdr->seq, MCUGEN_STATUS_BAD_ARGS, hdr->type);
        return;
    }
    if (init_status != 0) {
        send_status(MCUGEN_MSG_NAK, hdr->seq, MCUGEN_STATUS_NOT_READY, hdr->type);
        return;
    }
    if (!inputs_fresh && mcugen_model_get_info()->n_inputs != 0u) {
        send_status(MCUGEN_MSG_NAK, hdr->seq, MCUGEN_STATUS_STALE_INPUT, hdr->type);
        return;
    }
    inputs_fresh = 0u;
    int32_t status = 0;
    uint32_t done = 0;
    while (done < runs) {
        uint64_t t0 = board_counter_read();
        status = mcugen_model_run();
        uint64_t t1 = board_counter_read();
        uint64_t dt = t1 - t0;
        run_counts[done++] = dt > counter_overhead ? dt - counter_overhead : 0u;
        if (status != 0) {
            break;
        }
    }
    result_id = run_id;
    last_runs = done;
    last_status = status;
    send_run_done(hdr->seq);
}

/* Checks the run id that starts a result request: 1 when the target holds a
 * successful result of it, else answers NAK (length or no result) and gives 0. */
static int result_request_ok(const frame_header *hdr, uint16_t len)
{
    uint16_t status = MCUGEN_STATUS_OK;
    if (hdr->len != len) {
        status = MCUGEN_STATUS_BAD_LENGTH;
    } else if (result_id == 0u || get_u32(rx_payload) != result_id || last_status != 0) {
        status = MCUGEN_STATUS_NO_RESULT;
    }
    if (status != MCUGEN_STATUS_OK) {
        send_status(MCUGEN_MSG_NAK, hdr->seq, status, hdr->type);
        return 0;
    }
    return 1;
}

static void handle_read_output(const frame_header *hdr)
{
    const mcugen_model_info *info = mcugen_model_get_info();
    if (!result_request_ok(hdr, 16u)) {
        return;
    }
    uint32_t index = get_u16(&rx_payload[4]);
    uint32_t offset = get_u32(&rx_payload[8]);
    uint32_t max = get_u32(&rx_payload[12]);
    if (index >= info->n_outputs || offset > info->outputs[index].bytes) {
        send_status(MCUGEN_MSG_NAK, hdr->seq, MCUGEN_STATUS_BAD_ARGS, hdr->type);
        return;
    }
    uint32_t total = info->outputs[index].bytes;
    uint32_t n = total - offset;
    if (n > max) {
        n = max;
    }
    if (n > MCUGEN_MAX_PAYLOAD - 16u) {
        n = MCUGEN_MAX_PAYLOAD - 16u;
    }
    uint8_t p[16];
    put_u32(&p[0], result_id);
    put_u16(&p[4], (uint16_t)index);
    put_u16(&p[6], 0);
    put_u32(&p[8], offset);
    put_u32(&p[12], total);
    tx_begin(MCUGEN_MSG_OUTPUT_DATA, 0, hdr->seq, (uint16_t)(16u + n));
    tx_put(p, sizeof p);
    tx_put(mcugen_model_output(index) + offset, n);
    tx_end();
}

/* Models built without MCUGEN_PROFILE have no per-node counters. */
__attribute__((weak)) uint32_t mcugen_model_profile(const uint64_t **counts)
{
    *counts = 0;
    return 0u;
}

#define PROFILE_PER_FRAME ((MCUGEN_MAX_PAYLOAD - 12u) / 8u)

static void handle_read_profile(const frame_header *hdr)
{
    const uint64_t *counts = 0;
    uint32_t total = mcugen_model_profile(&counts);
    if (!result_request_ok(hdr, 8u)) {
        return;
    }
    uint32_t first = get_u32(&rx_payload[4]);
    if (first > total) {
        send_status(MCUGEN_MSG_NAK, hdr->seq, MCUGEN_STATUS_BAD_ARGS, hdr->type);
        return;
    }
    uint32_t n = total - first;
    if (n > PROFILE_PER_FRAME) {
        n = PROFILE_PER_FRAME;
    }
    uint8_t p[12];
    put_u32(&p[0], result_id);
    put_u32(&p[4], total);
    put_u32(&p[8], first);
    tx_begin(MCUGEN_MSG_PROFILE_DATA, 0, hdr->seq, (uint16_t)(12u + 8u * n));
    tx_put(p, sizeof p);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t v[8];
        uint64_t c = counts[first + i];
        put_u32(&v[0], (uint32_t)c);
        put_u32(&v[4], (uint32_t)(c >> 32));
        tx_put(v, sizeof v);
    }
    tx_end();
}

void mcugen_send_fault(const uint32_t regs[6])
{
    uint8_t p[24];
    for (uint32_t i = 0; i < 6u; i++) {
        put_u32(&p[4u * i], regs[i]);
    }
    tx_begin(MCUGEN_MSG_FAULT, 0, 0, sizeof p);
    tx_put(p, sizeof p);
    tx_end();
}

static void calibrate_counter(void)
{
    uint64_t best = ~(uint64_t)0;
    for (int i = 0; i < 8; i++) {
        uint64_t t0 = board_counter_read();
        uint64_t t1 = board_counter_read();
        if (t1 - t0 < best) {
            best = t1 - t0;
        }
    }
    counter_overhead = best;
}

int mcugen_serve(void)
{
    frame_header hdr;
    init_status = (int32_t)mcugen_model_init();
    calibrate_counter();
    send_announce(0, MCUGEN_FLAG_BOOT);
    for (;;) {
        int r = read_frame(&hdr);
        if (r < 0) {
            return 0;
        }
        if (r == 0) {
            send_status(MCUGEN_MSG_NAK, hdr.seq, MCUGEN_STATUS_BAD_CRC, hdr.type);
            continue;
        }
        switch (hdr.type) {
        case MCUGEN_MSG_HELLO:
            send_announce(hdr.seq, 0);
            break;
        case MCUGEN_MSG_WRITE_INPUT:
            handle_write_input(&hdr);
            break;
        case MCUGEN_MSG_RUN:
            handle_run(&hdr);
            break;
        case MCUGEN_MSG_GET_RESULT:
            /* The result held, under its own run id: the host compares it with the one it asks for. */
            if (hdr.len != 4u) {
                send_status(MCUGEN_MSG_NAK, hdr.seq, MCUGEN_STATUS_BAD_LENGTH, hdr.type);
            } else if (result_id == 0u) {
                send_status(MCUGEN_MSG_NAK, hdr.seq, MCUGEN_STATUS_NO_RESULT, hdr.type);
            } else {
                send_run_done(hdr.seq);
            }
            break;
        case MCUGEN_MSG_READ_OUTPUT:
            handle_read_output(&hdr);
            break;
        case MCUGEN_MSG_READ_PROFILE:
            handle_read_profile(&hdr);
            break;
        default:
            send_status(MCUGEN_MSG_NAK, hdr.seq, MCUGEN_STATUS_BAD_TYPE, hdr.type);
            break;
        }
    }
}
