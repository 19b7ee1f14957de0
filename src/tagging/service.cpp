#include "tagsmith/tagging/service.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "tagsmith/common/clock.h"
#include "tagsmith/common/error.h"
#include "tagsmith/common/files.h"
#include "tagsmith/common/hash.h"

namespace tagsmith::tagging {

using nlohmann::json;
using store::AssetId;
using store::TagAction;
using store::TagState;

// --- taxonomy versions ------------------------------------------------------------

namespace {

std::string version_source_name(std::int64_t id) {
  return fmt::format("taxonomy v{}", id);
}

LibraryTaxonomy parse_version(store::Library& lib, store::TaxonomyVersion v) {
  LibraryTaxonomy out;
  out.taxonomy = taxonomy::Taxonomy::parse(v.yaml, version_source_name(v.id), &lib.palette());
  out.version = v.id;
  out.record = std::move(v);
  return out;
}

}  // namespace

LibraryTaxonomy current_taxonomy(store::Library& lib) {
  store::Store& db = lib.store();
  auto latest = db.latest_taxonomy_version();
  if (!latest) {
    // Lazily, so libraries created before taxonomies existed get one too.
    store::TaxonomyVersion v;
    v.created_at = now_utc_iso8601();
    v.source = "builtin";
    v.yaml = std::string(taxonomy::Taxonomy::builtin_yaml());
    v.sha256 = sha256_hex(std::string_view(v.yaml));
    db.add_taxonomy_version(v);
    latest = db.latest_taxonomy_version();
  }
  return parse_version(lib, std::move(*latest));
}

LibraryTaxonomy load_taxonomy_version(store::Library& lib, std::int64_t version) {
  if (version == 1 && lib.store().taxonomy_versions().empty()) return current_taxonomy(lib);
  auto v = lib.store().taxonomy_version(version);
  if (!v)
    throw NotFoundError(fmt::format(
        "no taxonomy version {} in this library (see `tagsmith taxonomy versions`)", version));
  return parse_version(lib, std::move(*v));
}

TaxonomyImport import_taxonomy_text(store::Library& lib, std::string_view yaml,
                                    std::string_view source_name) {
  // Parse first: a file that does not validate must leave the library untouched.
  taxonomy::Taxonomy imported = taxonomy::Taxonomy::parse(yaml, source_name, &lib.palette());
  LibraryTaxonomy current = current_taxonomy(lib);
  TaxonomyImport out;
  out.previous = current.version;
  out.diff = taxonomy::diff(current.taxonomy, imported);
  const std::string sha = sha256_hex(yaml);
  if (sha == current.record.sha256) {
    out.version = current.version;
    return out;
  }
  store::TaxonomyVersion v;
  v.created_at = now_utc_iso8601();
  v.source = std::string(source_name);
  v.sha256 = sha;
  v.yaml = std::string(yaml);
  out.version = lib.store().add_taxonomy_version(v);
  out.stored = true;
  return out;
}

TaxonomyImport import_taxonomy(store::Library& lib, const std::filesystem::path& path) {
  std::error_code ec;
  const auto abs = std::filesystem::absolute(path, ec);
  return import_taxonomy_text(lib, read_file_text(path),
                              (ec ? path : abs).lexically_normal().string());
}

// --- providers and conversions ----------------------------------------------------

std::vector<ScoreSet> ColourScoreProvider::scores(const taxonomy::Taxonomy& tax,
                                                  const ScoreRequest& r) const {
  return colour_scores(tax, r.asset.colours);
}

std::string model_version_of(std::string_view actor) {
  constexpr std::string_view kPrefix = "model:";
  if (actor.substr(0, kPrefix.size()) != kPrefix) return {};
  return std::string(actor.substr(kPrefix.size()));
}

ExistingTag to_existing(const store::Tag& t) {
  ExistingTag e;
  e.attribute = t.attribute;
  e.node = t.node;
  e.confidence = t.confidence;
  e.actor = t.actor;
  switch (t.state) {
    case TagState::kAuto:
      e.tier = Tier::auto_applied;
      break;
    case TagState::kFlagged:
      e.tier = Tier::flagged;
      break;
    case TagState::kSuggested:
      e.tier = Tier::suggested;
      break;
    case TagState::kConfirmed:
    case TagState::kHumanSet:
      e.tier = Tier::auto_applied;
      e.human = true;
      break;
    case TagState::kRejected:
      e.rejected = true;
      break;
  }
  return e;
}

TagState to_state(Tier tier) {
  switch (tier) {
    case Tier::auto_applied:
      return TagState::kAuto;
    case Tier::flagged:
      return TagState::kFlagged;
    case Tier::suggested:
      return TagState::kSuggested;
  }
  return TagState::kSuggested;
}

TagAction action_for(Tier tier) {
  switch (tier) {
    case Tier::auto_applied:
      return TagAction::kApplied;
    case Tier::flagged:
      return TagAction::kFlagged;
    case Tier::suggested:
      return TagAction::kProposed;
  }
  return TagAction::kProposed;
}

namespace {

json previous_json(const ExistingTag& t) {
  return {{"previous_tier", std::string(to_string(t.tier))},
          {"previous_confidence", t.confidence},
          {"previous_actor", t.actor}};
}

store::TagChange upsert_from(AssetId asset, const Decision& d, std::int64_t tax_version,
                             const std::string& at, std::string evidence,
                             const std::string& previous_node) {
  store::TagChange c;
  c.kind = store::TagChange::Kind::kUpsert;
  c.tag.asset_id = asset;
  c.tag.attribute = d.attribute;
  c.tag.node = d.node;
  c.tag.state = to_state(d.tier);
  c.tag.confidence = d.confidence;
  c.tag.actor = d.actor;
  c.tag.model_version = model_version_of(d.actor);
  c.tag.taxonomy_version = tax_version;
  c.tag.updated_at = at;
  c.event.asset_id = asset;
  c.event.attribute = d.attribute;
  c.event.node = d.node;
  c.event.action = action_for(d.tier);
  c.event.actor = d.actor;
  c.event.confidence = d.confidence;
  c.event.model_version = c.tag.model_version;
  c.event.taxonomy_version = tax_version;
  c.event.at = at;
  c.event.previous_node = previous_node;
  // The same evidence on the row (what `why` reads first) and in the trail.
  c.event.evidence_json = evidence;
  c.tag.evidence_json = std::move(evidence);
  return c;
}

store::TagChange removal_of(AssetId asset, const ExistingTag& t, const std::string& actor,
                            json evidence, std::int64_t tax_version, const std::string& at) {
  store::TagChange c;
  c.kind = store::TagChange::Kind::kRemove;
  c.tag.asset_id = asset;
  c.tag.attribute = t.attribute;
  c.tag.node = t.node;
  c.event.asset_id = asset;
  c.event.attribute = t.attribute;
  c.event.node = t.node;
  c.event.action = TagAction::kRemoved;
  c.event.actor = actor;
  c.event.confidence = t.confidence;
  c.event.model_version = model_version_of(actor);
  c.event.taxonomy_version = tax_version;
  c.event.at = at;
  c.event.evidence_json = evidence.dump();
  return c;
}

}  // namespace

std::vector<store::TagChange> to_store_changes(AssetId asset, const std::vector<TagChange>& changes,
                                               std::int64_t tax_version, const std::string& at) {
  std::vector<store::TagChange> out;
  out.reserve(changes.size() + 2);
  for (const auto& ch : changes) {
    switch (ch.kind) {
      case TagChange::Kind::add:
        out.push_back(
            upsert_from(asset, *ch.after, tax_version, at, ch.after->evidence.dump(), {}));
        break;
      case TagChange::Kind::update: {
        json ev = ch.after->evidence;
        ev.update(previous_json(*ch.before));
        out.push_back(upsert_from(asset, *ch.after, tax_version, at, ev.dump(), {}));
        break;
      }
      case TagChange::Kind::replace: {
        // Two rows, two events: the old value leaves, the new one arrives
        // naming it. The removal is attributed to the source of the new value.
        json gone = previous_json(*ch.before);
        gone["reason"] = "replaced";
        gone["replaced_by"] = ch.after->node;
        out.push_back(
            removal_of(asset, *ch.before, ch.after->actor, std::move(gone), tax_version, at));
        json ev = ch.after->evidence;
        ev.update(previous_json(*ch.before));
        out.push_back(upsert_from(asset, *ch.after, tax_version, at, ev.dump(), ch.before->node));
        break;
      }
      case TagChange::Kind::remove: {
        json gone = previous_json(*ch.before);
        gone["reason"] = "no longer supported";
        gone["taxonomy_version"] = tax_version;
        out.push_back(
            removal_of(asset, *ch.before, ch.before->actor, std::move(gone), tax_version, at));
        break;
      }
    }
  }
  return out;
}

// --- TagService ------------------------------------------------------------------

TagService::TagService(store::Library& lib) : lib_(lib) {
  providers_.push_back(std::make_unique<ColourScoreProvider>());
  reload_taxonomy();
}

TagService::TagService(store::Library& lib, std::vector<std::unique_ptr<ScoreProvider>> providers)
    : lib_(lib), providers_(std::move(providers)) {
  reload_taxonomy();
}

TagService::~TagService() = default;

void TagService::reload_taxonomy() {
  current_ = current_taxonomy(lib_);
  for (auto& p : providers_) p->prepare(current_.taxonomy);
}

// One asset's inputs and results, handed between the read, decide and write
// phases of a batch.
struct TagService::Work {
  store::AssetRecord asset;
  std::vector<ExistingTag> existing;
  std::vector<std::vector<float>> embeddings;  // per provider (empty: none)
  std::vector<Decision> decisions;
  std::vector<TagChange> changes;
  std::vector<store::TagChange> store_changes;
};

TagPlan TagService::plan(AssetId id) {
  auto asset = lib_.store().find_asset(id);
  if (!asset) throw NotFoundError(fmt::format("no asset {} in the library", id));
  AssetInput input;
  for (const auto& t : lib_.store().tags_of(id)) input.existing.push_back(to_existing(t));
  for (const auto& p : providers_) {
    std::vector<float> emb;
    if (auto m = p->embedding_model(); !m.empty()) {
      if (auto v = lib_.store().embedding(id, m)) emb = std::move(*v);
    }
    auto sets = p->scores(current_.taxonomy, ScoreRequest{*asset, emb});
    std::move(sets.begin(), sets.end(), std::back_inserter(input.scores));
  }
  TagPlan out;
  out.decisions = decide(current_.taxonomy, input);
  out.changes = change_set(current_.taxonomy, input.existing, out.decisions);
  return out;
}

TagReport TagService::tag(std::span<const AssetId> ids, const TagOptions& options) {
  return run(ids, options);
}

TagReport TagService::tag_all(const TagOptions& options) {
  const auto ids = lib_.store().asset_ids();
  return run(ids, options);
}

TagReport TagService::run(std::span<const AssetId> ids, const TagOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  store::Store& db = lib_.store();
  const taxonomy::Taxonomy& tax = current_.taxonomy;
  int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(1, threads);
  const std::size_t batch = std::max<std::size_t>(1, options.batch);

  TagReport report;
  std::vector<Work> work;
  for (std::size_t first = 0; first < ids.size(); first += batch) {
    const std::size_t n = std::min(batch, ids.size() - first);
    // Read phase (the store serialises access anyway).
    work.clear();
    work.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      auto asset = db.find_asset(ids[first + i]);
      if (!asset) continue;
      Work& w = work.emplace_back();
      w.asset = std::move(*asset);
      for (const auto& t : db.tags_of(w.asset.id)) w.existing.push_back(to_existing(t));
      w.embeddings.resize(providers_.size());
      for (std::size_t p = 0; p < providers_.size(); ++p) {
        if (auto m = providers_[p]->embedding_model(); !m.empty()) {
          if (auto v = db.embedding(w.asset.id, m)) w.embeddings[p] = std::move(*v);
        }
      }
    }
    // Decide phase: pure, in parallel.
    const std::string at = now_utc_iso8601();
    auto decide_one = [&](Work& w) {
      AssetInput input;
      for (std::size_t p = 0; p < providers_.size(); ++p) {
        auto sets = providers_[p]->scores(tax, ScoreRequest{w.asset, w.embeddings[p]});
        std::move(sets.begin(), sets.end(), std::back_inserter(input.scores));
      }
      input.existing = std::move(w.existing);
      w.decisions = decide(tax, input);
      w.changes = change_set(tax, input.existing, w.decisions);
      if (!options.dry_run)
        w.store_changes = to_store_changes(w.asset.id, w.changes, current_.version, at);
    };
    const int t_count = std::min<int>(threads, static_cast<int>(work.size()));
    if (t_count <= 1) {
      for (auto& w : work) decide_one(w);
    } else {
      std::atomic<std::size_t> next{0};
      std::vector<std::exception_ptr> errors(t_count);
      {
        std::vector<std::jthread> pool;
        for (int t = 0; t < t_count; ++t) {
          pool.emplace_back([&, t] {
            try {
              for (std::size_t i; (i = next.fetch_add(1)) < work.size();) decide_one(work[i]);
            } catch (...) {
              errors[t] = std::current_exception();
              next = work.size();
            }
          });
        }
      }
      for (auto& e : errors)
        if (e) std::rethrow_exception(e);
    }
    // Write phase: one transaction per batch.
    std::vector<store::TagChange> all;
    for (auto& w : work) {
      ++report.assets;
      report.decisions += static_cast<std::int64_t>(w.decisions.size());
      if (!w.changes.empty()) ++report.assets_changed;
      for (const auto& c : w.changes) {
        switch (c.kind) {
          case TagChange::Kind::add:
            ++report.added;
            break;
          case TagChange::Kind::remove:
            ++report.removed;
            break;
          case TagChange::Kind::replace:
            ++report.value_changed;
            break;
          case TagChange::Kind::update:
            if (c.tier_changed())
              ++report.tier_changed;
            else
              ++report.confidence_changed;
            break;
        }
      }
      std::move(w.store_changes.begin(), w.store_changes.end(), std::back_inserter(all));
    }
    if (!options.dry_run && !all.empty()) {
      db.apply_tag_changes(all);
      report.events += static_cast<std::int64_t>(all.size());
    }
    if (options.on_progress)
      options.on_progress(static_cast<std::int64_t>(first + n),
                          static_cast<std::int64_t>(ids.size()), elapsed());
  }
  report.seconds = elapsed();
  return report;
}

