// mcugen layout probe: sizeof/alignof of every TFLM structure that lands in the
// tensor arena, as the target compiler lays them out. Compiled (never linked or
// run) by mcugen/calibrate/layout.py with a library entry's flags; the records are
// read back from the object's .mcugen_layout section.
//
// Kernel structs that live in an anonymous namespace of a kernel's .cc file
// cannot be named from here; they are mirrored below, field for field, with
// the file they come from. tests/tflm checks the mirrors against real
// measurements (the arena estimate is compared with AllocateTensors).
#include <cstddef>
#include <cstdint>

#include "tensorflow/lite/c/builtin_op_data.h"
#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/kernels/internal/types.h"
#include "tensorflow/lite/micro/arena_allocator/recording_single_arena_buffer_allocator.h"
#include "tensorflow/lite/micro/arena_allocator/single_arena_buffer_allocator.h"
#include "tensorflow/lite/micro/kernels/activations.h"
#include "tensorflow/lite/micro/kernels/add.h"
#include "tensorflow/lite/micro/kernels/conv.h"
#include "tensorflow/lite/micro/kernels/depthwise_conv.h"
#include "tensorflow/lite/micro/kernels/dequantize.h"
#include "tensorflow/lite/micro/kernels/fully_connected.h"
#include "tensorflow/lite/micro/kernels/hard_swish.h"
#include "tensorflow/lite/micro/kernels/leaky_relu.h"
#include "tensorflow/lite/micro/kernels/logistic.h"
#include "tensorflow/lite/micro/kernels/mul.h"
#include "tensorflow/lite/micro/kernels/pad.h"
#include "tensorflow/lite/micro/kernels/pooling.h"
#include "tensorflow/lite/micro/kernels/quantize.h"
#include "tensorflow/lite/micro/kernels/reduce.h"
#include "tensorflow/lite/micro/kernels/softmax.h"
#include "tensorflow/lite/micro/kernels/sub.h"
#include "tensorflow/lite/micro/kernels/svdf.h"
#include "tensorflow/lite/micro/memory_planner/greedy_memory_planner.h"
#include "tensorflow/lite/micro/memory_planner/linear_memory_planner.h"
#include "tensorflow/lite/micro/micro_allocation_info.h"
#include "tensorflow/lite/micro/micro_allocator.h"
#include "tensorflow/lite/micro/recording_micro_allocator.h"
#include "tensorflow/lite/micro/tflite_bridge/flatbuffer_conversions_bridge.h"

namespace mirror {

// micro_allocator.cc, anonymous namespace.
class MicroBuiltinDataAllocator : public tflite::TfLiteBridgeBuiltinDataAllocator {
 public:
  void* Allocate(size_t, size_t) override { return nullptr; }
  void Deallocate(void*) override {}
  tflite::IPersistentBufferAllocator* persistent_allocator_;
};

// kernels/cmsis_nn/conv.cc and kernels/cmsis_nn/depthwise_conv.cc.
struct CmsisConvOpData {
  tflite::OpDataConv reference_op_data;
  int buffer_idx;
};

// kernels/cmsis_nn/fully_connected.cc.
struct CmsisFullyConnectedOpData {
  tflite::OpDataFullyConnected reference_op_data;
  int buffer_conv_1x1_idx;
  int buffer_idx;
  int32_t* kernel_sums;
  int32_t batches;
  int32_t accum_depth;
  int32_t output_depth;
};

// kernels/cmsis_nn/pooling.cc.
struct CmsisPoolingOpData {
  tflite::OpDataPooling reference_op_data;
  int buffer_idx;
};

// kernels/cmsis_nn/add.cc (the same fields as OpDataAdd).
struct CmsisAddOpData {
  bool requires_broadcast;
  int input1_shift;
  int input2_shift;
  int32_t output_activation_min;
  int32_t output_activation_max;
  int32_t input1_multiplier;
  int32_t input2_multiplier;
  int32_t output_multiplier;
  int output_shift;
  int left_shift;
  int32_t input1_offset;
  int32_t input2_offset;
  int32_t output_offset;
  float output_activation_min_f32;
  float output_activation_max_f32;
};

// kernels/cmsis_nn/softmax.cc.
struct CMSISNNSoftmaxParams {
  tflite::SoftmaxParams softmax_params;
  int32_t num_rows;
  int32_t row_size;
};

// kernels/cmsis_nn/svdf.cc (built with KERNELS_OPTIMIZED_FOR_SPEED).
struct CmsisNnOpDataSvdf {
  int32_t effective_scale_1_a;
  int32_t effective_scale_2_a;
  int effective_scale_1_b;
  int effective_scale_2_b;
  int scratch_tensor_index;
  int scratch_output_tensor_index;
  int input_zero_point;
  int output_zero_point;
  int activation_state_zero_point;
  int32_t* kernel_sums;
};

// kernels/concatenation.cc.
struct ConcatenationOpData {
  tflite::ConcatenationParams params;
};

// kernels/tanh.cc.
struct TanhOpData {
  int32_t input_zero_point;
  int32_t input_range_radius;
  int32_t input_multiplier;
  int input_left_shift;
};

}  // namespace mirror

