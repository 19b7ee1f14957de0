// Head training with libtorch. The only file of the module that includes
// torch: its headers take long to compile and must not leak into callers.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "tagsmith/common/error.h"
#include "tagsmith/training/calibration.h"
#include "tagsmith/training/heads.h"

namespace tagsmith::training {
namespace {

torch::Tensor to_tensor(const std::vector<float>& v, std::int64_t rows, std::int64_t cols) {
  return torch::from_blob(const_cast<float*>(v.data()), {rows, cols}, torch::kFloat).clone();
}

std::vector<float> to_vector(const torch::Tensor& t) {
  auto c = t.detach().contiguous().to(torch::kFloat);
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Gaussian init from our own generator, so results do not depend on (or
// disturb) torch's global seed.
torch::Tensor normal(std::mt19937_64& rng, std::int64_t rows, std::int64_t cols, double stddev) {
  std::normal_distribution<float> dist(0.0f, static_cast<float>(stddev));
  std::vector<float> v(static_cast<std::size_t>(rows * cols));
  for (auto& x : v) x = dist(rng);
  return to_tensor(v, rows, cols);
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

}  // namespace

AttributeHead train_head(const HeadData& data, const HeadOptions& o, const ZeroShotPrior* prior,
                         HeadTrainingReport* report) {
  const auto started = std::chrono::steady_clock::now();
  const std::int64_t d = data.dim;
  const std::size_t n = data.labels.size();
  if (d <= 0 || data.embeddings.size() != n * static_cast<std::size_t>(d)) {
    throw InputError("train_head('" + data.attribute + "'): " + std::to_string(n) + " labels but " +
                     std::to_string(data.embeddings.size()) + " floats for dim " +
                     std::to_string(d));
  }
  if (prior && prior->dim != d && !prior->classes.empty()) {
    throw InputError("train_head('" + data.attribute + "'): zero-shot prior is " +
                     std::to_string(prior->dim) + "-d, embeddings are " + std::to_string(d) + "-d");
  }
  if (o.threads > 0) at::set_num_threads(o.threads);

  AttributeHead head;
  head.attribute = data.attribute;
  head.classes = data.classes;
  head.dim = static_cast<int>(d);
  head.hidden = std::max(0, o.hidden);
  if (prior) {
    for (const auto& c : prior->classes) {
      if (std::find(head.classes.begin(), head.classes.end(), c) == head.classes.end()) {
        head.classes.push_back(c);
      }
    }
  }
  const std::int64_t c = static_cast<std::int64_t>(head.classes.size());
  std::vector<int> per_class(c, 0);
  for (int y : data.labels) {
    if (y < 0 || y >= static_cast<int>(data.classes.size())) {
      throw InputError("train_head('" + data.attribute + "'): label " + std::to_string(y) +
                       " out of range");
    }
    per_class[y]++;
  }
  if (std::count_if(per_class.begin(), per_class.end(), [](int k) { return k > 0; }) < 2) {
    throw InputError("train_head('" + data.attribute +
                     "'): needs examples of at least two classes");
  }

  // Normalised rows; the head only ever sees unit vectors.
  std::vector<float> x(data.embeddings.size());
  for (std::size_t i = 0; i < n; ++i) {
    auto row = normalised(std::span(data.embeddings).subspan(i * d, d));
    std::copy(row.begin(), row.end(), x.begin() + i * d);
  }

  // Validation split: per class, a seeded shuffle, the first val_fraction.
  std::mt19937_64 rng(o.seed);
  std::vector<std::vector<std::int64_t>> by_class(c);
  for (std::size_t i = 0; i < n; ++i)
    by_class[data.labels[i]].push_back(static_cast<std::int64_t>(i));
  std::vector<std::int64_t> train_idx, val_idx;
  for (auto& rows : by_class) {
    std::shuffle(rows.begin(), rows.end(), rng);
    std::size_t nval = 0;
    if (static_cast<int>(rows.size()) >= o.min_val_class_size) {
      nval = std::max<std::size_t>(
          1, static_cast<std::size_t>(std::lround(o.val_fraction * rows.size())));
    }
    val_idx.insert(val_idx.end(), rows.begin(), rows.begin() + nval);
    train_idx.insert(train_idx.end(), rows.begin() + nval, rows.end());
  }
  head.train_counts.assign(c, 0);
  for (auto i : train_idx) head.train_counts[data.labels[i]]++;

  // Zero-shot prior and blend weights.
  std::vector<float> prior_rows(static_cast<std::size_t>(c * d), 0.0f);
  std::vector<bool> has_prior(c, false);
  if (prior) {
    for (std::size_t pk = 0; pk < prior->classes.size(); ++pk) {
      const auto k = std::find(head.classes.begin(), head.classes.end(), prior->classes[pk]) -
                     head.classes.begin();
      has_prior[k] = true;
      for (std::int64_t j = 0; j < d; ++j) {
        prior_rows[k * d + j] = prior->embeddings[pk * d + j] * prior->logit_scale;
      }
    }
    head.prior = prior_rows;
  }
  head.blend.assign(c, 1.0f);
  for (std::int64_t k = 0; k < c; ++k) {
    if (has_prior[k]) {
      const double nk = head.train_counts[k];
      head.blend[k] = static_cast<float>(nk / (nk + o.prior_strength));
    }
  }

  const auto all_x = to_tensor(x, static_cast<std::int64_t>(n), d);
  // The layer's input: unit rows with the training rows' class-balanced mean
  // direction removed, renormalised (AttributeHead::center).
  std::vector<float> xc;
  if (o.center) {
    std::vector<double> mean(static_cast<std::size_t>(d), 0.0);
    std::vector<std::vector<double>> class_sum(c, std::vector<double>(d, 0.0));
    for (auto i : train_idx)
      for (std::int64_t j = 0; j < d; ++j) class_sum[data.labels[i]][j] += x[i * d + j];
    int classes_seen = 0;
    for (std::int64_t k = 0; k < c; ++k) {
      if (head.train_counts[k] == 0) continue;
      ++classes_seen;
      for (std::int64_t j = 0; j < d; ++j) mean[j] += class_sum[k][j] / head.train_counts[k];
    }
    head.center.resize(static_cast<std::size_t>(d));
    for (std::int64_t j = 0; j < d; ++j)
      head.center[j] = static_cast<float>(mean[j] / std::max(1, classes_seen));
    xc.resize(x.size());
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<float> row(d);
      for (std::int64_t j = 0; j < d; ++j) row[j] = x[i * d + j] - head.center[j];
      row = normalised(row);
      std::copy(row.begin(), row.end(), xc.begin() + i * d);
    }
  }
  const auto all_in = o.center ? to_tensor(xc, static_cast<std::int64_t>(n), d) : all_x;
  std::vector<std::int64_t> labels64(data.labels.begin(), data.labels.end());
  const auto all_y =
      torch::from_blob(labels64.data(), {static_cast<std::int64_t>(n)}, torch::kLong).clone();
  auto pick = [](const torch::Tensor& t, const std::vector<std::int64_t>& idx) {
    auto ix = torch::from_blob(const_cast<std::int64_t*>(idx.data()),
                               {static_cast<std::int64_t>(idx.size())}, torch::kLong);
    return t.index_select(0, ix);
  };
  const auto xtr = pick(all_in, train_idx), ytr = pick(all_y, train_idx);
  const auto xval = pick(all_in, val_idx), yval = pick(all_y, val_idx);
  const auto p_t = to_tensor(prior_rows, c, d);
  const auto blend_t = torch::from_blob(head.blend.data(), {c}, torch::kFloat).clone();
  const bool use_prior = !head.prior.empty();
  // The zero-shot prior reads the embedding as it is, not centred.
  const auto zp_tr = use_prior ? pick(all_x, train_idx).matmul(p_t.t()) : torch::Tensor();
  const auto zp_val = use_prior ? pick(all_x, val_idx).matmul(p_t.t()) : torch::Tensor();

  // Class-balanced weights: each class with examples contributes equally.
  std::vector<float> cw(c, 0.0f);
  const auto present = std::count_if(head.train_counts.begin(), head.train_counts.end(),
                                     [](int k) { return k > 0; });
  for (std::int64_t k = 0; k < c; ++k) {
    if (head.train_counts[k] > 0) {
      cw[k] = static_cast<float>(static_cast<double>(train_idx.size()) /
                                 (present * head.train_counts[k]));
    }
  }
  const auto class_weight = torch::from_blob(cw.data(), {c}, torch::kFloat).clone();

  // Parameters.
  std::vector<torch::Tensor> params;
  torch::Tensor w1, b1, w2, b2, anchor;
  if (head.hidden == 0) {
    w1 = use_prior ? p_t.clone() + normal(rng, c, d, 0.01) : normal(rng, c, d, 0.01);
    anchor = use_prior ? p_t : torch::zeros({c, d});
    b1 = torch::zeros({c});
    params = {w1, b1};
  } else {
    const std::int64_t h = head.hidden;
    w1 = normal(rng, h, d, std::sqrt(2.0 / d));
    b1 = torch::zeros({h});
    w2 = normal(rng, c, h, 0.01);
    b2 = torch::zeros({c});
    params = {w1, b1, w2, b2};
  }
  for (auto& p : params) p.set_requires_grad(true);
  auto forward = [&](const torch::Tensor& xb, const torch::Tensor& zp) {
    torch::Tensor z = head.hidden == 0
                          ? torch::addmm(b1, xb, w1.t())
                          : torch::addmm(b2, torch::relu(torch::addmm(b1, xb, w1.t())), w2.t());
    if (use_prior) z = blend_t * z + (1 - blend_t) * zp;
    return z;
  };
  auto penalty = [&] {
    if (head.hidden == 0) return (w1 - anchor).pow(2).sum();
    return w1.pow(2).sum() + w2.pow(2).sum();
  };

  torch::optim::Adam opt(params, torch::optim::AdamOptions(o.learning_rate));
  const std::int64_t ntr = static_cast<std::int64_t>(train_idx.size());
  const bool have_val = !val_idx.empty();
  double best = std::numeric_limits<double>::infinity();
  std::vector<torch::Tensor> best_params;
  int best_epoch = 0, since_best = 0, epoch = 0;
  std::vector<std::int64_t> order(ntr);
  std::iota(order.begin(), order.end(), 0);
  // Tiny training sets make one batch per pass; several passes per "epoch"
  // keep the validation check (and so the patience) measured in a sensible
  // number of optimiser steps rather than in single steps.
  const std::int64_t batches_per_pass =
      std::max<std::int64_t>(1, (ntr + o.batch_size - 1) / o.batch_size);
  const std::int64_t passes =
      std::max<std::int64_t>(1, (o.min_steps_per_epoch + batches_per_pass - 1) / batches_per_pass);
  for (epoch = 1; epoch <= o.max_epochs; ++epoch) {
    double train_loss = 0;
    for (std::int64_t pass = 0; pass < passes; ++pass) {
      std::shuffle(order.begin(), order.end(), rng);
      for (std::int64_t s = 0; s < ntr; s += o.batch_size) {
        const auto e = std::min<std::int64_t>(ntr, s + o.batch_size);
        const auto ix = torch::from_blob(order.data() + s, {e - s}, torch::kLong);
        const auto xb = xtr.index_select(0, ix);
        const auto yb = ytr.index_select(0, ix);
        const auto zp = use_prior ? zp_tr.index_select(0, ix) : torch::Tensor();
        auto ce = torch::nn::functional::cross_entropy(
            forward(xb, zp), yb,
            torch::nn::functional::CrossEntropyFuncOptions().weight(class_weight));
        auto loss = ce + o.l2 * penalty();
        opt.zero_grad();
        loss.backward();
        opt.step();
        train_loss += ce.item<double>() * (e - s);
      }
    }
    train_loss /= std::max<std::int64_t>(1, ntr * passes);
    double monitored = train_loss;
    if (have_val) {
      torch::NoGradGuard guard;
      monitored = torch::nn::functional::cross_entropy(
                      forward(xval, zp_val), yval,
                      torch::nn::functional::CrossEntropyFuncOptions().weight(class_weight))
                      .item<double>();
    }
    if (monitored < best - 1e-6) {
      best = monitored;
      best_epoch = epoch;
      since_best = 0;
      best_params.clear();
      for (const auto& p : params) best_params.push_back(p.detach().clone());
    } else if (++since_best >= o.patience) {
      break;
    }
  }
  epoch = std::min(epoch, o.max_epochs);

  head.w1 = to_vector(best_params[0]);
  head.b1 = to_vector(best_params[1]);
  if (head.hidden > 0) {
    head.w2 = to_vector(best_params[2]);
    head.b2 = to_vector(best_params[3]);
  }

  // Temperature on the validation rows, through the same inference code the
  // scorer uses, so the fitted T matches what is served.
  if (o.calibrate && have_val) {
    std::vector<std::vector<double>> z;
    std::vector<int> y;
    for (auto i : val_idx) {
      z.push_back(head.logits(std::span<const float>(x).subspan(i * d, d)));
      y.push_back(data.labels[i]);
    }
    head.temperature = fit_temperature(z, y);
  }

  // OOD statistics over every training row (train and validation alike: none
  // of them is held out).
  head.centroids.assign(static_cast<std::size_t>(c * d), 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) head.centroids[data.labels[i] * d + j] += x[i * d + j];
  }
  for (std::int64_t k = 0; k < c; ++k) {
    auto row = normalised(std::span<const float>(head.centroids).subspan(k * d, d));
    std::copy(row.begin(), row.end(), head.centroids.begin() + k * d);
  }
  std::vector<std::vector<double>> sims(c);
  std::vector<double> all_sims;
  for (std::size_t i = 0; i < n; ++i) {
    const int k = data.labels[i];
    double s = 0;
    for (std::int64_t j = 0; j < d; ++j)
      s += static_cast<double>(x[i * d + j]) * head.centroids[k * d + j];
    sims[k].push_back(s);
    all_sims.push_back(s);
  }
  const double pooled = quantile(all_sims, o.ood_quantile) - o.ood_margin;
  head.ood_threshold.assign(c, std::numeric_limits<float>::infinity());
  for (std::int64_t k = 0; k < c; ++k) {
    if (sims[k].empty()) continue;
    head.ood_threshold[k] = static_cast<float>(
        sims[k].size() >= 5 ? quantile(sims[k], o.ood_quantile) - o.ood_margin : pooled);
  }

  if (report) {
    report->epochs = epoch;
    report->best_epoch = best_epoch;
    report->best_val_loss = best;
    report->train_rows = train_idx.size();
    report->val_rows = val_idx.size();
    report->temperature = head.temperature;
    report->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  head.metrics["training"] = {{"epochs", epoch},
                              {"best_epoch", best_epoch},
                              {"monitored_loss", best},
                              {"train_rows", train_idx.size()},
                              {"val_rows", val_idx.size()},
                              {"temperature", head.temperature}};
  return head;
}

}  // namespace tagsmith::training