// --- human operations ----------------------------------------------------------

std::string TagService::resolve_node(const std::string& attribute, const std::string& node) const {
  const auto* attr = current_.taxonomy.attribute(attribute);
  if (!attr) {
    std::string known;
    for (const auto& a : current_.taxonomy.attributes())
      known += (known.empty() ? "" : ", ") + a.id;
    throw InputError(fmt::format("unknown attribute '{}' (taxonomy v{} has: {})", attribute,
                                 current_.version, known));
  }
  auto ref = current_.taxonomy.resolve(node, attribute);
  if (!ref || ref->attribute != attribute) {
    // resolve() knows ids; labels and synonyms go through the label index.
    for (const auto& r : current_.taxonomy.lookup_label(node))
      if (r.attribute == attribute) return r.node;
    throw InputError(
        fmt::format("'{}' is not a node of {} in taxonomy v{}", node, attribute, current_.version));
  }
  return ref->node;
}

namespace {

std::optional<store::Tag> find_tag(store::Store& db, AssetId asset, const std::string& attribute,
                                   const std::string& node) {
  for (auto& t : db.tags_of(asset))
    if (t.attribute == attribute && t.node == node) return std::move(t);
  return std::nullopt;
}

std::string user_actor(const std::string& user) {
  if (user.empty()) throw InputError("a person's tag change needs a user name");
  // "import:<file>": a catalogue's labels imported on a person's behalf
  // (tagsmith tags import) -- human facts, attributed to the file.
  if (user.rfind("user:", 0) == 0 || user.rfind("import:", 0) == 0) return user;
  return "user:" + user;
}

json previous_json(const store::Tag& t) {
  return {{"previous_state", store::to_string(t.state)},
          {"previous_confidence", t.confidence},
          {"previous_actor", t.actor}};
}

store::TagEvent event_for(const store::Tag& row, TagAction action, const std::string& actor,
                          double confidence, json evidence) {
  store::TagEvent e;
  e.asset_id = row.asset_id;
  e.attribute = row.attribute;
  e.node = row.node;
  e.action = action;
  e.actor = actor;
  e.confidence = confidence;
  e.model_version = row.model_version;
  e.taxonomy_version = row.taxonomy_version;
  e.at = row.updated_at;
  e.evidence_json = evidence.dump();
  return e;
}

}  // namespace

