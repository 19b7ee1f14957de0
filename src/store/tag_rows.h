#pragma once
// What the SQLite and PostgreSQL tag stores read alike: the leading columns
// of a tag row, which are all a TagSummary holds.
#include "tagsmith/store/records.h"

namespace tagsmith::store {

// A TagSummary's columns: also the first columns of every full tag read.
inline constexpr const char* kTagSummaryColumns =
    "asset_id, attribute, node, state, confidence, actor";

// Reads kTagSummaryColumns, in order, from `r` (either store's row reader)
// into `t` (a TagSummary or a Tag).
template <class RowReader, class T>
void read_tag_summary_columns(RowReader& r, T& t) {
  t.asset_id = r.int64();
  t.attribute = r.text();
  t.node = r.text();
  t.state = tag_state_from_string(r.text());
  t.confidence = r.real();
  t.actor = r.text();
}

}  // namespace tagsmith::store
