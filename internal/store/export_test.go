package store

import "context"

// StmtCacheSize is the statement cache's size in production.
const StmtCacheSize = stmtCacheSize

// OpenSQLiteCache opens the SQLite file at path with a statement cache of
// size statements a connection, or none with size 0, for tests and the
// benchmark comparing the two.
func OpenSQLiteCache(ctx context.Context, path string, size int) (*DB, error) {
	return openSQLite(ctx, path, size)
}

// StatementsPrepared counts the statements db's connections have prepared
// into their caches.
func StatementsPrepared(db *DB) int64 {
	return db.stmts.prepared.Load()
}

// MigrateTo applies the migrations up to and including version last, as an
// older release would have left the database.
func MigrateTo(ctx context.Context, db *DB, last int) ([]Migration, error) {
	return db.migrateTo(ctx, last)
}
