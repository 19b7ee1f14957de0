#pragma once
// A library with a row in every table, built through the Store API alone (no
// images, so thousands of assets take seconds), for the migration tests.
#include <cstdint>

#include "tagsmith/store/store.h"

namespace tagsmith::store::test_library {

// Fills `store` with `assets` assets (ids 1…assets): two dominant colours
// each, an embedding of "clip@1", three model tags with their audit events,
// human decisions on every 5th asset, an alias path on every 10th; plus
// taxonomy and model versions, settings, users with a token and a session,
// login failures, review log, audit samples, ingest errors, pending work
// (part of it claimed under a lease) and ingest jobs in every state.
// Libraries of different `variant`s hold different photos (content hashes).
void fill(Store& store, int assets, int variant = 0);

}  // namespace tagsmith::store::test_library