bool TagService::confirm(AssetId asset, const std::string& attribute, const std::string& node_ref,
                         const std::string& user) {
  const std::string node = resolve_node(attribute, node_ref);
  const std::string actor = user_actor(user);
  store::Store& db = lib_.store();
  if (!db.find_asset(asset)) throw NotFoundError(fmt::format("no asset {} in the library", asset));
  auto row = find_tag(db, asset, attribute, node);
  if (!row)
    throw NotFoundError(fmt::format("asset {} has no {} tag '{}' to confirm (use set to add one)",
                                    asset, attribute, node));
  if (row->state == TagState::kConfirmed || row->state == TagState::kHumanSet) return false;
  const json prev = previous_json(*row);
  const double machine_conf = row->confidence;
  // The row keeps the machine's evidence and model version: what was confirmed.
  row->state = TagState::kConfirmed;
  row->confidence = 1.0;
  row->actor = actor;
  row->taxonomy_version = current_.version;
  row->updated_at = now_utc_iso8601();
  store::TagChange c{store::TagChange::Kind::kUpsert,
                     *row,
                     event_for(*row, TagAction::kConfirmed, actor, machine_conf, prev),
                     {}};
  db.apply_tag_changes({&c, 1});
  return true;
}

bool TagService::reject(AssetId asset, const std::string& attribute, const std::string& node_ref,
                        const std::string& user) {
  const std::string node = resolve_node(attribute, node_ref);
  const std::string actor = user_actor(user);
  store::Store& db = lib_.store();
  if (!db.find_asset(asset)) throw NotFoundError(fmt::format("no asset {} in the library", asset));
  auto row = find_tag(db, asset, attribute, node);
  json prev = row ? previous_json(*row) : json::object();
  if (row && row->state == TagState::kRejected) return false;
  store::Tag t;
  if (row) {
    t = *row;
  } else {
    t.asset_id = asset;
    t.attribute = attribute;
    t.node = node;
    t.confidence = 0;
  }
  t.state = TagState::kRejected;
  t.actor = actor;
  t.taxonomy_version = current_.version;
  t.updated_at = now_utc_iso8601();
  store::TagChange c{store::TagChange::Kind::kUpsert,
                     t,
                     event_for(t, TagAction::kRejected, actor, t.confidence, prev),
                     {}};
  db.apply_tag_changes({&c, 1});
  return true;
}

