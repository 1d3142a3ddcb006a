// mcugen arena probe: load a .tflite model, run TFLM's AllocateTensors and
// print what the arena really needs. Built by mcugen/calibrate/tflm_probes.py against a
// cached libtensorflow-microlite.a, for the host or for Cortex-M7 under QEMU.
//
// Output (one line, parsed by tflm_probes.py):
//   MCUGEN_ARENA used=<arena_used_bytes()> head=<non-persistent> tail=<persistent> status=ok
// or, in trial mode (a given arena size):
//   MCUGEN_ARENA trial=<size> status=ok|fail
//
// On the target the model comes from memory (QEMU's `-device loader` puts a
// 16-byte header {magic, model size, trial size, 0} and the model at
// MCUGEN_MODEL_ADDR); on the host from argv[1] (trial size in argv[2]).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "tensorflow/lite/micro/arena_allocator/single_arena_buffer_allocator.h"
#include "tensorflow/lite/micro/memory_helpers.h"
#include "tensorflow/lite/micro/memory_planner/greedy_memory_planner.h"
#include "tensorflow/lite/micro/micro_allocator.h"
#include "tensorflow/lite/micro/micro_arena_constants.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

#ifdef MCUGEN_MODEL_ADDR
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#endif

#ifndef MCUGEN_ARENA_MAX
#define MCUGEN_ARENA_MAX (2u * 1024u * 1024u)
#endif

namespace {

constexpr uint32_t kMagic = 0x4d43474du;  // "MGCM" little-endian: header of the loaded model

alignas(16) uint8_t g_arena[MCUGEN_ARENA_MAX];

// Every builtin operator the resolver knows (generated list, see tflm_probes.py).
using Resolver = tflite::MicroMutableOpResolver<MCUGEN_OP_COUNT>;

void RegisterOps(Resolver& r) {
#define MCUGEN_OP(method) r.method();
#include "probe_ops.inc"
#undef MCUGEN_OP
}

// The standard way an application builds the interpreter.
bool TryAllocate(const tflite::Model* model, const Resolver& resolver,
                 size_t arena_size, size_t* used) {
  tflite::MicroInterpreter interpreter(model, resolver, g_arena, arena_size);
  if (interpreter.AllocateTensors() != kTfLiteOk) return false;
  if (used != nullptr) *used = interpreter.arena_used_bytes();
  return true;
}

// The same allocation, with a handle on the arena allocator to split head and
// tail. Mirrors MicroAllocator::Create(arena, size, MemoryPlannerType::kGreedy)
// step by step, so the arena layout is identical (checked: used == head + tail).
bool SplitHeadTail(const tflite::Model* model, const Resolver& resolver,
                   size_t arena_size, size_t* head, size_t* tail) {
  uint8_t* aligned = tflite::AlignPointerUp(g_arena, tflite::MicroArenaBufferAlignment());
  size_t aligned_size = g_arena + arena_size - aligned;
  tflite::SingleArenaBufferAllocator* memory =
      tflite::SingleArenaBufferAllocator::Create(aligned, aligned_size);
  uint8_t* planner_buffer = memory->AllocatePersistentBuffer(
      sizeof(tflite::GreedyMemoryPlanner), alignof(tflite::GreedyMemoryPlanner));
  tflite::MicroMemoryPlanner* planner =
      new (planner_buffer) tflite::GreedyMemoryPlanner();
  tflite::MicroAllocator* allocator =
      tflite::MicroAllocator::Create(memory, planner);
  tflite::MicroInterpreter interpreter(model, resolver, allocator);
  if (interpreter.AllocateTensors() != kTfLiteOk) return false;
  *head = memory->GetNonPersistentUsedBytes();
  *tail = memory->GetPersistentUsedBytes();
  return true;
}

// The model and the trial arena size (0: measure with the whole arena).
const uint8_t* LoadModel(int argc, char** argv, size_t* size, size_t* trial) {
#ifdef MCUGEN_MODEL_ADDR
  (void)argc;
  (void)argv;
  const uint32_t* header = reinterpret_cast<const uint32_t*>(MCUGEN_MODEL_ADDR);
  if (header[0] != kMagic) return nullptr;
  *size = header[1];
  *trial = header[2];
  return reinterpret_cast<const uint8_t*>(MCUGEN_MODEL_ADDR + 16);
#else
  if (argc < 2) return nullptr;
  *trial = argc > 2 ? strtoul(argv[2], nullptr, 10) : 0;
  FILE* f = fopen(argv[1], "rb");
  if (f == nullptr) return nullptr;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void* buffer = nullptr;
  if (n <= 0 || posix_memalign(&buffer, 16, static_cast<size_t>(n)) != 0) {
    fclose(f);
    return nullptr;
  }
  size_t got = fread(buffer, 1, static_cast<size_t>(n), f);
  fclose(f);
  if (got != static_cast<size_t>(n)) return nullptr;
  *size = got;
  return static_cast<const uint8_t*>(buffer);
#endif
}

#ifdef MCUGEN_MODEL_ADDR
// TFLM's error messages (why AllocateTensors failed) go to semihosting stdout.
void PrintLog(const char* s) { fputs(s, stdout); }
#endif

}  // namespace

int main(int argc, char** argv) {
  size_t model_size = 0;
  size_t trial = 0;
  const uint8_t* model_data = LoadModel(argc, argv, &model_size, &trial);
  if (model_data == nullptr) {
    printf("MCUGEN_ARENA status=no_model\n");
    return 2;
  }
  const tflite::Model* model = tflite::GetModel(model_data);
  static Resolver resolver;
  RegisterOps(resolver);

  if (trial != 0) {
    // One AllocateTensors with an arena of exactly `trial` bytes. Kernels do
    // not always check for a failed allocation; a crash counts as failure,
    // which is why every trial runs in a fresh process.
    bool ok = trial <= sizeof(g_arena) && TryAllocate(model, resolver, trial, nullptr);
    printf("MCUGEN_ARENA trial=%lu status=%s\n", static_cast<unsigned long>(trial),
           ok ? "ok" : "fail");
    return 0;
  }
  size_t used = 0;
#ifdef MCUGEN_MODEL_ADDR
  RegisterDebugLogCallback(PrintLog);  // only here: trials fail on purpose
#endif
  if (!TryAllocate(model, resolver, sizeof(g_arena), &used)) {
    printf("MCUGEN_ARENA status=allocate_failed arena=%lu\n",
           static_cast<unsigned long>(sizeof(g_arena)));
    return 3;
  }
  size_t head = 0, tail = 0;
  if (!SplitHeadTail(model, resolver, sizeof(g_arena), &head, &tail)) {
    printf("MCUGEN_ARENA status=split_failed\n");
    return 4;
  }
  printf("MCUGEN_ARENA used=%lu head=%lu tail=%lu status=ok\n",
         static_cast<unsigned long>(used), static_cast<unsigned long>(head),
         static_cast<unsigned long>(tail));
  return 0;
}
