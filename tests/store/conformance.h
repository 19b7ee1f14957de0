#pragma once
// Conformance suites for the Store's roles, written against the role
// interfaces only, so that every Store implementation is held to the same
// contract. A backend instantiates each suite with a factory that opens a
// fresh, empty store per test:
//
//   INSTANTIATE_TEST_SUITE_P(Postgres, AssetStoreConformance,
//                            ::testing::Values(StoreBackend{"Postgres", open_empty_pg}),
//                            backend_name);
//
// (the same for TagStoreConformance, CatalogueStoreConformance,
// AccountStoreConformance, WorkQueueConformance and WholeStoreConformance). See
// sqlite_store_test.cpp.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "tagsmith/store/store.h"

namespace tagsmith::store::conformance {

using StoreFactory = std::function<std::unique_ptr<Store>()>;

struct StoreBackend {
  std::string name;
  StoreFactory open;  // a fresh, empty store on every call; null: unavailable here
};

// Test names and ctest names show the backend, not its bytes.
inline void PrintTo(const StoreBackend& backend, std::ostream* os) {
  *os << backend.name;
}

inline std::string backend_name(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

class StoreConformance : public ::testing::TestWithParam<StoreBackend> {
 protected:
  // A factory returns null where its backend can't run (no PostgreSQL test
  // cluster outside ctest): the test skips.
  void SetUp() override {
    store_ = GetParam().open();
    if (!store_) GTEST_SKIP() << "no " << GetParam().name << " store available here";
  }
  std::unique_ptr<Store> store_;
};

class AssetStoreConformance : public StoreConformance {
 protected:
  AssetStore& assets() { return *store_; }
};
class TagStoreConformance : public StoreConformance {
 protected:
  TagStore& tags() { return *store_; }
  AssetId add_asset(const std::string& sha);  // a bare asset to hang tags on
};
class CatalogueStoreConformance : public StoreConformance {
 protected:
  CatalogueStore& catalogue() { return *store_; }
};
class AccountStoreConformance : public StoreConformance {
 protected:
  AccountStore& accounts() { return *store_; }
};
class WorkQueueConformance : public StoreConformance {
 protected:
  WorkQueue& work() { return *store_; }
};
// What spans roles: stats(), change_marker() and schema_version().
class WholeStoreConformance : public StoreConformance {};

// An asset with a thumbnail, one dominant colour and a hash with its top bit set.
AssetRecord sample_asset(const std::string& sha);
PathRecord first_path_of(const AssetRecord& a);
// A tag change of (asset, attribute, node) to `state`, with its event.
TagChange tag_change(AssetId asset, const std::string& attribute, const std::string& node,
                     TagState state, TagAction action, double confidence = 0.9,
                     const std::string& at = "2026-01-01T00:00:00.000Z");

}  // namespace tagsmith::store::conformance
