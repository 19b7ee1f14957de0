// The colour calibration: candidates and features, the conditional logit,
// its fit, its file format, and what the shipped default decides.
#include "tagsmith/tagging/colour_calibration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "tagsmith/common/error.h"
#include "tagsmith/image/colour.h"
#include "tagsmith/tagging/engine.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::tagging {
namespace {

using ::testing::HasSubstr;

DominantColour colour(const std::string& family, double share, double delta_e, Lab lab) {
  DominantColour c;
  c.family = family;
  c.shade = family;
  c.share = share;
  c.delta_e = delta_e;
  c.lab = lab;
  return c;
}

const Lab kRed{45, 65, 45}, kBlue{35, 10, -55}, kWhite{97, 0, 1}, kGrey{55, 0, 0};

ColourAnalysis analysis(std::vector<DominantColour> colours, std::string mask = "background") {
  ColourAnalysis a;
  a.colours = std::move(colours);
  a.mask = std::move(mask);
  a.background_removed = a.mask != "none";
  a.product_fraction = 0.4;
  return a;
}

TEST(ColourCandidates, PoolFamiliesByShareAndAddMultiForTwoOrMore) {
  const auto one = colour_candidates(analysis({colour("red", 1.0, 2, kRed)}));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].family, "red");
  EXPECT_EQ(one[0].features.size(), colour_feature_names().size());

  const auto two = colour_candidates(analysis(
      {colour("blue", 0.3, 4, kBlue), colour("red", 0.5, 2, kRed), colour("blue", 0.2, 6, kBlue)}));
  ASSERT_EQ(two.size(), 3u);
  EXPECT_EQ(two[0].family, "blue");  // 0.5 pooled, first by stable order
  EXPECT_DOUBLE_EQ(two[0].share, 0.5);
  EXPECT_DOUBLE_EQ(two[0].delta_e, (0.3 * 4 + 0.2 * 6) / 0.5);
  EXPECT_EQ(two[1].family, "red");
  EXPECT_EQ(two[2].family, std::string(kMultiColour));
  EXPECT_TRUE(colour_candidates(ColourAnalysis{}).empty());
}

TEST(ColourCalibration, ProbabilitiesLeaveRoomForNoneAndFollowTheWeights) {
  ColourCalibration c = ColourCalibration::builtin();
  const auto candidates =
      colour_candidates(analysis({colour("red", 0.7, 2, kRed), colour("blue", 0.3, 3, kBlue)}));
  const auto p = c.probabilities(candidates);
  ASSERT_EQ(p.size(), candidates.size());
  const double total = std::accumulate(p.begin(), p.end(), 0.0);
  EXPECT_LT(total, 1.0);
  for (double v : p) EXPECT_GT(v, 0.0);
  // All-zero weights: every option, "none" included, is equally likely.
  c.weights.assign(c.weights.size(), 0.0);
  for (double v : c.probabilities(candidates)) EXPECT_NEAR(v, 1.0 / (candidates.size() + 1), 1e-12);
}

TEST(ColourCalibration, FitLearnsWhichEvidenceIsRight) {
  // A synthetic world: the largest cluster is right when it is a close match
  // (small ΔE), a loose match is usually wrong, and an even split between two
  // strong colours is "multi".
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<ColourExample> examples;
  for (int i = 0; i < 300; ++i) {
    const int kind = i % 3;
    if (kind == 0) {
      examples.push_back({analysis({colour("red", 0.8 + 0.2 * u(rng), 1 + 3 * u(rng), kRed),
                                    colour("white", 0.1, 2, kWhite)}),
                          "red"});
    } else if (kind == 1) {
      examples.push_back({analysis({colour("grey", 0.9, 20 + 10 * u(rng), kGrey),
                                    colour("white", 0.1, 2, kWhite)}),
                          u(rng) < 0.8 ? "black" : "grey"});
    } else {
      const double s = 0.45 + 0.1 * u(rng);
      examples.push_back(
          {analysis({colour("red", s, 2, kRed), colour("blue", 1 - s, 2, kBlue)}), "multi"});
    }
  }
  const ColourCalibration fitted = fit_colour_calibration(examples);
  EXPECT_LT(colour_log_loss(fitted, examples),
            colour_log_loss(ColourCalibration::builtin(), examples));
  auto top = [&](const ColourAnalysis& a) {
    const auto cands = colour_candidates(a);
    const auto p = fitted.probabilities(cands);
    const auto best = std::max_element(p.begin(), p.end()) - p.begin();
    return std::make_pair(cands[static_cast<std::size_t>(best)].family,
                          p[static_cast<std::size_t>(best)]);
  };
  const auto clear = top(analysis({colour("red", 0.9, 2, kRed), colour("white", 0.1, 2, kWhite)}));
  EXPECT_EQ(clear.first, "red");
  EXPECT_GT(clear.second, 0.9);
  const auto loose =
      top(analysis({colour("grey", 0.9, 25, kGrey), colour("white", 0.1, 2, kWhite)}));
  EXPECT_LT(loose.second, 0.4);  // mostly wrong in this world: little confidence in any colour
  EXPECT_EQ(top(analysis({colour("red", 0.5, 2, kRed), colour("blue", 0.5, 2, kBlue)})).first,
            "multi");
}

