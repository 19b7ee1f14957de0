#pragma once
// Temperature scaling (Guo et al., 2017): one scalar T divides every logit,
// p = softmax(z / T). It changes confidence, never the ranking, so accuracy
// and F1 are untouched while the confidence learns to mean probability --
// which the tier thresholds (auto >= 0.95) rely on.
//
// T is fitted by minimising the mean negative log-likelihood on held-apart
// data. The NLL is convex in beta = 1/T, so a golden-section search over
// log(beta) finds the optimum without gradients or a torch dependency.
#include <span>
#include <vector>

namespace tagsmith::training {

// Numerically stable softmax of `logits / temperature`.
std::vector<double> softmax(std::span<const double> logits, double temperature = 1.0);

// Mean NLL of `labels` under softmax(logits / temperature).
double mean_nll(const std::vector<std::vector<double>>& logits, std::span<const int> labels,
                double temperature);

// The T in [1e-2, 1e2] minimising mean_nll. Returns 1 for empty input.
double fit_temperature(const std::vector<std::vector<double>>& logits, std::span<const int> labels);

}  // namespace tagsmith::training
