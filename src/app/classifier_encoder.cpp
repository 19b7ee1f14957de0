#include "classifier_encoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "clip_encoder.h"  // rows_of
#include "tagsmith/common/error.h"
#include "tagsmith/common/files.h"
#include "tagsmith/common/hash.h"
#include "tagsmith/tagging/label_map.h"
#include "tagsmith/vision/preprocess.h"
#include "tagsmith/vision/tflite_model.h"

namespace tagsmith::app {
namespace fs = std::filesystem;
namespace tfl = vision::tflite;
namespace {

std::vector<std::string> read_labels(const fs::path& file) {
  try {
    return tagging::LabelMap::parse_label_list(read_file_text(file));
  } catch (const Error& e) {
    throw vision::ModelError("cannot read the label file " + file.string() + ": " + e.what());
  }
}

// The classifier layer at the end of the network, applied to a stored
// embedding: probabilities = softmax(beta * (W x + b)).
struct ClassifierLayer {
  vision::Matrix weights;  // classes x dim
  std::vector<float> bias;
  float beta = 1.0f;

  std::vector<float> probabilities(std::span<const float> x) const {
    const int classes = weights.rows, dim = weights.cols;
    std::vector<double> z(static_cast<std::size_t>(classes));
    double top = -INFINITY;
    for (int c = 0; c < classes; ++c) {
      const auto w = weights.row(c);
      double s = bias.empty() ? 0.0 : bias[static_cast<std::size_t>(c)];
      for (int d = 0; d < dim; ++d) s += double(w[d]) * x[static_cast<std::size_t>(d)];
      z[static_cast<std::size_t>(c)] = beta * s;
      top = std::max(top, z[static_cast<std::size_t>(c)]);
    }
    double sum = 0;
    for (auto& v : z) sum += (v = std::exp(v - top));
    std::vector<float> p(z.size());
    for (std::size_t c = 0; c < z.size(); ++c) p[c] = static_cast<float>(z[c] / sum);
    return p;
  }
};

// Walks back from the graph's output over the operators that only reshape,
// normalise or requantize (SOFTMAX, RESHAPE, SQUEEZE, QUANTIZE, DEQUANTIZE)
// to the classifier operator (FULLY_CONNECTED or a 1x1 CONV_2D). Its input is
// the embedding; its weights and bias are the classifier layer.
struct Anatomy {
  std::string embedding_tensor;
  ClassifierLayer layer;
};

Anatomy dissect(const vision::TfliteModel& model) {
  const tfl::Graph& g = model.graph();
  auto producer = [&](int tensor) -> const tfl::Operator* {
    for (const auto& op : g.operators)
      if (std::find(op.outputs.begin(), op.outputs.end(), tensor) != op.outputs.end()) return &op;
    return nullptr;
  };
  if (g.outputs.empty()) throw vision::ModelError(model.origin() + ": the graph has no output");
  int tensor = g.outputs.front();
  float beta = 1.0f;
  for (int steps = 0; steps < 8; ++steps) {
    const tfl::Operator* op = producer(tensor);
    if (!op || op->inputs.empty()) break;
    switch (op->builtin) {
      case tfl::builtin::kSoftmax:
        if (op->options.beta > 0) beta = op->options.beta;
        [[fallthrough]];
      case tfl::builtin::kReshape:
      case tfl::builtin::kSqueeze:
      case tfl::builtin::kQuantize:
      case tfl::builtin::kDequantize:
        tensor = op->inputs.front();
        continue;
      case tfl::builtin::kFullyConnected:
      case tfl::builtin::kConv2d: {
        if (op->inputs.size() < 2) break;
        const auto& w = g.tensors.at(static_cast<std::size_t>(op->inputs[1]));
        if (op->builtin == tfl::builtin::kConv2d &&
            (w.shape.size() != 4 || w.shape[1] != 1 || w.shape[2] != 1))
          break;  // not a 1x1 convolution: not a classifier layer
        Anatomy a;
        a.embedding_tensor = g.tensors.at(static_cast<std::size_t>(op->inputs[0])).name;
        a.layer.weights = model.constant(w.name);
        if (op->inputs.size() > 2 && op->inputs[2] >= 0) {
          const auto b = model.constant(g.tensors.at(static_cast<std::size_t>(op->inputs[2])).name);
          a.layer.bias = b.data;
        }
        a.layer.beta = beta;
        if (a.layer.weights.cols != model.tensor_width(a.embedding_tensor))
          throw vision::ModelError(fmt::format(
              "{}: classifier weights of {} columns for a {}-value feature", model.origin(),
              a.layer.weights.cols, model.tensor_width(a.embedding_tensor)));
        return a;
      }
      default:
        break;
    }
    break;
  }
  throw vision::ModelError(model.origin() +
                           ": no classifier layer (FULLY_CONNECTED or 1x1 CONV_2D) found before "
                           "the output, so there is no feature to use as the embedding");
}

class LabelMapScoreProvider;

class ClassifierEncoder final : public Encoder,
                                public std::enable_shared_from_this<ClassifierEncoder> {
 public:
  ClassifierEncoder(std::unique_ptr<vision::TfliteModel> model, std::vector<std::string> labels,
                    std::string label_map, std::string version)
      : model_(std::move(model)),
        labels_(std::move(labels)),
        label_map_(std::move(label_map)),
        version_(std::move(version)),
        anatomy_(dissect(*model_)) {
    if (static_cast<int>(labels_.size()) != anatomy_.layer.weights.rows)
      throw vision::ModelError(fmt::format("{}: {} labels for {} classes", model_->origin(),
                                           labels_.size(), anatomy_.layer.weights.rows));
  }

  EncoderFamily family() const override { return EncoderFamily::kClassifier; }
  const std::string& version() const override { return version_; }
  int embedding_dim() const override { return anatomy_.layer.weights.cols; }
  int preferred_batch() const override { return 16; }
  int input_size() const override { return model_->input_size(); }  // shortest side, then crop

  std::vector<std::vector<float>> embed_images(const std::vector<cv::Mat>& rgb) const override {
    std::vector<cv::Mat> crops;
    crops.reserve(rgb.size());
    for (const auto& image : rgb)
      crops.push_back(vision::classifier_resize_crop(image, model_->input_size()));
    return rows_of(model_->run_images(crops, anatomy_.embedding_tensor));
  }

  // Class probabilities of a stored embedding, through the network's own
  // classifier layer.
  std::vector<float> class_probabilities(std::span<const float> embedding) const {
    return anatomy_.layer.probabilities(embedding);
  }
  const std::vector<std::string>& labels() const { return labels_; }
  // The label map's YAML: the model folder's label_map.yaml, else the
  // built-in ImageNet map.
  std::string_view label_map() const {
    return label_map_.empty() ? tagging::LabelMap::builtin_imagenet_yaml()
                              : std::string_view(label_map_);
  }

  std::unique_ptr<tagging::ScoreProvider> score_provider(const fs::path& cache_dir,
                                                         std::set<std::string> skip) const override;

 private:
  std::unique_ptr<vision::TfliteModel> model_;
  std::vector<std::string> labels_;
  std::string label_map_;
  std::string version_;
  Anatomy anatomy_;
};

// Mapped class labels as tagging evidence: the stored embedding goes through
// the classifier layer, and the label map (data/imagenet_map.yaml, or the
// library's own) turns class probabilities into taxonomy scores.
class LabelMapScoreProvider final : public tagging::ScoreProvider {
 public:
  LabelMapScoreProvider(std::shared_ptr<const ClassifierEncoder> encoder,
                        std::set<std::string> skip)
      : encoder_(std::move(encoder)), skip_(std::move(skip)) {}

