// The learning loop on real photos with a real pretrained model (integration:
// needs ../shared). A catalogue of 300 clothing photos is ingested with
// MobileNetV2, the existing labels of 200 of them come in as human tags
// (`tags import`), heads are trained and promoted, and the 100 photos nobody
// labelled must then carry the right product type, the auto tier trustworthy.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tagsmith/cli/app.h"
#include "tagsmith/library/library.h"
#include "tagsmith/tagging/service.h"
#include "temp_dir.h"

namespace tagsmith {
namespace {
namespace fs = std::filesystem;

const fs::path kShared = TAGSMITH_SHARED_DIR;
const fs::path kDataset = kShared / "datasets" / "clothing-small";

struct CliRun {
  int rc;
  std::string out, err;
};

struct Photo {
  std::string image;    // relative to the dataset
  std::string garment;  // the dataset's class
};

class RealLoopIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kDataset / "labels.csv") ||
        !fs::exists(kShared / "models" / "mobilenet-v2-1.0-224-quant"))
      GTEST_SKIP() << "../shared (clothing-small, MobileNetV2) is absent";
  }

  CliRun run(std::vector<std::string> args) {
    args.insert(args.end(), {"--library", lib_dir.string(), "--quiet", "--models",
                             (kShared / "models").string(), "--threads", "1"});
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    const int rc = cli::run(args);
    return {rc, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
  }

  // The first `per_class` training photos of every class, in path order.
  static std::vector<Photo> sample(std::size_t per_class) {
    std::ifstream in(kDataset / "labels.csv");
    std::string line;
    std::getline(in, line);  // header: image,garment,split
    std::map<std::string, std::vector<std::string>> by_class;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      std::stringstream row(line);
      std::string image, garment, split;
      std::getline(row, image, ',');
      std::getline(row, garment, ',');
      std::getline(row, split, ',');
      if (split == "train") by_class[garment].push_back(image);
    }
    std::vector<Photo> out;
    for (auto& [garment, images] : by_class) {
      std::sort(images.begin(), images.end());
      for (std::size_t i = 0; i < per_class && i < images.size(); ++i)
        out.push_back({images[i], garment});
    }
    return out;
  }

  test::TempDir dir;
  fs::path lib_dir = dir / "lib";
};

// The taxonomy node each class of the dataset means (its map.yaml).
const std::map<std::string, std::string> kNode = {
    {"dress", "dress"},       {"hat", "hat"},        {"longsleeve", "long_sleeve_top"},
    {"outwear", "outerwear"}, {"pants", "trousers"}, {"shirt", "shirt"},
    {"shoes", "shoes"},       {"shorts", "shorts"},  {"skirt", "skirt"},
    {"t-shirt", "t_shirt"}};

TEST_F(RealLoopIntegration, ImportedLabelsTrainHeadsThatTagTheRestOfTheCatalogue) {
  const std::vector<Photo> photos = sample(30);
  ASSERT_EQ(photos.size(), 300u);
  // The catalogue: copies under one folder, as a team's export would be.
  const fs::path catalogue = dir / "catalogue";
  for (const auto& p : photos) {
    fs::create_directories((catalogue / p.image).parent_path());
    fs::copy_file(kDataset / p.image, catalogue / p.image);
  }
  // The loop under test is labels -> heads; the person model (0.5 s a photo)
  // serves colour analysis only, so it is left out of this run.
  const CliRun ingest = run(
      {"ingest", catalogue.string(), "--model", "mobilenet-v2-1.0-224-quant", "--no-person-model"});
  ASSERT_EQ(ingest.rc, 0) << ingest.err;

  // Labels for the first 20 of each class come in as human tags.
  std::map<std::string, int> seen;
  std::vector<Photo> labelled, unlabelled;
  for (const auto& p : photos) (seen[p.garment]++ < 20 ? labelled : unlabelled).push_back(p);
  {
    std::ofstream csv(catalogue / "labels.csv");
    csv << "image,garment\n";
    for (const auto& p : labelled) csv << p.image << "," << p.garment << "\n";
  }
  const CliRun imported = run({"tags", "import", (catalogue / "labels.csv").string(), "--map",
                               (kDataset / "map.yaml").string()});
  ASSERT_EQ(imported.rc, 0) << imported.out << imported.err;

  const CliRun trained = run({"train", "--promote", "--json"});
  ASSERT_EQ(trained.rc, 0) << trained.err;
  const auto t = nlohmann::json::parse(trained.out);
  ASSERT_TRUE(t.contains("promoted")) << trained.out;

  // The photos nobody labelled: every one gets a product type, and the auto
  // tier is right where it claims to be sure.
  auto lib = library::Library::open_existing(lib_dir);
  int tagged = 0, auto_tags = 0, auto_right = 0, applied_right = 0;
  for (const auto& p : unlabelled) {
    const auto asset = lib->store().find_asset_by_path((catalogue / p.image).string());
    ASSERT_TRUE(asset) << p.image;
    const store::Tag* best = nullptr;
    for (const auto& tag : lib->store().tags_of(asset->id)) {
      if (tag.attribute != "garment_type" || !store::is_applied(tag.state)) continue;
      if (!best || tag.confidence > best->confidence) best = &tag;
      const bool right = tag.node == kNode.at(p.garment);
      if (tag.state == store::TagState::kAuto) {
        ++auto_tags;
        auto_right += right;
      }
    }
    if (best) {
      ++tagged;
      applied_right += best->node == kNode.at(p.garment);
    }
  }
  const double coverage = tagged / 100.0, accuracy = applied_right / std::max(1.0, 1.0 * tagged);
  const double auto_precision = auto_right / std::max(1.0, 1.0 * auto_tags);
  RecordProperty("coverage", std::to_string(coverage));
  RecordProperty("applied_accuracy", std::to_string(accuracy));
  RecordProperty("auto_tags", auto_tags);
  RecordProperty("auto_precision", std::to_string(auto_precision));
  std::cout << "real loop: " << tagged << "/100 unlabelled photos tagged, applied accuracy "
            << accuracy << ", auto tier " << auto_tags << " tags at precision " << auto_precision
            << "\n";
  // Measured on this sample (seeded; one ingest thread, so asset ids and
  // with them the training split are the same every run): 44 of 100 applied
  // at accuracy 0.91, 22 auto tags at precision 1.00 (the rest stay
  // suggestions for review). Asserted with a margin.
  EXPECT_GE(coverage, 0.30);
  EXPECT_GE(accuracy, 0.80);
  EXPECT_GE(auto_tags, 12);
  EXPECT_GE(auto_precision, 0.90);
}

}  // namespace
}  // namespace tagsmith
