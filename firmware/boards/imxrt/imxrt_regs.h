/*
 * imxrt_regs.h - selects the register header of the board's part (from mcugen_board_config.h,
 * which must be included first).
 */
#ifndef MCUGEN_IMXRT_REGS_H
#define MCUGEN_IMXRT_REGS_H

#if defined(MCUGEN_BOARD_MIMXRT1050_EVKB)
#include "imxrt1050_regs.h"
#elif defined(MCUGEN_BOARD_MIMXRT1170_EVK)
#include "imxrt1170_regs.h"
#else
#error "unknown i.MX RT board"
#endif

#endif
