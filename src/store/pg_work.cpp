// WorkQueue over PostgreSQL: one row per (step, asset) in work_queue.
// Queueing is INSERT … ON CONFLICT DO NOTHING, so a step queued twice is done
// once.
#include "pg_roles.h"
#include "tagsmith/common/clock.h"

namespace tagsmith::store {

std::string pg_int_array(std::span<const AssetId> ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "}";
}

std::int64_t pg_bump_counter(pqxx::work& w, const char* name) {
  return w
      .exec_params1("UPDATE change_counters SET value = value + 1 WHERE name = $1 RETURNING value",
                    std::string(name))[0]
      .as<std::int64_t>();
}

void pg_insert_work(pqxx::work& w, AssetId id, WorkStep step) {
  w.exec_params(
      "INSERT INTO work_queue (asset_id, step, queued_at) SELECT id, $1, $2 FROM assets "
      "WHERE id = $3 ON CONFLICT DO NOTHING",
      to_string(step), now_utc_iso8601(), id);
}

void pg_settle_work(pqxx::work& w, std::span<const AssetId> ids, WorkStep step) {
  if (ids.empty()) return;
  w.exec_params("DELETE FROM work_queue WHERE step = $1 AND asset_id = ANY($2::bigint[])",
                to_string(step), pg_int_array(ids));
}

void PgWorkQueue::queue_work(std::span<const AssetId> ids, WorkStep step) {
  if (ids.empty()) return;
  c_.transact([&](pqxx::work& w) {
    w.exec_params(
        "INSERT INTO work_queue (asset_id, step, queued_at) SELECT id, $1, $2 FROM assets "
        "WHERE id = ANY($3::bigint[]) ON CONFLICT DO NOTHING",
        to_string(step), now_utc_iso8601(), pg_int_array(ids));
  });
}

std::int64_t PgWorkQueue::queue_work_for_all(WorkStep step) {
  return c_.transact([&](pqxx::work& w) {
    w.exec_params(
        "INSERT INTO work_queue (asset_id, step, queued_at) SELECT id, $1, $2 FROM assets "
        "ON CONFLICT DO NOTHING",
        to_string(step), now_utc_iso8601());
    return w.exec_params1("SELECT count(*) FROM work_queue WHERE step = $1", to_string(step))[0]
        .as<std::int64_t>();
  });
}

std::vector<AssetId> PgWorkQueue::pending_work(WorkStep step, AssetId after, std::size_t limit) {
  return c_.transact([&](pqxx::work& w) {
    std::vector<AssetId> out;
    for (const auto& row :
         w.exec_params("SELECT asset_id FROM work_queue WHERE step = $1 AND asset_id > $2 "
                       "ORDER BY asset_id LIMIT $3",
                       to_string(step), after, static_cast<std::int64_t>(limit)))
      out.push_back(row[0].as<AssetId>());
    return out;
  });
}

std::int64_t PgWorkQueue::pending_count(WorkStep step) {
  return c_.transact([&](pqxx::work& w) {
    return w.exec_params1("SELECT count(*) FROM work_queue WHERE step = $1", to_string(step))[0]
        .as<std::int64_t>();
  });
}

}  // namespace tagsmith::store
