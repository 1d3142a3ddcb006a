// mcugen code-size probe: the smallest real TFLM application that registers
// exactly a given set of operators (probe_ops.inc), allocates and invokes.
// Linked like mcugen's firmware (newlib-nano, nosys, --gc-sections) so that the
// linker map shows what TFLM really costs in flash; tflm_probes.py compares it with
// codesize.code_size_estimate. Never run.
#include <cstdint>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {
alignas(16) uint8_t g_arena[64 * 1024];
}  // namespace

int main() {
  static tflite::MicroMutableOpResolver<MCUGEN_OP_COUNT> resolver;
#define MCUGEN_OP(method) resolver.method();
#include "probe_ops.inc"
#undef MCUGEN_OP
  // The model is wherever the caller put it; its bytes are not part of the code size.
  const tflite::Model* model = tflite::GetModel(reinterpret_cast<const void*>(0x60000010u));
  tflite::MicroInterpreter interpreter(model, resolver, g_arena, sizeof(g_arena));
  if (interpreter.AllocateTensors() != kTfLiteOk) return 1;
  interpreter.input(0)->data.int8[0] = 1;
  if (interpreter.Invoke() != kTfLiteOk) return 2;
  return interpreter.output(0)->data.int8[0];
}
