#include "tagsmith/image/skin.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "tagsmith/common/error.h"

namespace tagsmith::image {
namespace {

// A white studio background with a filled ellipse of `rgb` covering about
// `share` of the frame (the ellipse's area is pi/4 of its bounding box).
cv::Mat figure_on_white(cv::Scalar rgb, double share, int w = 300, int h = 400) {
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(250, 250, 250));
  const double scale = std::sqrt(share / (CV_PI / 4));
  cv::ellipse(img, {w / 2, h / 2},
              {static_cast<int>(w * scale / 2), static_cast<int>(h * scale / 2)}, 0, 0, 360, rgb,
              cv::FILLED);
  return img;
}

// Skin tones from light to dark (RGB), as seen on catalogue models.
const cv::Scalar kSkinTones[] = {
    {241, 194, 167}, {224, 172, 140}, {198, 134, 102}, {141, 85, 60}, {95, 60, 45}};

TEST(Skin, SkinTonesAreSkinAcrossLightAndDark) {
  for (const auto& tone : kSkinTones) {
    const cv::Mat patch(10, 10, CV_8UC3, tone);
    EXPECT_EQ(cv::countNonZero(skin_mask(patch)), 100) << tone;
  }
}

TEST(Skin, WhiteGreyBlackBlueAndGreenAreNotSkin) {
  for (const cv::Scalar c :
       {cv::Scalar(250, 250, 250), cv::Scalar(128, 128, 128), cv::Scalar(10, 10, 10),
        cv::Scalar(30, 60, 160), cv::Scalar(20, 40, 90), cv::Scalar(40, 150, 60)}) {
    const cv::Mat patch(10, 10, CV_8UC3, c);
    EXPECT_EQ(cv::countNonZero(skin_mask(patch)), 0) << c;
  }
}

TEST(Skin, ASkinTonedFigurePassesTheGateAndABlueShirtDoesNot) {
  const cv::Mat person = figure_on_white({224, 172, 140}, 0.20);
  const cv::Mat shirt = figure_on_white({30, 60, 160}, 0.40);
  EXPECT_NEAR(skin_fraction(person), 0.20, 0.02);
  EXPECT_EQ(skin_fraction(shirt), 0.0);
  // A blue shirt worn by someone: the face and arms show.
  cv::Mat worn = shirt.clone();
  cv::circle(worn, {150, 60}, 30, {198, 134, 102}, cv::FILLED);
  EXPECT_GT(skin_fraction(worn), 0.01);
  EXPECT_LT(skin_fraction(worn), 0.05);
}

TEST(Skin, MaskHasTheImagesSizeAndMarksExactlyTheSkin) {
  cv::Mat img(40, 60, CV_8UC3, cv::Scalar(30, 60, 160));
  img(cv::Rect(10, 5, 20, 10)).setTo(cv::Scalar(224, 172, 140));
  const cv::Mat m = skin_mask(img);
  ASSERT_EQ(m.size(), img.size());
  ASSERT_EQ(m.type(), CV_8U);
  EXPECT_EQ(cv::countNonZero(m), 200);
  EXPECT_EQ(m.at<std::uint8_t>(10, 20), 255);
  EXPECT_EQ(m.at<std::uint8_t>(30, 50), 0);
}

TEST(Skin, RejectsWhatIsNotAnRgbImage) {
  EXPECT_EQ(skin_fraction(cv::Mat()), 0.0);
  EXPECT_THROW(skin_mask(cv::Mat()), InputError);
  EXPECT_THROW(skin_mask(cv::Mat(4, 4, CV_8UC1, cv::Scalar(0))), InputError);
}

}  // namespace
}  // namespace tagsmith::image