namespace {

struct Record {
  char name[56];
  uint32_t size;
  uint32_t align;
};

#define MCUGEN_RECORD(key, type) {key, sizeof(type), alignof(type)}

}  // namespace

extern "C" __attribute__((used, section(".mcugen_layout"))) const Record mcugen_layout[] = {
    // The arena allocators and the interpreter's bookkeeping.
    MCUGEN_RECORD("SingleArenaBufferAllocator", tflite::SingleArenaBufferAllocator),
    MCUGEN_RECORD("RecordingSingleArenaBufferAllocator", tflite::RecordingSingleArenaBufferAllocator),
    MCUGEN_RECORD("GreedyMemoryPlanner", tflite::GreedyMemoryPlanner),
    MCUGEN_RECORD("LinearMemoryPlanner", tflite::LinearMemoryPlanner),
    MCUGEN_RECORD("MicroAllocator", tflite::MicroAllocator),
    MCUGEN_RECORD("RecordingMicroAllocator", tflite::RecordingMicroAllocator),
    MCUGEN_RECORD("MicroBuiltinDataAllocator", mirror::MicroBuiltinDataAllocator),
    MCUGEN_RECORD("SubgraphAllocations", tflite::SubgraphAllocations),
    MCUGEN_RECORD("TfLiteEvalTensor", TfLiteEvalTensor),
    MCUGEN_RECORD("TfLiteTensor", TfLiteTensor),
    MCUGEN_RECORD("TfLiteNode", TfLiteNode),
    MCUGEN_RECORD("NodeAndRegistration", tflite::NodeAndRegistration),
    MCUGEN_RECORD("TfLiteAffineQuantization", TfLiteAffineQuantization),
    MCUGEN_RECORD("TfLiteIntArray", TfLiteIntArray),
    MCUGEN_RECORD("ScratchBufferHandle", tflite::ScratchBufferHandle),
    MCUGEN_RECORD("ScratchBufferRequest", tflite::internal::ScratchBufferRequest),
    MCUGEN_RECORD("AllocationInfo", tflite::AllocationInfo),
    MCUGEN_RECORD("pointer", void*),
    MCUGEN_RECORD("size_t", size_t),
    // Kernel op data (node->user_data), public headers.
    MCUGEN_RECORD("OpDataConv", tflite::OpDataConv),
    MCUGEN_RECORD("OpDataFullyConnected", tflite::OpDataFullyConnected),
    MCUGEN_RECORD("OpDataPooling", tflite::OpDataPooling),
    MCUGEN_RECORD("OpDataAdd", tflite::OpDataAdd),
    MCUGEN_RECORD("OpDataSub", tflite::OpDataSub),
    MCUGEN_RECORD("OpDataMul", tflite::OpDataMul),
    MCUGEN_RECORD("SoftmaxParams", tflite::SoftmaxParams),
    MCUGEN_RECORD("OpDataQuantizeReference", tflite::OpDataQuantizeReference),
    MCUGEN_RECORD("DequantizeOpData", tflite::DequantizeOpData),
    MCUGEN_RECORD("OpDataSvdf", tflite::OpDataSvdf),
    MCUGEN_RECORD("ReluOpData", tflite::ReluOpData),
    MCUGEN_RECORD("Relu6OpData", tflite::Relu6OpData),
    MCUGEN_RECORD("OpDataLogistic", tflite::OpDataLogistic),
    MCUGEN_RECORD("HardSwishParams", tflite::HardSwishParams),
    MCUGEN_RECORD("LeakyReluOpData", tflite::LeakyReluOpData),
    MCUGEN_RECORD("OpDataReduce", tflite::OpDataReduce),
    MCUGEN_RECORD("StridedSliceParams", tflite::StridedSliceParams),
    MCUGEN_RECORD("PadOpData", tflite::OpData),
    // Kernel op data, mirrored private structs.
    MCUGEN_RECORD("CmsisConvOpData", mirror::CmsisConvOpData),
    MCUGEN_RECORD("CmsisFullyConnectedOpData", mirror::CmsisFullyConnectedOpData),
    MCUGEN_RECORD("CmsisPoolingOpData", mirror::CmsisPoolingOpData),
    MCUGEN_RECORD("CmsisAddOpData", mirror::CmsisAddOpData),
    MCUGEN_RECORD("CMSISNNSoftmaxParams", mirror::CMSISNNSoftmaxParams),
    MCUGEN_RECORD("CmsisNnOpDataSvdf", mirror::CmsisNnOpDataSvdf),
    MCUGEN_RECORD("ConcatenationOpData", mirror::ConcatenationOpData),
    MCUGEN_RECORD("TanhOpData", mirror::TanhOpData),
    // Builtin parameter structs (node->builtin_data), one per parser that allocates.
#define MCUGEN_PARAMS(type) MCUGEN_RECORD(#type, type),
#include "layout_params.inc"
#undef MCUGEN_PARAMS
};
