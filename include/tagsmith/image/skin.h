#pragma once
// Skin-coloured pixels, by the classic fixed rule in YCrCb (Chai & Ngan,
// 1999): a pixel is skin when Cr is in [133, 173] and Cb in [77, 127]
// (OpenCV's 8-bit YCrCb, any luma). The chroma box holds human skin tones
// across ethnicities and lighting fairly well because skin differs mostly in
// luma; it also holds beige, tan, peach and light-brown objects, so it says
// "may be skin", never "is a person".
#include <opencv2/core.hpp>

namespace tagsmith::image {

// CV_8U mask of `rgb`'s size, 255 where the pixel is skin-coloured.
// `rgb` is CV_8UC3 in RGB order; throws InputError otherwise.
cv::Mat skin_mask(const cv::Mat& rgb);

// Share of `rgb`'s pixels that are skin-coloured, in [0, 1] (0 for an empty
// image). Cheap: one colour conversion and a range test.
double skin_fraction(const cv::Mat& rgb);

}  // namespace tagsmith::image
