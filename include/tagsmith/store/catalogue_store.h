#pragma once
// CatalogueStore: what a library is configured with — the taxonomy versions
// it has imported, the model versions it has registered (encoders and trained
// heads, with their status), and key/value settings.
//
// Implementations are safe to call from several threads.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tagsmith/store/records.h"

namespace tagsmith::store {

class CatalogueStore {
 public:
  virtual ~CatalogueStore() = default;

  // --- taxonomy versions (ids ascend with time) --------------------------------
  virtual std::int64_t add_taxonomy_version(const TaxonomyVersion& v) = 0;
  virtual std::optional<TaxonomyVersion> taxonomy_version(std::int64_t id) = 0;
  virtual std::optional<TaxonomyVersion> latest_taxonomy_version() = 0;
  virtual std::vector<TaxonomyVersion> taxonomy_versions() = 0;  // without yaml text

  // --- model versions -----------------------------------------------------------
  // Adding a version that exists already changes nothing.
  virtual void add_model_version(const ModelVersion& v) = 0;
  // Status, metrics and artifact path, by version; throws NotFoundError.
  virtual void update_model_version(const ModelVersion& v) = 0;
  virtual std::optional<ModelVersion> model_version(const std::string& version) = 0;
  virtual std::vector<ModelVersion> model_versions() = 0;  // in the order added

  // --- key/value settings (library configuration) --------------------------------
  virtual std::optional<std::string> setting(const std::string& key) = 0;
  virtual void set_setting(const std::string& key, const std::string& value) = 0;
};

}  // namespace tagsmith::store