bool TagService::set(AssetId asset, const std::string& attribute, const std::string& node_ref,
                     const std::string& user) {
  const std::string node = resolve_node(attribute, node_ref);
  const std::string actor = user_actor(user);
  store::Store& db = lib_.store();
  if (!db.find_asset(asset)) throw NotFoundError(fmt::format("no asset {} in the library", asset));
  auto row = find_tag(db, asset, attribute, node);
  if (row && row->state == TagState::kHumanSet) return false;
  json prev = row ? previous_json(*row) : json::object();
  store::Tag t;
  t.asset_id = asset;
  t.attribute = attribute;
  t.node = node;
  t.state = TagState::kHumanSet;
  t.confidence = 1.0;
  t.actor = actor;
  t.taxonomy_version = current_.version;
  t.updated_at = now_utc_iso8601();
  t.evidence_json = json{{"set_by", actor}}.dump();
  store::TagChange c{
      store::TagChange::Kind::kUpsert, t, event_for(t, TagAction::kApplied, actor, 1.0, prev), {}};
  db.apply_tag_changes({&c, 1});
  return true;
}

bool TagService::correct(AssetId asset, const std::string& attribute, const std::string& from_ref,
                         const std::string& to_ref, const std::string& user) {
  const std::string from = resolve_node(attribute, from_ref);
  const std::string to = resolve_node(attribute, to_ref);
  const std::string actor = user_actor(user);
  if (from == to)
    throw InputError(fmt::format("correct: '{}' and '{}' are the same node", from_ref, to_ref));
  store::Store& db = lib_.store();
  if (!db.find_asset(asset)) throw NotFoundError(fmt::format("no asset {} in the library", asset));
  auto old_row = find_tag(db, asset, attribute, from);
  if (!old_row)
    throw NotFoundError(
        fmt::format("asset {} has no {} tag '{}' to correct", asset, attribute, from));
  const std::string at = now_utc_iso8601();
  json ev = previous_json(*old_row);
  store::Tag rejected = *old_row;
  rejected.state = TagState::kRejected;
  rejected.actor = actor;
  rejected.taxonomy_version = current_.version;
  rejected.updated_at = at;
  store::Tag t;
  t.asset_id = asset;
  t.attribute = attribute;
  t.node = to;
  t.state = TagState::kHumanSet;
  t.confidence = 1.0;
  t.actor = actor;
  t.taxonomy_version = current_.version;
  t.updated_at = at;
  t.evidence_json = json{{"set_by", actor}, {"corrected_from", from}}.dump();
  store::TagChange c{
      store::TagChange::Kind::kUpsert, t, event_for(t, TagAction::kCorrected, actor, 1.0, ev), {}};
  c.event.previous_node = from;
  c.covered.push_back(std::move(rejected));
  db.apply_tag_changes({&c, 1});
  return true;
}

bool TagService::remove(AssetId asset, const std::string& attribute, const std::string& node_ref,
                        const std::string& user) {
  const std::string node = resolve_node(attribute, node_ref);
  const std::string actor = user_actor(user);
  store::Store& db = lib_.store();
  if (!db.find_asset(asset)) throw NotFoundError(fmt::format("no asset {} in the library", asset));
  auto row = find_tag(db, asset, attribute, node);
  if (!row) return false;
  store::Tag t = *row;
  t.updated_at = now_utc_iso8601();
  t.taxonomy_version = current_.version;
  store::TagChange c{store::TagChange::Kind::kRemove,
                     t,
                     event_for(t, TagAction::kRemoved, actor, row->confidence, previous_json(*row)),
                     {}};
  db.apply_tag_changes({&c, 1});
  return true;
}

}  // namespace tagsmith::tagging
