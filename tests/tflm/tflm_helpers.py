"""Helpers shared by the tflm tests: the reference models and a fake TFLM tree."""

from __future__ import annotations

import textwrap
from pathlib import Path

SHARED_MODELS = Path(__file__).resolve().parents[3] / "shared" / "models"
REAL_MODEL_NAMES = ("person_detect", "hello_world_int8", "micro_speech_quantized", "keyword_scrambled_8bit")


def real_model_paths() -> dict[str, Path]:
    """The reference models: ../shared/models, else the project's examples/models copy."""
    out = {}
    examples = Path(__file__).resolve().parents[2] / "examples" / "models"
    for name in REAL_MODEL_NAMES:
        for folder in (SHARED_MODELS, examples):
            if (folder / f"{name}.tflite").is_file():
                out[name] = folder / f"{name}.tflite"
                break
    return out


# --- a fake TFLM tree --------------------------------------------------------------------------

FAKE_MAKEFILE = textwrap.dedent(
    """\
    # A stand-in for TFLM's Makefile: same variables and goal, tiny C sources.
    BASE_GENDIR := gen
    TARGET ?= linux
    TARGET_ARCH ?= x86_64
    FAKE_SLEEP ?= 0
    ifeq ($(TARGET),cortex_m_generic)
      PREFIX := arm-none-eabi-
      CPU := -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=auto
    endif
    GENDIR := $(BASE_GENDIR)/$(TARGET)_$(TARGET_ARCH)_default$(if $(OPTIMIZED_KERNEL_DIR),_$(OPTIMIZED_KERNEL_DIR))_gcc/
    CXX := $(TARGET_TOOLCHAIN_ROOT)$(PREFIX)g++
    CC := $(TARGET_TOOLCHAIN_ROOT)$(PREFIX)gcc
    AR := $(TARGET_TOOLCHAIN_ROOT)$(PREFIX)ar
    CXXFLAGS := -std=c++17 -fno-rtti -DTF_LITE_STATIC_MEMORY -Wall -MD $(CPU) -ffunction-sections
    CCFLAGS := -std=c17 -DTF_LITE_STATIC_MEMORY $(CPU) -ffunction-sections
    INCLUDES := -I. -Ifake/include -I$(GENDIR)genfiles/
    LDFLAGS := -Wl,--gc-sections
    MICROLITE_LIBS := -lm
    SRCS := $(sort $(wildcard src/*.c))
    MICROLITE_LIB_OBJS := $(patsubst src/%.c,$(GENDIR)obj/core/src/%.o,$(SRCS))

    microlite: $(GENDIR)lib/libtensorflow-microlite.a

    $(GENDIR)obj/core/src/%.o: src/%.c
    \t@mkdir -p $(dir $@)
    \t@sleep $(FAKE_SLEEP)
    \t$(CC) $(CCFLAGS) $(INCLUDES) -c $< -o $@

    $(GENDIR)lib/libtensorflow-microlite.a: $(MICROLITE_LIB_OBJS)
    \t@mkdir -p $(dir $@)
    \t@test -z "$(FAKE_FAIL)" || (echo "fake failure" && exit 1)
    \t@test -z "$(FAKE_COUNT)" || echo built >> "$(FAKE_COUNT)"
    \t$(AR) rcs $@ $^
    """
)


def make_fake_tree(root: Path, n_sources: int = 6, cmsis_nn: bool = True) -> Path:
    """A folder that passes for a TFLM tree; its Makefile builds n tiny objects."""
    mk = root / "tensorflow/lite/micro/tools/make"
    mk.mkdir(parents=True)
    (mk / "Makefile").write_text(FAKE_MAKEFILE)
    (root / "fake/include").mkdir(parents=True)
    (root / "fake/include/fake.h").write_text("int fake(int);\n")
    src = root / "src"
    src.mkdir()
    for i in range(n_sources):
        (src / f"part{i}.c").write_text(
            f'#include "fake.h"\nint part{i}(int x) {{ return x * {i + 1}; }}\n'
            f"static int table{i}[{(i + 1) * 8}] = {{{i}}};\n"
            f"int read{i}(int k) {{ return table{i}[k] + part{i}(k); }}\n"
        )
    if cmsis_nn:
        inc = mk / "downloads/cmsis_nn/Include"
        inc.mkdir(parents=True)
        (inc / "arm_nnfunctions.h").write_text("/* fake */\n")
    return root


