// Tags in and out of the library through the formats DAM and photo tools
// read: keywords in photos (XMP, IPTC, sidecars) imported on ingest, and
// exports as CSV, JSON and XMP, audited. What tagsmith writes is read back
// with Exiv2 directly, never only with tagsmith's own reader.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "fixtures.h"
#include "tagsmith/app/context.h"
#include "tagsmith/app/export.h"
#include "tagsmith/common/files.h"
#include "tagsmith/image/xmp.h"
#include "tagsmith/ingest/ingest.h"
#include "tagsmith/search/facet_index.h"
#include "tagsmith/tagging/keywords.h"
#include "tagsmith/tagging/taxonomy_versions.h"
#include "temp_dir.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <exiv2/exiv2.hpp>
#pragma GCC diagnostic pop

namespace tagsmith::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using store::TagState;

void put_bag(Exiv2::XmpData& xmp, const std::string& key, const std::vector<std::string>& values) {
  Exiv2::XmpArrayValue bag(Exiv2::xmpBag);
  for (const auto& v : values) bag.read(v);
  xmp.add(Exiv2::XmpKey(key), &bag);
}

// Keywords embedded the way a photo tool would, with Exiv2 itself.
void embed_with_exiv2(const fs::path& photo, const std::vector<std::string>& subjects,
                      const std::vector<std::string>& hierarchical = {}) {
  auto image = Exiv2::ImageFactory::open(photo.string());
  image->readMetadata();
  put_bag(image->xmpData(), "Xmp.dc.subject", subjects);
  if (!hierarchical.empty()) put_bag(image->xmpData(), "Xmp.lr.hierarchicalSubject", hierarchical);
  image->writeMetadata();
}

void sidecar_with_exiv2(const fs::path& sidecar, const std::vector<std::string>& subjects) {
  Exiv2::XmpData xmp;
  put_bag(xmp, "Xmp.dc.subject", subjects);
  std::string packet;
  ASSERT_EQ(Exiv2::XmpParser::encode(packet, xmp), 0);
  write_file_atomic(sidecar, packet);
}

std::vector<std::string> bag(const Exiv2::XmpData& xmp, const std::string& key) {
  std::vector<std::string> out;
  const auto it = xmp.findKey(Exiv2::XmpKey(key));
  if (it != xmp.end())
    for (long i = 0; i < it->count(); ++i) out.push_back(it->toString(i));
  return out;
}

// (attribute/node, state, actor) of every tag the asset at `path` carries.
std::set<std::tuple<std::string, TagState, std::string>> tags_at(store::Store& db,
                                                                 const fs::path& path) {
  std::set<std::tuple<std::string, TagState, std::string>> out;
  const auto a = db.find_asset_by_path(fs::absolute(path).lexically_normal().string());
  EXPECT_TRUE(a) << path;
  if (!a) return out;
  for (const auto& t : db.tags_of(a->id)) out.emplace(t.attribute + "/" + t.node, t.state, t.actor);
  return out;
}

class Interchange : public ::testing::Test {
 protected:
  void SetUp() override {
    OpenOptions o;
    o.library = (dir / "lib").string();
    o.models.disabled = true;
    o.models.person_disabled = true;
    ctx = LibraryContext::open(o);
    photos = dir / "photos";
    fs::create_directories(photos / "sub");
  }

  // Four photos: keywords embedded (a), in a sidecar (b), none (c), and an
  // unreadable sidecar (d); then ingested with keyword import on.
  ingest::IngestReport ingest_sample() {
    test::write_jpeg(photos / "a.jpg", test::synthetic_product(96, 128, 1));
    embed_with_exiv2(photos / "a.jpg", {"Maxi dress", "夏季", "Linen", "Spaceship"},
                     {"Material|Linen"});
    test::write_png(photos / "sub" / "b.png", test::synthetic_product(96, 128, 2));
    sidecar_with_exiv2(photos / "sub" / "b.xmp", {"Cotton", "棉"});
    test::write_jpeg(photos / "c.jpg", test::synthetic_product(96, 128, 3));
    test::write_jpeg(photos / "d.jpg", test::synthetic_product(96, 128, 4));
    write_file_atomic(photos / "d.jpg.xmp", "<x:xmpmeta><rdf:RDF><broken");
    const auto importer = ctx->keyword_importer();
    ingest::IngestOptions options;
    options.threads = 2;
    options.keywords = importer.get();
    return ingest::ingest(ctx->library(), {photos}, options);
  }

