// WorkQueue over SQLite: one row per (step, asset) in work_queue. Queueing is
// INSERT OR IGNORE, so a step queued twice is done once.
#include "sqlite_roles.h"
#include "tagsmith/common/clock.h"

namespace tagsmith::store {

void insert_work(SQLite::Database& db, AssetId id, WorkStep step) {
  SQLite::Statement q(db,
                      "INSERT OR IGNORE INTO work_queue (asset_id, step, queued_at) "
                      "SELECT id, ?, ? FROM assets WHERE id = ?");
  Binder{q}(to_string(step))(now_utc_iso8601())(id);
  q.exec();
}

void settle_work(SQLite::Database& db, std::span<const AssetId> ids, WorkStep step) {
  if (ids.empty()) return;
  // One range delete per run of consecutive ids (a re-tag settles thousands
  // of them per batch); every id of such a run was decided, so it is exact.
  SQLite::Statement q(db, "DELETE FROM work_queue WHERE step = ? AND asset_id BETWEEN ? AND ?");
  const std::string name = to_string(step);
  const auto sorted = sorted_ids(ids);
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i + 1;
    while (j < sorted.size() && sorted[j] == sorted[j - 1] + 1) ++j;
    q.reset();
    Binder{q}(name)(sorted[i])(sorted[j - 1]);
    q.exec();
    i = j;
  }
}

void SqliteWorkQueue::queue_work(std::span<const AssetId> ids, WorkStep step) {
  if (ids.empty()) return;
  auto held = c_.lock();
  SQLite::Transaction tx(c_.db());
  for (const AssetId id : ids) insert_work(c_.db(), id, step);
  tx.commit();
}

std::int64_t SqliteWorkQueue::queue_work_for_all(WorkStep step) {
  auto held = c_.lock();
  SQLite::Transaction tx(c_.db());
  SQLite::Statement q(c_.db(),
                      "INSERT OR IGNORE INTO work_queue (asset_id, step, queued_at) "
                      "SELECT id, ?, ? FROM assets");
  Binder{q}(to_string(step))(now_utc_iso8601());
  q.exec();
  SQLite::Statement n(c_.db(), "SELECT count(*) FROM work_queue WHERE step = ?");
  Binder{n}(to_string(step));
  n.executeStep();
  const std::int64_t pending = n.getColumn(0).getInt64();
  n.reset();
  tx.commit();
  return pending;
}

std::vector<AssetId> SqliteWorkQueue::pending_work(WorkStep step, AssetId after,
                                                   std::size_t limit) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "SELECT asset_id FROM work_queue WHERE step = ? AND asset_id > ? "
                      "ORDER BY asset_id LIMIT ?");
  Binder{q}(to_string(step))(after)(static_cast<std::int64_t>(limit));
  std::vector<AssetId> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
  return out;
}

std::int64_t SqliteWorkQueue::pending_count(WorkStep step) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), "SELECT count(*) FROM work_queue WHERE step = ?");
  Binder{q}(to_string(step));
  q.executeStep();
  return q.getColumn(0).getInt64();
}

}  // namespace tagsmith::store
