#pragma once
// The CLIP family behind app::Encoder (private to src/app).
#include <memory>

#include "tagsmith/app/encoder.h"
#include "tagsmith/vision/clip_model.h"

namespace tagsmith::app {

std::shared_ptr<const Encoder> make_clip_encoder(std::shared_ptr<const vision::ClipModel> model);

// One vector per row of `m` (the runtimes' batch results as Encoder returns them).
std::vector<std::vector<float>> rows_of(const vision::Matrix& m);

}  // namespace tagsmith::app