  store::Store& db() { return ctx->store(); }

  std::string export_table(const ExportQuery& q, ExportFormat format, ExportOptions options = {}) {
    const auto current = tagging::current_taxonomy(ctx->library());
    const auto facets = search::FacetIndex::load(db(), current.taxonomy);
    const auto selection = select_for_export(current.taxonomy, *facets, q);
    std::ostringstream out;
    write_export_table(db(), current.taxonomy, selection.ids, format, options, out);
    return out.str();
  }

  test::TempDir dir;
  std::unique_ptr<LibraryContext> ctx;
  fs::path photos;
};

TEST_F(Interchange, APhotoWhoseXmpCarriesKeywordsArrivesWithThoseLabelsAsImportedTags) {
  const auto r = ingest_sample();
  EXPECT_EQ(r.ingested, 4);
  EXPECT_EQ(r.rejected, 0) << "unreadable metadata never costs the photo";
  const std::string actor = tagging::kKeywordImportActor;
  const std::set<std::tuple<std::string, TagState, std::string>> a_expected = {
      {"garment_type/maxi_dress", TagState::kHumanSet, actor},
      {"season/summer", TagState::kHumanSet, actor},
      {"material/linen", TagState::kHumanSet, actor}};
  EXPECT_EQ(tags_at(db(), photos / "a.jpg"), a_expected);
  const std::set<std::tuple<std::string, TagState, std::string>> b_expected = {
      {"material/cotton", TagState::kHumanSet, actor}};
  EXPECT_EQ(tags_at(db(), photos / "sub" / "b.png"), b_expected)
      << "a sidecar's keywords, English and Chinese label of one node";
  EXPECT_TRUE(tags_at(db(), photos / "c.jpg").empty());

  EXPECT_EQ(r.with_keywords, 2);
  EXPECT_EQ(r.keyword_tags, 4);
  EXPECT_EQ(r.keywords_unmatched, 1);
  ASSERT_EQ(r.unmatched_keywords.size(), 1u);
  EXPECT_EQ(r.unmatched_keywords[0].first, "Spaceship");
  ASSERT_EQ(r.metadata_errors.size(), 1u);
  EXPECT_NE(r.metadata_errors[0].path.find("d.jpg"), std::string::npos);
  EXPECT_NE(r.metadata_errors[0].reason.find("d.jpg.xmp"), std::string::npos)
      << r.metadata_errors[0].reason;

  // One `applied` event per imported tag, attributed to the import.
  const auto a = db().find_asset_by_path((photos / "a.jpg").string());
  ASSERT_TRUE(a);
  int applied = 0;
  for (const auto& e : db().tag_events(a->id))
    if (e.action == store::TagAction::kApplied && e.actor == actor) ++applied;
  EXPECT_EQ(applied, 3);
}