TEST(ColourCalibration, YamlRoundTripsAndRejectsMalformedFiles) {
  ColourCalibration c = ColourCalibration::builtin();
  c.version = "colour-cal-0042";
  c.fitted_on = "a test";
  c.weights[3] = -1.25;
  const auto back = ColourCalibration::parse(c.to_yaml(), "round.yaml");
  EXPECT_EQ(back.version, c.version);
  EXPECT_EQ(back.fitted_on, c.fitted_on);
  ASSERT_EQ(back.weights.size(), c.weights.size());
  for (std::size_t i = 0; i < c.weights.size(); ++i)
    EXPECT_NEAR(back.weights[i], c.weights[i], 1e-5);

  auto error = [](const std::string& text) {
    try {
      ColourCalibration::parse(text, "cal.yaml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error("version: x\nweights: [1, 2]\n"), HasSubstr("`weights` must be a map"));
  EXPECT_THAT(error("weights: {colour: 1}\n"), HasSubstr("`version` is missing"));
  EXPECT_THAT(error("version: x\nweights: {colour: 1}\n"), HasSubstr("has no weight"));
  EXPECT_THAT(error("version: x\nweights:\n  bogus: 1\n"),
              HasSubstr("cal.yaml:3: unknown feature 'bogus'"));
  EXPECT_THAT(error("version: x\nweights: {colour: [\n"), HasSubstr("cal.yaml:"));
  EXPECT_THAT(error("- 1\n"), HasSubstr("expected a map"));
}

// What the shipped default decides on typical analyses.
class BuiltinColourCalibration : public ::testing::Test {
 protected:
  std::pair<std::string, double> top_family(const ColourAnalysis& a) {
    std::pair<std::string, double> best{"", -1};
    for (const auto& set : colour_scores(tax_, a))
      if (set.attribute == "colour_family")
        for (const auto& s : set.scores)
          if (s.score > best.second) best = {s.node, s.score};
    return best;
  }
  const taxonomy::Taxonomy tax_ = taxonomy::Taxonomy::builtin();
};

TEST_F(BuiltinColourCalibration, TwoColourBlockIsMulti) {
  const auto best =
      top_family(analysis({colour("red", 0.5, 2, kRed), colour("blue", 0.5, 2, kBlue)}));
  EXPECT_EQ(best.first, "multi");
}

TEST_F(BuiltinColourCalibration, OneCloseColourIsThatColourAndSureOfIt) {
  const auto best =
      top_family(analysis({colour("red", 0.97, 1.5, kRed), colour("white", 0.03, 2, kWhite)}));
  EXPECT_EQ(best.first, "red");
  EXPECT_GT(best.second, 0.7);
  EXPECT_LT(best.second, 1.0);
}

TEST_F(BuiltinColourCalibration, EvidenceRecordsTheMaskAndCalibration) {
  for (const auto& set : colour_scores(tax_, analysis({colour("red", 1.0, 2, kRed)}, "person"))) {
    ASSERT_FALSE(set.scores.empty());
    EXPECT_EQ(set.scores[0].evidence["mask"], "person");
    if (set.attribute == "colour_family")
      EXPECT_EQ(set.scores[0].evidence["calibration"], ColourCalibration::builtin().version);
  }
}

}  // namespace
}  // namespace tagsmith::tagging
