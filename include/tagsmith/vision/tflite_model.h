#pragma once
// A TensorFlow Lite model (.tflite) executed in float on libtorch, CPU.
//
// Quantized weights are dequantized once at load (per tensor or per channel;
// int32 biases with their stored scale) and the graph runs in float with
// TFLite's semantics: the file's NHWC activations run as NCHW internally,
// TF "SAME" padding is applied asymmetrically (the extra row/column at the
// end) as TFLite does, depthwise convolutions honour depth_multiplier and
// fused activations (RELU, RELU6, RELU_N1_TO_1, TANH) are applied. QUANTIZE
// and DEQUANTIZE are identities in float. Results therefore match a float
// re-implementation of the model, not TFLite's integer kernels bit for bit
// (their difference is the quantization noise of the activations).
//
// load() refuses, with a ModelError naming the file, anything it cannot run:
// a malformed file (see tflite_reader.h), an operator outside the supported
// list (naming it and its node: "unsupported TFLite operator LSTM (builtin
// 16) in node 12"), unsupported options, or shapes that do not fit together.
// The batch dimension (dimension 0 of the inputs) is treated as dynamic: the
// files declare 1, run() accepts any batch.
//
// Supported operators: ADD, MUL, AVERAGE_POOL_2D, MAX_POOL_2D, CONCATENATION,
// CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MEAN, RESHAPE, SQUEEZE,
// SOFTMAX, RESIZE_BILINEAR, ARG_MAX, PAD, LOGISTIC, RELU, RELU6,
// RELU_N1_TO_1, HARD_SWISH, QUANTIZE, DEQUANTIZE.
//
// run() keeps no state between calls and may be called from several
// threads at once. Threads: RuntimeOptions::threads sets torch's intra-op
// threads (process-wide). On a machine shared with other busy processes,
// OpenMP's spinning workers cost more than they give; OMP_WAIT_POLICY=PASSIVE
// (set before the process starts) or threads = 1 is then faster.
//
// This header is torch-free on purpose (see clip_model.h).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <opencv2/core.hpp>
#include <span>
#include <string>
#include <vector>

#include "tagsmith/vision/clip_model.h"  // Matrix, RuntimeOptions
#include "tagsmith/vision/tflite_reader.h"

namespace tagsmith::vision {

class TfliteModel {
 public:
  // Throws ModelError naming the file and the problem.
  static std::unique_ptr<TfliteModel> load(const std::filesystem::path& path,
                                           const RuntimeOptions& options = {});
  // The same from bytes in memory; `origin` names the model in messages.
  static std::unique_ptr<TfliteModel> from_bytes(std::vector<std::uint8_t> bytes,
                                                 const std::string& origin,
                                                 const RuntimeOptions& options = {});
  ~TfliteModel();
  TfliteModel(const TfliteModel&) = delete;
  TfliteModel& operator=(const TfliteModel&) = delete;

  const tflite::Graph& graph() const;
  const std::string& origin() const;

  // The (first) graph input, NHWC: height, width and channels of one image.
  int input_height() const;
  int input_width() const;
  int input_channels() const;
  // Side of the square input (input_height()); the crop size to feed.
  int input_size() const;
  // The real value a uint8 input pixel q stands for: the input tensor's
  // scale * (q - zero_point), or q itself for a float input.
  float input_value(std::uint8_t q) const;

  // Every tensor name in the file, indexed as the file does.
  std::vector<std::string> tensor_names() const;
  // The name of the graph's (first) output tensor.
  const std::string& output_name() const;
  // Values per image of tensor `name` (the product of its dimensions after
  // the batch). Throws NotFoundError for an unknown name.
  int tensor_width(const std::string& name) const;

  // Runs `batch` images given as NHWC floats (batch x H x W x C real input
  // values, i.e. already dequantized) and returns, for each requested tensor,
  // a batch x width Matrix holding that tensor in the file's layout (NHWC
  // order for images). Any intermediate tensor may be requested; execution
  // stops after the last operator needed. Integer outputs (ARG_MAX) are
  // returned as floats. Large batches run a few images per pass internally
  // (activations under ~24 MB each), which is faster than one big pass.
  std::vector<Matrix> run(std::span<const float> nhwc, int batch,
                          const std::vector<std::string>& outputs) const;
  Matrix run(std::span<const float> nhwc, int batch, const std::string& output) const;
  // CV_8UC3 RGB images already of the input size; pixels go through
  // input_value(). Batches of RuntimeOptions::max_batch at a time.
  std::vector<Matrix> run_images(const std::vector<cv::Mat>& rgb,
                                 const std::vector<std::string>& outputs) const;
  Matrix run_images(const std::vector<cv::Mat>& rgb, const std::string& output) const;

  // A constant tensor (e.g. classifier weights), dequantized, as a Matrix of
  // dimension 0 rows by the rest, in the file's layout (a 1x1 convolution's
  // OHWI filter is then out x in). Throws NotFoundError / ModelError.
  Matrix constant(const std::string& name) const;
  // Names of the inputs of the operator computing tensor `name` (empty
  // strings for left-out optional inputs), e.g. {features, weights, bias}
  // of a classifier layer. Throws NotFoundError for an unknown tensor or one
  // no operator computes.
  std::vector<std::string> operator_inputs(const std::string& name) const;

 private:
  struct Impl;
  explicit TfliteModel(std::unique_ptr<Impl> impl);
  static std::unique_ptr<TfliteModel> build(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tagsmith::vision
