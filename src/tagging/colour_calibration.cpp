// Colour calibration: candidates, features, the conditional logit and its fit.
#include "tagsmith/tagging/colour_calibration.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "tagsmith/common/error.h"
#include "tagsmith/image/colour.h"

namespace tagsmith::embedded {
std::string_view colour_calibration_yaml();
}

namespace tagsmith::tagging {
namespace {

// A family that holds at least this share of the product counts as one of
// the "strong" colours of a multi-coloured product.
constexpr double kStrongShare = 0.2;

enum Feature : std::size_t {
  kColour,
  kColourShare,
  kColourRunnerUpShare,
  kColourTop,
  kColourMargin,
  kColourDeltaE,
  kColourGap,
  kColourChroma,
  kColourLightness,
  kColourDark,
  kColourNeutral,
  kColourNeutralChroma,
  kColourNeutralLightness,
  kColourMaskPerson,
  kColourMaskBusy,
  kColourMaskNone,
  kColourProductFraction,
  kMulti,
  kMultiSecondShare,
  kMultiRestShare,
  kMultiContrast,
  kMultiStrongFamilies,
  kMultiMaskBusy,
  kFeatureCount
};

// Families without hue. A cluster named by one of them while it still has
// visible chroma (faded denim named "grey") is the calibration's most common
// correction, so these get their own features.
bool neutral(const std::string& family) {
  return family == "white" || family == "grey" || family == "silver" || family == "black";
}

// Evidence for one family, pooled over the clusters that name it first or
// as their runner-up.
struct Pool {
  std::string family;
  double first = 0, runner_up = 0;  // shares naming it first / second
  double weighted_de = 0, weighted_gap = 0;
  double L = 0, a = 0, b = 0;     // share-weighted sums
  double fL = 0, fa = 0, fb = 0;  // the same over the clusters naming it first
  double weight() const { return first + runner_up; }
  Lab lab() const { return {L / weight(), a / weight(), b / weight()}; }
  Lab named_lab() const { return {fL / first, fa / first, fb / first}; }
  void add(const DominantColour& c, bool as_first) {
    (as_first ? first : runner_up) += c.share;
    if (as_first) fL += c.share * c.lab.L, fa += c.share * c.lab.a, fb += c.share * c.lab.b;
    const double de = as_first ? c.delta_e : c.alt_delta_e;
    weighted_de += c.share * de;
    weighted_gap += c.share * (de - c.delta_e);
    L += c.share * c.lab.L, a += c.share * c.lab.a, b += c.share * c.lab.b;
  }
};

}  // namespace

const std::vector<std::string>& colour_feature_names() {
  static const std::vector<std::string> names = {"colour",
                                                 "colour_share",
                                                 "colour_runner_up_share",
                                                 "colour_top",
                                                 "colour_margin",
                                                 "colour_delta_e",
                                                 "colour_gap",
                                                 "colour_chroma",
                                                 "colour_lightness",
                                                 "colour_dark",
                                                 "colour_neutral",
                                                 "colour_neutral_chroma",
                                                 "colour_neutral_lightness",
                                                 "colour_mask_person",
                                                 "colour_mask_busy",
                                                 "colour_mask_none",
                                                 "colour_product_fraction",
                                                 "multi",
                                                 "multi_second_share",
                                                 "multi_rest_share",
                                                 "multi_contrast",
                                                 "multi_strong_families",
                                                 "multi_mask_busy"};
  return names;
}

const std::vector<double>& colour_prior_weights() {
  static const std::vector<double> w = [] {
    // The colour features start neutral (0): how share, ΔE and the rest map
    // to being right depends on the photos, and the data say it well. What
    // photos rarely show enough of is the structure of "multi".
    std::vector<double> p(kFeatureCount, 0.0);
    p[kMulti] = -4.0;
    p[kMultiSecondShare] = 6.0;  // a second family holding a large share...
    p[kMultiRestShare] = 2.0;
    p[kMultiContrast] = 3.0;  // ...that contrasts with the first
    p[kMultiStrongFamilies] = 0.5;
    return p;
  }();
  return w;
}

std::vector<ColourCandidate> colour_candidates(const ColourAnalysis& colours) {
  std::vector<Pool> pools;
  auto pool = [&](const std::string& family) -> Pool& {
    auto it =
        std::find_if(pools.begin(), pools.end(), [&](const Pool& p) { return p.family == family; });
    if (it == pools.end()) it = pools.insert(pools.end(), Pool{family});
    return *it;
  };
  for (const auto& c : colours.colours) {
    if (c.family.empty() || c.share <= 0) continue;
    pool(c.family).add(c, true);
  }
  for (const auto& c : colours.colours) {
    if (c.alt_family.empty() || c.share <= 0) continue;
    pool(c.alt_family).add(c, false);
  }
  // Named families by share first, runner-ups after them.
  std::stable_sort(pools.begin(), pools.end(), [](const Pool& p, const Pool& q) {
    return p.first != q.first ? p.first > q.first : p.runner_up > q.runner_up;
  });
  std::vector<ColourCandidate> out;
  if (pools.empty() || pools[0].first <= 0) return out;

  // Legacy analyses (mask "") are treated by what they recorded.
  const std::string& mask = colours.mask;
  const bool none = mask == "none" || (mask.empty() && !colours.background_removed);
  const bool person = mask == "person", busy = mask == "busy";
  for (std::size_t i = 0; i < pools.size(); ++i) {
    const Pool& p = pools[i];
    const Lab lab = p.lab();
    double other = 0;
    for (std::size_t j = 0; j < pools.size(); ++j)
      if (j != i) other = std::max(other, pools[j].first);
    const double chroma = std::hypot(lab.a, lab.b) / 50.0;
    const bool grey = neutral(p.family);
    ColourCandidate c;
    c.family = p.family;
    c.share = p.first;
    c.delta_e = p.weighted_de / p.weight();
    c.features.assign(kFeatureCount, 0.0);
    auto& f = c.features;
    f[kColour] = 1;
    f[kColourShare] = p.first;
    f[kColourRunnerUpShare] = p.runner_up;
    f[kColourTop] = i == 0 ? 1 : 0;
    f[kColourMargin] = p.first - other;
    f[kColourDeltaE] = c.delta_e / 10.0;
    f[kColourGap] = p.weighted_gap / p.weight() / 10.0;
    f[kColourChroma] = chroma;
    f[kColourLightness] = lab.L / 100.0;
    f[kColourDark] = std::max(0.0, 30.0 - lab.L) / 30.0;
    f[kColourNeutral] = grey ? 1 : 0;
    f[kColourNeutralChroma] = grey ? chroma : 0;
    f[kColourNeutralLightness] = grey ? lab.L / 100.0 : 0;
    f[kColourMaskPerson] = person ? 1 : 0;
    f[kColourMaskBusy] = busy ? 1 : 0;
    f[kColourMaskNone] = none ? 1 : 0;
    f[kColourProductFraction] = colours.product_fraction;
    out.push_back(std::move(c));
  }
  // Multi: from the families named first.
  std::vector<const Pool*> named;
  for (const auto& p : pools)
    if (p.first > 0) named.push_back(&p);
  if (named.size() >= 2) {
    ColourCandidate m;
    m.family = std::string(kMultiColour);
    m.share = 1.0 - named[0]->first;
    m.features.assign(kFeatureCount, 0.0);
    auto& f = m.features;
    f[kMulti] = 1;
    f[kMultiSecondShare] = named[1]->first;
    f[kMultiRestShare] = 1.0 - named[0]->first;
    f[kMultiContrast] = image::ciede2000(named[0]->named_lab(), named[1]->named_lab()) / 50.0;
    f[kMultiStrongFamilies] = static_cast<double>(std::count_if(
        named.begin(), named.end(), [](const Pool* p) { return p->first >= kStrongShare; }));
    f[kMultiMaskBusy] = busy || none ? 1 : 0;
    out.push_back(std::move(m));
  }
  return out;
}

namespace {

double utility(const std::vector<double>& w, const std::vector<double>& x) {
  double u = 0;
  for (std::size_t i = 0; i < w.size() && i < x.size(); ++i) u += w[i] * x[i];
  return u;
}

// Softmax with the implicit "none" option at utility 0, computed stably.
std::vector<double> choice_probabilities(const std::vector<double>& w,
                                         const std::vector<ColourCandidate>& candidates) {
  std::vector<double> u(candidates.size());
  double top = 0;  // the "none" option
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    u[i] = utility(w, candidates[i].features);
    top = std::max(top, u[i]);
  }
  double z = std::exp(-top);
  for (double& v : u) z += (v = std::exp(v - top));
  for (double& v : u) v /= z;
  return u;
}

struct Prepared {
  std::vector<ColourCandidate> candidates;
  int truth = -1;  // index of the true candidate; -1: "none of these"
};

std::vector<Prepared> prepare(const std::vector<ColourExample>& examples) {
  std::vector<Prepared> out;
  out.reserve(examples.size());
  for (const auto& e : examples) {
    Prepared p{colour_candidates(e.colours), -1};
    for (std::size_t i = 0; i < p.candidates.size(); ++i)
      if (p.candidates[i].family == e.family) p.truth = static_cast<int>(i);
    out.push_back(std::move(p));
  }
  return out;
}

// Mean NLL and its gradient (with the pull towards `prior` when l2 > 0).
double loss_and_gradient(const std::vector<double>& w, const std::vector<Prepared>& data, double l2,
                         const std::vector<double>& prior, std::vector<double>* grad) {
  if (grad) grad->assign(w.size(), 0.0);
  double loss = 0;
  for (const auto& d : data) {
    const auto p = choice_probabilities(w, d.candidates);
    const double pt = d.truth >= 0 ? p[static_cast<std::size_t>(d.truth)]
                                   : 1.0 - std::accumulate(p.begin(), p.end(), 0.0);
    loss -= std::log(std::max(pt, 1e-12));
    if (!grad) continue;
    for (std::size_t i = 0; i < d.candidates.size(); ++i) {
      const double coef = p[i] - (static_cast<int>(i) == d.truth ? 1.0 : 0.0);
      const auto& x = d.candidates[i].features;
      for (std::size_t k = 0; k < w.size(); ++k) (*grad)[k] += coef * x[k];
    }
  }
  const double n = std::max<double>(1, data.size());
  loss /= n;
  if (grad)
    for (double& g : *grad) g /= n;
  for (std::size_t k = 0; k < w.size() && l2 > 0; ++k) {
    const double d = w[k] - prior[k];
    loss += 0.5 * l2 / n * d * d;
    if (grad) (*grad)[k] += l2 / n * d;
  }
  return loss;
}

}  // namespace

