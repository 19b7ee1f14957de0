#pragma once
// Finding the product in a photo, so that its colour is named and not the
// backdrop's, the bedsheet's or the model's skin (private to src/image).
//
// Strategies, tried in this order; the first that finds a credible product
// wins and is recorded (ProductMask::kind, persisted as ColourAnalysis::mask)
// so that `tagsmith why` can say which one spoke:
//  "person"     a person-segmentation mask was given and covers enough of the
//               photo: the product is what the person wears, i.e. the person
//               region minus skin and the head (face and hair);
//  "background" a plain border (studio backdrop): the background is grown in
//               from the border through pixels close to the border colour,
//               and stopped at edges so that a white shirt on white, whose
//               only outline is a faint shadow, is not swallowed with it;
//  "busy"       a textured or multi-coloured border (a bed, a floor, a door):
//               GrabCut separates foreground from background by colour
//               models, seeded with the border as background;
//  "none"       nothing credible: the whole photo.
#include <opencv2/core.hpp>
#include <string>

namespace tagsmith::image {

struct ProductMask {
  cv::Mat product;  // CV_8U at the analysis size, 255 = product pixel
  std::string kind = "none";
  // Share of the photo that is product, before the mask was eroded for
  // sampling colours.
  double fraction = 1.0;
};

// `lab`: CV_32FC3 CIELAB of `rgb` (CV_8UC3, same size). `person`: CV_8U mask
// at the same size (empty: no person model).
ProductMask find_product(const cv::Mat& rgb, const cv::Mat& lab, const cv::Mat& person);

// Skin-coloured pixels (CV_8U, 255 = skin): the standard YCrCb box of Chai &
// Ngan (Cr 133-173, Cb 77-127), restricted to the lightness and chroma that
// skin has in CIELAB so that pale-beige and brown fabrics are less often taken
// for it.
cv::Mat skin_pixels(const cv::Mat& rgb, const cv::Mat& lab);

}  // namespace tagsmith::image
