// Assets (upload, list, get, thumbnail, original), their tags and audit trail.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "internal.h"
#include "tagsmith/common/files.h"
#include "tagsmith/common/hash.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/ingest/ingest.h"
#include "tagsmith/tagging/explain.h"
#include "tagsmith/tagging/record_json.h"

namespace tagsmith::server::detail {
namespace fs = std::filesystem;

// The record's JSON (record_json.h) plus the links a browser follows.
json asset_json(const store::AssetRecord& a, tagging::View view) {
  json j = tagging::to_json(a, view);
  j["thumbnail"] = fmt::format("/api/v1/assets/{}/thumbnail", a.id);
  j["original"] = fmt::format("/api/v1/assets/{}/original", a.id);
  return j;
}

namespace {

store::AssetRecord require_asset(Context& c, std::int64_t id) {
  auto a = c.lib.store().find_asset(id);
  if (!a) throw HttpError(404, fmt::format("no asset {}", id));
  return *a;
}

std::string mime_of(const std::string& format) {
  if (format == "jpeg") return "image/jpeg";
  if (format == "png") return "image/png";
  if (format == "webp") return "image/webp";
  if (format == "gif") return "image/gif";
  if (format == "bmp") return "image/bmp";
  if (format == "tiff") return "image/tiff";
  return "application/octet-stream";
}

std::string extension_of(const std::string& format) {
  if (format == "jpeg") return ".jpg";
  if (format == "tiff") return ".tif";
  return "." + format;  // png, webp, gif, bmp: formats sniff_format returns
}

void send_file(httplib::Response& res, const fs::path& path, const std::string& mime) {
  std::string bytes;
  try {
    bytes = read_file_text(path);
  } catch (const std::exception&) {
    throw HttpError(404, "the file is no longer on disk");
  }
  res.set_header("Cache-Control", "private, max-age=3600");
  res.set_content(std::move(bytes), mime);
}

// Where an upload's bytes live: the library's originals blob store, named by
// content. Nothing from the client (file name, path) takes part, so nothing
// can escape, and every server on a shared library finds every upload.
fs::path original_path(library::Library& lib, const std::string& sha, const std::string& format) {
  return lib.originals().file(sha, extension_of(format));
}

void upload(Context& c, Call& call) {
  if (!call.req.is_multipart_form_data())
    throw HttpError(400, "send the images as multipart/form-data (field 'file')");
  std::vector<const httplib::MultipartFormData*> files;
  for (const auto& [name, f] : call.req.files) {
    if (name == "file" || name == "files" || name == "files[]") files.push_back(&f);
  }
  if (files.empty()) throw HttpError(400, "no file in the upload (use form field 'file')");
  if (files.size() > c.options.max_files_per_upload) {
    throw HttpError(413,
                    fmt::format("at most {} files per upload", c.options.max_files_per_upload));
  }
  // Size limits before a byte is written or decoded.
  for (const auto* f : files) {
    if (f->content.size() > c.options.max_file_bytes) {
      throw HttpError(413, fmt::format("'{}' is {} bytes, over the limit of {} bytes", f->filename,
                                       f->content.size(), c.options.max_file_bytes));
    }
  }
  struct Item {
    std::string filename, sha, format, status, reason;
    fs::path stored;
    bool existed = false;
  };
  std::vector<Item> items;
  std::vector<fs::path> to_ingest;
  std::lock_guard lock(c.ingest_mu);
  for (const auto* f : files) {
    Item it;
    it.filename = f->filename;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(f->content.data());
    it.format = image::sniff_format({bytes, std::min<std::size_t>(f->content.size(), 64)});
    if (it.format.empty()) {
      it.status = "rejected";
      it.reason = "not a supported image (JPEG, PNG, WebP, TIFF, BMP, GIF)";
      items.push_back(std::move(it));
      continue;
    }
    it.sha = sha256_hex(f->content);
    it.stored = original_path(c.lib, it.sha, it.format);
    // Content already in the library (from an upload or a folder): keep no copy.
    it.existed = c.lib.store().find_asset_by_sha256(it.sha).has_value();
    if (!it.existed) {
      c.lib.originals().put(f->content, extension_of(it.format));
      to_ingest.push_back(it.stored);
    }
    items.push_back(std::move(it));
  }
  ingest::IngestReport report;
  if (!to_ingest.empty()) {
    ingest::IngestOptions options;
    options.threads = 2;
    // The pixel limit is checked on the header by the decoder, before decoding.
    options.limits.max_file_bytes = c.options.max_file_bytes;
    options.limits.max_pixels = c.options.max_pixels;
    // Uploads are embedded like a CLI ingest, so the model can tag them.
    options.embedder = c.embedder.get();
    options.person_masker = c.person_masker.get();
    // Keywords in the photos' XMP/IPTC become imported tags, as on the CLI.
    const auto keywords = c.app.keyword_importer();
    options.keywords = keywords.get();
    report = ingest::ingest(c.lib, to_ingest, options);
  }
  std::vector<store::AssetId> new_ids;
  json results = json::array();
  int ok = 0;
  for (auto& it : items) {
    json r = {{"filename", it.filename}};
    if (it.status.empty()) {
      for (const auto& e : report.errors) {
        if (fs::path(e.path).filename() == it.stored.filename()) it.reason = e.reason;
      }
      const auto asset = c.lib.store().find_asset_by_sha256(it.sha);
      if (asset) {
        it.status = it.existed ? "exists" : "ingested";
        r["asset"] = asset_json(*asset, view_of(call));
        if (!it.existed) new_ids.push_back(asset->id);
        ++ok;
      } else {
        it.status = "rejected";
        if (it.reason.empty()) it.reason = "could not be ingested";
        std::error_code ec;
        fs::remove(it.stored, ec);  // keep no bytes we hold no asset for
      }
    }
    r["status"] = it.status;
    if (!it.reason.empty()) r["reason"] = it.reason;
    results.push_back(r);
  }
  if (!new_ids.empty()) {
    c.with_tags([&](tagging::TagService& s) { return s.tag(new_ids); });
    c.tags_changed = true;
  }
  send_json(call.res, ok == 0 ? 422 : 200, {{"files", results}, {"ingested", new_ids.size()}});
}

}  // namespace

void register_asset_routes(Router& r, Context& c) {
  r.add(
      "GET", "/api/v1/assets", "viewer", "assets", "List assets (offset, limit)", [&c](Call& call) {
        const auto offset = call.query_int("offset", 0, 0, 1'000'000'000);
        const auto limit = call.query_int("limit", 50, 1, 500);
        const auto ids = c.lib.store().asset_ids();
        json items = json::array();
        for (std::size_t i = static_cast<std::size_t>(offset);
             i < ids.size() && items.size() < static_cast<std::size_t>(limit); ++i) {
          if (auto a = c.lib.store().find_asset(ids[i]))
            items.push_back(asset_json(*a, view_of(call)));
        }
        send_json(call.res, 200,
                  {{"total", ids.size()}, {"offset", offset}, {"limit", limit}, {"assets", items}});
      });

  r.add(
      "POST", "/api/v1/assets", "reviewer", "assets",
      "Upload one or many images (multipart field 'file')", [&c](Call& call) { upload(c, call); },
      "multipart");

  r.add("GET", "/api/v1/assets/{id}", "viewer", "assets", "One asset with its tags",
        [&c](Call& call) {
          const auto a = require_asset(c, call.id_param());
          json j = asset_json(a, view_of(call));
          // What a page shows as the title: the path below the library's
          // folder root, for every role (admins still get source_path).
          j["display_path"] = display_path(c, a.source_path);
          json tags = json::array();
          for (const auto& t : c.lib.store().tags_of(a.id)) tags.push_back(tagging::to_json(t));
          j["tags"] = tags;
          send_json(call.res, 200, j);
        });

  r.add("GET", "/api/v1/assets/{id}/thumbnail", "viewer", "assets", "The asset's thumbnail (JPEG)",
        [&c](Call& call) {
          const auto a = require_asset(c, call.id_param());
          if (a.thumbnail_sha256.empty()) throw HttpError(404, "this asset has no thumbnail");
          send_file(call.res, c.lib.thumbnail_path(a.thumbnail_sha256), "image/jpeg");
        });

  r.add("GET", "/api/v1/assets/{id}/original", "viewer", "assets", "The original file",
        [&c](Call& call) {
          const auto a = require_asset(c, call.id_param());
          // Paths come from the store (what was ingested), never from the request.
          const fs::path own = original_path(c.lib, a.sha256, a.format);
          if (fs::exists(own)) return send_file(call.res, own, mime_of(a.format));
          for (const auto& p : c.lib.store().paths_of(a.id)) {
            if (fs::is_regular_file(p.path)) return send_file(call.res, p.path, mime_of(a.format));
          }
          throw HttpError(404, "the original file is no longer on disk");
        });

  r.add("GET", "/api/v1/assets/{id}/tags", "viewer", "tags", "Tags of an asset", [&c](Call& call) {
    const auto a = require_asset(c, call.id_param());
    json tags = json::array();
    for (const auto& t : c.lib.store().tags_of(a.id)) tags.push_back(tagging::to_json(t));
    send_json(call.res, 200, {{"asset", a.id}, {"tags", tags}});
  });

  r.add(
      "POST", "/api/v1/assets/{id}/tags", "reviewer", "tags", "Set a tag {attribute, node}",
      [&c](Call& call) {
        const auto id = require_asset(c, call.id_param()).id;
        const json body = call.body();
        const std::string attribute = field(body, "attribute"), node = field(body, "node");
        const bool changed = c.with_tags(
            [&](tagging::TagService& s) { return s.set(id, attribute, node, call.actor()); });
        c.tags_changed = true;
        send_json(call.res, 200, {{"changed", changed}});
      },
      "json");

  r.add("DELETE", "/api/v1/assets/{id}/tags/{attribute}/{node}", "reviewer", "tags", "Remove a tag",
        [&c](Call& call) {
          const auto id = require_asset(c, call.id_param()).id;
          const bool changed = c.with_tags([&](tagging::TagService& s) {
            return s.remove(id, call.params.at(1), call.params.at(2), call.actor());
          });
          c.tags_changed = true;
          send_json(call.res, 200, {{"changed", changed}});
        });

  r.add("GET", "/api/v1/assets/{id}/history", "viewer", "audit", "Full audit trail of an asset",
        [&c](Call& call) {
          const auto a = require_asset(c, call.id_param());
          json events = json::array();
          for (const auto& e : c.lib.store().tag_events(a.id, call.query("attribute")))
            events.push_back(tagging::to_json(e));
          send_json(call.res, 200, {{"asset", a.id}, {"events", events}});
        });

  r.add("GET", "/api/v1/assets/{id}/why/{attribute}", "viewer", "audit",
        "Why the asset carries its tags on an attribute", [&c](Call& call) {
          const auto a = require_asset(c, call.id_param());
          const auto e = tagging::explain(c.lib, a.id, call.params.at(1));
          json j = e.json;
          j["text"] = e.text;
          send_json(call.res, 200, j);
        });

  r.add("GET", "/api/v1/audit/events", "viewer", "audit",
        "Newest audit events across the library (before, limit)", [&c](Call& call) {
          const auto before = call.query_int("before", 0, 0, INT64_MAX);
          const auto limit = call.query_int("limit", 100, 1, 1000);
          json events = json::array();
          for (const auto& e :
               c.lib.store().recent_tag_events(before, static_cast<std::size_t>(limit))) {
            events.push_back(tagging::to_json(e));
          }
          send_json(call.res, 200, {{"events", events}});
        });
}

}  // namespace tagsmith::server::detail
