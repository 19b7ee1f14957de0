// Keywords in photo metadata. What tagsmith writes is read back here with
// Exiv2 directly (XmpParser / ImageFactory), not with tagsmith's own reader,
// so a reader and writer that agree on a mistake cannot pass.
#include "tagsmith/image/xmp.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "fixtures.h"
#include "tagsmith/common/files.h"
#include "temp_dir.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <exiv2/exiv2.hpp>
#pragma GCC diagnostic pop

namespace tagsmith::image {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

cv::Mat picture() {
  cv::Mat m(48, 64, CV_8UC3, cv::Scalar(30, 140, 220));
  m(cv::Rect(0, 0, 32, 48)).setTo(cv::Scalar(240, 240, 240));
  return m;
}

std::vector<std::string> bag(const Exiv2::XmpData& xmp, const std::string& key) {
  std::vector<std::string> out;
  const auto it = xmp.findKey(Exiv2::XmpKey(key));
  if (it == xmp.end()) return out;
  EXPECT_EQ(it->typeId(), Exiv2::xmpBag) << key << " must be an rdf:Bag, as Lightroom writes it";
  for (long i = 0; i < it->count(); ++i) out.push_back(it->toString(i));
  return out;
}

Exiv2::XmpData parse_file(const fs::path& sidecar) {
  Exiv2::XmpData xmp;
  EXPECT_EQ(Exiv2::XmpParser::decode(xmp, read_file_text(sidecar)), 0);
  return xmp;
}

const PhotoKeywords kKeywords{
    {"Maxi dress", "White", "连衣裙"},
    {"Product type|Dresses|Maxi dress", "Colour family|White", "品类|连衣裙"}};

TEST(Xmp, SidecarIsReadBackByExiv2WithTheSameKeywordsAndHierarchy) {
  TempDir dir;
  const fs::path sidecar = dir / "photo.xmp";
  write_sidecar(sidecar, kKeywords);
  const auto xmp = parse_file(sidecar);
  EXPECT_EQ(bag(xmp, "Xmp.dc.subject"), kKeywords.subjects);
  EXPECT_EQ(bag(xmp, "Xmp.lr.hierarchicalSubject"), kKeywords.hierarchical);
  // And through ImageFactory, as a tool opening the sidecar would.
  auto image = Exiv2::ImageFactory::open(sidecar.string());
  image->readMetadata();
  EXPECT_EQ(bag(image->xmpData(), "Xmp.dc.subject"), kKeywords.subjects);
  // tagsmith's own reader agrees.
  const auto back = read_keywords(sidecar);
  EXPECT_EQ(back.subjects, kKeywords.subjects);
  EXPECT_EQ(back.hierarchical, kKeywords.hierarchical);
}

TEST(Xmp, SidecarMergeKeepsWhatWasThereAndReplaceDoesNot) {
  TempDir dir;
  const fs::path sidecar = dir / "photo.xmp";
  {
    // A sidecar a person's tool wrote: a rating and a keyword of their own.
    Exiv2::XmpData xmp;
    xmp["Xmp.xmp.Rating"] = "4";
    Exiv2::XmpArrayValue subjects(Exiv2::xmpBag);
    subjects.read("Summer sale");
    xmp.add(Exiv2::XmpKey("Xmp.dc.subject"), &subjects);
    std::string packet;
    ASSERT_EQ(Exiv2::XmpParser::encode(packet, xmp), 0);
    write_file_atomic(sidecar, packet);
  }
  write_sidecar(sidecar, kKeywords, KeywordWrite::kMerge);
  auto xmp = parse_file(sidecar);
  auto subjects = bag(xmp, "Xmp.dc.subject");
  ASSERT_EQ(subjects.size(), 4u);
  EXPECT_EQ(subjects[0], "Summer sale");
  EXPECT_EQ(xmp["Xmp.xmp.Rating"].toString(), "4");

  write_sidecar(sidecar, {{"Shirt"}, {}}, KeywordWrite::kReplace);
  xmp = parse_file(sidecar);
  EXPECT_EQ(bag(xmp, "Xmp.dc.subject"), std::vector<std::string>{"Shirt"});
  EXPECT_TRUE(bag(xmp, "Xmp.lr.hierarchicalSubject").empty());
  EXPECT_EQ(xmp["Xmp.xmp.Rating"].toString(), "4") << "replace touches keywords only";
}

TEST(Xmp, EmbeddedCopyRoundTripsAndLeavesTheOriginalAlone) {
  TempDir dir;
  for (const std::string ext : {"jpg", "png", "tiff", "webp"}) {
    SCOPED_TRACE(ext);
    const fs::path photo = dir / ("photo." + ext);
    ASSERT_TRUE(cv::imwrite(photo.string(), picture()));
    const auto before = read_file_bytes(photo);
    fs::create_directories(dir / "out");
    const fs::path copy = dir / "out" / photo.filename();
    write_embedded_copy(photo, copy, kKeywords);
    EXPECT_EQ(read_file_bytes(photo), before) << "the original must not change";

    auto image = Exiv2::ImageFactory::open(copy.string());
    image->readMetadata();
    EXPECT_EQ(bag(image->xmpData(), "Xmp.dc.subject"), kKeywords.subjects);
    EXPECT_EQ(bag(image->xmpData(), "Xmp.lr.hierarchicalSubject"), kKeywords.hierarchical);
    // The copy is still the same picture.
    const cv::Mat decoded = cv::imread(copy.string());
    ASSERT_FALSE(decoded.empty());
    EXPECT_EQ(decoded.size(), picture().size());

    const auto bytes = read_file_bytes(copy);
    const auto back = read_embedded_keywords(bytes);
    EXPECT_EQ(back.subjects, kKeywords.subjects);
  }
}

TEST(Xmp, ReadsIptcKeywordsAndXmpWrittenByExiv2) {
  TempDir dir;
  const fs::path photo = dir / "iptc.jpg";
  ASSERT_TRUE(cv::imwrite(photo.string(), picture()));
  {
    auto image = Exiv2::ImageFactory::open(photo.string());
    image->readMetadata();
    auto& iptc = image->iptcData();
    iptc["Iptc.Envelope.CharacterSet"] = "\x1b%G";  // UTF-8
    for (const char* k : {"Shirt", "Blue"}) {
      Exiv2::StringValue v(k);
      iptc.add(Exiv2::IptcKey("Iptc.Application2.Keywords"), &v);
    }
    Exiv2::XmpArrayValue subjects(Exiv2::xmpBag);
    subjects.read("Blue");
    subjects.read("Cotton");
    image->xmpData().add(Exiv2::XmpKey("Xmp.dc.subject"), &subjects);
    image->writeMetadata();
  }
  const auto k = read_keywords(photo);
  EXPECT_EQ(k.subjects, (std::vector<std::string>{"Blue", "Cotton", "Shirt"}))
      << "XMP first, then IPTC, duplicates once";
  EXPECT_TRUE(k.hierarchical.empty());
}

TEST(Xmp, PhotoWithoutMetadataHasNoKeywords) {
  TempDir dir;
  const fs::path photo = dir / "plain.png";
  ASSERT_TRUE(cv::imwrite(photo.string(), picture()));
  EXPECT_TRUE(read_keywords(photo).empty());
  EXPECT_FALSE(find_sidecar(photo));
}

TEST(Xmp, CorruptFilesGiveAClearErrorNotACrash) {
  TempDir dir;
  const fs::path junk = dir / "junk.jpg";
  write_file_atomic(junk, "this is not a photo at all");
  try {
    read_keywords(junk);
    FAIL() << "expected MetadataError";
  } catch (const MetadataError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.jpg"), std::string::npos) << e.what();
  }
  // A JPEG cut short in its metadata, and one whose APP1 length lies.
  const fs::path photo = dir / "good.jpg";
  ASSERT_TRUE(cv::imwrite(photo.string(), picture()));
  write_embedded_copy(photo, dir / "tagged.jpg", kKeywords);
  const auto bytes = read_file_bytes(dir / "tagged.jpg");
  for (std::size_t cut : {std::size_t{30}, bytes.size() / 3}) {
    std::vector<std::uint8_t> part(bytes.begin(), bytes.begin() + static_cast<long>(cut));
    EXPECT_THROW(read_embedded_keywords(part, "cut.jpg"), MetadataError) << cut;
  }
  std::vector<std::uint8_t> lying = bytes;
  for (std::size_t i = 2; i + 3 < lying.size(); ++i) {
    if (lying[i] == 0xFF && lying[i + 1] == 0xE1) {  // APP1: claim 65535 bytes
      lying[i + 2] = 0xFF;
      lying[i + 3] = 0xFF;
      break;
    }
  }
  try {
    (void)read_embedded_keywords(lying, "lying.jpg");
  } catch (const MetadataError&) {
  }
  // A sidecar that is not XMP.
  const fs::path bad_sidecar = dir / "bad.xmp";
  write_file_atomic(bad_sidecar, "<x:xmpmeta><rdf:RDF><unclosed");
  EXPECT_THROW(read_keywords(bad_sidecar), MetadataError);
  EXPECT_THROW(write_sidecar(bad_sidecar, kKeywords), MetadataError)
      << "a sidecar we cannot read is never overwritten";
  // A format Exiv2 cannot embed XMP into.
  const fs::path bmp = dir / "p.bmp";
  ASSERT_TRUE(cv::imwrite(bmp.string(), picture()));
  EXPECT_THROW(write_embedded_copy(bmp, dir / "out.bmp", kKeywords), MetadataError);
  EXPECT_FALSE(fs::exists(dir / "out.bmp"));
}

TEST(Xmp, FindsSidecarsByEitherConvention) {
  TempDir dir;
  const fs::path photo = dir / "a.jpg";
  ASSERT_TRUE(cv::imwrite(photo.string(), picture()));
  write_sidecar(dir / "a.jpg.xmp", {{"Shirt"}, {}});
  EXPECT_EQ(find_sidecar(photo), dir / "a.jpg.xmp");
  write_sidecar(dir / "a.xmp", {{"Dress"}, {}});
  EXPECT_EQ(find_sidecar(photo), dir / "a.xmp") << "Lightroom's name first";
}

TEST(Xmp, SplitsHierarchies) {
  EXPECT_EQ(split_hierarchy("Product type| Dresses |Maxi dress"),
            (std::vector<std::string>{"Product type", "Dresses", "Maxi dress"}));
  EXPECT_EQ(split_hierarchy("||x|"), std::vector<std::string>{"x"});
  EXPECT_TRUE(split_hierarchy("").empty());
}

TEST(Xmp, ReadsConcurrently) {
  TempDir dir;
  const fs::path photo = dir / "p.jpg";
  ASSERT_TRUE(cv::imwrite(photo.string(), picture()));
  write_embedded_copy(photo, dir / "t.jpg", kKeywords);
  const auto bytes = read_file_bytes(dir / "t.jpg");
  std::vector<std::jthread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i)
        if (read_embedded_keywords(bytes).subjects == kKeywords.subjects) ++good;
    });
  threads.clear();
  EXPECT_EQ(good.load(), 200);
}

}  // namespace
}  // namespace tagsmith::image
