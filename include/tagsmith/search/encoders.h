#pragma once
// What search needs of an embedding model, and nothing more.
//
// Search never links the vision library: the CLI (or a server) adapts its CLIP
// model to these interfaces. Vectors need not be unit length (the vector index
// normalises them for cosine similarity), and version()
// must be the model version the library's embeddings were stored under:
// vectors from different models are not comparable, and search refuses to mix
// them.
#include <filesystem>
#include <string>
#include <vector>

namespace tagsmith::search {

class TextEncoder {
 public:
  virtual ~TextEncoder() = default;
  virtual std::string version() const = 0;
  virtual std::vector<float> encode_text(const std::string& text) = 0;
};

class ImageEncoder {
 public:
  virtual ~ImageEncoder() = default;
  virtual std::string version() const = 0;
  // Decodes and embeds a photo that need not be in the library.
  virtual std::vector<float> encode_image_file(const std::filesystem::path& file) = 0;
};

}  // namespace tagsmith::search