TEST_F(Interchange, KeywordsImportedAgainNeverOverrideAPersonsDecision) {
  ingest_sample();
  const auto a = db().find_asset_by_path((photos / "a.jpg").string());
  ASSERT_TRUE(a);
  tagging::TagService service(ctx->library());
  ASSERT_TRUE(service.reject(a->id, "material", "linen", "ana"));
  ASSERT_TRUE(service.correct(a->id, "garment_type", "maxi_dress", "shirt", "ana"));
  const auto r =
      tagging::import_keywords(service, db(), a->id, image::read_keywords(photos / "a.jpg"));
  EXPECT_EQ(r.set, 0u);
  EXPECT_EQ(r.unchanged, 1u) << "season/summer, imported before";
  std::set<std::string> reasons;
  for (const auto& u : r.unmatched) reasons.insert(u.keyword + ": " + u.reason);
  EXPECT_EQ(reasons.size(), 3u) << fmt::format("{}", fmt::join(reasons, "\n"));
  EXPECT_EQ(reasons.count("Material|Linen: material linen was rejected by user:ana; not imported"),
            1u)
      << fmt::format("{}", fmt::join(reasons, "\n"));
  const auto tags = tags_at(db(), photos / "a.jpg");
  EXPECT_EQ(tags.count({"garment_type/shirt", TagState::kHumanSet, "user:ana"}), 1u);
  EXPECT_EQ(tags.count({"material/linen", TagState::kRejected, "user:ana"}), 1u);
}

TEST_F(Interchange, KeywordImportIsOffWithoutAnImporter) {
  test::write_jpeg(photos / "a.jpg", test::synthetic_product(96, 128, 1));
  embed_with_exiv2(photos / "a.jpg", {"Maxi dress"});
  ingest::IngestOptions options;
  options.threads = 1;
  const auto r = ingest::ingest(ctx->library(), {photos}, options);
  EXPECT_EQ(r.ingested, 1);
  EXPECT_EQ(r.with_keywords, 0);
  EXPECT_TRUE(tags_at(db(), photos / "a.jpg").empty());
}

TEST_F(Interchange, CsvExportHoldsTheSearchSelectionWithTagDetails) {
  ingest_sample();
  ExportQuery q;
  q.text = "maxi dress";
  const std::string csv = export_table(q, ExportFormat::kCsv);
  std::vector<std::string> lines;
  std::istringstream in(csv);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u) << csv;  // header + the three tags of a.jpg
  EXPECT_EQ(lines[0].rfind("asset_id,file_name,path,format,width,height,sha256,", 0), 0u);
  EXPECT_EQ(csv.find("b.png"), std::string::npos) << "filtered by the search";
  EXPECT_NE(csv.find(",garment_type,Product type,maxi_dress,Maxi dress,Product type|Dress|Maxi "
                     "dress,human_set,1.0000,import:xmp,"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",season,Season,summer,Summer,Season|Summer,human_set,"), std::string::npos);

  // Chinese labels, and an asset without exported tags still gets its row.
  ExportOptions zh;
  zh.language = "zh";
  const std::string all = export_table({}, ExportFormat::kCsv, zh);
  EXPECT_NE(all.find("长款连衣裙"), std::string::npos);
  EXPECT_NE(all.find("c.jpg"), std::string::npos);
}

TEST_F(Interchange, JsonExportIsOneObjectPerAssetAndFiltersByFacet) {
  ingest_sample();
  ExportQuery q;
  q.facets = {"material=cotton,linen"};
  const json j = json::parse(export_table(q, ExportFormat::kJson));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_LT(j[0]["id"].get<std::int64_t>(), j[1]["id"].get<std::int64_t>()) << "by id";
  // Ingest commits in the order the workers finish: find b.png by name.
  const json& b = j[0]["file_name"] == "b.png" ? j[0] : j[1];
  const json& a = j[0]["file_name"] == "b.png" ? j[1] : j[0];
  EXPECT_EQ(a["file_name"], "a.jpg");
  EXPECT_EQ(b["file_name"], "b.png");
  ASSERT_EQ(b["tags"].size(), 1u);
  EXPECT_EQ(b["tags"][0]["node"], "cotton");
  EXPECT_EQ(b["tags"][0]["state"], "human_set");
  EXPECT_EQ(b["tags"][0]["set_by"], "import:xmp");
  EXPECT_EQ(b["tags"][0]["hierarchy"], "Material|Cotton");
  EXPECT_EQ(b["path"], (photos / "sub" / "b.png").string());

  // jsonl: the same objects, one a line; --tiers narrows the tags written.
  ExportOptions only_auto;
  only_auto.states = export_states_from_string("auto");
  std::istringstream lines(export_table(q, ExportFormat::kJsonLines, only_auto));
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n)
    EXPECT_TRUE(json::parse(line)["tags"].empty()) << line;
  EXPECT_EQ(n, 2);

  EXPECT_THROW(export_states_from_string("bogus"), InputError);
  const auto current = tagging::current_taxonomy(ctx->library());
  const auto facets = search::FacetIndex::load(db(), current.taxonomy);
  ExportQuery nonsense;
  nonsense.text = "flowy ethereal";
  EXPECT_THROW(select_for_export(current.taxonomy, *facets, nonsense), InputError)
      << "words that only rank select nothing a filter names";
  nonsense.text = "flowy cotton";
  const auto sel = select_for_export(current.taxonomy, *facets, nonsense);
  EXPECT_EQ(sel.ids.size(), 1u);
  EXPECT_EQ(sel.notes.size(), 1u);
}

