/*
 * mcugen_model.h - the interface between the runtime (protocol, serve loop)
 * and a model implementation. The code generators (cubeai, tflm styles)
 * implement these five functions; tests use a fake (tests/fixtures/echo_model.c).
 *
 * Rules for implementations:
 *   - no dynamic allocation; buffers are static (the arena lives in section
 *     .nn_arena, weights in .nn_weights);
 *   - mcugen_model_init() is called once before any other call except
 *     mcugen_model_get_info();
 *   - mcugen_model_input(i) returns a writable buffer of inputs[i].bytes bytes;
 *     the runtime fills it before mcugen_model_run();
 *   - mcugen_model_output(i) returns outputs[i].bytes bytes, valid after a
 *     successful mcugen_model_run() and until the next run;
 *   - functions returning int return 0 on success, a negative code otherwise.
 */
#ifndef MCUGEN_MODEL_H
#define MCUGEN_MODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCUGEN_MODEL_API_VERSION 1u
#define MCUGEN_MAX_RANK 6u          /* dims beyond this are not representable */
#define MCUGEN_MODEL_NAME_MAX 32u   /* bytes of the name sent in the announcement */
#define MCUGEN_HASH_BYTES 32u       /* sha256 of the .tflite file */

/* Element types: the numbering of TFLite's TensorType enum (schema.fbs), so a
 * code generator can copy the model's type code through unchanged. */
enum mcugen_dtype {
    MCUGEN_DTYPE_FLOAT32 = 0,
    MCUGEN_DTYPE_FLOAT16 = 1,
    MCUGEN_DTYPE_INT32 = 2,
    MCUGEN_DTYPE_UINT8 = 3,
    MCUGEN_DTYPE_INT64 = 4,
    MCUGEN_DTYPE_BOOL = 6,
    MCUGEN_DTYPE_INT16 = 7,
    MCUGEN_DTYPE_INT8 = 9,
    MCUGEN_DTYPE_FLOAT64 = 10,
    MCUGEN_DTYPE_UINT32 = 15,
    MCUGEN_DTYPE_UINT16 = 16,
};

typedef struct {
    uint8_t dtype;                    /* enum mcugen_dtype */
    uint8_t rank;                     /* <= MCUGEN_MAX_RANK */
    uint32_t dims[MCUGEN_MAX_RANK];   /* first `rank` entries used */
    uint32_t bytes;                   /* buffer size in bytes */
    float scale;                      /* quantization scale (0 if not quantized) */
    int32_t zero_point;               /* quantization zero point */
} mcugen_tensor_info;

typedef struct {
    const char *name;                 /* NUL-terminated; truncated to MCUGEN_MODEL_NAME_MAX on the wire */
    uint8_t hash[MCUGEN_HASH_BYTES];  /* sha256 of the .tflite the firmware was generated from */
    uint32_t n_inputs;
    uint32_t n_outputs;
    const mcugen_tensor_info *inputs;
    const mcugen_tensor_info *outputs;
    uint32_t activation_bytes;        /* activation RAM the implementation uses (arena size) */
    uint32_t extra_u32;               /* free-form, e.g. TFLM arena_used_bytes(); 0 if unused */
} mcugen_model_info;

/* Section attributes for model data: the linker script places .nn_weights in
 * placement.weights and .nn_arena (never loaded) in placement.arena, both
 * 16-byte aligned. The host build keeps ordinary sections. */
#if defined(MCUGEN_HOST)
#define MCUGEN_WEIGHTS __attribute__((aligned(16)))
#define MCUGEN_ARENA __attribute__((aligned(16)))
#else
#define MCUGEN_WEIGHTS __attribute__((section(".nn_weights"), aligned(16), used))
#define MCUGEN_ARENA __attribute__((section(".nn_arena"), aligned(16)))
#endif

const mcugen_model_info *mcugen_model_get_info(void);
int mcugen_model_init(void);
uint8_t *mcugen_model_input(uint32_t index);
const uint8_t *mcugen_model_output(uint32_t index);
int mcugen_model_run(void);

/* Optional: counter ticks spent in each node of the last run (builds with
 * MCUGEN_PROFILE). Returns the number of nodes and points *counts at them; the
 * runtime's weak default returns 0 (no profile). */
uint32_t mcugen_model_profile(const uint64_t **counts);

#ifdef __cplusplus
}
#endif

#endif /* MCUGEN_MODEL_H */
