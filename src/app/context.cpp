#include "tagsmith/app/context.h"

#include <set>

#include "tagsmith/common/clock.h"
#include "tagsmith/common/error.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/tagging/keywords.h"
#include "tagsmith/training/colour_refit.h"
#include "tagsmith/training/registry.h"
#include "tagsmith/training/scorer.h"
#include "tagsmith/vision/person_segmenter.h"

namespace tagsmith::app {
namespace fs = std::filesystem;
namespace {

// Trained heads as a tagging score source.
class HeadScoreProvider final : public tagging::ScoreProvider {
 public:
  explicit HeadScoreProvider(training::HeadSet heads) : scorer_(std::move(heads)) {}
  std::string name() const override { return "heads"; }
  std::string embedding_model() const override { return scorer_.encoder_version(); }
  std::vector<tagging::ScoreSet> scores(const taxonomy::Taxonomy&,
                                        const tagging::ScoreRequest& r) const override {
    if (r.embedding.empty()) return {};
    return scorer_.score(r.embedding);
  }

 private:
  training::HeadScorer scorer_;
};

// Keywords a photo carries, recorded as imported tags (tagging/keywords.h),
// through a colour-only service of its own: only human operations are used.
class TaggingKeywordImporter final : public ingest::KeywordImporter {
 public:
  explicit TaggingKeywordImporter(Library& lib) : lib_(lib), service_(lib) {}
  Outcome import(store::AssetId asset, const image::PhotoKeywords& keywords) override {
    const auto r = tagging::import_keywords(service_, lib_.store(), asset, keywords);
    Outcome out;
    out.tags = static_cast<std::int64_t>(r.set);
    for (const auto& u : r.unmatched) out.unmatched.push_back(u.keyword);
    return out;
  }

 private:
  Library& lib_;
  tagging::TagService service_;
};

// The encoder as ingest's embedder.
class EncoderEmbedder final : public ingest::ImageEmbedder {
 public:
  explicit EncoderEmbedder(std::shared_ptr<const Encoder> e) : encoder_(std::move(e)) {}
  std::string version() const override { return encoder_->version(); }
  int preferred_batch() const override { return encoder_->preferred_batch(); }
  int input_size() const override { return encoder_->input_size(); }
  std::vector<std::vector<float>> embed(const std::vector<cv::Mat>& images) override {
    return encoder_->embed_images(images);
  }

 private:
  std::shared_ptr<const Encoder> encoder_;
};

// The person segmenter as ingest's masker (thread-safe as the segmenter is).
class SegmenterMasker final : public ingest::PersonMasker {
 public:
  explicit SegmenterMasker(std::shared_ptr<const vision::PersonSegmenter> s)
      : segmenter_(std::move(s)) {}
  std::string version() const override { return segmenter_->version(); }
  cv::Mat person_mask(const cv::Mat& rgb) override { return segmenter_->person_mask(rgb); }

 private:
  std::shared_ptr<const vision::PersonSegmenter> segmenter_;
};

// The encoder behind search's interfaces.
class SearchEncoders final : public search::TextEncoder, public search::ImageEncoder {
 public:
  explicit SearchEncoders(std::shared_ptr<const Encoder> e) : encoder_(std::move(e)) {}
  std::string version() const override { return encoder_->version(); }
  std::vector<float> encode_text(const std::string& text) override {
    return encoder_->embed_text(text);
  }
  std::vector<float> encode_image_file(const fs::path& file) override {
    // Decoded no larger than the encoder's input, as ingest does.
    const image::NeededSize need{0, encoder_->input_size()};
    auto rows = encoder_->embed_images({image::decode_file(file, {}, need).rgb});
    return std::move(rows.at(0));
  }

