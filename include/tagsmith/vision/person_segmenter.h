#pragma once
// Where the people are in a photo: DeepLab v3 (MobileNetV2 backbone, PASCAL
// VOC, 21 classes, class "person") run through the project's TFLite runtime.
//
// Colour analysis uses the mask to look for the product on the person (and
// to take skin and hair out of it) in model shots, where a background model
// alone calls the model's skin the product's colour.
//
// The photo is squeezed whole to the model's square input (513 x 513) with
// PIL's bilinear filter, as Coral's DeepLab example does; the per-pixel class
// (the graph's ARG_MAX output) is turned into a person mask and resized back
// to the photo's size. The model is not cheap (see bench_person): callers
// decide which photos are worth it (ingest gates on skin-coloured pixels).
//
// What the mask means on catalogue photos: PASCAL's "person" is a body with
// what it wears, so a garment laid flat or on a hanger is often marked too
// (a shirt flat lay: 68 % of the frame), while a hand or foot at the edge is
// often missed. On clothing-small it marks over 5 % of the frame in 21 % of
// the photos without a person and in 23 % of those with one (bench_person,
// TAGSMITH_BENCH_DATASET=1). Use it as "body and clothes", with skin found
// inside it, not as proof that a person is there.
//
// A model directory holds one .tflite file and optionally its labels file
// (*label*.txt, one class per line, in output order; only the first 21
// lines are read: Coral's file adds a note after them). The person class is
// the line "person" of the labels, else PASCAL's 15.
//
// Thread-safety: immutable after load(); person_mask() may be called from
// several threads at once (TfliteModel::run keeps no state).
#include <filesystem>
#include <memory>
#include <opencv2/core.hpp>
#include <string>

#include "tagsmith/vision/clip_model.h"   // RuntimeOptions
#include "tagsmith/vision/safetensors.h"  // ModelError

namespace tagsmith::vision {

class TfliteModel;

class PersonSegmenter {
 public:
  static constexpr int kPascalClasses = 21;
  static constexpr int kPascalPerson = 15;

  // Loads the segmenter in `dir` (the directory's name is its version).
  // Throws ModelError naming the file when the directory holds no (or
  // several) .tflite files, the file is corrupt, or its graph is not a
  // 21-class segmenter (an image-sized ARG_MAX over 21 class scores).
  static std::unique_ptr<PersonSegmenter> load(const std::filesystem::path& dir,
                                               const RuntimeOptions& options = {});
  ~PersonSegmenter();
  PersonSegmenter(const PersonSegmenter&) = delete;
  PersonSegmenter& operator=(const PersonSegmenter&) = delete;

  // The model directory's name, e.g. "deeplabv3-mnv2-pascal-quant".
  std::string version() const { return version_; }
  // Index of the person class in the model's output.
  int person_class() const { return person_class_; }

  // CV_8U mask of `rgb`'s size: 255 where the model sees a person, 0
  // elsewhere. `rgb` is CV_8UC3 in RGB order; throws InputError otherwise.
  cv::Mat person_mask(const cv::Mat& rgb) const;

 private:
  PersonSegmenter(std::unique_ptr<TfliteModel> model, std::string version, int person_class);
  std::unique_ptr<TfliteModel> model_;
  std::string version_;
  int person_class_ = kPascalPerson;
};

}  // namespace tagsmith::vision
