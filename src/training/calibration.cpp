#include "tagsmith/training/calibration.h"

#include <algorithm>
#include <cmath>

namespace tagsmith::training {

std::vector<double> softmax(std::span<const double> logits, double temperature) {
  std::vector<double> p(logits.size());
  if (logits.empty()) return p;
  const double mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    p[i] = std::exp((logits[i] - mx) / temperature);
    sum += p[i];
  }
  for (auto& v : p) v /= sum;
  return p;
}

double mean_nll(const std::vector<std::vector<double>>& logits, std::span<const int> labels,
                double temperature) {
  if (logits.empty()) return 0;
  double total = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const auto& z = logits[i];
    const double mx = *std::max_element(z.begin(), z.end());
    double sum = 0;
    for (double v : z) sum += std::exp((v - mx) / temperature);
    // -log p_y = log sum exp(z/T) - z_y/T, shifted by max for stability.
    total += std::log(sum) - (z[labels[i]] - mx) / temperature;
  }
  return total / static_cast<double>(logits.size());
}

double fit_temperature(const std::vector<std::vector<double>>& logits,
                       std::span<const int> labels) {
  if (logits.empty()) return 1.0;
  // Search u = log(1/T) in [log 1e-2, log 1e2].
  auto f = [&](double u) { return mean_nll(logits, labels, std::exp(-u)); };
  double a = std::log(1e-2), b = std::log(1e2);
  const double g = (std::sqrt(5.0) - 1) / 2;
  double x1 = b - g * (b - a), x2 = a + g * (b - a);
  double f1 = f(x1), f2 = f(x2);
  for (int i = 0; i < 60 && b - a > 1e-6; ++i) {
    if (f1 <= f2) {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - g * (b - a);
      f1 = f(x1);
    } else {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + g * (b - a);
      f2 = f(x2);
    }
  }
  return std::exp(-(a + b) / 2);
}

}  // namespace tagsmith::training
