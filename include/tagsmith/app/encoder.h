#pragma once
// An image encoder of any family, as the rest of tagsmith sees it.
//
// A family is a kind of model with its own runtime: CLIP (image and text
// towers, zero-shot from prompts) or an image classifier (a TFLite network
// whose penultimate feature is the embedding and whose class labels are
// mapped onto the taxonomy). Ingest stores `embed_images()` vectors under
// `version()`; tagging gets the family's own evidence through
// `score_provider()`; search gets text vectors only from families that have a
// text tower. Nothing outside src/app needs to know which family it holds.
//
// Implementations are immutable after loading and safe to call from several
// threads.
#include <filesystem>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <set>
#include <string>
#include <vector>

#include "tagsmith/tagging/service.h"
#include "tagsmith/training/heads.h"

namespace tagsmith::app {

enum class EncoderFamily { kClip, kClassifier };
std::string to_string(EncoderFamily family);

class Encoder {
 public:
  virtual ~Encoder() = default;

  virtual EncoderFamily family() const = 0;
  // "<name>@<hash>": the key embeddings are stored and compared under.
  virtual const std::string& version() const = 0;
  virtual int embedding_dim() const = 0;
  // Images per call that use the runtime well.
  virtual int preferred_batch() const = 0;
  // The shortest side the family's preprocessing scales an image to (its
  // input crop): any image at least this large on its shortest side gives
  // (nearly) the embedding of the full-resolution one, so callers may
  // decode photos smaller. 0: the family wants the full resolution.
  virtual int input_size() const { return 0; }
  // One embedding per RGB image (CV_8UC3): the family's native feature,
  // stored as it is (CLIP's are unit length; a classifier's pooled feature
  // keeps its scale so that its own classifier layer can be applied later).
  virtual std::vector<std::vector<float>> embed_images(const std::vector<cv::Mat>& rgb) const = 0;

  // The text tower (CLIP): false for image-only families.
  virtual bool has_text() const { return false; }
  // Unit length; throws Error when !has_text().
  virtual std::vector<float> embed_text(const std::string& text) const;

  // The tagging evidence this family draws from a stored embedding (zero-shot
  // prompts for CLIP, mapped class labels for a classifier), for every
  // attribute except those in `skip` (left to trained heads). Null when the
  // family has none. `cache_dir` may hold the provider's caches.
  virtual std::unique_ptr<tagging::ScoreProvider> score_provider(
      const std::filesystem::path& cache_dir, std::set<std::string> skip) const = 0;

  // Per-attribute class vectors that trained heads may start from (CLIP's
  // prompt embeddings); empty when the family has no such prior.
  virtual std::map<std::string, training::ZeroShotPrior> head_priors(
      const taxonomy::Taxonomy& tax, const std::filesystem::path& cache_dir) const {
    return {};
  }
};

}  // namespace tagsmith::app