std::vector<double> ColourCalibration::probabilities(
    const std::vector<ColourCandidate>& candidates) const {
  return choice_probabilities(weights, candidates);
}

const ColourCalibration& ColourCalibration::builtin() {
  static const ColourCalibration c =
      parse(embedded::colour_calibration_yaml(), "data/colour_calibration.yaml");
  return c;
}

ColourCalibration ColourCalibration::parse(std::string_view text, std::string_view source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw InputError(
        fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (!root.IsMap()) throw InputError(fmt::format("{}: expected a map", source));
  ColourCalibration c;
  try {
    c.version = root["version"] ? root["version"].as<std::string>() : "";
    c.fitted_on = root["fitted_on"] ? root["fitted_on"].as<std::string>() : "";
    const YAML::Node w = root["weights"];
    if (c.version.empty()) throw InputError(fmt::format("{}: `version` is missing", source));
    if (!w || !w.IsMap())
      throw InputError(fmt::format("{}: `weights` must be a map feature -> number", source));
    std::map<std::string, double> given;
    for (const auto& kv : w) {
      const auto name = kv.first.as<std::string>();
      const auto& names = colour_feature_names();
      if (std::find(names.begin(), names.end(), name) == names.end())
        throw InputError(
            fmt::format("{}:{}: unknown feature '{}'", source, kv.first.Mark().line + 1, name));
      given[name] = kv.second.as<double>();
    }
    for (const auto& name : colour_feature_names()) {
      auto it = given.find(name);
      if (it == given.end())
        throw InputError(fmt::format("{}: feature '{}' has no weight", source, name));
      if (!std::isfinite(it->second))
        throw InputError(fmt::format("{}: weight of '{}' is not a finite number", source, name));
      c.weights.push_back(it->second);
    }
  } catch (const YAML::Exception& e) {
    throw InputError(
        fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  return c;
}

std::string ColourCalibration::to_yaml() const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "version" << YAML::Value << version;
  out << YAML::Key << "fitted_on" << YAML::Value << fitted_on;
  out << YAML::Key << "weights" << YAML::Value << YAML::BeginMap;
  for (std::size_t k = 0; k < weights.size(); ++k)
    out << YAML::Key << colour_feature_names()[k] << YAML::Value
        << fmt::format("{:.6g}", weights[k]);
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

ColourCalibration fit_colour_calibration(const std::vector<ColourExample>& examples,
                                         const ColourFitOptions& options) {
  const auto data = prepare(examples);
  const std::vector<double>& prior = options.prior.empty() ? colour_prior_weights() : options.prior;
  if (prior.size() != kFeatureCount)
    throw InputError(fmt::format("colour calibration prior has {} weights, {} features",
                                 prior.size(), static_cast<std::size_t>(kFeatureCount)));
  std::vector<double> w = prior, grad, trial(kFeatureCount);
  double step = 1.0;
  double loss = loss_and_gradient(w, data, options.l2, prior, &grad);
  for (int it = 0; it < options.iterations; ++it) {
    double g2 = 0;
    for (double g : grad) g2 += g * g;
    if (g2 < 1e-14) break;
    // Backtracking (Armijo) line search; the step grows again after a success.
    for (;;) {
      for (std::size_t k = 0; k < w.size(); ++k) trial[k] = w[k] - step * grad[k];
      const double next = loss_and_gradient(trial, data, options.l2, prior, nullptr);
      if (next <= loss - 0.5 * step * g2 || step < 1e-10) {
        w = trial;
        loss = loss_and_gradient(w, data, options.l2, prior, &grad);
        step *= 2;
        break;
      }
      step /= 2;
    }
  }
  ColourCalibration c;
  c.weights = std::move(w);
  c.fitted_on = fmt::format("{} labelled photos", examples.size());
  return c;
}

double colour_log_loss(const ColourCalibration& calibration,
                       const std::vector<ColourExample>& examples) {
  return loss_and_gradient(calibration.weights, prepare(examples), 0.0, {}, nullptr);
}

}  // namespace tagsmith::tagging
