/*
 * mcu_compiler.h - the one place that knows compilers: how to say "aligned",
 * "in this section", "inline", "not inline" and "trap" to each of them, and
 * whether the GNU C dialect (gcc, clang, Arm Compiler 6) may be used for speed.
 *
 * Everything else in the kernels and the generated network is ISO C99. Each
 * GNU extension the kernels use for speed (inline asm, computed goto, register
 * variables, optimize attributes) sits behind MCU_GNUC / MCU_GCC with a
 * standard-C path of identical results beside it; IAR, Arm Compiler 5 and any
 * other C99 compiler take that path. Define MCU_PORTABLE_C to 1 to take it on
 * gcc and clang too (the tests compare both paths byte for byte); attribute
 * spellings (alignment, inlining) still follow the compiler then.
 *
 * Alignment and sections have no C99 spelling: known compilers get theirs,
 * an unknown one stops with an #error unless the project defines MCU_ALIGNED
 * and MCU_SECTION itself. Both go before the declaration they apply to:
 *     MCU_SECTION(".nn_arena") MCU_ALIGNED(16) static uint8_t arena[1024];
 */
#ifndef MCU_COMPILER_H
#define MCU_COMPILER_H

#ifndef MCU_PORTABLE_C
#define MCU_PORTABLE_C 0
#endif

/* The GNU C dialect: gcc, clang and armclang define __GNUC__. */
#if defined(__GNUC__) && !MCU_PORTABLE_C
#define MCU_GNUC 1
#else
#define MCU_GNUC 0
#endif

/* gcc itself: register variables bound to named registers (clang reserves r7,
 * the Thumb frame pointer) and the optimize attribute (clang has none). */
#if MCU_GNUC && !defined(__clang__)
#define MCU_GCC 1
#else
#define MCU_GCC 0
#endif

#define MCU_STRINGIFY_(x) #x
#define MCU_STRINGIFY(x) MCU_STRINGIFY_(x)

#if defined(__GNUC__) || defined(__clang__) || defined(__ARMCC_VERSION)
#ifndef MCU_ALIGNED
#define MCU_ALIGNED(n) __attribute__((aligned(n)))
#endif
#ifndef MCU_SECTION
#define MCU_SECTION(name) __attribute__((section(name)))
#endif
#elif defined(__ICCARM__)
#ifndef MCU_ALIGNED
#define MCU_ALIGNED(n) _Pragma(MCU_STRINGIFY(data_alignment = n))
#endif
#ifndef MCU_SECTION
#define MCU_SECTION(name) _Pragma(MCU_STRINGIFY(location = name))
#endif
#elif !defined(MCU_ALIGNED) || !defined(MCU_SECTION)
#error "mcu_compiler.h: unknown compiler: define MCU_ALIGNED(n) and MCU_SECTION(name) for it"
#endif

/* Small helpers the kernels want inlined, out-of-line hot loops, a cold path
 * defined in a header that not every file calls (MCU_STATIC_NOINLINE: `static
 * inline` where there is no spelling for "unused, not inlined"), and a trap.
 * Spellings only: they follow the compiler, not MCU_PORTABLE_C. */
#if defined(__GNUC__) || defined(__clang__)
#define MCU_INLINE static inline __attribute__((always_inline))
#define MCU_NOINLINE __attribute__((noinline))
#define MCU_STATIC_NOINLINE __attribute__((unused, noinline)) static
#define MCU_TRAP() __builtin_trap()
#elif defined(__ICCARM__)
#define MCU_INLINE _Pragma("inline=forced") static inline
#define MCU_NOINLINE _Pragma("inline=never")
#define MCU_STATIC_NOINLINE _Pragma("inline=never") static inline
#else
#define MCU_INLINE static inline
#define MCU_NOINLINE
#define MCU_STATIC_NOINLINE static inline
#endif
/* A switch case that deliberately runs on into the next (Duff's device). */
#if defined(__has_attribute)
#if __has_attribute(fallthrough)
#define MCU_FALLTHROUGH __attribute__((fallthrough))
#endif
#endif
#ifndef MCU_FALLTHROUGH
#define MCU_FALLTHROUGH ((void)0)
#endif

#ifndef MCU_TRAP
#include <stdlib.h>
#define MCU_TRAP() abort() /* stop here, loudly: a state the generator never produces */
#endif

#endif /* MCU_COMPILER_H */
