// Head inference and the on-disk format. No torch here: scoring an asset is a
// handful of dot products, and loading a model must not need libtorch's
// serialisation (or its compile time).
#include "tagsmith/training/heads.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>

#include "tagsmith/common/error.h"
#include "tagsmith/training/calibration.h"

namespace tagsmith::training {
namespace {

constexpr const char* kFormat = "tagsmith-heads/1";

double dot(const float* a, const float* b, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

void check_shapes(const AttributeHead& h) {
  const std::size_t c = h.classes.size(), d = h.dim, hid = h.hidden;
  auto bad = [&](const char* what) {
    throw Error("heads for '" + h.attribute + "': " + what + " has the wrong size");
  };
  if (hid == 0) {
    if (h.w1.size() != c * d) bad("W");
    if (h.b1.size() != c) bad("b");
  } else {
    if (h.w1.size() != hid * d) bad("W1");
    if (h.b1.size() != hid) bad("b1");
    if (h.w2.size() != c * hid) bad("W2");
    if (h.b2.size() != c) bad("b2");
  }
  if (!h.prior.empty() && h.prior.size() != c * d) bad("prior");
  if (!h.center.empty() && h.center.size() != d) bad("center");
  if (h.blend.size() != c) bad("blend");
  if (!h.centroids.empty() && h.centroids.size() != c * d) bad("centroids");
  if (!h.ood_threshold.empty() && h.ood_threshold.size() != c) bad("ood_threshold");
}

}  // namespace

std::vector<float> normalised(std::span<const float> v) {
  double n = 0;
  for (float x : v) n += static_cast<double>(x) * x;
  std::vector<float> out(v.begin(), v.end());
  if (n > 0) {
    const double inv = 1.0 / std::sqrt(n);
    for (auto& x : out) x = static_cast<float>(x * inv);
  }
  return out;
}

std::vector<double> AttributeHead::logits(std::span<const float> x) const {
  if (static_cast<int>(x.size()) != dim) {
    throw InputError("heads for '" + attribute + "' expect " + std::to_string(dim) +
                     "-d embeddings, got " + std::to_string(x.size()));
  }
  const std::size_t c = classes.size();
  std::vector<double> z(c);
  std::vector<float> centered;
  if (!center.empty()) {
    centered.resize(static_cast<std::size_t>(dim));
    for (int i = 0; i < dim; ++i) centered[i] = x[i] - center[i];
    centered = normalised(centered);
  }
  const float* in = center.empty() ? x.data() : centered.data();
  if (hidden == 0) {
    for (std::size_t k = 0; k < c; ++k) z[k] = dot(&w1[k * dim], in, dim) + b1[k];
  } else {
    std::vector<float> h(hidden);
    for (int j = 0; j < hidden; ++j) {
      h[j] = static_cast<float>(std::max(0.0, dot(&w1[j * dim], in, dim) + b1[j]));
    }
    for (std::size_t k = 0; k < c; ++k) z[k] = dot(&w2[k * hidden], h.data(), hidden) + b2[k];
  }
  if (!prior.empty()) {
    for (std::size_t k = 0; k < c; ++k) {
      z[k] = blend[k] * z[k] + (1.0 - blend[k]) * dot(&prior[k * dim], x.data(), dim);
    }
  }
  return z;
}

std::vector<double> AttributeHead::probabilities(std::span<const float> x) const {
  const auto z = logits(x);
  return softmax(z, temperature);
}

AttributeHead::Ood AttributeHead::ood(std::span<const float> x) const {
  Ood r;
  if (centroids.empty()) return r;  // no statistics: never flag
  r.best_similarity = -1;
  r.out_of_distribution = true;
  for (std::size_t k = 0; k < classes.size(); ++k) {
    if (!std::isfinite(ood_threshold[k])) continue;  // class without examples
    const double s = dot(&centroids[k * dim], x.data(), dim);
    r.best_similarity = std::max(r.best_similarity, s);
    if (s >= ood_threshold[k]) r.out_of_distribution = false;
  }
  return r;
}

const AttributeHead* HeadSet::head(const std::string& attribute) const {
  for (const auto& h : heads) {
    if (h.attribute == attribute) return &h;
  }
  return nullptr;
}

void HeadSet::save(const std::filesystem::path& dir) const {
  namespace fs = std::filesystem;
  nlohmann::json j = {
      {"format", kFormat},        {"version", version},   {"encoder_version", encoder_version},
      {"created_at", created_at}, {"metadata", metadata}, {"heads", nlohmann::json::array()}};
  std::vector<float> blob;
  auto put = [&](const std::vector<float>& v) {
    nlohmann::json ref = {blob.size(), v.size()};
    blob.insert(blob.end(), v.begin(), v.end());
    return ref;
  };
  for (const auto& h : heads) {
    check_shapes(h);
    j["heads"].push_back({{"attribute", h.attribute},
                          {"classes", h.classes},
                          {"dim", h.dim},
                          {"hidden", h.hidden},
                          {"temperature", h.temperature},
                          {"train_counts", h.train_counts},
                          {"metrics", h.metrics},
                          {"arrays",
                           {{"w1", put(h.w1)},
                            {"b1", put(h.b1)},
                            {"w2", put(h.w2)},
                            {"b2", put(h.b2)},
                            {"prior", put(h.prior)},
                            {"center", put(h.center)},
                            {"blend", put(h.blend)},
                            {"centroids", put(h.centroids)},
                            {"ood_threshold", put(h.ood_threshold)}}}});
  }
  fs::path tmp = dir;
  tmp += ".tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  {
    std::ofstream bin(tmp / "heads.bin", std::ios::binary);
    bin.write(reinterpret_cast<const char*>(blob.data()),
              static_cast<std::streamsize>(blob.size() * sizeof(float)));
    std::ofstream meta(tmp / "heads.json");
    meta << j.dump(2) << '\n';
    if (!bin || !meta) throw Error("could not write heads to " + tmp.string());
  }
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  fs::rename(tmp, dir);
}

HeadSet HeadSet::load(const std::filesystem::path& dir) {
  std::ifstream meta(dir / "heads.json");
  if (!meta) throw NotFoundError("no heads model at " + dir.string() + " (heads.json missing)");
  nlohmann::json j;
  try {
    meta >> j;
  } catch (const nlohmann::json::exception& e) {
    throw Error("heads model at " + dir.string() + " is corrupt: " + e.what());
  }
  if (j.value("format", "") != kFormat) {
    throw Error("heads model at " + dir.string() + " has unknown format '" + j.value("format", "") +
                "'");
  }
  std::ifstream bin(dir / "heads.bin", std::ios::binary | std::ios::ate);
  if (!bin) throw Error("heads model at " + dir.string() + ": heads.bin missing");
  const auto bytes = static_cast<std::size_t>(bin.tellg());
  std::vector<float> blob(bytes / sizeof(float));
  bin.seekg(0);
  bin.read(reinterpret_cast<char*>(blob.data()), static_cast<std::streamsize>(bytes));

  HeadSet s;
  s.version = j.at("version");
  s.encoder_version = j.at("encoder_version");
  s.created_at = j.value("created_at", "");
  s.metadata = j.value("metadata", nlohmann::json::object());
  for (const auto& hj : j.at("heads")) {
    AttributeHead h;
    h.attribute = hj.at("attribute");
    h.classes = hj.at("classes").get<std::vector<std::string>>();
    h.dim = hj.at("dim");
    h.hidden = hj.at("hidden");
    h.temperature = hj.at("temperature");
    h.train_counts = hj.value("train_counts", std::vector<int>{});
    h.metrics = hj.value("metrics", nlohmann::json::object());
    auto get = [&](const char* name) {
      const auto& ref = hj.at("arrays").at(name);
      const std::size_t off = ref.at(0), n = ref.at(1);
      if (off + n > blob.size()) throw Error("heads model at " + dir.string() + " is truncated");
      return std::vector<float>(blob.begin() + off, blob.begin() + off + n);
    };
    h.w1 = get("w1");
    h.b1 = get("b1");
    h.w2 = get("w2");
    h.b2 = get("b2");
    h.prior = get("prior");
    if (hj.at("arrays").contains("center")) h.center = get("center");  // older heads: none
    h.blend = get("blend");
    h.centroids = get("centroids");
    h.ood_threshold = get("ood_threshold");
    check_shapes(h);
    s.heads.push_back(std::move(h));
  }
  return s;
}

}  // namespace tagsmith::training
