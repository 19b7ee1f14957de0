#include "tagsmith/vision/person_segmenter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <vector>

#include "tagsmith/common/error.h"
#include "tagsmith/vision/preprocess.h"
#include "tagsmith/vision/tflite_model.h"

namespace tagsmith::vision {
namespace fs = std::filesystem;
namespace {

fs::path find_model_file(const fs::path& dir) {
  if (!fs::is_directory(dir))
    throw ModelError(fmt::format("person segmenter: no model directory {}", dir.string()));
  std::vector<fs::path> models;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && e.path().extension() == ".tflite") models.push_back(e.path());
  if (models.size() != 1)
    throw ModelError(fmt::format(
        "person segmenter: {} holds {} .tflite files; expected one (e.g. "
        "deeplabv3_mnv2_pascal_quant.tflite)",
        dir.string(), models.empty() ? std::string("no") : std::to_string(models.size())));
  return models.front();
}

// The person class from the labels file beside the model: the line reading
// "person" among the first 21 (Coral's file has a note after the classes).
int person_class_of(const fs::path& dir, const std::string& origin) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".txt" || name.find("label") == std::string::npos) continue;
    std::ifstream in(e.path());
    std::string line;
    for (int i = 0; i < PersonSegmenter::kPascalClasses && std::getline(in, line); ++i) {
      while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
        line.pop_back();
      if (line == "person") return i;
    }
    throw ModelError(
        fmt::format("{}: the labels file {} names no \"person\" class in its first {} "
                    "lines",
                    origin, e.path().string(), PersonSegmenter::kPascalClasses));
  }
  return PersonSegmenter::kPascalPerson;
}

// A 21-class segmenter: a square RGB input, and an output that is the
// per-pixel ARG_MAX over 21 class scores, one value per input pixel.
void check_segmenter_graph(const TfliteModel& model) {
  const auto& g = model.graph();
  const std::string& origin = model.origin();
  if (model.input_channels() != 3 || model.input_height() != model.input_width())
    throw ModelError(fmt::format("{}: not a segmenter: input {}x{}x{}, expected a square RGB image",
                                 origin, model.input_height(), model.input_width(),
                                 model.input_channels()));
  if (g.outputs.empty()) throw ModelError(origin + ": the graph has no output");
  const int out = g.outputs.front();
  const tflite::Operator* producer = nullptr;
  for (const auto& op : g.operators)
    if (std::find(op.outputs.begin(), op.outputs.end(), out) != op.outputs.end()) producer = &op;
  const int pixels = model.input_height() * model.input_width();
  if (!producer || producer->builtin != tflite::builtin::kArgMax || producer->inputs.empty() ||
      model.tensor_width(model.output_name()) != pixels)
    throw ModelError(fmt::format(
        "{}: not a segmenter: the output {} is not a per-pixel class (ARG_MAX of {} values)",
        origin, model.output_name(), pixels));
  const auto& scores = g.tensors.at(static_cast<std::size_t>(producer->inputs.front()));
  if (scores.shape.empty() || scores.shape.back() != PersonSegmenter::kPascalClasses)
    throw ModelError(
        fmt::format("{}: not a {}-class segmenter: the class scores {} have {} classes", origin,
                    PersonSegmenter::kPascalClasses, scores.name,
                    scores.shape.empty() ? 0 : scores.shape.back()));
}

}  // namespace

std::unique_ptr<PersonSegmenter> PersonSegmenter::load(const fs::path& dir,
                                                       const RuntimeOptions& options) {
  const fs::path file = find_model_file(dir);
  auto model = TfliteModel::load(file, options);
  check_segmenter_graph(*model);
  const int person = person_class_of(dir, model->origin());
  const std::string version = fs::absolute(dir).lexically_normal().filename().string();
  return std::unique_ptr<PersonSegmenter>(new PersonSegmenter(std::move(model), version, person));
}

PersonSegmenter::PersonSegmenter(std::unique_ptr<TfliteModel> model, std::string version,
                                 int person_class)
    : model_(std::move(model)), version_(std::move(version)), person_class_(person_class) {}

PersonSegmenter::~PersonSegmenter() = default;

cv::Mat PersonSegmenter::person_mask(const cv::Mat& rgb) const {
  if (rgb.empty() || rgb.type() != CV_8UC3)
    throw InputError("person_mask needs a non-empty 8-bit RGB image");
  const int side = model_->input_size();
  // The whole photo squeezed to the square input (no crop: a person at the
  // edge is still seen), as the model's reference example feeds it.
  const cv::Mat input = resize_bilinear_pil(rgb, side, side);
  const Matrix classes = model_->run_images({input}, model_->output_name());
  cv::Mat square(side, side, CV_8U);
  const float person = static_cast<float>(person_class_);
  for (int i = 0; i < side * side; ++i)
    square.data[i] = classes.data[static_cast<std::size_t>(i)] == person ? 255 : 0;
  if (rgb.rows == side && rgb.cols == side) return square;
  // Back to the photo's size: resampled as grey, then cut at half way, so
  // the edge follows the model's boundary rather than a nearest-pixel stair.
  cv::Mat mask = resize_bilinear_pil(square, rgb.cols, rgb.rows);
  for (int y = 0; y < mask.rows; ++y) {
    auto* row = mask.ptr<std::uint8_t>(y);
    for (int x = 0; x < mask.cols; ++x) row[x] = row[x] >= 128 ? 255 : 0;
  }
  return mask;
}

}  // namespace tagsmith::vision