TEST_F(Interchange, ExportsAreAudited) {
  ingest_sample();
  ExportQuery q;
  q.text = "summer";
  record_export(db(), "user:ada", ExportFormat::kCsv, q, 1, "http");
  const auto records = db().export_records(10);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].actor, "user:ada");
  EXPECT_EQ(records[0].format, "csv");
  EXPECT_EQ(records[0].query, "\"summer\"");
  EXPECT_EQ(records[0].assets, 1);
  EXPECT_FALSE(records[0].at.empty());
}

TEST_F(Interchange, AnExportedSidecarIsReadBackByExiv2WithTheSameKeywordsAndHierarchy) {
  ingest_sample();
  const auto current = tagging::current_taxonomy(ctx->library());
  const auto& tax = current.taxonomy;
  const auto facets = search::FacetIndex::load(db(), tax);
  const auto sel = select_for_export(tax, *facets, {});
  XmpTarget target;
  target.dir = dir / "out";
  const auto r = write_xmp(db(), tax, sel.ids, {}, target);
  EXPECT_EQ(r.written, 2u);
  EXPECT_EQ(r.without_tags, 2u);
  EXPECT_TRUE(r.failed.empty());

  // Mirrored below the photos' common folder: out/a.xmp, out/sub/b.xmp.
  const fs::path sidecar = dir / "out" / "a.xmp";
  ASSERT_TRUE(fs::exists(sidecar));
  ASSERT_TRUE(fs::exists(dir / "out" / "sub" / "b.xmp"));
  Exiv2::XmpData xmp;
  ASSERT_EQ(Exiv2::XmpParser::decode(xmp, read_file_text(sidecar)), 0);
  auto subjects = bag(xmp, "Xmp.dc.subject");
  auto hierarchy = bag(xmp, "Xmp.lr.hierarchicalSubject");
  std::sort(subjects.begin(), subjects.end());
  std::sort(hierarchy.begin(), hierarchy.end());
  EXPECT_EQ(subjects, (std::vector<std::string>{"Linen", "Maxi dress", "Summer"}));
  EXPECT_EQ(hierarchy, (std::vector<std::string>{"Material|Linen", "Product type|Dress|Maxi dress",
                                                 "Season|Summer"}));

  // And the way back: the sidecar's keywords name the same nodes.
  const auto mapped = tagging::map_keywords(tax, image::read_keywords(sidecar));
  EXPECT_TRUE(mapped.unmatched.empty());
  std::set<std::string> nodes;
  for (const auto& m : mapped.matched) nodes.insert(m.ref.str());
  EXPECT_EQ(nodes,
            (std::set<std::string>{"garment_type/maxi_dress", "material/linen", "season/summer"}));
}