 private:
  std::shared_ptr<const Encoder> encoder_;
};

}  // namespace

std::unique_ptr<LibraryContext> LibraryContext::open(const OpenOptions& options) {
  auto library =
      options.create ? Library::open(options.library) : Library::open_existing(options.library);
  return std::make_unique<LibraryContext>(std::move(library), options.models, options.notices);
}

LibraryContext::LibraryContext(std::unique_ptr<Library> library, ModelOptions models,
                               NoticeSink notices)
    : library_(std::move(library)), models_(std::move(models)), notices_(std::move(notices)) {
  if (!library_) throw Error("LibraryContext needs a library");
}

LibraryContext::~LibraryContext() = default;

std::shared_ptr<const Encoder> LibraryContext::encoder() {
  if (encoder_loaded_) return encoder_;
  encoder_loaded_ = true;
  const EncoderChoice choice = choose_encoder(models_, library_.get());
  if (!choice.dir) {
    if (!choice.notice.empty() && notices_) notices_(choice.notice);
    return nullptr;
  }
  encoder_ = load_encoder(*choice.dir, models_.threads, models_.precision);
  store::ModelVersion v;
  v.version = encoder_->version();
  v.kind = store::ModelKind::kEncoder;
  v.status = store::ModelStatus::kActive;
  v.created_at = now_utc_iso8601();
  // Inside the library (imported): recorded relative, so the library can move.
  const auto inside = fs::absolute(*choice.dir)
                          .lexically_normal()
                          .lexically_relative(fs::absolute(library_->dir()).lexically_normal());
  v.artifact_path =
      !inside.empty() && *inside.begin() == "encoders" ? inside.string() : choice.dir->string();
  encoder_is_new_ = !store().model_version(v.version);
  store().add_model_version(v);  // no-op when already registered
  return encoder_;
}

namespace {
// Settings key: the encoder version whose back catalogue still needs vectors.
constexpr const char* kReembedPending = "encoder.reembed_pending";
}  // namespace

bool LibraryContext::adopt_encoder() {
  const auto e = encoder();
  if (!e) return false;
  // A switch: the version is new to the library, or another encoder was the
  // library's (active with a higher id, or this one retired).
  const auto before = training::active_encoder(store());
  bool switched = encoder_is_new_ || !before || before->version != e->version();
  for (auto v : store().model_versions()) {
    if (v.kind != store::ModelKind::kEncoder) continue;
    const bool mine = v.version == e->version();
    if (!mine && v.status != store::ModelStatus::kActive) continue;
    const auto wanted = mine ? store::ModelStatus::kActive : store::ModelStatus::kRetired;
    if (v.status == wanted) continue;
    switched = true;
    v.status = wanted;
    store().update_model_version(v);
  }
  encoder_is_new_ = false;
  if (switched && !store().asset_ids().empty()) store().set_setting(kReembedPending, e->version());
  return true;
}

std::optional<ingest::ReembedReport> LibraryContext::embed_back_catalogue(
    const ingest::ReembedOptions& options) {
  const auto e = encoder();
  const auto pending = store().setting(kReembedPending);
  if (!e || !pending || *pending != e->version()) return std::nullopt;
  auto embedder = this->embedder();
  auto report = ingest::embed_missing(*library_, *embedder, options);
  store().set_setting(kReembedPending, "");
  return report;
}

std::string LibraryContext::embedding_version() {
  if (encoder_) return encoder_->version();
  const auto active = training::active_encoder(store());
  return active ? active->version : std::string();
}

std::unique_ptr<tagging::TagService> LibraryContext::tag_service() {
  return build_service(true);
}

std::unique_ptr<tagging::TagService> LibraryContext::human_tag_service() {
  return build_service(false);
}

std::unique_ptr<tagging::TagService> LibraryContext::build_service(bool with_encoder) {
  std::vector<std::unique_ptr<tagging::ScoreProvider>> providers;
  providers.push_back(std::make_unique<tagging::ColourScoreProvider>(
      training::active_colour_calibration(*library_)));
  std::set<std::string> covered;
  if (auto heads = training::load_active_heads(*library_)) {
    for (const auto& h : heads->heads) covered.insert(h.attribute);
    providers.push_back(std::make_unique<HeadScoreProvider>(std::move(*heads)));
  }
  if (const auto e = with_encoder ? encoder() : nullptr) {
    if (auto p = e->score_provider(cache_dir(), covered)) providers.push_back(std::move(p));
  }
  return std::make_unique<tagging::TagService>(*library_, std::move(providers));
}

std::unique_ptr<ingest::ImageEmbedder> LibraryContext::embedder() {
  const auto e = encoder();
  return e ? std::make_unique<EncoderEmbedder>(e) : nullptr;
}

std::unique_ptr<ingest::PersonMasker> LibraryContext::person_masker() {
  if (!segmenter_loaded_) {
    segmenter_loaded_ = true;
    if (const auto dir = choose_person_segmenter(models_)) {
      // One intra-op thread, as the classifier encoder: ingest calls the
      // segmenter from every decode worker at once, which is where the
      // parallelism is, and the setting is process-wide (bench_person: 0.5 s
      // per photo on 1 thread, no faster on 2 on a busy 2-core machine).
      vision::RuntimeOptions options;
      options.threads = 1;
      segmenter_ = vision::PersonSegmenter::load(*dir, options);
      if (notices_)
        notices_("person model: " + segmenter_->version() +
                 " (colour analysis finds the product on people)");
    }
  }
  return segmenter_ ? std::make_unique<SegmenterMasker>(segmenter_) : nullptr;
}

std::unique_ptr<ingest::KeywordImporter> LibraryContext::keyword_importer() {
  return std::make_unique<TaggingKeywordImporter>(*library_);
}

std::shared_ptr<search::TextEncoder> LibraryContext::text_encoder() {
  const auto e = encoder();
  return e && e->has_text() ? std::make_shared<SearchEncoders>(e) : nullptr;
}

std::shared_ptr<search::ImageEncoder> LibraryContext::image_encoder() {
  const auto e = encoder();
  return e ? std::make_shared<SearchEncoders>(e) : nullptr;
}

std::map<std::string, training::ZeroShotPrior> LibraryContext::head_priors(
    const taxonomy::Taxonomy& tax) {
  const auto e = encoder();
  return e ? e->head_priors(tax, cache_dir()) : std::map<std::string, training::ZeroShotPrior>{};
}

fs::path LibraryContext::cache_dir() const {
  return library_->dir() / "cache" / "text";
}

}  // namespace tagsmith::app
