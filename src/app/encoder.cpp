#include "tagsmith/app/encoder.h"

#include "tagsmith/common/error.h"

namespace tagsmith::app {

std::string to_string(EncoderFamily family) {
  switch (family) {
    case EncoderFamily::kClip:
      return "clip";
    case EncoderFamily::kClassifier:
      return "classifier";
  }
  return "unknown";
}

std::vector<float> Encoder::embed_text(const std::string&) const {
  throw Error("the " + to_string(family()) + " encoder " + version() +
              " has no text tower: natural-language search needs a CLIP model");
}

}  // namespace tagsmith::app