TEST_F(Interchange, EmbeddedExportWritesCopiesAndNeverTheOriginals) {
  ingest_sample();
  const auto before = read_file_bytes(photos / "a.jpg");
  const auto current = tagging::current_taxonomy(ctx->library());
  const auto facets = search::FacetIndex::load(db(), current.taxonomy);
  ExportQuery q;
  q.text = "maxi dress";
  const auto sel = select_for_export(current.taxonomy, *facets, q);
  XmpTarget target;
  target.dir = dir / "copies";
  target.embed = true;
  ExportOptions zh;
  zh.language = "zh";
  const auto r = write_xmp(db(), current.taxonomy, sel.ids, zh, target);
  ASSERT_EQ(r.written, 1u);
  EXPECT_EQ(read_file_bytes(photos / "a.jpg"), before);
  auto image = Exiv2::ImageFactory::open((dir / "copies" / "a.jpg").string());
  image->readMetadata();
  const auto hierarchy = bag(image->xmpData(), "Xmp.lr.hierarchicalSubject");
  EXPECT_NE(std::find(hierarchy.begin(), hierarchy.end(), "品类|连衣裙|长款连衣裙"),
            hierarchy.end())
      << fmt::format("{}", fmt::join(hierarchy, "; "));

  target.in_place = true;
  EXPECT_THROW(write_xmp(db(), current.taxonomy, sel.ids, zh, target), InputError);
}

TEST(KeywordMapping, HintsSynonymsConflictsAndFamilies) {
  const auto tax = taxonomy::Taxonomy::builtin();
  auto names = [](const tagging::KeywordMapping& m) {
    std::set<std::string> out;
    for (const auto& x : m.matched) out.insert(x.ref.str());
    return out;
  };
  // Synonyms and Chinese labels.
  auto m = tagging::map_keywords(tax, {{"tee", "条纹", "fall"}, {}});
  EXPECT_EQ(names(m),
            (std::set<std::string>{"garment_type/t_shirt", "pattern/striped", "season/autumn"}));
  // An ambiguous flat keyword is reported, and the hierarchy decides it.
  m = tagging::map_keywords(tax, {{"Linen"}, {}});
  EXPECT_TRUE(m.matched.empty());
  ASSERT_EQ(m.unmatched.size(), 1u);
  EXPECT_NE(m.unmatched[0].reason.find("ambiguous"), std::string::npos);
  m = tagging::map_keywords(tax, {{}, {"Colour shade|Linen"}});
  EXPECT_EQ(names(m), std::set<std::string>{"colour_shade/linen"});
  // A single-valued attribute: the deeper of a chain wins, two siblings conflict.
  m = tagging::map_keywords(tax, {{"Dress", "Maxi dress"}, {}});
  EXPECT_EQ(names(m), std::set<std::string>{"garment_type/maxi_dress"});
  m = tagging::map_keywords(tax, {{"Shirt", "Maxi dress"}, {}});
  EXPECT_TRUE(m.matched.empty());
  EXPECT_EQ(m.unmatched.size(), 2u);
  // A colour named like its family reads as the family.
  m = tagging::map_keywords(tax, {{"White"}, {}});
  EXPECT_EQ(names(m), std::set<std::string>{"colour_family/white"});
  // keywords_of -> map_keywords is the identity on nodes, in both languages.
  std::vector<store::Tag> tags;
  for (const auto& [a, n] :
       std::vector<std::pair<std::string, std::string>>{{"garment_type", "hoodie"},
                                                        {"material", "linen"},
                                                        {"colour_shade", "linen"},
                                                        {"season", "summer"},
                                                        {"category", "dresses"}}) {
    store::Tag t;
    t.attribute = a;
    t.node = n;
    tags.push_back(t);
  }
  for (const std::string lang : {"en", "zh"}) {
    m = tagging::map_keywords(tax, tagging::keywords_of(tax, tags, lang));
    EXPECT_TRUE(m.unmatched.empty()) << lang << ": " << m.unmatched[0].keyword;
    EXPECT_EQ(names(m),
              (std::set<std::string>{"garment_type/hoodie", "material/linen", "colour_shade/linen",
                                     "season/summer", "category/dresses"}))
        << lang;
  }
}

}  // namespace
}  // namespace tagsmith::app
