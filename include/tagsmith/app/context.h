#pragma once
// A library opened with its models: what every CLI command, the server, eval
// and the benchmarks work through, so that composition is decided once.
//
// It owns the Library, loads the encoder lazily (steps in models.h) and builds
// the services over them:
//   tag_service()        colour analysis always; the active trained heads;
//                        the encoder's own evidence for the attributes the
//                        heads do not cover;
//   human_tag_service()  the same service without the encoder (never loaded),
//                        for people's decisions (confirm, reject, correct, set);
//   embedder()           the encoder as ingest's ImageEmbedder;
//   person_masker()      the person segmenter (models.h) as ingest's
//                        PersonMasker, independent of the encoder;
//   keyword_importer()   photo keywords -> imported tags, as ingest's
//                        KeywordImporter;
//   text_encoder(), image_encoder()  the encoder for search;
//   head_priors()        zero-shot class vectors for training heads.
// Notices (for example "no vision model found") go to the caller's sink, not
// to a stream: the CLI writes them to stderr once, the server logs them.
//
// Threading: open one context per process (or per test); its accessors are
// not synchronised, the services and encoders they return are thread-safe as
// their own headers say.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tagsmith/app/encoder.h"
#include "tagsmith/app/models.h"
#include "tagsmith/ingest/ingest.h"
#include "tagsmith/ingest/reembed.h"
#include "tagsmith/library/library.h"
#include "tagsmith/search/encoders.h"
#include "tagsmith/tagging/service.h"

namespace tagsmith::vision {
class PersonSegmenter;
}

namespace tagsmith::app {

using NoticeSink = std::function<void(const std::string&)>;

struct OpenOptions {
  std::string library = "./tagsmith-library";  // a directory or a postgresql:// URL
  bool create = true;  // false: throw NotFoundError when there is no library
  ModelOptions models;
  NoticeSink notices;  // empty: notices are dropped
};

class LibraryContext {
 public:
  static std::unique_ptr<LibraryContext> open(const OpenOptions& options);
  // Over a library the caller already opened (tests, the server's own).
  LibraryContext(std::unique_ptr<Library> library, ModelOptions models, NoticeSink notices = {});
  ~LibraryContext();

  Library& library() { return *library_; }
  store::Store& store() { return library_->store(); }

  // The encoder (loaded on first call), or null when none is present or
  // models are disabled.
  std::shared_ptr<const Encoder> encoder();
  // Makes the loaded encoder the library's encoder: registers it active and
  // retires any other active encoder. Ingest and `models import` call it
  // before they store vectors. When the library's encoder changes (from
  // another one, or from none while assets exist), the back catalogue is
  // marked for re-embedding (see embed_back_catalogue). Returns false when
  // there is no encoder.
  bool adopt_encoder();
  // Embeds the assets that have no vector under the adopted encoder, when
  // adopt_encoder() marked the library for it (also after an interrupted
  // run: the mark is cleared only when every asset was tried). Returns the
  // report; nullopt when nothing was pending.
  std::optional<ingest::ReembedReport> embed_back_catalogue(
      const ingest::ReembedOptions& options = {});
  // The model version vectors are compared under ("" none): the encoder's
  // when it has been loaded, else the library's active encoder's (without
  // loading any model).
  std::string embedding_version();

  std::unique_ptr<tagging::TagService> tag_service();
  std::unique_ptr<tagging::TagService> human_tag_service();
  std::unique_ptr<ingest::ImageEmbedder> embedder();
  // The person segmenter (loaded on first call, with a notice naming it) as
  // ingest's PersonMasker; null when none is present or it is disabled
  // (ModelOptions::person_disabled). Throws ModelError when the model
  // present cannot be loaded.
  std::unique_ptr<ingest::PersonMasker> person_masker();
  // Records the keywords of ingested photos (XMP, IPTC, sidecars) as
  // imported tags (tagging/keywords.h: actor "import:xmp"); for
  // IngestOptions::keywords. Loads no model.
  std::unique_ptr<ingest::KeywordImporter> keyword_importer();
  std::shared_ptr<search::TextEncoder> text_encoder();
  std::shared_ptr<search::ImageEncoder> image_encoder();
  std::map<std::string, training::ZeroShotPrior> head_priors(const taxonomy::Taxonomy& tax);

  // Where model-side caches (prompt embeddings) live: DIR/cache/text.
  std::filesystem::path cache_dir() const;

 private:
  std::unique_ptr<tagging::TagService> build_service(bool with_encoder);

  std::unique_ptr<Library> library_;
  ModelOptions models_;
  bool encoder_loaded_ = false;
  bool encoder_is_new_ = false;  // registered by this context's encoder()
  std::shared_ptr<const Encoder> encoder_;
  bool segmenter_loaded_ = false;
  std::shared_ptr<const vision::PersonSegmenter> segmenter_;
  NoticeSink notices_;
};

}  // namespace tagsmith::app