  std::string name() const override { return "label-map"; }
  std::string embedding_model() const override { return encoder_->version(); }
  void prepare(const taxonomy::Taxonomy& tax) override {
    map_ = std::make_unique<tagging::LabelMap>(tagging::LabelMap::load(
        encoder_->label_map(), "label map of " + encoder_->version(), encoder_->labels(), tax));
  }
  std::vector<tagging::ScoreSet> scores(const taxonomy::Taxonomy&,
                                        const tagging::ScoreRequest& r) const override {
    if (r.embedding.empty() || !map_ ||
        static_cast<int>(r.embedding.size()) != encoder_->embedding_dim())
      return {};
    auto sets =
        map_->scores(encoder_->class_probabilities(r.embedding), "model:" + encoder_->version());
    std::erase_if(sets, [&](const tagging::ScoreSet& s) { return skip_.count(s.attribute) > 0; });
    return sets;
  }

 private:
  std::shared_ptr<const ClassifierEncoder> encoder_;
  std::set<std::string> skip_;
  std::unique_ptr<tagging::LabelMap> map_;
};

std::unique_ptr<tagging::ScoreProvider> ClassifierEncoder::score_provider(
    const fs::path&, std::set<std::string> skip) const {
  return std::make_unique<LabelMapScoreProvider>(shared_from_this(), std::move(skip));
}

}  // namespace

std::optional<ClassifierFiles> find_classifier_files(const fs::path& dir) {
  std::vector<fs::path> models, labels;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    const auto name = e.path().filename().string();
    if (e.path().extension() == ".tflite") models.push_back(e.path());
    if (e.path().extension() == ".txt" && name.find("label") != std::string::npos)
      labels.push_back(e.path());
  }
  if (models.empty()) return std::nullopt;
  if (models.size() > 1)
    throw vision::ModelError(fmt::format("{} holds {} .tflite files; keep one model per folder",
                                         dir.string(), models.size()));
  if (labels.size() != 1)
    throw vision::ModelError(fmt::format(
        "{} holds {} but {} label files: a classifier needs one (labels.txt, one class per line "
        "in output order)",
        dir.string(), models.front().filename().string(), labels.empty() ? "no" : "several"));
  ClassifierFiles files{models.front(), labels.front(), {}};
  if (fs::is_regular_file(dir / "label_map.yaml")) files.label_map = dir / "label_map.yaml";
  return files;
}

std::shared_ptr<const Encoder> load_classifier_encoder(const ClassifierFiles& files,
                                                       const std::string& name, int threads,
                                                       vision::Precision precision) {
  // One intra-op thread: ingest decodes on the other cores meanwhile, and on
  // a busy machine OpenMP's spinning workers cost more than a second thread
  // gives (bench_tflite: 145 images/s on 1 thread, 40/s on 2 under load).
  vision::RuntimeOptions options;
  options.threads = 1;
  options.precision = precision;
  (void)threads;
  auto model = vision::TfliteModel::load(files.model, options);
  const std::string bytes = read_file_text(files.model);
  const std::string version = fmt::format("{}@{}", name.empty() ? std::string("classifier") : name,
                                          sha256_hex(bytes).substr(0, 12));
  return std::make_shared<ClassifierEncoder>(
      std::move(model), read_labels(files.labels),
      files.label_map.empty() ? std::string() : read_file_text(files.label_map), version);
}

}  // namespace tagsmith::app
